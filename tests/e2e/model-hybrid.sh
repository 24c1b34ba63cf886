#!/bin/sh
# model-hybrid.sh - backend hybrid on the reference spec plus a custom operation and a
# custom rule (which the pattern backend refuses alone): the templates write every other
# atom, the model (the scripted loopback server) only the custom operation's route and
# the validation atom of the entity with the custom rule, extending the bank's draft.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/model-lib.sh"
export ANTHROPIC_API_KEY="$KEY"
make_canned
mkdir -p "$CANNED/.atoms"
cat > "$CANNED/.atoms/route_task_archive_done" <<'PY'
from typing import Dict

from src.database import DbSession
from src.models.task import Task


@router.post("/tasks/archive", summary="Archive all done tasks")
def archive_done_task(db: DbSession) -> Dict[str, int]:
    """Archive all done tasks.

    Args:
        db: The database session.

    Returns:
        How many tasks were archived.
    """
    done = db.query(Task).filter(Task.status == "done").all()
    for task in done:
        db.delete(task)
    db.commit()
    return {"archived": len(done)}
PY

bundle() { # NAME: the reference spec with a custom operation and a custom rule, planned
        mkdir -p "$1/taskmanager"
        sed '46a\  - {entity: Task, operation: custom, name: archive_done, method: POST, path: /tasks/archive, description: Archive all done tasks}' \
                "$REF/spec.yaml" > "$1/taskmanager/spec.yaml"
        printf '  - {entity: Task, rule: custom, message: "too many open tasks", description: "A user has at most 20 tasks that are not done."}\n' \
                >> "$1/taskmanager/spec.yaml"
}

# the pattern backend alone refuses the job
sp=$(new_spool pattern-alone)
bundle "$sp/inbox"
run_once "$sp"
check "the pattern backend alone refuses custom operations and rules" yq_true "$sp/failed/taskmanager.error.yaml" \
        "d['stage'] == 'validation' and any('custom' in e['message'] for e in d['errors'])"

start_server hybrid '{"steps": []}' --key "$KEY"
printf 'anthropic:\n  base_url: http://127.0.0.1:%s\n  model: claude-haiku-4-5\n' "$PORT" > "$WORK/hybrid.yaml"
SP=$(new_spool hybrid)
bundle "$SP/inbox"
run_once "$SP" --config "$WORK/hybrid.yaml" --backend hybrid
M="$SP/outbox/taskmanager.metrics.yaml"
check "hybrid generates the spec with a custom operation and a custom rule" test "$RC" -eq 0
check "calls only for the two atoms that need a model" "$PY" -c "
import json; s = json.load(open('$STATS')); assert sorted(s['atoms']) == ['route_task_archive_done', 'validation_task'], s['atoms']"
check "the validation atom got the pattern draft to extend, the custom route none" "$PY" -c "
import json; s = json.load(open('$STATS')); assert s.get('drafts') == ['validation_task'], s.get('drafts')"
check "each atom's entry says which backend wrote it" yq_true "$M" \
        "sorted(a['id'] for a in d['atoms'] if a['backend'] == 'anthropic') == ['route_task_archive_done', 'validation_task'] and all(a['backend'] == 'pattern' and a['api']['calls'] == 0 for a in d['atoms'] if a['id'] not in ('route_task_archive_done', 'validation_task'))"
check "the report names hybrid and the model's model" yq_true "$M" \
        "d['backend'] == {'name': 'hybrid', 'model': 'claude-haiku-4-5'} and d['api']['calls'] == 2 and d['syntax']['errors'] == 0"
check "api: totals equal the server's count, at claude-haiku-4-5's prices" api_exact 1 5 1.25 0.10
check "the custom operation is in the project" sh -c "mkdir -p '$WORK/x' && tar -xzf '$SP/outbox/taskmanager.tar.gz' -C '$WORK/x' && grep -q 'def archive_done_task' '$WORK/x/taskmanager/src/api/routes/tasks.py' && grep -q 'def list_tasks' '$WORK/x/taskmanager/src/api/routes/tasks.py'"
check "the key is written nowhere" no_key

# the job option model_backend sends hybrid's model calls to openai instead
start_server hybrid-openai '{"steps": []}'
printf 'openai:\n  base_url: http://127.0.0.1:%s/v1\n  model: gpt-5-nano\n' "$PORT" > "$WORK/hybrid-openai.yaml"
SP=$(new_spool hybrid-openai)
bundle "$SP/inbox"
printf 'backend: hybrid\nmodel_backend: openai\n' > "$SP/inbox/taskmanager/job.yaml"
run_once "$SP" --config "$WORK/hybrid-openai.yaml"
M="$SP/outbox/taskmanager.metrics.yaml"
check "model_backend: openai: the same two atoms go to the openai server" sh -c "$(cat <<EOS
"$PY" -c "import json; s = json.load(open('$STATS')); assert sorted(s['atoms']) == ['route_task_archive_done', 'validation_task'] and set(s['paths']) == {'/v1/chat/completions'}, s" &&
"$PY" -c "import yaml; d = yaml.safe_load(open('$M')); assert d['backend']['model'] == 'gpt-5-nano' and sorted(a['id'] for a in d['atoms'] if a['backend'] == 'openai') == ['route_task_archive_done', 'validation_task'], d['backend']"
EOS
)"
check "api: totals equal the server's count, at gpt-5-nano's prices" api_exact 0.05 0.40 0.05 0.005
SP=$(new_spool hybrid-bad)
bundle "$SP/inbox"
printf 'backend: hybrid\nmodel_backend: gemini\n' > "$SP/inbox/taskmanager/job.yaml"
run_once "$SP" --config "$WORK/hybrid-openai.yaml"
check "an unknown model_backend fails the job at validation, with its position" yq_true "$SP/failed/taskmanager.error.yaml" \
        "d['stage'] == 'validation' and any('gemini' in e['message'] and e.get('line') == 2 for e in d['errors'])"
finish
