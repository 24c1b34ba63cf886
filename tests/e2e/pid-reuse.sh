#!/bin/sh
# pid-reuse.sh - a worker may get the pid of an earlier worker whose job still runs: the
# daemon must not keep a reaped worker's child source (sd_event_add_child() would refuse
# the pid with EBUSY and the loop would stop). In a pid namespace whose pid_max is 450
# (per-namespace pid_max: Linux 6.14+; pids wrap to 300, so 300 forks come first), a job
# whose dockerfile atom hangs keeps its 46 finished atoms' pids while 40 more jobs fork some
# 440 workers through the 150 pids left.
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" -ne 0 ] || ! unshare --pid --fork --mount-proc --kill-child \
        sh -c 'echo 600 > /proc/sys/kernel/pid_max' 2>/dev/null; then
        echo "1..0 # SKIP needs root and a pid namespace with its own pid_max (Linux 6.14+)"
        exit 0
fi
# unshare --fork blocks SIGTERM: the namespace ends with SIGKILL (--kill-child takes the
# daemon and its workers along)
trap 'if [ -n "$DAEMON_PID" ]; then kill -KILL "$DAEMON_PID" 2>/dev/null; fi; cleanup' EXIT
printf 'workers: 2\nsettle_time: 0\n' > "$WORK/cfg.yaml"
sp=$(new_spool reuse)
for k in $(seq 1 40); do "$PY" "$top_srcdir/bench/gen-job.py" "$WORK/src/g$k" 10; done
CODEGEND_FAULT_INJECT=dockerfile=hang unshare --pid --fork --mount-proc --kill-child sh -c \
        'echo 450 > /proc/sys/kernel/pid_max || exit 1
         i=0; while [ $i -lt 300 ]; do /bin/true; i=$((i + 1)); done
         "$0" --spool "$1" --config "$2"' \
        "$CODEGEND" "$sp" "$WORK/cfg.yaml" >"$sp.out" 2>"$sp.err" &
DAEMON_PID=$!
wait_for "test -d '$sp/.codegend/jobs'" 50
sleep 0.3
cp -r "$REF" "$WORK/src/hung" && mv "$WORK/src/hung" "$sp/inbox/hung"
check "the job with a hanging atom runs its 46 atoms that do not wait for it" \
        wait_for "[ \$(ls '$sp'/.codegend/jobs/*/results 2>/dev/null | grep -c yaml) -ge 46 ]" 1200
for k in $(seq 1 40); do mv "$WORK/src/g$k" "$sp/inbox/g$k"; done
wait_for "[ \$(ls '$sp/outbox' | grep -c '^g.*metrics.yaml') -eq 40 ] || ! kill -0 $DAEMON_PID" 1800
check "40 more jobs succeed while it hangs" test "$(ls "$sp/outbox" | grep -c '^g.*metrics.yaml')" -eq 40
check "the daemon is still running" kill -0 "$DAEMON_PID"
check "no worker was refused its pid" sh -c "! grep -q 'failed to watch worker' '$sp.err'"
grep 'failed to watch' "$sp.err" | diag
kill -KILL "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null; DAEMON_PID=
finish
