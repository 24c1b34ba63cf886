# model-lib.sh - shared by the model backends' end-to-end tests (sourced after lib.sh):
# canned answers (the pattern backend's own output for the reference job), the scripted
# loopback server (tests/model-server.py), configurations and the checks every run ends
# with: the key never written anywhere, the report's api totals equal the server's count.

KEY=sk-test-$$-c0dEgEnDsEcReT
SERVER_PID=
model_cleanup() {
        if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null; fi
        cleanup
}
trap model_cleanup EXIT

# canned: the reference project as the pattern backend writes it, in $CANNED
make_canned() {
        sp=$(new_spool canned-run)
        cp -r "$REF" "$sp/inbox/taskmanager"
        run_once "$sp"
        [ "$RC" -eq 0 ] || { echo "Bail out! the pattern backend failed on the reference job"; exit 1; }
        mkdir -p "$WORK/canned"
        tar -xzf "$sp/outbox/taskmanager.tar.gz" -C "$WORK/canned"
        CANNED="$WORK/canned/taskmanager"
}

# start_server NAME SCRIPT_JSON [SERVER_ARGS...]: a fresh server; sets PORT and STATS
start_server() {
        stop_server
        name=$1 script=$2; shift 2
        printf '%s\n' "$script" > "$WORK/$name.script.json"
        STATS="$WORK/$name.stats.json"
        rm -f "$WORK/$name.port"
        "$PY" "$top_srcdir/tests/model-server.py" --port-file "$WORK/$name.port" --stats "$STATS" \
                --canned "$CANNED" --script "$WORK/$name.script.json" --max-seconds 120 "$@" &
        SERVER_PID=$!
        i=0
        while [ ! -s "$WORK/$name.port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
        PORT=$(cat "$WORK/$name.port")
}
stop_server() {
        if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null; fi
        SERVER_PID=
}

# run_model NAME PROVIDER CONFIG_LINES [DAEMON_ARGS...]: the reference job through PROVIDER
# against the running server; the spool in $SP, the report in $M (metrics or error file)
run_model() {
        name=$1 provider=$2 lines=$3; shift 3
        case $provider in
        anthropic) url="http://127.0.0.1:$PORT" model=claude-sonnet-4-5 ;;
        openai) url="http://127.0.0.1:$PORT/v1" model=gpt-5-mini ;;
        esac
        printf '%s:\n  base_url: %s\n  model: %s\n  connect_timeout: 2\n%s\n' \
                "$provider" "$url" "$model" "$lines" > "$WORK/$name.yaml"
        SP=$(new_spool "$name")
        cp -r "$REF" "$SP/inbox/taskmanager"
        run_once "$SP" --config "$WORK/$name.yaml" --backend "$provider" "$@"
        M="$SP/outbox/taskmanager.metrics.yaml"
        [ -f "$M" ] || M="$SP/failed/taskmanager.error.yaml"
}

# no_key: the key is in no file under the spool and in none of the daemon's output
no_key() {
        if grep -rl -- "$KEY" "$SP" "$SP.out" "$SP.err"; then echo "the key was written to the files above"; return 1; fi
        return 0
}

# api_exact: the report's api: totals are the server's own counts, the cost is the price
# table's (per million tokens: input, output, cache write, cache read)
api_exact() {
        "$PY" - "$M" "$STATS" "$1" "$2" "$3" "$4" <<'PYEOF'
import json, sys, yaml
m, s = yaml.safe_load(open(sys.argv[1])), json.load(open(sys.argv[2]))
m = m.get("metrics", m)  # an error report keeps the partial metrics under metrics:
pin, pout, pw, pr = map(float, sys.argv[3:7])
api = m["api"]
want = {k: s[k] for k in ("input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")}
got = {k: api[k] for k in want}
assert got == want, (got, want)
assert api["calls"] == s["requests"], (api["calls"], s["requests"])
cost = (want["input_tokens"] * pin + want["output_tokens"] * pout + want["cache_creation_input_tokens"] * pw
        + want["cache_read_input_tokens"] * pr) / 1e6
assert abs(api["cost_usd"] - cost) < 0.0002, (api["cost_usd"], cost)
PYEOF
}
