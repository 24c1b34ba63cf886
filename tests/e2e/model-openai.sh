#!/bin/sh
# model-openai.sh - the reference job through the openai backend (Chat Completions) against
# the scripted loopback server: a local server that wants no key, then with a key (Bearer),
# the token parameter's two names, cached prompt tokens, a cut reply, a refusal, 503 with
# x-ratelimit-reset-requests, and a wrong key. The key is searched for after every run.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/model-lib.sh"
unset OPENAI_API_KEY
make_canned
MINI="0.25 2 0.25 0.025"

start_server nokey '{"steps": []}'
run_model nokey openai ""
check "the reference job succeeds through openai on a server that wants no key" test "$RC" -eq 0
check "one call per atom to {base_url}/chat/completions with max_completion_tokens" "$PY" -c "
import json; s = json.load(open('$STATS')); assert s['requests'] == 50 and set(s['paths']) == {'/v1/chat/completions'} and set(s['token_params']) == {'max_completion_tokens'}, s"
check "api: totals equal the server's count (cached prompt tokens as cache reads)" api_exact $MINI
check "cached prompt tokens are reported" yq_true "$M" "d['api']['cache_read_input_tokens'] > 0 and d['api']['cache_creation_input_tokens'] == 0"

export OPENAI_API_KEY="$KEY"
start_server keyed '{"steps": [
  {"match": "config", "status": 503, "headers": {"x-ratelimit-reset-requests": "1s"}, "error": "busy"},
  {"match": "database", "kind": "cut"}]}' --key "$KEY"
run_model keyed openai "  token_param: max_tokens"
check "with a key (Bearer), a 503 retried and a cut reply continued: the job succeeds" test "$RC" -eq 0
check "max_tokens is sent when token_param says so" "$PY" -c "
import json; s = json.load(open('$STATS')); assert set(s['token_params']) == {'max_tokens'}, s['token_params']"
check "one retry and one continuation counted" yq_true "$M" "d['api']['calls'] == 52 and d['api']['retries'] == 1"
check "api: totals equal the server's count" api_exact $MINI
check "the key is written nowhere" no_key

start_server refusal '{"steps": [{"match": "config", "kind": "refusal"}]}' --key "$KEY"
run_model refusal openai ""
check "a refusal fails the job with the model's words" yq_true "$M" \
        "d['stage'] == 'generation' and any(\"I can't help\" in e['message'] for e in d['errors'])"

start_server wrongkey '{"steps": []}' --key "not-this-one"
run_model wrongkey openai "  concurrency: 1"
check "a wrong key (401) fails the job with the server's message, one request only" sh -c "$(cat <<EOS
"$PY" -c "import json; s = json.load(open('$STATS')); assert s['requests'] == 1, s['requests']" &&
"$PY" -c "import yaml; d = yaml.safe_load(open('$M')); assert d['stage'] == 'generation' and any('HTTP 401' in e['message'] and 'Incorrect API key' in e['message'] for e in d['errors']), d['errors']"
EOS
)"
check "the key is written nowhere" no_key
finish
