#!/bin/sh
# reliability-defects.sh - issue 12's defects, each reproduced on a scratch spool as a user
# would meet it: FIFOs in the inbox, unpacking without a timer, same-name jobs ending out of
# order (also across a restart), descriptors held by finished children, no admission limit,
# poison names, failed/ clobbered, the settle check, upload names, --once after SIGINT,
# stale temporary files, the publication order and the fsync count.
. "$(dirname "$0")/lib.sh"

wait_for() { # COND-COMMAND [TENTHS]
        n=0; max=${2:-300}
        while ! sh -c "$1" >/dev/null 2>&1; do
                n=$((n + 1)); [ $n -ge $max ] && return 1; sleep 0.1
        done
}
start_daemon() { # SPOOL CONFIG [ENV...]
        sp=$1 cfg=$2; shift 2
        env "$@" "$CODEGEND" --spool "$sp" --config "$cfg" >>"$sp.out" 2>>"$sp.err" &
        DAEMON_PID=$!
        wait_for "test -d '$sp/.codegend/jobs'" 50
        sleep 0.3
}
stop_daemon() { kill -TERM "$DAEMON_PID" 2>/dev/null; wait "$DAEMON_PID"; RC=$?; DAEMON_PID=; }
kill9_daemon() { kill -KILL "$DAEMON_PID" 2>/dev/null; wait "$DAEMON_PID" 2>/dev/null; DAEMON_PID=; }
# sha_matches SPOOL NAME: the report names the tarball's SHA-256
sha_matches() {
        [ "$(sha256sum "$1/outbox/$2.tar.gz" | cut -d' ' -f1)" = \
          "$(yq "$1/outbox/$2.metrics.yaml" "d['tarball']['sha256']")" ]
}
(cd "$REF/.." && tar -czf "$WORK/tm.tar.gz" taskmanager)
printf 'rescan_interval: 3600\nsettle_time: 0\n' > "$WORK/quiet.yaml"

# --- 1. FIFOs: never block the loop, never hang a job
sp=$(new_spool fifo)
mkfifo "$sp/inbox/x.job.yaml" "$sp/inbox/y.tar.gz"
cp -r "$REF" "$sp/inbox/after"
timeout -k 5 60 "$CODEGEND" --spool "$sp" --once >"$sp.out" 2>"$sp.err"
rc=$?
check "FIFOs in the inbox: --once ends (status $rc, not 124 from timeout)" test "$rc" -eq 1
check "a FIFO x.job.yaml fails: not a regular file" has_error "$sp/failed/x.error.yaml" "not a regular file"
check "a FIFO y.tar.gz fails at unpacking: not a regular file" has_error "$sp/failed/y.error.yaml" "not a regular file"
check "the job after them succeeds" test -s "$sp/outbox/after.metrics.yaml"
check "the FIFOs are in failed/" sh -c "test -p '$sp/failed/x.job.yaml' && test -p '$sp/failed/y.tar.gz'"
# the unpacking child has a timer
sp=$(new_spool unpack-timer)
cp "$WORK/tm.tar.gz" "$sp/inbox/slow.tar.gz"
printf 'limits:\n  unpack_timeout: 1\n' > "$WORK/unpack-timer.yaml"
CODEGEND_FAULT_INJECT=@unpack=hang timeout -k 5 60 "$CODEGEND" --spool "$sp" --once --config "$WORK/unpack-timer.yaml" >"$sp.out" 2>"$sp.err"
check "an unpacking child that hangs is killed by limits.unpack_timeout" has_error "$sp/failed/slow.error.yaml" "unpacking timed out after 1 s"

# --- 2. same-name jobs: the one claimed later stands
# a) the older succeeds after the newer failed: the newer failure stays
sp=$(new_spool order-a)
start_daemon "$sp" "$WORK/quiet.yaml"
cp "$WORK/tm.tar.gz" "$sp/inbox/same.tar.gz"
wait_for "! test -e '$sp/inbox/same.tar.gz'" 50
printf 'spec: {format: 1, name: x, entities: []}\n' > "$sp/inbox/same.job.yaml"
check "a) the newer (bad) job fails" wait_for "test -s '$sp/failed/same.error.yaml'" 100
check "a) the older job ends (dropped)" wait_for "grep -q 'same: dropped' '$sp.err'" 200
stop_daemon
check "a) the newer failure stands: failed/same.error.yaml kept, nothing in outbox/" sh -c "
        test -s '$sp/failed/same.error.yaml' && test -e '$sp/failed/same.job.yaml' && ! test -e '$sp/outbox/same.tar.gz'"
