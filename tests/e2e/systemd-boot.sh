#!/bin/sh
# systemd-boot.sh - the README's "Under systemd" workflow under a real systemd as PID 1
# (make check-systemd; not part of make check). It builds the distributed sources with the
# README's configure line, runs `make install` into a copy of a Debian 12 root
# (build-aux/make-bookworm-root, cached in /var/tmp), boots that copy with
# `systemd-nspawn --boot`, and there a unit runs tests/e2e/systemd-inside.sh: sysusers,
# tmpfiles, `systemctl enable --now codegend codegend-nightly.timer`, codegenctl submit and
# wait, the journal's fields, reload, the timer, group access and the drain on stop. Its
# results come back as TAP. Needs root and systemd-nspawn (Debian: systemd-container);
# skipped without them. SYSTEMD_BOOT_TIMEOUT bounds the boot (seconds, default 600).
. "$(dirname "$0")/lib.sh"
: "${top_builddir:?run through make check}"

if [ "$(id -u)" -ne 0 ]; then
        echo "1..0 # SKIP needs root (debootstrap, systemd-nspawn)"; exit 0
fi
if ! command -v systemd-nspawn >/dev/null 2>&1; then
        echo "1..0 # SKIP systemd-nspawn is not installed (Debian: systemd-container)"; exit 0
fi
base=${CODEGEND_BOOKWORM_ROOT:-/var/tmp/codegend-bookworm}
limit=${SYSTEMD_BOOT_TIMEOUT:-600}
now() { date +%s; }

t0=$(now)
if ! "$top_srcdir/build-aux/make-bookworm-root" "$base" >"$WORK/root.log" 2>&1; then
        not_ok "build-aux/make-bookworm-root makes the Debian 12 root"; diag <"$WORK/root.log"; finish; exit
fi
t1=$(now)
# a machine that cannot make containers at all (no namespaces or cgroups for nspawn: some
# CI sandboxes) is told apart from a failing workflow: the same nspawn options, no boot
if ! timeout 120 systemd-nspawn --quiet --read-only --directory="$base" --register=no --keep-unit \
        --private-network --console=pipe /bin/true >"$WORK/probe.log" 2>&1 </dev/null; then
        echo "1..0 # SKIP systemd-nspawn cannot start a container on this machine: $(tail -n 1 "$WORK/probe.log")"
        exit 0
fi

# the README: ./configure --prefix=/usr --sysconfdir=/etc --localstatedir=/var && make &&
# make install, from the distributed sources (this tree may be configured for other paths)
src="$WORK/codegend-src"
root="$WORK/root"
if ! { make -C "$top_builddir" distdir distdir="$src" &&
       cd "$src" && ./configure --prefix=/usr --sysconfdir=/etc --localstatedir=/var &&
       make -j"$(nproc)" && cp -a "$base" "$root" && make install DESTDIR="$root"; } >"$WORK/build.log" 2>&1; then
        not_ok "configure --prefix=/usr --sysconfdir=/etc --localstatedir=/var, make, make install"
        tail -30 "$WORK/build.log" | diag; finish; exit
fi
cd "$WORK" || exit 1
ok "configure --prefix=/usr --sysconfdir=/etc --localstatedir=/var, make, make install into the root"
t2=$(now)

# the spool-example of the source tree, the script, and the unit that runs it at boot
mkdir -p "$root/root/codegend/spool-example"
cp -R "$top_srcdir/spool-example/taskmanager" "$root/root/codegend/spool-example/"
cp "$top_srcdir/tests/e2e/systemd-inside.sh" "$root/root/systemd-inside.sh"
cat >"$root/etc/systemd/system/codegend-boot-test.service" <<'EOF'
[Unit]
Description=codegend's systemd workflow test (tests/e2e/systemd-boot.sh)
After=multi-user.target

[Service]
Type=simple
ExecStart=/bin/sh /root/systemd-inside.sh
StandardOutput=file:/root/systemd-inside.out
StandardError=inherit
EOF
ln -s /etc/systemd/system/codegend-boot-test.service \
        "$root/etc/systemd/system/multi-user.target.wants/codegend-boot-test.service"

# no host systemd to register with (--register=no, --keep-unit); only a loopback network
timeout "$limit" systemd-nspawn --quiet --directory="$root" --machine="codegend-test-$$" \
        --boot --register=no --keep-unit --private-network --console=pipe \
        >"$WORK/nspawn.log" 2>&1 </dev/null
rc=$?
t3=$(now)
out="$root/root/systemd-inside.out"
if [ "$rc" -eq 124 ] || ! grep -qx '# done' "$out" 2>/dev/null; then
        not_ok "the container booted, ran the test and powered off within $limit s (nspawn exit $rc)"
        tail -20 "$WORK/nspawn.log" | diag
        journalctl --directory="$root/var/log/journal" --no-pager 2>/dev/null | tail -40 | diag
else
        ok "the container booted with systemd as PID 1, ran the test and powered off"
fi
while IFS= read -r line; do
        case $line in
        "ok - "*) ok "${line#ok - }" ;;
        "not ok - "*) not_ok "${line#not ok - }" ;;
        *) echo "$line" ;;
        esac
done <"$out"
if [ "$TAP_FAILED" -ne 0 ]; then
        for u in codegend codegend-nightly; do
                echo "# the journal of $u.service:"
                journalctl --directory="$root/var/log/journal" --no-pager -u "$u" 2>/dev/null | tail -40 | diag
        done
fi
echo "# times: root $((t1 - t0)) s, build and install $((t2 - t1)) s, boot and test $((t3 - t2)) s"
finish
