#!/bin/sh
# schedule.sh - the scheduler (sched.h): `schedule: dag` starts an atom as soon as its
# dependencies succeeded, `schedule: waves` holds every atom of wave k+1 until each atom of
# wave k ended (a daemon setting and a job option); among ready atoms the longest remaining
# chain starts first; bad options fail the job with their place. The atoms' start_s/end_s
# in the report show the order.
. "$(dirname "$0")/lib.sh"

printf 'workers: 2\n' > "$WORK/dag.yaml"
printf 'workers: 2\nschedule: waves\n' > "$WORK/waves.yaml"
printf 'workers: 1\n' > "$WORK/one.yaml"

# with src_pkg (wave 1, few dependents) taking 2 s, atoms of later waves overtake it in dag
# mode; in waves mode none of them may start before it ended
overtaken() { yq_true "$1" "[a for a in d['atoms'] if a['wave'] > 1 and a['start_s'] < [b for b in d['atoms'] if b['id'] == 'src_pkg'][0]['end_s']] != []"; }
barrier() { yq_true "$1" "all(a['start_s'] >= b['end_s'] for a in d['atoms'] for b in d['atoms'] if b['wave'] < a['wave'])"; }
waves_listed() { yq_true "$1" "[w['index'] for w in d['waves']] == list(range(1, 11)) and all(w['duration_s'] > 0 for w in d['waves'])"; }

sp=$(new_spool dag)
cp -r "$REF" "$sp/inbox/taskmanager"
export CODEGEND_FAULT_INJECT=src_pkg=slow
run_once "$sp" --config "$WORK/dag.yaml"
m="$sp/outbox/taskmanager.metrics.yaml"
check "dag: the job succeeds" test "$RC" -eq 0
check "dag: the report names the schedule" yq_true "$m" "d['schedule'] == {'mode': 'dag', 'priority': 1}"
check "dag: atoms of later waves start while the slow wave-1 atom runs" overtaken "$m"
check "dag: wave figures stay in the report" waves_listed "$m"
dag_time=$(yq "$m" "d['duration_s']")

sp=$(new_spool waves-setting)
cp -r "$REF" "$sp/inbox/taskmanager"
run_once "$sp" --config "$WORK/waves.yaml"
m="$sp/outbox/taskmanager.metrics.yaml"
check "waves (daemon setting): the job succeeds" test "$RC" -eq 0
check "waves (daemon setting): the report names the schedule" yq_true "$m" "d['schedule']['mode'] == 'waves'"
check "waves (daemon setting): no atom starts before every atom of the earlier waves ended" barrier "$m"
check "waves (daemon setting): wave figures in the report" waves_listed "$m"
waves_time=$(yq "$m" "d['duration_s']")
echo "# makespan with src_pkg slow: dag ${dag_time}s, waves ${waves_time}s" 

sp=$(new_spool waves-option)
cp -r "$REF" "$sp/inbox/taskmanager"
printf 'schedule: waves\npriority: 3\n' > "$sp/inbox/taskmanager/job.yaml"
run_once "$sp" --config "$WORK/dag.yaml"
m="$sp/outbox/taskmanager.metrics.yaml"
check "waves (job option over the daemon's dag): the job succeeds" test "$RC" -eq 0
check "waves (job option): the report names schedule and priority" yq_true "$m" "d['schedule'] == {'mode': 'waves', 'priority': 3}"
check "waves (job option): the barrier holds" barrier "$m"
unset CODEGEND_FAULT_INJECT

# critical path: with one worker, FIFO would run all of wave 1 first; database (wave 2)
# heads the longest chain (config -> database -> models -> ... -> tests) and so starts
# before src_pkg and requirements (wave 1, short chains)
sp=$(new_spool critical)
cp -r "$REF" "$sp/inbox/taskmanager"
run_once "$sp" --config "$WORK/one.yaml"
m="$sp/outbox/taskmanager.metrics.yaml"
check "critical path: the job succeeds" test "$RC" -eq 0
start() { echo "[a for a in d['atoms'] if a['id'] == '$1'][0]['start_s']"; }
check "critical path: database (wave 2, long chain) starts before src_pkg and requirements (wave 1)" \
        yq_true "$m" "$(start database) < $(start src_pkg) and $(start database) < $(start requirements)"
check "critical path: config runs first, database second" \
        yq_true "$m" "[a['id'] for a in sorted(d['atoms'], key=lambda a: a['start_s'])][:2] == ['config', 'database']"

# bad options fail the job at validation with their place
sp=$(new_spool bad)
for opt in 'schedule: fifo' 'schedule: 3' 'priority: 0' 'priority: 101' 'priority: high'; do
        n=$(echo "$opt" | tr -c 'a-z0-9\n' '_')
        cp -r "$REF" "$sp/inbox/$n"
        printf '%s\n' "$opt" > "$sp/inbox/$n/job.yaml"
done
run_once "$sp" --config "$WORK/dag.yaml"
check "bad options fail the run" test "$RC" -eq 1
check "schedule: fifo is refused at 1:11" has_error "$sp/failed/schedule__fifo.error.yaml" "'schedule' must be dag or waves" 1 11
check "schedule: 3 is refused" has_error "$sp/failed/schedule__3.error.yaml" "'schedule' must be dag or waves" 1 11
check "priority: 0 is refused" has_error "$sp/failed/priority__0.error.yaml" "'priority' must be an integer from 1 to 100" 1 11
check "priority: 101 is refused" has_error "$sp/failed/priority__101.error.yaml" "'priority' must be an integer from 1 to 100"
check "priority: high is refused" has_error "$sp/failed/priority__high.error.yaml" "'priority' must be an integer from 1 to 100"

printf 'schedule: barrier\n' > "$WORK/badcfg.yaml"
sp=$(new_spool badcfg)
run_once "$sp" --config "$WORK/badcfg.yaml"
check "a bad schedule setting stops the daemon with its place" sh -c "[ $RC -ne 0 ] && grep -q \"badcfg.yaml:1:11.*'schedule' must be dag or waves\" '$sp.err'"
finish
