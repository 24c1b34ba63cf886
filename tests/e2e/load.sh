#!/bin/sh
# load.sh - load (make check-load; a few minutes): 1,000 small jobs dropped into the inbox at
# once, then 100 dropped concurrently by four writers the way real ones write: cp (in place,
# then closed), mv (a directory renamed in), rsync (a dot-named temporary file renamed) and
# curl file:// uploads to NAME.part renamed when done. Every job must be processed exactly
# once (one claim and one outcome in the log, one pair in outbox/, nothing left in the inbox
# or the state area) with the daemon's peak RSS bounded. Prints jobs per minute and VmHWM.
# LOAD_JOBS (1000) and LOAD_WRITER_JOBS (25 per writer) scale it.
. "$(dirname "$0")/lib.sh"

N=${LOAD_JOBS:-1000}
W=${LOAD_WRITER_JOBS:-25}
if [ -n "${SANITIZERS:-}" ]; then RSS_MAX=${LOAD_RSS_MAX_KB:-800000}; else RSS_MAX=${LOAD_RSS_MAX_KB:-150000}; fi
wait_for() { # COND-COMMAND [TENTHS]
        n=0; max=${2:-300}
        while ! sh -c "$1" 2>/dev/null; do
                n=$((n + 1)); [ $n -ge $max ] && return 1; sleep 0.1
        done
}
now() { date +%s.%N; }
per_minute() { "$PY" -c 'import sys; print("%.0f" % (int(sys.argv[1]) * 60 / (float(sys.argv[3]) - float(sys.argv[2]))))' "$@"; }
count() { ls "$1" 2>/dev/null | grep -c "$2"; }
# once LOG PREFIX COUNT: COUNT jobs named PREFIX* claimed once and finished once each
once() {
        "$PY" - "$@" <<'PYEOF'
import collections, re, sys
log, prefix, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
claims, ends = collections.Counter(), collections.Counter()
lines = open(log, errors="replace").read().splitlines()
for line in lines:
    m = re.search(r"codegend: \w+: (%s[^: ]*): (claimed|succeeded|failed)" % re.escape(prefix), line)
    if m:
        name = re.sub(r"\.(job\.yaml|tar\.gz)$", "", m.group(1))
        (claims if m.group(2) == "claimed" else ends)[name] += 1
bad = [k for k in set(claims) | set(ends) if claims[k] != 1 or ends[k] != 1]
print("%d claimed, %d finished, %d not exactly once %s" % (len(claims), len(ends), len(bad), sorted(bad)[:10]))
for k in sorted(bad)[:3]:
    print("\n".join(l for l in lines if re.search(r"\b%s\b" % re.escape(k), l)))
sys.exit(0 if len(claims) == n and len(ends) == n and not bad else 1)
PYEOF
}

sp=$(new_spool load)
in="$sp/inbox"
stage="$WORK/staging"
mkdir -p "$stage/files" "$stage/tiny"
printf 'rescan_interval: 2\nsettle_time: 1\n' > "$WORK/codegend.yaml"
# a tiny spec with a two-atom DAG, so that the daemon's own work dominates
cat > "$stage/tiny/spec.yaml" <<'YAML'
format: 1
name: tiny
entities:
  - name: Note
    fields:
      - {name: title, type: string}
YAML
cat > "$stage/tiny/dag.yaml" <<'YAML'
format: 1
name: tiny
atoms:
  - {id: config, kind: config, target: src/config.py}
  - {id: pkg, kind: package, target: src/__init__.py}
YAML
{ echo "spec:"; sed 's/^/  /' "$stage/tiny/spec.yaml"; echo "dag:"; sed 's/^/  /' "$stage/tiny/dag.yaml"; } > "$stage/tiny.job.yaml"
(cd "$stage" && tar -czf tiny.tar.gz tiny)
# for the slow writers: the same bundle with 6 kB that do not compress
mkdir -p "$stage/big" && cp -r "$stage/tiny" "$stage/big/" && head -c 6000 /dev/urandom > "$stage/big/tiny/padding.bin"
(cd "$stage/big" && tar -czf ../big.tar.gz tiny)
i=0
while [ $i -lt "$N" ]; do cp "$stage/tiny.job.yaml" "$stage/files/j$i.job.yaml"; i=$((i + 1)); done

