#!/bin/sh
# pattern-python.sh - the pattern backend's projects work, whatever the DAG's layout: for the
# reference job and every spec of tests/data/specs/pattern-*.yaml the generated project
# passes its own pytest suite, pyflakes and mypy, `alembic upgrade head` creates every table
# on SQLite, its Makefile migrates, its .env.example names every setting, and the app's
# OpenAPI document lists every endpoint of the spec, each error response with the one error
# body (ErrorBody). The specs include the reference job with config.auth api_key (authkey)
# and jwt with auth_reads (authjwt), and long entity, field and enum value names
# (longnames) for black's line breaking.
# Each spec runs with the planner's DAG, then with DAGs rewritten by dag-shapes.py into the
# other shapes a user draws (per-entity routes with lowercased modules, a flat app/ package
# with shared modules, a mixed one): in `make check` the reference job gets every shape and
# every other spec the planner's and one other, in turn; `make check-shapes`
# (PATTERN_SHAPES=all) gives every spec every shape. The projects are checked two at a
# time, on today's stack: in the Debian 13 root build-aux/make-trixie-root makes (Python
# 3.13, Pydantic 2, SQLAlchemy 2.0; build-aux/install-deps calls it), with pytest -W error,
# pyflakes, mypy --strict on the package, black --check on the whole project (tests
# included), `alembic upgrade head` then `alembic check` on SQLite with db-names.py (the
# migration's constraint and index names are the models', at most 63 bytes; the longdb spec
# has long tables and fields), and on a throw-away PostgreSQL cluster (lib-pg.sh, Debian's
# postgresql on a Unix socket) the same migrations, db-names.py and the project's own tests
# through TEST_DATABASE_URL.
# Without that root (or without root rights for chroot) only the generation is checked;
# so it is in the sanitizer build.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-pg.sh"

ROOT=${CODEGEND_TRIXIE_ROOT:-/var/tmp/codegend-trixie}
in_root() { chroot "$ROOT" /usr/bin/env -i PATH=/usr/bin:/bin HOME=/tmp LANG=C.UTF-8 "$@"; }

specs=${PATTERN_SPECS:-"library clinic inventory social misc shop fieldnames rules stdnames enums authkey authjwt longdb longnames"}
# the shapes each job gets besides the planner's: the reference job all three; another spec
# one, in turn (so every shape meets several specs), or all three with PATTERN_SHAPES=all
shapes_of() {
        if [ "$1" = taskmanager ] || [ "${PATTERN_SHAPES:-}" = all ]; then echo "entity flat mixed"; return; fi
        case $(( $2 % 3 )) in 0) echo entity ;; 1) echo flat ;; *) echo mixed ;; esac
}

planned=$(new_spool py)
cp -r "$REF" "$planned/inbox/taskmanager"
for s in $specs; do
        "$PY" -c 'import sys, yaml; yaml.safe_dump({"spec": yaml.safe_load(open(sys.argv[1]))}, open(sys.argv[2], "w"), sort_keys=False)' \
                "$top_srcdir/tests/data/specs/pattern-$s.yaml" "$planned/inbox/$s.job.yaml"
done
run_once "$planned"
check "every spec generates with the planner's DAG (exit 0)" test "$RC" -eq 0
[ "$RC" -eq 0 ] || diag < "$planned.err"

# the other shapes, from the plans that ran
shaped=$(new_spool shaped)
jobs=""
n=0
for job in taskmanager $specs; do
        n=$((n + 1))
        # the tarball's folder is the spec's name, which need not be the job's
        plan="$WORK/plan-$job"; mkdir -p "$plan"
        tar -xzf "$planned/outbox/$job.tar.gz" -C "$plan" --wildcards '*/.codegen/dag.json' '*/.codegen/spec.yaml'
        for shape in $(shapes_of "$job" "$n"); do
                d="$shaped/inbox/$job-$shape"; mkdir -p "$d"
                cp "$plan"/*/.codegen/spec.yaml "$d/spec.yaml"
                check "$job: the $shape shape is drawn from the plan" "$PY" "$top_srcdir/tests/e2e/dag-shapes.py" \
                        "$shape" "$plan"/*/.codegen/dag.json "$d/spec.yaml" "$d/dag.json"
                jobs="$jobs $job-$shape"
        done
done
run_once "$shaped"
check "every shaped DAG generates (exit 0)" test "$RC" -eq 0
[ "$RC" -eq 0 ] || diag < "$shaped.err"

