#!/bin/sh
# fairness.sh - the workers are shared between running jobs (sched.h): a 1,000-atom job
# cannot starve a 25-atom job dropped after it (bench/gen-job.py rounds to whole entities). The small job must be published while the
# big one still has most of its atoms ahead; then the big one is cancelled (running it to
# the end is bench/run's job: it prints both times). Under FIFO slots the small job would
# wait for all 1,000 atoms.
. "$(dirname "$0")/lib.sh"

printf 'workers: 2\nsettle_time: 0\n' > "$WORK/cfg.yaml"
"$PY" "$top_srcdir/bench/gen-job.py" "$WORK/src/big" 1000
"$PY" "$top_srcdir/bench/gen-job.py" "$WORK/src/small" 10
sp=$(new_spool fair)
start_daemon "$sp" "$WORK/cfg.yaml"
mv "$WORK/src/big" "$sp/inbox/big"
# the big job holds both workers before the small one arrives
check "the big job is running" wait_for "ls '$sp'/.codegend/jobs/*/results 2>/dev/null | grep -q yaml" 600
t0=$("$PY" -c 'import time; print(time.monotonic())')
mv "$WORK/src/small" "$sp/inbox/small"
check "the small job is published" wait_for "test -e '$sp/outbox/small.metrics.yaml'" 1800
t1=$("$PY" -c 'import time; print(time.monotonic())')
done_big=$(ls "$sp"/.codegend/jobs/*/results 2>/dev/null | grep -c '\.yaml$')
check "the big job is still running then" test ! -e "$sp/outbox/big.metrics.yaml"
check "the big job has most of its 1,000 atoms ahead" test "$done_big" -lt 500
echo "# small job (25 atoms): published $("$PY" -c "print('%.1f' % ($t1 - $t0))") s after its drop," \
     "its run took $(yq "$sp/outbox/small.metrics.yaml" "d['duration_s']") s; big job (1,000 atoms):" \
     "$done_big atoms done by then"
check "the small job's atoms ran while the big job ran" yq_true "$sp/outbox/small.metrics.yaml" \
        "d['status'] == 'succeeded' and len(d['atoms']) == 25"
check "cancel the big job" "$CODEGENCTL" --spool "$sp" cancel big --timeout 60
stop_daemon
finish
