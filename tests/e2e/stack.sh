#!/bin/bash
# stack.sh - generated projects on today's stack (issue 11's target): for the reference job
# and every tests/data/specs/pattern-*.yaml, the project is run in a Debian 13 root made by
# build-aux/make-trixie-root (Python 3.13, Pydantic 2, SQLAlchemy 2.0, FastAPI, Alembic) and
# checked with pytest with warnings as errors, pyflakes, mypy --strict, black --check,
# `alembic upgrade head` then `alembic check` on SQLite and on a real PostgreSQL (lib-pg.sh),
# and the project's own tests against PostgreSQL through TEST_DATABASE_URL (the test proves
# the tests reached the database by its transaction count).
# STACK_JOBS="taskmanager shop" runs only those jobs. `make check-stack` runs it (it needs root
# for the chroot); pattern-python.sh, in make check, runs the same checks, black included, but
# PostgreSQL only for the reference job.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-pg.sh"

ROOT=${CODEGEND_TRIXIE_ROOT:-/var/tmp/codegend-trixie}
if [ ! -x "$ROOT/usr/bin/python3" ] || [ "$(id -u)" -ne 0 ]; then
        echo "1..0 # SKIP no Debian 13 root at $ROOT (run build-aux/make-trixie-root as root)"
        exit 0
fi
in_root() { chroot "$ROOT" /usr/bin/env -i PATH=/usr/bin:/bin HOME=/tmp LANG=C.UTF-8 "$@"; }

# the chroot's scratch space, removed with the test's own
RW=$(mktemp -d "$ROOT/tmp/codegend-stack.XXXXXX")
chmod 0755 "$RW" # the PostgreSQL server (user postgres) reaches its socket directory in it
PG_CHROOT=$ROOT
trap 'pg_stop; rm -rf "$RW"; cleanup' EXIT
if pg_start "$RW/pgsock" >"$WORK/pg-start.out" 2>&1; then have_pg=1; else
        have_pg=0; echo "# PostgreSQL checks skipped:"; diag <"$WORK/pg-start.out"
fi

sp=$(new_spool stack)
cp -r "$REF" "$sp/inbox/taskmanager"
jobs=taskmanager
for f in "$top_srcdir"/tests/data/specs/pattern-*.yaml; do
        s=$(basename "$f" .yaml); s=${s#pattern-}
        # STACK_JOBS="taskmanager library" limits the run to those jobs
        case " ${STACK_JOBS:-$s} " in *" $s "*) ;; *) continue ;; esac
        "$PY" -c 'import sys, yaml; yaml.safe_dump({"spec": yaml.safe_load(open(sys.argv[1]))}, open(sys.argv[2], "w"), sort_keys=False)' \
                "$f" "$sp/inbox/$s.job.yaml"
        jobs="$jobs $s"
done
run_once "$sp"
check "every spec generates (exit 0)" test "$RC" -eq 0

for job in $jobs; do
        x="$RW/$job"; mkdir -p "$x"
        tar -xzf "$sp/outbox/$job.tar.gz" -C "$x" || { not_ok "$job: tarball unpacks"; continue; }
        name=$(ls "$x"); proj="${x#"$ROOT"}/$name"
        pkg=$(cd "$x/$name" && for d in src app "$name"; do [ -f "$d/__init__.py" ] && { echo "$d"; break; }; done)
        run() { in_root sh -c "cd '$proj' && $1" >"$WORK/out" 2>&1 || { tail -30 "$WORK/out"; return 1; }; }
        check "$job: pytest -W error passes" run "python3 -m pytest -q -p no:cacheprovider -W error"
        check "$job: pyflakes is clean" run "python3 -m pyflakes ."
        check "$job: mypy --strict is clean on the package" run "python3 -m mypy --strict --cache-dir /tmp/mypy-$job ${pkg:-.}"
        check "$job: black --check is clean" run "black --check -q ."
        check "$job: alembic upgrade head, then alembic check, on SQLite" run \
                "cd migrations 2>/dev/null || true; DATABASE_URL=sqlite:///${RW#"$ROOT"}/$job-alembic.db python3 -m alembic upgrade head && DATABASE_URL=sqlite:///${RW#"$ROOT"}/$job-alembic.db python3 -m alembic check"
        if [ "$have_pg" = 1 ]; then
                db="cg_$job"; pg_createdb "$db" >/dev/null
                url=$(pg_url "$db")
                check "$job: alembic upgrade head, then alembic check, on PostgreSQL" run \
                        "cd migrations 2>/dev/null || true; DATABASE_URL='$url' python3 -m alembic upgrade head && DATABASE_URL='$url' python3 -m alembic check"
                tdb="cg_${job}_test"; pg_createdb "$tdb" >/dev/null
                before=$(pg_psql -d postgres -Atc "select xact_commit from pg_stat_database where datname='$tdb'")
                check "$job: the project's tests pass on PostgreSQL (TEST_DATABASE_URL)" run \
                        "TEST_DATABASE_URL='$(pg_url "$tdb")' python3 -m pytest -q -p no:cacheprovider -W error"
                sleep 1 # the statistics collector reports with a short delay
                after=$(pg_psql -d postgres -Atc "select xact_commit from pg_stat_database where datname='$tdb'")
                check "$job: those tests used PostgreSQL (commits $before -> $after)" test "$((after - before))" -gt 10
        fi
done
finish
