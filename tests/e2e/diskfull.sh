#!/bin/sh
# diskfull.sh - a full disk: the whole spool (outbox/ and the state area; they must share a
# file system, outputs are published by rename) on a small tmpfs. A job dropped while the disk
# is full must fail or wait cleanly, leave no partial file in outbox/ (no temporary file, no
# tarball without its report, no report that does not match its tarball), and once space
# returns the daemon must recover: the stuck job ends, and a new job succeeds.
# Skipped when this user may not mount a tmpfs.
. "$(dirname "$0")/lib.sh"

wait_for() { # COND-COMMAND [TENTHS]
        n=0; max=${2:-300}
        while ! sh -c "$1" 2>/dev/null; do
                n=$((n + 1)); [ $n -ge $max ] && return 1; sleep 0.1
        done
}
sp="$WORK/spool"
mkdir -p "$sp"
if ! mount -t tmpfs -o size=6m,mode=0755 codegend-diskfull "$sp" 2>/dev/null; then
        echo "1..0 # SKIP cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN)"
        exit 0
fi
unmount() {
        if [ -n "$DAEMON_PID" ]; then kill "$DAEMON_PID" 2>/dev/null; wait "$DAEMON_PID" 2>/dev/null; DAEMON_PID=; fi
        umount "$sp" 2>/dev/null
        cleanup
}
trap unmount EXIT
mkdir -p "$sp/inbox" "$sp/staging"
printf 'rescan_interval: 1\nsettle_time: 0\n' > "$WORK/codegend.yaml"
start() {
        "$CODEGEND" --spool "$sp" --config "$WORK/codegend.yaml" --workers 2 >>"$WORK/daemon.out" 2>>"$WORK/daemon.err" &
        DAEMON_PID=$!
        wait_for "test -d '$sp/.codegend/jobs'" 50
}
fill() { # fills the tmpfs to the last byte
        dd if=/dev/zero of="$sp/filler" bs=64k 2>/dev/null
        dd if=/dev/zero of="$sp/filler2" bs=1 2>/dev/null
        true
}
# no_partial: outbox/ holds only complete pairs whose report names its tarball's SHA-256
no_partial() {
        "$PY" - "$sp/outbox" <<'PYEOF'
import hashlib, os, sys, yaml
d = sys.argv[1]
names = os.listdir(d) if os.path.isdir(d) else []
bad = [n for n in names if n.startswith(".") or n.endswith(".tmp")]
for n in names:
    if n.endswith(".metrics.yaml"):
        t = n[: -len(".metrics.yaml")] + ".tar.gz"
        r = yaml.safe_load(open(os.path.join(d, n)))
        if t not in names or hashlib.sha256(open(os.path.join(d, t), "rb").read()).hexdigest() != r["tarball"]["sha256"]:
            bad.append(n)
    elif n.endswith(".tar.gz") and n[: -len(".tar.gz")] + ".metrics.yaml" not in names:
        bad.append(n)
print("partial or mismatched:", bad)
sys.exit(1 if bad else 0)
PYEOF
}

start
cp -r "$REF" "$sp/staging/before" && mv "$sp/staging/before" "$sp/inbox/"
check "with space, a job succeeds on the tmpfs spool" wait_for "test -s '$sp/outbox/before.metrics.yaml'"

# ---- the disk fills up, then a job comes (renamed in: a rename needs no space)
cp -r "$REF" "$sp/staging/full"
cp -r "$REF" "$sp/staging/full2"
fill
echo "# free on the spool: $(df -k "$sp" | awk 'NR == 2 { print $4 }') kB"
mv "$sp/staging/full" "$sp/inbox/"
sleep 5
check "the daemon is still running with the disk full" kill -0 "$DAEMON_PID"
check "no partial or mismatched file in outbox/ while the disk is full" no_partial
check "job 'full' has not been published half-written" sh -c "! test -e '$sp/outbox/full.tar.gz' || test -s '$sp/outbox/full.metrics.yaml'"
outcome() { test -s "$sp/outbox/$1.metrics.yaml" || test -s "$sp/failed/$1.error.yaml"; }
if outcome full; then
        check "job 'full' failed with a reason that names the full disk" grep -qi "no space" "$sp/failed/full.error.yaml"
fi

# ---- space returns
rm -f "$sp/filler" "$sp/filler2"
mv "$sp/staging/full2" "$sp/inbox/"
check "once space returns, a new job succeeds" wait_for "test -s '$sp/outbox/full2.metrics.yaml'"
# (a claim writes the job's lease before it moves the bundle: with the disk full the claim
# fails and the bundle waits in inbox/, to be claimed at a rescan once space returns)
check "once space returns, the job that met the full disk ends (outbox/ or failed/ with a reason)" \
        wait_for "test -s '$sp/outbox/full.metrics.yaml' || test -s '$sp/failed/full.error.yaml'" 100

# ---- the disk fills up while a claimed job runs (atoms slowed down): its failure cannot be
# recorded, so it waits in memory and the state area, and is recorded as soon as space
# returns, without a restart (job_fail's retry)
kill -TERM "$DAEMON_PID"; wait "$DAEMON_PID"; DAEMON_PID=
cp -r "$REF" "$sp/staging/mid"
export CODEGEND_ATOM_DELAY_MS=150
start
unset CODEGEND_ATOM_DELAY_MS
mv "$sp/staging/mid" "$sp/inbox/"
wait_for "ls -A '$sp/.codegend/jobs' | grep -q ." 100
fill
check "a job that met the full disk mid-run waits: it cannot be recorded yet" \
        wait_for "grep -q 'mid: .*trying again in' '$WORK/daemon.err'" 600
check "the daemon is still running with the disk full mid-run" kill -0 "$DAEMON_PID"
rm -f "$sp/filler" "$sp/filler2"
check "once space returns, the job that met the full disk mid-run ends without a restart" \
        wait_for "test -s '$sp/outbox/mid.metrics.yaml' || test -s '$sp/failed/mid.error.yaml'" 700
check "and its report names the full disk" sh -c "test -s '$sp/outbox/mid.metrics.yaml' || grep -qi 'no space' '$sp/failed/mid.error.yaml' || { cat '$sp/failed/mid.error.yaml'; false; }"
kill -TERM "$DAEMON_PID"; wait "$DAEMON_PID"; RC=$?; DAEMON_PID=
check "SIGTERM stops the daemon cleanly after the full disk" test "$RC" -eq 0
start
check "after a restart, the job that met the full disk ends" \
        wait_for "test -s '$sp/outbox/full.metrics.yaml' || test -s '$sp/failed/full.error.yaml'" 300
check "no partial or mismatched file in outbox/ at the end" no_partial
check "no temporary file anywhere in the spool" sh -c "! find '$sp' -name '*.tmp' | grep ."
check "the state area is empty" sh -c "test -z \"\$(ls -A '$sp/.codegend/jobs')\""
{ echo "job 'full' ended in: $(ls "$sp/outbox" "$sp/failed" | grep '^full\.')"
  grep -i "space\|error" "$WORK/daemon.err" | head -10; } | diag
finish
