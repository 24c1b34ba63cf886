#!/bin/sh
# model-concurrency.sh - model calls and CPU work are separate limits (sched.h): an atom
# whose worker waits on a model takes one of its provider's `concurrency` slots, not one
# of the `workers`. With workers: 1 and concurrency: 4 against a loopback server that
# answers after 0.5 s, four calls are in flight at once (the server counts them), never
# more; under hybrid the atoms the bank writes still run one at a time while the model's
# atoms wait on the server beside them.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/model-lib.sh"
unset OPENAI_API_KEY
export ANTHROPIC_API_KEY="$KEY"
make_canned

# the most atoms of the report running at once (from their start_s and end_s), over the
# atoms whose backend is $2 (any: every atom)
overlap() {
        "$PY" - "$1" "$2" <<'PYEOF'
import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
ev = []
for a in d["atoms"]:
    if sys.argv[2] in ("any", a["backend"]):
        ev += [(a["start_s"], 1), (a["end_s"], -1)]
n = top = 0
for _, k in sorted(ev, key=lambda e: (e[0], e[1])):
    n += k
    top = max(top, n)
print(top)
PYEOF
}

start_server slow '{"steps": [{"match": "*", "kind": "slowok", "delay": 0.5, "times": 1000}]}'
run_model slow openai "  concurrency: 4" --workers 1
check "openai, workers 1, concurrency 4: the reference job succeeds" test "$RC" -eq 0
check "four calls were in flight at once, never more (the server's count)" "$PY" -c "
import json; s = json.load(open('$STATS')); assert s['max_inflight'] == 4 and s['requests'] == 50, (s['max_inflight'], s['requests'])"
top=$(overlap "$M" any)
check "four model atoms ran at once, never more (the report's start_s/end_s: $top)" test "$top" -eq 4
# 50 calls of 0.5 s one at a time would take 25 s; 4 at once along the 10-atom critical
# path about 7 s
check "the makespan is well below one call at a time (loose: < 16 s)" yq_true "$M" "d['duration_s'] < 16"

start_server slow2 '{"steps": [{"match": "*", "kind": "slowok", "delay": 0.5, "times": 1000}]}'
run_model slow2 openai "  concurrency: 2" --workers 4
check "openai, workers 4, concurrency 2: the job succeeds" test "$RC" -eq 0
check "concurrency 2 holds with more workers: 2 calls in flight at most" "$PY" -c "
import json; s = json.load(open('$STATS')); assert s['max_inflight'] == 2, s['max_inflight']"
top=$(overlap "$M" any)
check "and the daemon forks no more model workers than that ($top)" test "$top" -eq 2

# hybrid: the bank writes 48 atoms, one at a time (workers: 1, 0.2 s each); the model
# writes the custom route and the validation with the custom rule, each waiting 3 s on
# the server while the bank's atoms go on
mkdir -p "$CANNED/.atoms"
printf '@router.post("/tasks/archive")\ndef archive_done() -> None:\n    """Archive done tasks."""\n' \
        > "$CANNED/.atoms/route_task_archive_done"
start_server hybrid '{"steps": [{"match": "*", "kind": "slowok", "delay": 3, "times": 10}]}' --key "$KEY"
printf 'workers: 1\nanthropic:\n  base_url: http://127.0.0.1:%s\n  model: claude-haiku-4-5\n  concurrency: 4\n' "$PORT" \
        > "$WORK/hybrid.yaml"
SP=$(new_spool hybrid)
mkdir -p "$SP/inbox/taskmanager"
sed '46a\  - {entity: Task, operation: custom, name: archive_done, method: POST, path: /tasks/archive, description: Archive all done tasks}' \
        "$REF/spec.yaml" > "$SP/inbox/taskmanager/spec.yaml"
printf '  - {entity: Task, rule: custom, message: "too many open tasks", description: "A user has at most 20 tasks that are not done."}\n' \
        >> "$SP/inbox/taskmanager/spec.yaml"
CODEGEND_ATOM_DELAY_MS=200 run_once "$SP" --config "$WORK/hybrid.yaml" --backend hybrid
M="$SP/outbox/taskmanager.metrics.yaml"
check "hybrid, workers 1: the job succeeds" test "$RC" -eq 0
check "two atoms went to the model" yq_true "$M" "sorted(a['id'] for a in d['atoms'] if a['backend'] == 'anthropic') == ['route_task_archive_done', 'validation_task']"
top=$(overlap "$M" pattern)
check "the bank's atoms ran one at a time (workers: 1; at most $top at once)" test "$top" -eq 1
check "bank atoms ran while a model atom waited on the server" yq_true "$M" "
any(p['start_s'] > a['start_s'] and p['end_s'] < a['end_s'] for a in d['atoms'] if a['backend'] == 'anthropic'
    for p in d['atoms'] if p['backend'] == 'pattern')"
finish