# b) the older fails after the newer succeeded: the newer outputs stay
sp=$(new_spool order-b)
printf 'rescan_interval: 3600\nsettle_time: 0\nlimits:\n  unpack_timeout: 3\n' > "$WORK/order-b.yaml"
start_daemon "$sp" "$WORK/order-b.yaml" CODEGEND_FAULT_INJECT=@unpack=hang
cp "$WORK/tm.tar.gz" "$sp/inbox/same.tar.gz"
wait_for "! test -e '$sp/inbox/same.tar.gz'" 50
mkdir "$sp/staging" && cp -r "$REF" "$sp/staging/same" && mv "$sp/staging/same" "$sp/inbox/same"
check "b) the newer job succeeds" wait_for "test -s '$sp/outbox/same.metrics.yaml'" 200
sleep 3.5 # past the older job's unpack_timeout
stop_daemon
check "b) the newer outputs stand: no failed/same.error.yaml, the pair matches" sh -c "
        ! test -e '$sp/failed/same.error.yaml' && test -s '$sp/outbox/same.metrics.yaml'"
check "b) its report matches its tarball" sha_matches "$sp" same
check "b) the job area is empty" sh -c "[ -z \"\$(ls -A '$sp/.codegend/jobs')\" ]"
# c) across a restart: both were claimed when the daemon died; at the restart both resume
# at once and the newer (a bad archive) fails first: its failure stands
sp=$(new_spool order-c)
mkdir -p "$WORK/bad/same" && printf 'format: 1\nname: x\nentities: []\n' > "$WORK/bad/same/spec.yaml"
(cd "$WORK/bad" && tar -cJf "$WORK/bad.tar.xz" same)
start_daemon "$sp" "$WORK/quiet.yaml" CODEGEND_FAULT_INJECT=@unpack=hang
cp "$WORK/tm.tar.gz" "$sp/inbox/same.tar.gz"
wait_for "! test -e '$sp/inbox/same.tar.gz'" 50
sleep 0.1 # claim times differ by far more than their resolution
cp "$WORK/bad.tar.xz" "$sp/inbox/same.tar.xz"
wait_for "! test -e '$sp/inbox/same.tar.xz'" 50
kill9_daemon
check "c) both jobs are in the state area after kill -9" sh -c "[ \$(ls '$sp/.codegend/jobs' | wc -l) -eq 2 ]"
run_once "$sp"
check "c) after the restart the newer failure stands, the older job is dropped" sh -c "
        test -s '$sp/failed/same.error.yaml' && ! test -e '$sp/outbox/same.tar.gz' && [ -z \"\$(ls -A '$sp/.codegend/jobs')\" ]"

# --- 3. descriptors are released as children end: 50 atoms under `ulimit -n 32`
sp=$(new_spool nofile)
cp -r "$REF" "$sp/inbox/tm"
(ulimit -n 32 && exec "$CODEGEND" --spool "$sp" --once --workers 2 >"$sp.out" 2>"$sp.err")
check "a 50-atom job succeeds with 32 descriptors" sh -c "test -s '$sp/outbox/tm.metrics.yaml' || { tail -5 '$sp.err'; false; }"
sp=$(new_spool nofile-many)
for i in 1 2 3 4 5 6; do cp "$WORK/tm.tar.gz" "$sp/inbox/a$i.tar.gz"; done
(ulimit -n 32 && exec "$CODEGEND" --spool "$sp" --once --workers 2 >"$sp.out" 2>"$sp.err")
check "6 archives with 32 descriptors all succeed, none stranded" sh -c "
        [ \$(ls '$sp/outbox/'*.metrics.yaml | wc -l) -eq 6 ] && [ -z \"\$(ls -A '$sp/.codegend/jobs')\" ]"

# --- 4. admission: at most max_jobs claimed, unpacking inside the worker slots
sp=$(new_spool admission)
for i in 1 2 3 4 5; do cp "$WORK/tm.tar.gz" "$sp/inbox/j$i.tar.gz"; done
printf 'max_jobs: 2\n' > "$WORK/admission.yaml"
"$CODEGEND" --spool "$sp" --once --workers 1 --config "$WORK/admission.yaml" >"$sp.out" 2>"$sp.err" &
pid=$!
maxjobs=0 maxkids=0
while kill -0 $pid 2>/dev/null; do
        n=$(ls "$sp/.codegend/jobs" 2>/dev/null | wc -l)
        k=$(pgrep -P $pid | wc -l)
        [ "$n" -gt "$maxjobs" ] && maxjobs=$n
        [ "$k" -gt "$maxkids" ] && maxkids=$k
        sleep 0.05
done
wait $pid
rc=$?
check "5 archives, max_jobs 2: never more than 2 claimed (saw $maxjobs)" test "$maxjobs" -le 2
check "--workers 1: never more than 1 child besides packing (saw $maxkids)" test "$maxkids" -le 2
check "all 5 succeed (exit $rc)" sh -c "[ $rc -eq 0 ] && [ \$(ls '$sp/outbox/'*.metrics.yaml | wc -l) -eq 5 ]"

# a failed fork (the process limit) is tried again later, it does not fail the job
if command -v setpriv >/dev/null && command -v prlimit >/dev/null && [ "$(id -u)" -eq 0 ] &&
   [ "$(ps -u nobody -o pid= | wc -l)" -eq 0 ]; then
        sp=$(new_spool nproc)
        cp -r "$REF" "$sp/inbox/forkdir"
        cp "$WORK/tm.tar.gz" "$sp/inbox/forkarc.tar.gz"
        chmod 755 "$WORK" && chown -R nobody:nogroup "$sp"
        setpriv --reuid=nobody --regid=nogroup --clear-groups prlimit --nproc=3 \
                "$CODEGEND" --spool "$sp" --once --workers 4 >"$sp.out" 2>"$sp.err"
        rc=$?
        check "forks failing with EAGAIN (nproc 3, 4 workers) were retried" grep -q 'failed to fork .*trying again' "$sp.err"
        check "and both jobs succeed (exit $rc)" sh -c "[ $rc -eq 0 ] && test -s '$sp/outbox/forkdir.metrics.yaml' && test -s '$sp/outbox/forkarc.metrics.yaml'"
else
        ok "# SKIP fork failures: needs root, setpriv, prlimit and no process of user nobody"
fi

# --- 5. poison names never loop; 6. failed/ is never clobbered
sp=$(new_spool poison)
long=$(printf 'n%.0s' $(seq 1 229))
cp -r "$REF" "$sp/inbox/$long"
cp -r "$REF" "$sp/inbox/foo.error.yaml"
run_once "$sp"
check "a 229-byte name is refused into failed/ (not left in the state area)" sh -c "
        [ -z \"\$(ls -A '$sp/.codegend/jobs')\" ] && [ -z \"\$(ls -A '$sp/inbox')\" ] && ls '$sp/failed/' | grep -q '^nnnn.*error.yaml$'"
check "a directory bundle named foo.error.yaml goes to failed/ under a free name" \
        test -d "$sp/failed/foo.error.yaml~0"
run_once "$sp"
check "the next start finds nothing to do" sh -c "[ $RC -eq 0 ] && ! grep -q claimed '$sp.err'"
sp=$(new_spool clobber)
printf 'spec: {format: 1, name: x, entities: []}\n' > "$sp/inbox/foo.job.yaml"
run_once "$sp"
cp "$sp/failed/foo.error.yaml" "$WORK/foo-report"
echo "not a report" > "$sp/inbox/foo.error.yaml"
echo "plain" > "$sp/inbox/foo"
run_once "$sp"
check "a dropped foo.error.yaml does not replace job foo's report" cmp -s "$WORK/foo-report" "$sp/failed/foo.error.yaml"
check "it is kept under a free name with its own report" sh -c "
        grep -q 'not a report' '$sp/failed/foo.error.yaml~0' && test -s '$sp/failed/foo.error.yaml~0.error.yaml'"
check "a plain file foo does not take foo's report name either" sh -c "
        grep -q plain '$sp/failed/foo~1' && test -s '$sp/failed/foo~1.error.yaml'"

# --- 7. publication: the old report goes before the new tarball replaces the old one
sp=$(new_spool publish)
cp -r "$REF" "$sp/inbox/pub"
run_once "$sp"
cp -r "$REF" "$sp/inbox/pub"
strace -f -qq -e trace=rename,renameat,renameat2,unlink,unlinkat -o "$WORK/publish.trace" \
        "$CODEGEND" --spool "$sp" --once >/dev/null 2>&1
check "republishing: outbox/pub.metrics.yaml removed before the new tarball is renamed in" "$PY" -c "
import re, sys
lines = open('$WORK/publish.trace').read().splitlines()
def first(pat):
    for i, l in enumerate(lines):
        if re.search(pat, l) and '= 0' in l:
            return i
    sys.exit('not found: ' + pat)
u = first(r'unlink(at)?\(.*outbox/pub\.metrics\.yaml\"')
t = first(r'rename(at2?)?\(.*out/pub\.tar\.gz\".*outbox/pub\.tar\.gz\"')
assert u < t, (u, t)"
check "the republished pair matches" sha_matches "$sp" pub
check "fsyncs for the 50-atom job: at most 12" sh -c "
        cp -r '$REF' '$sp/inbox/count' && strace -f -qq -c -e trace=fsync,fdatasync -o '$WORK/fsync.count' \
        '$CODEGEND' --spool '$sp' --once >/dev/null 2>&1; cat '$WORK/fsync.count' &&
        test -s '$sp/outbox/count.metrics.yaml' &&
        [ \$(awk '/fsync/ {print \$4}' '$WORK/fsync.count') -le 12 ]"

# --- 8. settle: the whole tree, two looks; upload names left alone
sp=$(new_spool settle)
printf 'rescan_interval: 1\nsettle_time: 2\n' > "$WORK/settle.yaml"
start_daemon "$sp" "$WORK/settle.yaml"
mkdir "$sp/inbox/slow"
cp "$REF/dag.json" "$sp/inbox/slow/"
( while IFS= read -r line; do printf '%s\n' "$line"; sleep 0.1; done < "$REF/spec.yaml" ) > "$sp/inbox/slow/spec.yaml" &
writer=$!
sleep 0.3
touch -d '1 hour ago' "$sp/inbox/slow" # the top-level entry looks old
echo partial > "$sp/inbox/up.tar.gz.filepart"
touch -d '1 hour ago' "$sp/inbox/up.tar.gz.filepart"
wait $writer
check "a directory whose file is still being written is not taken half-written" \
        wait_for "test -s '$sp/outbox/slow.metrics.yaml'" 200
check "a .filepart upload is left alone" sh -c "test -f '$sp/inbox/up.tar.gz.filepart' && ! test -e '$sp/failed/up.tar.gz.error.yaml'"
stop_daemon

# --- 10. --once stopped by SIGINT with jobs unfinished exits non-zero
sp=$(new_spool sigint)
cp -r "$REF" "$sp/inbox/stuck"
CODEGEND_FAULT_INJECT=readme=hang "$CODEGEND" --spool "$sp" --once >"$sp.out" 2>"$sp.err" &
pid=$!
wait_for "ls '$sp/.codegend/jobs/'*/bundle/stuck" 50
sleep 0.5
kill -INT $pid; wait $pid; rc=$?
check "--once after SIGINT with a job unfinished exits non-zero (got $rc)" test "$rc" -ne 0
check "the job is still in the state area" sh -c "ls '$sp/.codegend/jobs/'*/bundle/stuck"

# --- 11. a killed daemon's temporary files are removed at start (its own pattern only);
# pid 999999999 exists nowhere (above pid_max); another host's (tag deadbeef) only when
# older than a lease and its grace: that daemon may be writing it now
sp=$(new_spool stale)
mkdir -p "$sp/outbox" "$sp/failed"
echo x > "$sp/outbox/.foo.metrics.yaml.999999999.7.tmp"
echo x > "$sp/failed/.foo.error.yaml.999999999.8.tmp"
echo x > "$sp/outbox/.someone-elses.tmp"
echo x > "$sp/inbox/.upload.1.2.tmp"
echo x > "$sp/outbox/.bar.metrics.yaml.12.999999999@deadbeef.7.tmp"
echo x > "$sp/outbox/.baz.metrics.yaml.12.999999999@deadbeef.8.tmp"
touch -d '2 hours ago' "$sp/outbox/.baz.metrics.yaml.12.999999999@deadbeef.8.tmp"
run_once "$sp"
check "stale .NAME.PID.N.tmp files are removed from outbox/ and failed/" sh -c "
        ! test -e '$sp/outbox/.foo.metrics.yaml.999999999.7.tmp' && ! test -e '$sp/failed/.foo.error.yaml.999999999.8.tmp'"
check "other dot files, and anything in inbox/, are left alone" sh -c "
        test -e '$sp/outbox/.someone-elses.tmp' && test -e '$sp/inbox/.upload.1.2.tmp'"
check "another host's fresh temporary file is left alone, an old one removed" sh -c "
        test -e '$sp/outbox/.bar.metrics.yaml.12.999999999@deadbeef.7.tmp' &&
        ! test -e '$sp/outbox/.baz.metrics.yaml.12.999999999@deadbeef.8.tmp'"

finish
