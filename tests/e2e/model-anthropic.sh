#!/bin/sh
# model-anthropic.sh - the reference job through the anthropic backend against a scripted
# loopback server (tests/model-server.py): a clean run with exact accounting and prompt
# caching, then each fault ending as docs/backends.md says. After every run the key is
# searched for in the whole spool and the daemon's output.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/model-lib.sh"
export ANTHROPIC_API_KEY="$KEY"
make_canned
SONNET="3 15 3.75 0.30"

start_server clean '{"steps": []}' --key "$KEY"
run_model clean anthropic ""
check "the reference job succeeds through anthropic" test "$RC" -eq 0
check "one call per atom, no retry, no syntax error" yq_true "$M" \
        "d['api']['calls'] == 50 and d['api']['retries'] == 0 and d['syntax']['errors'] == 0 and d['backend']['name'] == 'anthropic'"
check "api: totals equal the server's count, cost from the price table" api_exact $SONNET
check "the shared system part is cached once and read by the other atoms" yq_true "$M" \
        "d['api']['cache_creation_input_tokens'] > 0 and d['api']['cache_read_input_tokens'] > 40 * d['api']['cache_creation_input_tokens']"
check "every request is a POST to /v1/messages with max_tokens" "$PY" -c "
import json, sys; s = json.load(open('$STATS')); assert set(s['paths']) == {'/v1/messages'} and set(s['token_params']) == {'max_tokens'}, s['paths'][:3]"
check "the --once summary prints the API lines" sh -c "grep -qx '  API Calls: 50' '$SP.out' && grep -q '^  Total tokens: [1-9]' '$SP.out' && grep -q '^  Cost: .0[.]' '$SP.out'"
check "the key is written nowhere" no_key
check "the generated project equals the canned one" sh -c "mkdir -p '$WORK/x' && tar -xzf '$SP/outbox/taskmanager.tar.gz' -C '$WORK/x' && cmp '$WORK/x/taskmanager/src/config.py' '$CANNED/src/config.py'"

start_server transient '{"steps": [
  {"match": "config", "status": 429, "headers": {"retry-after": "1"}, "type": "rate_limit_error", "error": "slow down"},
  {"match": "database", "status": 529, "type": "overloaded_error", "error": "Overloaded"},
  {"match": "errors", "status": 500, "error": "internal"},
  {"match": "src_pkg", "kind": "malformed"},
  {"match": "requirements", "kind": "slow", "delay": 4}]}' --key "$KEY"
run_model transient anthropic "  timeout: 2"
check "429 (retry-after), 529, 500, malformed JSON and a timeout are retried: the job succeeds" test "$RC" -eq 0
check "five retries counted, totals still exact" sh -c "$(cat <<EOS
"$PY" -c "import yaml; a = yaml.safe_load(open('$M'))['api']; assert a['retries'] == 5 and a['calls'] == 55, a"
EOS
)"
check "api: totals equal the server's count" api_exact $SONNET
check "the key is written nowhere" no_key

start_server cut '{"steps": [{"match": "config", "kind": "cut"}, {"match": "database", "kind": "extra"}]}' --key "$KEY"
run_model cut anthropic ""
check "a reply cut at max_tokens is continued: the job succeeds" test "$RC" -eq 0
check "the continuation is one more call, the file is whole" sh -c "$(cat <<EOS
"$PY" -c "import yaml; a = yaml.safe_load(open('$M'))['api']; assert a['calls'] == 51 and a['retries'] == 0, a" &&
mkdir -p '$WORK/y' && tar -xzf '$SP/outbox/taskmanager.tar.gz' -C '$WORK/y' && cmp '$WORK/y/taskmanager/src/config.py' '$CANNED/src/config.py'
EOS
)"
check "api: totals equal the server's count" api_exact $SONNET
check "a file the reply offers for another path is refused and listed in the atom's entry" yq_true "$M" \
        "[a.get('refused') for a in d['atoms'] if a['id'] == 'database'][0] == ['refused \"src/helpers_extra.py\": not the target'] and not any(a.get('refused') for a in d['atoms'] if a['id'] != 'database')"