"$CODEGEND" --spool "$sp" --config "$WORK/codegend.yaml" --workers 2 >"$WORK/daemon.out" 2>"$WORK/daemon.err" &
DAEMON_PID=$!
wait_for "test -d '$sp/.codegend/jobs'" 50

# ---- N jobs at once
t0=$(now)
(cd "$stage/files" && find . -name '*.job.yaml' -exec mv -t "$in" {} +)
check "$N jobs dropped at once all end within 15 minutes" \
        wait_for "test \$(ls '$sp/outbox' | grep -c '^j.*metrics.yaml$') -eq $N" 9000
t1=$(now)
echo "# $N jobs at once: $(per_minute "$N" "$t0" "$t1") jobs per minute"
check "each of the $N jobs was claimed and finished exactly once" once "$WORK/daemon.err" j "$N"
check "none of them failed" test "$(count "$sp/failed" '^j')" -eq 0

# ---- 4 writers x W jobs, concurrently
writer_cp() { i=0; while [ $i -lt "$W" ]; do cp "$stage/tiny.tar.gz" "$in/cp$i.tar.gz"; i=$((i + 1)); done; }
writer_mv() {
        i=0
        while [ $i -lt "$W" ]; do cp -r "$stage/tiny" "$stage/mv$i" && mv "$stage/mv$i" "$in/mv$i"; i=$((i + 1)); done
}
# rsync and curl write slowly, all W at once, so that their temporary names are seen by
# inotify and by rescans: rsync at 1 kB/s into its .NAME.XXXXXX, curl into NAME.part that
# stays 3 s (past settle_time and a rescan) before it is renamed
writer_rsync() {
        i=0
        while [ $i -lt "$W" ]; do rsync --bwlimit=1 "$stage/big.tar.gz" "$in/rs$i.tar.gz" & i=$((i + 1)); done
        wait
}
writer_curl() {
        i=0
        while [ $i -lt "$W" ]; do
                (curl -sS -T "$stage/big.tar.gz" "file://$in/up$i.tar.gz.part" && sleep 3 &&
                        mv "$in/up$i.tar.gz.part" "$in/up$i.tar.gz") &
                i=$((i + 1))
        done
        wait
}
t0=$(now)
writer_cp & p1=$!
writer_mv & p2=$!
if command -v rsync >/dev/null; then writer_rsync & p3=$!; RS=1; else p3=; RS=0; fi
writer_curl & p4=$!
wait $p1 $p2 $p3 $p4
total=$((W * (3 + RS)))
check "$total jobs from concurrent writers all end" \
        wait_for "test \$(ls '$sp/outbox' | grep -v '^j' | grep -c 'metrics.yaml$') -eq $total" 3000
t1=$(now)
echo "# $total jobs from 4 concurrent writers: $(per_minute "$total" "$t0" "$t1") jobs per minute (from the first write)"
for p in cp mv up; do
        check "the $W jobs written by $p were each processed exactly once" once "$WORK/daemon.err" "$p" "$W"
done
if [ "$RS" = 1 ]; then
        check "the $W jobs written by rsync were each processed exactly once (no temporary name claimed)" \
                once "$WORK/daemon.err" rs "$W"
else
        TAP_N=$((TAP_N + 1)); echo "ok $TAP_N - rsync writer # SKIP rsync not installed"
fi
check "no writer's job failed (a half-written file would)" test "$(ls "$sp/failed" | wc -l)" -eq 0
check "the inbox is empty" test -z "$(ls -A "$in")"
check "the state area is empty" test -z "$(ls -A "$sp/.codegend/jobs")"
hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$DAEMON_PID/status")
echo "# daemon peak RSS (VmHWM): $hwm kB (bound $RSS_MAX kB)"
check "the daemon's peak RSS stays under $RSS_MAX kB ($hwm kB)" test "$hwm" -le "$RSS_MAX"
kill -TERM "$DAEMON_PID"; wait "$DAEMON_PID"; RC=$?; DAEMON_PID=
check "SIGTERM after the load stops the daemon cleanly" test "$RC" -eq 0
finish
