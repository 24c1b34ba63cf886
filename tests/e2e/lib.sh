# lib.sh - shared by the end-to-end tests: TAP output, temporary spools, report queries.
# Each test script sources this, calls the helpers, and ends with `finish`.
# The harness sets CODEGEND (the built daemon), CODEGENCTL, top_srcdir and CODEGEND_DATADIR.

set -u
: "${CODEGEND:?run through make check}"
: "${top_srcdir:?run through make check}"
PY=/usr/bin/python3
REF="$top_srcdir/spool-example/taskmanager"
TAP_N=0
TAP_FAILED=0
WORK=$(mktemp -d "${TMPDIR:-/tmp}/codegend-e2e.XXXXXX")
DAEMON_PID=
cleanup() {
        if [ -n "$DAEMON_PID" ]; then kill "$DAEMON_PID" 2>/dev/null; wait "$DAEMON_PID" 2>/dev/null; fi
        rm -rf "$WORK"
}
trap cleanup EXIT

ok() { TAP_N=$((TAP_N + 1)); echo "ok $TAP_N - $*"; }
not_ok() { TAP_N=$((TAP_N + 1)); TAP_FAILED=$((TAP_FAILED + 1)); echo "not ok $TAP_N - $*"; }
# check DESCRIPTION COMMAND...: one TAP result from a command's exit status
check() {
        desc=$1; shift
        if "$@" >"$WORK/check.out" 2>&1; then ok "$desc"; else
                not_ok "$desc"; sed 's/^/# /' "$WORK/check.out" | head -40
        fi
}
diag() { sed 's/^/# /'; }
finish() { echo "1..$TAP_N"; [ "$TAP_FAILED" -eq 0 ]; }

# wait_for COND-COMMAND [TENTHS]: polls up to TENTHS/10 seconds (default 30 s)
wait_for() {
        n=0; max=${2:-300}
        while ! sh -c "$1" 2>/dev/null; do
                n=$((n + 1)); [ $n -ge $max ] && return 1; sleep 0.1
        done
}
# start_daemon SPOOL CONFIG [ENV...]: the daemon in the background, watching its inbox
start_daemon() {
        sp=$1 cfg=$2; shift 2
        env "$@" "$CODEGEND" --spool "$sp" --config "$cfg" >"$sp.out" 2>"$sp.err" &
        DAEMON_PID=$!
        # ready once it watches the inbox: it creates the spool's directories first
        wait_for "test -d '$sp/.codegend/jobs'" 50
        sleep 0.3
}
# stop_daemon: SIGTERM, then its exit status in $RC
stop_daemon() {
        kill -TERM "$DAEMON_PID" 2>/dev/null; wait "$DAEMON_PID"; RC=$?; DAEMON_PID=
}
# new_spool NAME: an empty spool with inbox/
new_spool() { d="$WORK/$1"; mkdir -p "$d/inbox"; echo "$d"; }
# run_once SPOOL [ARGS...]: runs the daemon once; its exit status in $RC, output in SPOOL.out/.err
run_once() {
        sp=$1; shift
        "$CODEGEND" --spool "$sp" --once "$@" >"$sp.out" 2>"$sp.err"
        RC=$?
}
# yq FILE EXPR: evaluates a Python expression over the YAML document `d`
yq() { "$PY" -c 'import sys, yaml; d = yaml.safe_load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"; }
# yq_true FILE EXPR: succeeds when the expression is true (prints the document otherwise)
yq_true() {
        if [ "$(yq "$1" "$2" 2>&1)" = True ]; then return 0; fi
        echo "expression failed: $2"; head -60 "$1"; return 1
}
# has_error FILE SUBSTRING [LINE [COLUMN]]: the error report lists that message (at that place)
has_error() {
        "$PY" - "$@" <<'PYEOF'
import sys, yaml
f, sub = sys.argv[1], sys.argv[2]
line = int(sys.argv[3]) if len(sys.argv) > 3 else None
col = int(sys.argv[4]) if len(sys.argv) > 4 else None
d = yaml.safe_load(open(f))
assert d["status"] == "failed", d
for e in d["errors"]:
    if sub in e["message"] and (line is None or e.get("line") == line) and (col is None or e.get("column") == col):
        sys.exit(0)
print("no error containing %r at %s:%s in:" % (sub, line, col))
print(yaml.safe_dump(d["errors"]))
sys.exit(1)
PYEOF
}