check "the refused file is not in the project" sh -c "! tar -tzf '$SP/outbox/taskmanager.tar.gz' | grep -q helpers_extra"

start_server syntax '{"steps": [{"match": "config", "kind": "syntax"}, {"match": "errors", "kind": "syntax"}]}' --key "$KEY"
run_model syntax anthropic ""
check "an atom with syntax errors is repaired (repair: true is the default): the job succeeds clean" yq_true "$M" \
        "d['syntax']['errors'] == 0 and d['api']['calls'] == 52"
check "the atom's metrics show the errors before and after repair and the repair call" yq_true "$M" \
        "[(a['repair']['calls'], a['repair']['syntax_errors_before'] >= 1, a['repair']['syntax_errors_after'], a['api']['calls'], a['backend']) for a in d['atoms'] if a['id'] == 'config'][0] == (1, True, 0, 2, 'anthropic') and 'repair' not in [a for a in d['atoms'] if a['id'] == 'database'][0]"
check "one repair request per broken atom reached the server" "$PY" -c "import json; s = json.load(open('$STATS')); assert s['repairs'] == 2, s.get('repairs')"
check "api: totals equal the server's count" api_exact $SONNET

SP_NR=$(new_spool norepair-job); cp -r "$REF" "$SP_NR/inbox/taskmanager"
printf 'repair: false\n' > "$SP_NR/inbox/taskmanager/job.yaml"
SP=$SP_NR; start_server norepair '{"steps": [{"match": "config", "kind": "syntax"}]}' --key "$KEY"
printf 'anthropic:\n  base_url: http://127.0.0.1:%s\n  model: claude-sonnet-4-5\n' "$PORT" > "$WORK/norepair.yaml"
run_once "$SP" --config "$WORK/norepair.yaml" --backend anthropic
M="$SP/outbox/taskmanager.metrics.yaml"
check "with the job option repair: false the syntax error is kept and measured" yq_true "$M" \
        "d['syntax']['errors'] >= 1 and d['api']['calls'] == 50 and [a['syntax_errors'] for a in d['atoms'] if a['id'] == 'config'][0] >= 1"

start_server outside '{"steps": [{"match": "config", "kind": "outside"}]}' --key "$KEY"
run_model outside anthropic ""
check "a reply naming only a path outside the project fails the job" test "$RC" -eq 1
check "at generation, naming the atom and the refused path" yq_true "$M" \
        "d['stage'] == 'generation' and any('config' in e['message'] and 'src/config.py' in e['message'] for e in d['errors'])"
check "nothing was written outside the project" sh -c "! find '$WORK' -name outside.py | grep -q ."
check "the key is written nowhere" no_key

start_server refusal '{"steps": [{"match": "config", "kind": "refusal"}]}' --key "$KEY"
run_model refusal anthropic ""
check "a refusal fails the job with the model's words" yq_true "$M" \
        "d['stage'] == 'generation' and any('refused' in e['message'] and \"I can't help\" in e['message'] for e in d['errors'])"
check "api: totals of the failed job still equal the server's count" api_exact $SONNET

start_server nocode '{"steps": [{"match": "config", "kind": "noblock"}]}' --key "$KEY"
run_model nocode anthropic ""
check "a reply with no code fails the atom" yq_true "$M" \
        "d['stage'] == 'generation' and any('no code' in e['message'] for e in d['errors'])"

start_server badreq '{"steps": [{"match": "config", "status": 400, "type": "invalid_request_error", "error": "max_tokens: too large"}]}' --key "$KEY"
run_model badreq anthropic "  max_retries: 3
  concurrency: 1"
check "a 400 is not retried: the job fails with the server's message" yq_true "$M" \
        "d['stage'] == 'generation' and any('HTTP 400' in e['message'] and 'max_tokens: too large' in e['message'] for e in d['errors'])"
check "the 400 was sent once" "$PY" -c "import json; s = json.load(open('$STATS')); assert s['atoms'].count('config') == 1, s['atoms']"

