#!/bin/sh
# pattern-python.sh - the pattern backend's projects work: for the reference job and nine
# more specs (tests/data/specs/pattern-*.yaml) the generated project passes its own pytest
# suite, pyflakes and mypy, `alembic upgrade head` creates every table on SQLite, and the
# app's OpenAPI document lists every endpoint of the spec. Uses Debian's python3 packages.
# (In the sanitizer build only the generation runs: the Python checks do not depend on it.)
. "$(dirname "$0")/lib.sh"

sp=$(new_spool py)
cp -r "$REF" "$sp/inbox/taskmanager"
for s in library clinic inventory social misc shop fieldnames rules stdnames; do
        "$PY" -c 'import sys, yaml; yaml.safe_dump({"spec": yaml.safe_load(open(sys.argv[1]))}, open(sys.argv[2], "w"), sort_keys=False)' \
                "$top_srcdir/tests/data/specs/pattern-$s.yaml" "$sp/inbox/$s.job.yaml"
done
run_once "$sp"
check "ten specs generate (exit 0)" test "$RC" -eq 0
[ "$RC" -eq 0 ] || diag < "$sp.err"

for job in taskmanager library clinic inventory social misc shop fieldnames rules stdnames; do
        m="$sp/outbox/$job.metrics.yaml"
        check "$job: every success criterion is true" yq_true "$m" "all(d['success_criteria'].values())"
        check "$job: every entity and endpoint found in the code" yq_true "$m" \
                "d['quality']['entities']['found'] == d['quality']['entities']['expected'] > 0 and d['quality']['endpoints']['found'] == d['quality']['endpoints']['expected'] > 0"
done
check "the reference job has 40-60 files and at least 1,000 lines" yq_true "$sp/outbox/taskmanager.metrics.yaml" \
        "40 <= d['files']['total'] <= 60 and d['loc']['total'] >= 1000"

if [ -n "${SANITIZERS:-}" ]; then finish; exit $?; fi

for job in taskmanager library clinic inventory social misc shop fieldnames rules stdnames; do
        x="$WORK/x-$job"; mkdir -p "$x"
        tar -xzf "$sp/outbox/$job.tar.gz" -C "$x"
        proj=$(echo "$x"/*)
        check "$job: pytest passes" sh -c "cd '$proj' && '$PY' -m pytest -q -p no:cacheprovider > '$WORK/$job.pytest' 2>&1 || { tail -40 '$WORK/$job.pytest'; exit 1; }"
        check "$job: pytest ran tests" grep -qE '^[0-9]+ passed' "$WORK/$job.pytest"
        check "$job: pyflakes is clean" sh -c "cd '$proj' && '$PY' -m pyflakes ."
        check "$job: mypy is clean" sh -c "cd '$proj' && '$PY' -m mypy --ignore-missing-imports --cache-dir '$WORK/mypy-cache' src"
        check "$job: alembic upgrade head creates every table" sh -c "
                cd '$proj/migrations' && rm -f *.db ../*.db &&
                DATABASE_URL='sqlite:///$WORK/$job-alembic.db' '$PY' -m alembic -c alembic.ini upgrade head &&
                '$PY' - '$WORK/$job-alembic.db' '$proj/.codegen/spec.yaml' <<'PYEOF'
import re, sqlite3, sys, yaml
db, spec = sys.argv[1], yaml.safe_load(open(sys.argv[2]))
have = {r[0] for r in sqlite3.connect(db).execute(\"select name from sqlite_master where type='table'\")}
def plural(s):
    if re.search('[^aeiou]y\$', s): return s[:-1] + 'ies'
    if re.search('(s|x|z|ch|sh)\$', s): return s + 'es'
    return s + 's'
snake = lambda n: re.sub(r'(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])', '_', n).lower()
want = {e.get('table') or plural(snake(e['name'])) for e in spec['entities']}
missing = want - have
assert not missing, 'missing tables: %s (have %s)' % (missing, have)
PYEOF"
        check "$job: the OpenAPI document lists every endpoint" sh -c "
                cd '$proj' && '$PY' - '$proj/.codegen/spec.yaml' <<'PYEOF'
import sys, yaml
from src.main import app
spec = yaml.safe_load(open(sys.argv[1]))
prefix = (spec.get('config') or {}).get('api_prefix', '/api').rstrip('/')
paths = app.openapi()['paths']
defaults = {'list': 'GET', 'create': 'POST', 'get': 'GET', 'update': 'PATCH', 'delete': 'DELETE'}
missing = []
for e in spec.get('endpoints', []):
    table = next(x for x in spec['entities'] if x['name'] == e['entity'])
    import re
    snake = re.sub(r'(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])', '_', table['name']).lower()
    t = table.get('table') or (snake[:-1] + 'ies' if re.search('[^aeiou]y$', snake) else snake + ('es' if re.search('(s|x|z|ch|sh)$', snake) else 's'))
    path = e.get('path') or ('/' + t + ('/{id}' if e['operation'] in ('get', 'update', 'delete') else ''))
    method = (e.get('method') or defaults[e['operation']]).lower()
    full = prefix + path
    if method not in paths.get(full, {}):
        missing.append((method, full))
assert not missing, 'missing: %s; have %s' % (missing, sorted(paths))
PYEOF"
done
finish
