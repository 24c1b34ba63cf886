#!/bin/sh
# units.sh - the systemd units, offline: `systemd-analyze verify` is clean for the service,
# the nightly service and its timer; `systemd-analyze security --offline=yes` rates each
# service 1.5 or lower; the nightly unit's own ExecStart command re-submits every bundle of
# its directory into a spool. Units are instantiated from systemd/*.in with this build's
# programs (verify checks that ExecStart exists). Skipped without systemd-analyze.
. "$(dirname "$0")/lib.sh"
: "${CODEGENCTL:?run through make check}"

SA=${SYSTEMD_ANALYZE:-}
if [ -z "$SA" ] || [ ! -x "$SA" ]; then
        echo "1..0 # SKIP systemd-analyze is not installed (Debian: systemd)"
        exit 0
fi
U="$WORK/units"
mkdir -p "$U" "$WORK/etc" "$WORK/nightly"
sp=$(new_spool nightly-spool)
printf 'spool: %s\n' "$sp" > "$WORK/etc/codegend.yaml"
for f in codegend.service codegend-nightly.service; do
        sed -e "s|@sbindir@|$(dirname "$CODEGEND")|g" -e "s|@bindir@|$(dirname "$CODEGENCTL")|g" \
            -e "s|@pkgsysconfdir@|$WORK/etc|g" -e "s|@docdir@|$WORK/doc|g" \
            -e "s|@spooldir@|$sp|g" -e "s|@nightlydir@|$WORK/nightly|g" \
            "$top_srcdir/systemd/$f.in" > "$U/$f"
done
cp "$top_srcdir/systemd/codegend-nightly.timer" "$U/"

check "systemd-analyze verify: the units are clean" sh -c "
        cd '$U' && '$SA' verify --man=no codegend.service codegend-nightly.service codegend-nightly.timer >'$WORK/verify.out' 2>&1;
        rc=\$?; cat '$WORK/verify.out'; [ \$rc -eq 0 ] && [ ! -s '$WORK/verify.out' ]"
for unit in codegend.service codegend-nightly.service; do
        (cd "$U" && "$SA" security --offline=yes "$unit" > "$WORK/$unit.security" 2>&1)
        level=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' "$WORK/$unit.security")
        check "systemd-analyze security rates $unit ${level:-?} (at most 1.5)" \
                "$PY" -c "import sys; sys.exit(not (sys.argv[1] and float(sys.argv[1]) <= 1.5))" "$level"
done
check "the service runs as the codegen user with the spool as its only writable path" sh -c "
        grep -qx 'User=codegen' '$U/codegend.service' && grep -qx 'ReadWritePaths=$sp' '$U/codegend.service' &&
        grep -qx 'ProtectSystem=strict' '$U/codegend.service'"
check "the timer is persistent and randomised, at a valid calendar time" sh -c "
        grep -qx 'Persistent=true' '$U/codegend-nightly.timer' && grep -q '^RandomizedDelaySec=' '$U/codegend-nightly.timer' &&
        '$SA' calendar \"\$(sed -n 's/^OnCalendar=//p' '$U/codegend-nightly.timer')\" >/dev/null"

# the nightly command, as the unit runs it
cp -r "$REF" "$WORK/nightly/alpha"
(cd "$REF/.." && tar -czf "$WORK/nightly/beta.tar.gz" taskmanager)
echo partial > "$WORK/nightly/gamma.tar.gz.part"
cmd=$(sed -n 's/^ExecStart=//p' "$U/codegend-nightly.service" | sed "s|\${CODEGEND_NIGHTLY_DIR}|$WORK/nightly|")
check "the nightly ExecStart submits every bundle of its directory" sh -c "
        $cmd >/dev/null && test -f '$sp/inbox/alpha/spec.yaml' && cmp -s '$WORK/nightly/beta.tar.gz' '$sp/inbox/beta.tar.gz' &&
        test ! -e '$sp/inbox/gamma.tar.gz.part'"
check "the submitted bundles are jobs that run" sh -c "
        '$CODEGEND' --spool '$sp' --once >/dev/null 2>&1 && test -s '$sp/outbox/alpha.metrics.yaml' && test -s '$sp/outbox/beta.metrics.yaml'"
check "the next night submits them again" sh -c "$cmd >/dev/null && test -d '$sp/inbox/alpha' && test -f '$sp/inbox/beta.tar.gz'"

finish