start_server quota '{"steps": [{"match": "config", "status": 429, "type": "insufficient_quota", "error": "You exceeded your current quota"}]}' --key "$KEY"
run_model quota anthropic "  concurrency: 1"
check "429 insufficient_quota is not retried" yq_true "$M" \
        "d['stage'] == 'generation' and d['metrics']['api']['retries'] == 0 and any('exceeded your current quota' in e['message'] for e in d['errors'])"

start_server wrongkey '{"steps": []}' --key "another-key"
run_model wrongkey anthropic "  concurrency: 1"
check "a wrong key (401) fails the job with the server's message" yq_true "$M" \
        "d['stage'] == 'generation' and any('HTTP 401' in e['message'] and 'invalid x-api-key' in e['message'] for e in d['errors'])"
check "after the 401 no further request is sent with that key" "$PY" -c "import json; s = json.load(open('$STATS')); assert s['requests'] == 1, s['requests']"
check "the key is written nowhere" no_key

start_server conc '{"steps": [{"match": "*", "kind": "slowok", "delay": 0.3, "times": 7}]}' --key "$KEY"
run_model conc anthropic "  concurrency: 1" --workers 4
check "concurrency holds for all workers together: one request at a time" "$PY" -c "
import json; s = json.load(open('$STATS')); assert s['max_inflight'] == 1 and s['requests'] == 50, (s['max_inflight'], s['requests'])"
start_server conc2 '{"steps": [{"match": "*", "kind": "slowok", "delay": 0.3, "times": 7}]}' --key "$KEY"
run_model conc2 anthropic "  concurrency: 3" --workers 6
check "concurrency 3: at most 3 requests at once, and more than one" "$PY" -c "
import json; s = json.load(open('$STATS')); assert 2 <= s['max_inflight'] <= 3, s['max_inflight']"

start_server pause '{"steps": [{"match": "database", "status": 429, "headers": {"retry-after": "2"}, "type": "rate_limit_error", "error": "slow down"}]}' --key "$KEY"
run_model pause anthropic "" --workers 4
check "a 429 pauses the backend for every worker as long as the server asked" "$PY" -c "
import json; s = json.load(open('$STATS')); t = s['rate_limited_at'][0]
during = [a for a in s['arrivals'] if t + 0.1 < a < t + 1.9]
assert not during and any(a >= t + 1.9 for a in s['arrivals']), (len(during), [round(a - t, 2) for a in s['arrivals'] if a > t][:8])"

start_server daily '{"steps": []}' --key "$KEY"
run_model daily anthropic "  concurrency: 1
daily_cost_usd: 0.03"
check "the daily ceiling stops the calls: the job fails at generation naming daily_cost_usd" yq_true "$M" \
        "d['stage'] == 'generation' and any('daily_cost_usd' in e['message'] for e in d['errors']) and 0 < d['metrics']['api']['calls'] < 50 and d['metrics']['api']['cost_usd'] >= 0.03"
check "api: totals of the stopped job equal the server's count" api_exact $SONNET

start_server budget '{"steps": []}' --key "$KEY"
printf 'anthropic:\n  base_url: http://127.0.0.1:%s\n  model: claude-sonnet-4-5\n  concurrency: 1\n' "$PORT" > "$WORK/budget.yaml"
SP=$(new_spool budget-run)
cp -r "$REF" "$SP/inbox/taskmanager"
printf 'backend: anthropic\nmax_calls: 5\n' > "$SP/inbox/taskmanager/job.yaml"
run_once "$SP" --config "$WORK/budget.yaml"
M="$SP/failed/taskmanager.error.yaml"
check "a job's max_calls stops the calls: the job fails at generation naming the budget" yq_true "$M" \
        "d['stage'] == 'generation' and any('max_calls' in e['message'] for e in d['errors']) and d['metrics']['api']['calls'] == 5"
check "exactly max_calls requests reached the server, partial metrics kept" api_exact $SONNET
check "the key is written nowhere" no_key
finish