all=""
for job in taskmanager $specs; do all="$all $planned/outbox/$job"; done
for job in $jobs; do all="$all $shaped/outbox/$job"; done
for out in $all; do
        m="$out.metrics.yaml"; job=${out##*/}
        check "$job: every success criterion is true" yq_true "$m" "all(d['success_criteria'].values())"
        check "$job: every entity and endpoint found in the code" yq_true "$m" \
                "d['quality']['entities']['found'] == d['quality']['entities']['expected'] > 0 and d['quality']['endpoints']['found'] == d['quality']['endpoints']['expected'] > 0"
done
check "the reference job has 40-60 files and at least 1,000 lines" yq_true "$planned/outbox/taskmanager.metrics.yaml" \
        "40 <= d['files']['total'] <= 60 and d['loc']['total'] >= 1000"

if [ -n "${SANITIZERS:-}" ]; then finish; exit $?; fi
if [ ! -x "$ROOT/usr/bin/python3" ] || [ "$(id -u)" -ne 0 ]; then
        echo "# the projects' Python checks skipped: no Debian 13 root at $ROOT (build-aux/make-trixie-root)"
        finish; exit $?
fi
# the chroot's scratch space, removed with the test's own
RW=$(mktemp -d "$ROOT/tmp/codegend-py.XXXXXX")
chmod 0755 "$RW" # the PostgreSQL server (user postgres) reaches its socket directory in it
PG_CHROOT=$ROOT
trap 'pg_stop; rm -rf "$RW"; cleanup' EXIT
cp "$top_srcdir/tests/e2e/db-names.py" "$RW/db-names.py"
# one throw-away PostgreSQL cluster (lib-pg.sh) for every project: each gets a database for
# its migrations, one for the models' create_all() and one for its own tests
if pg_start "$RW/pgsock" > "$WORK/pg-start.out" 2>&1; then have_pg=1; else
        have_pg=0; echo "# the PostgreSQL checks skipped:"; diag < "$WORK/pg-start.out"
fi

# check_project OUT SLOT: the Python checks of one generated project, as lines "ok|not ok DESC"
# in OUT.tap (with the failure's output after each "not ok" line, prefixed with "# ").
# Projects checked one after the other share mypy's cache (SLOT): the stubs of FastAPI,
# SQLAlchemy and Pydantic are analysed once per slot.
check_project() {
        out=$1; slot=$2; job=${out##*/}; x="$RW/x-$job"; tap="$WORK/$job.tap"
        : > "$tap"
        mkdir -p "$x" && tar -xzf "$out.tar.gz" -C "$x"
        proj=$(echo "$x"/*); cproj=${proj#"$ROOT"}; ctmp=${RW#"$ROOT"}
        # the project's own layout: the app module (not the errors or auth module) and the
        # alembic.ini the DAG asked for
        main=$("$PY" -c 'import json, sys; print(next(a["target"] for a in json.load(open(sys.argv[1]))["atoms"] if a["kind"] == "app" and not any(w in a["target"].rsplit("/", 1)[-1] for w in ("error", "auth"))))' "$proj/.codegen/dag.json")
        ini=$("$PY" -c 'import json, sys; print(next(a["target"] for a in json.load(open(sys.argv[1]))["atoms"] if a["target"].endswith("alembic.ini")))' "$proj/.codegen/dag.json")
        module=$(echo "${main%.py}" | tr / .)
        config=$("$PY" -c 'import json, sys; print(next(a["target"] for a in json.load(open(sys.argv[1]))["atoms"] if a["kind"] == "config" and a["target"].endswith(".py")))' "$proj/.codegen/dag.json")
        config=$(echo "${config%.py}" | tr / .)
        pkg=${main%%/*}
        db="sqlite:///$ctmp/$job-alembic.db"
        pc() {
                desc=$1; shift
                if "$@" > "$WORK/$job.out" 2>&1; then echo "ok - $job: $desc" >> "$tap"; else
                        echo "not ok - $job: $desc" >> "$tap"; sed 's/^/# /' "$WORK/$job.out" | head -40 >> "$tap"
                fi
        }
        # rc: a command in the project's directory, in the Debian 13 root
        rc() { in_root sh -c "cd '$cproj' && $1"; }
        pyt() { rc "python3 -m pytest -q -p no:cacheprovider -W error" > "$WORK/$job.pytest" 2>&1 || { tail -40 "$WORK/$job.pytest"; return 1; }; }
        pc "pytest -W error passes" pyt
        pc "pytest ran tests" grep -qE '^[0-9]+ passed' "$WORK/$job.pytest"
        pc "pyflakes is clean" rc "python3 -m pyflakes ."
        pc "mypy --strict is clean ($pkg)" rc "python3 -m mypy --strict --cache-dir '$ctmp/mypy-$slot' '$pkg'"
        # black on every Python file of the project, its tests and migrations included (with
        # the project's pyproject.toml: line length 100)
        pc "black --check is clean on the whole project" rc "black --check -q ."
        pc "alembic upgrade head creates every table, alembic check finds no difference, the constraints are named as the models name them ($ini)" rc "
                DATABASE_URL='$db' python3 -m alembic -c '$ini' upgrade head &&
                DATABASE_URL='$db' python3 -m alembic -c '$ini' check &&
                python3 '$ctmp/db-names.py' '$db' 'sqlite:///$ctmp/$job-models.db' &&
                python3 - '$ctmp/$job-alembic.db' .codegen/spec.yaml <<'PYEOF'
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
        # the project's Makefile (where its DAG has one): `make migrate` for real, the other
        # targets as a dry run (the checks above run their commands)
        if [ -f "$proj/Makefile" ] && [ -x "$ROOT/usr/bin/make" ]; then
                pc "its Makefile: make migrate, make -n help install test lint format run check" rc "
                        DATABASE_URL='sqlite:///$ctmp/$job-make.db' make -s migrate &&
                        make -s -n help install test lint format run check >/dev/null"
        fi
        if [ -f "$proj/.env.example" ]; then
                pc ".env.example names every setting, and read as .env gives valid settings" rc "
                        cp .env.example .env && python3 -W error - '$config' <<'PYEOF'; r=\$?; rm -f .env; exit \$r
import importlib, sys
with open('.env.example') as f:
    names = {line.split('=', 1)[0] for line in f if '=' in line and not line.startswith('#')}
settings = importlib.import_module(sys.argv[1]).settings
fields = {name.upper() for name in type(settings).model_fields}
assert fields == names, 'settings %s, .env.example %s' % (sorted(fields), sorted(names))
PYEOF"
        fi
        if [ -f "$proj/docker-compose.yml" ]; then
                pc "docker-compose.yml passes only settings to the app, every auth setting among them, and waits for its PostgreSQL" rc "
                        python3 -W error - '$config' <<'PYEOF'
import importlib, sys, yaml
with open('docker-compose.yml') as f:
    doc = yaml.safe_load(f)
api, db = doc['services']['api'], doc['services']['db']
fields = {name.upper() for name in type(importlib.import_module(sys.argv[1]).settings).model_fields}
passed = set(api['environment'])
assert passed <= fields, 'not settings: %s' % sorted(passed - fields)
auth = {f for f in fields if f.startswith(('API_', 'JWT_')) and f != 'API_PREFIX'}
assert auth <= passed, 'auth settings not passed: %s' % sorted(auth - passed)
assert api['depends_on']['db'] == {'condition': 'service_healthy', 'required': False}, api['depends_on']
assert 'pg_isready' in db['healthcheck']['test'], db['healthcheck']
PYEOF"
        fi
        pc "the OpenAPI document of $module lists every endpoint" rc "
                python3 - .codegen/spec.yaml '$module' <<'PYEOF'
import importlib, re, sys, yaml
spec = yaml.safe_load(open(sys.argv[1]))
app = importlib.import_module(sys.argv[2]).app
prefix = (spec.get('config') or {}).get('api_prefix', '/api').rstrip('/')
paths = app.openapi()['paths']
defaults = {'list': 'GET', 'create': 'POST', 'get': 'GET', 'update': 'PATCH', 'delete': 'DELETE'}
missing = []
for e in spec.get('endpoints', []):
    table = next(x for x in spec['entities'] if x['name'] == e['entity'])
    snake = re.sub(r'(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])', '_', table['name']).lower()
    t = table.get('table') or (snake[:-1] + 'ies' if re.search('[^aeiou]y\$', snake) else snake + ('es' if re.search('(s|x|z|ch|sh)\$', snake) else 's'))
    path = e.get('path') or ('/' + t + ('/{id}' if e['operation'] in ('get', 'update', 'delete') else ''))
    method = (e.get('method') or defaults[e['operation']]).lower()
    full = prefix + path
    if method not in paths.get(full, {}):
        missing.append((method, full))
assert not missing, 'missing: %s; have %s' % (missing, sorted(paths))
PYEOF"
        pc "every error response of $module's OpenAPI document has the one error body" rc "
                python3 - '$module' <<'PYEOF'
import importlib, sys
doc = importlib.import_module(sys.argv[1]).app.openapi()
ref = lambda r: r.get('content', {}).get('application/json', {}).get('schema', {}).get('\$ref', '')
bad = [(m, p, s) for p, ops in doc['paths'].items() for m, op in ops.items()
       for s, r in op.get('responses', {}).items() if not s.startswith('2') and not ref(r).endswith('/ErrorBody')]
assert not bad, 'error responses without ErrorBody: %s' % bad
assert 'HTTPValidationError' not in doc.get('components', {}).get('schemas', {}), 'the default 422 body is advertised'
PYEOF"
        # PostgreSQL: the migrations (upgrade, then no difference) and the project's own tests
        # through TEST_DATABASE_URL, among them the model tests that write rows the database
        # must refuse; the database's commit count shows the tests reached it
        # (the planner's DAG of every spec; another shape moves modules, not the database,
        # and its tests ran on SQLite above: PATTERN_SHAPES=all runs them on PostgreSQL too)
        on_pg=$have_pg
        case $out in "$shaped"/*) [ "${PATTERN_SHAPES:-}" = all ] || on_pg=0 ;; esac
        if [ "$on_pg" = 1 ]; then
                pdb="cg_$job"; mdb="cg_${job}_models"; tdb="cg_${job}_test"
                if pg_createdb "$pdb" > "$WORK/$job.pg" 2>&1 && pg_createdb "$mdb" >> "$WORK/$job.pg" 2>&1 &&
                   pg_createdb "$tdb" >> "$WORK/$job.pg" 2>&1; then
                        url=$(pg_url "$pdb"); turl=$(pg_url "$tdb")
                        pc "alembic upgrade head, then alembic check, on PostgreSQL" rc "
                                DATABASE_URL='$url' python3 -m alembic -c '$ini' upgrade head &&
                                DATABASE_URL='$url' python3 -m alembic -c '$ini' check"
                        pc "the migration names every constraint and index as the models do, within 63 bytes, on PostgreSQL" \
                                rc "python3 '$ctmp/db-names.py' '$url' '$(pg_url "$mdb")'"
                        commits() { pg_psql -d postgres -Atc "select xact_commit from pg_stat_database where datname='$tdb'"; }
                        before=$(commits)
                        pgt() { rc "TEST_DATABASE_URL='$turl' python3 -m pytest -q -rs -p no:cacheprovider -W error" > "$WORK/$job.pgtest" 2>&1 || { tail -40 "$WORK/$job.pgtest"; return 1; }; }
                        pc "its tests pass on PostgreSQL (TEST_DATABASE_URL)" pgt
                        # the tests that need PostgreSQL (row locks, concurrent updates) ran there
                        pc "no PostgreSQL-only test was skipped on PostgreSQL" sh -c "! grep -i 'SKIPPED.*postgresql' '$WORK/$job.pgtest'"
                        sleep 1 # the statistics reach pg_stat_database with a short delay
                        after=$(commits)
                        pc "those tests used PostgreSQL (commits $before -> $after)" test "$((after - before))" -gt 10
                else
                        echo "not ok - $job: its PostgreSQL databases are created" >> "$tap"; sed 's/^/# /' "$WORK/$job.pg" >> "$tap"
                fi
        fi
}

# two projects at a time (the machine's two cores); results in order afterwards
set -- $all
while [ $# -gt 0 ]; do
        check_project "$1" a & p1=$!
        p2=
        if [ $# -gt 1 ]; then check_project "$2" b & p2=$!; fi
        wait "$p1"; [ -n "$p2" ] && wait "$p2"
        shift; [ $# -gt 0 ] && shift
done
pg_stop
for out in $all; do
        job=${out##*/}
        while IFS= read -r line; do
                case $line in
                "ok - "*) ok "${line#ok - }" ;;
                "not ok - "*) not_ok "${line#not ok - }" ;;
                *) echo "$line" ;;
                esac
        done < "$WORK/$job.tap"
done
finish
