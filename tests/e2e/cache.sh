#!/bin/sh
# cache.sh - the atom cache (docs/cache.md) against the scripted loopback model server
# (tests/model-server.py), whose own request count is the proof of "no call":
# an unchanged re-run makes no call and packs the same bytes; a change of one entity's
# field calls the model for exactly the atoms that see that entity; cache: false and
# --no-cache call again; an atom left with syntax errors is not cached; eviction keeps the
# cache under cache_max_bytes; the pattern backend hits too.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/model-lib.sh"
export ANTHROPIC_API_KEY="$KEY"
make_canned

# config NAME [LINES]: an anthropic configuration for the running server in $WORK/NAME.yaml
config() {
        printf 'anthropic:\n  base_url: http://127.0.0.1:%s\n  model: claude-sonnet-4-5\n  connect_timeout: 2\n%s\n' \
                "$PORT" "${2:-}" > "$WORK/$1.yaml"
}
# requests: the server's own count (no stats file: no request was answered)
requests() { if [ -f "$STATS" ]; then "$PY" -c "import json; print(json.load(open('$STATS'))['requests'])"; else echo 0; fi; }
# submit SPOOL BUNDLE_DIR NAME [JOB_OPTIONS]
submit() { cp -r "$2" "$1/inbox/$3"; [ -z "${4:-}" ] || printf '%s\n' "$4" > "$1/inbox/$3/job.yaml"; }

SP=$(new_spool nightly)
start_server first '{"steps": []}' --key "$KEY"
config first "metrics_textfile: $WORK/first.prom"
submit "$SP" "$REF" taskmanager
run_once "$SP" --config "$WORK/first.yaml" --backend anthropic
M="$SP/outbox/taskmanager.metrics.yaml"
check "a first run through anthropic succeeds" test "$RC" -eq 0
check "every atom is a miss and called the model, no hit" yq_true "$M" \
        "all(a['cache'] == 'miss' for a in d['atoms']) and d['api']['calls'] == 50 and d['api']['cache_hits'] == 0"
check "50 entries in the spool's cache" sh -c "test \$(ls '$SP/.codegend/cache' | wc -l) -eq 50"
cp "$SP/outbox/taskmanager.tar.gz" "$WORK/first.tar.gz"

start_server second '{"steps": []}' --key "$KEY"
config second "metrics_textfile: $WORK/second.prom"
submit "$SP" "$REF" taskmanager
run_once "$SP" --config "$WORK/second.yaml" --backend anthropic
check "the unchanged re-run succeeds" test "$RC" -eq 0
check "the server received no request" test "$(requests)" -eq 0
check "every atom is a hit; api: 0 calls, 0 tokens, 0 cost, cache_hits 50" yq_true "$M" \
        "all(a['cache'] == 'hit' and a['api']['calls'] == 0 for a in d['atoms']) and d['api']['calls'] == 0 and d['api']['input_tokens'] == 0 and d['api']['cost_usd'] == 0 and d['api']['cache_hits'] == 50"
check "a hit keeps the atom's figures (loc, backend)" yq_true "$M" \
        "all(a['loc'] > 0 and a['backend'] == 'anthropic' for a in d['atoms'] if a['target'].endswith('.py') and a['id'] != 'src_pkg')"
check "the tarball is byte-identical to the first run's" cmp "$WORK/first.tar.gz" "$SP/outbox/taskmanager.tar.gz"
check "the textfile counts the hits" grep -qx 'codegend_cache_hits_total 50' "$WORK/second.prom"
check "the --once summary says no call was made and 50 hits" sh -c "grep -qx '  API Calls: 0' '$SP.out' && grep -qx '  Cache hits: 50 of 50 atoms' '$SP.out'"
check "the job's end line counts the hits" grep -q 'taskmanager: succeeded in .* 0 model calls, 0 tokens, \$0.0000, 50 cache hits' "$SP.err"
check "the key is written nowhere" no_key

start_server optout '{"steps": []}' --key "$KEY"
config optout
submit "$SP" "$REF" taskmanager "cache: false"
run_once "$SP" --config "$WORK/optout.yaml" --backend anthropic
check "job option cache: false calls the model for every atom" sh -c "test $RC -eq 0 && test $(requests) -eq 50"
check "and its report has no cache: key per atom" yq_true "$M" "all('cache' not in a for a in d['atoms']) and d['api']['calls'] == 50"

start_server nocache '{"steps": []}' --key "$KEY"
config nocache
submit "$SP" "$REF" taskmanager
run_once "$SP" --config "$WORK/nocache.yaml" --backend anthropic --no-cache
check "--no-cache calls the model for every atom" sh -c "test $RC -eq 0 && test $(requests) -eq 50"

# an atom whose text keeps syntax errors (repair: false) is never cached
SP2=$(new_spool syntax)
start_server syntax1 '{"steps": [{"match": "config", "kind": "syntax", "times": 2}]}' --key "$KEY"
config syntax1
submit "$SP2" "$REF" taskmanager "repair: false"
run_once "$SP2" --config "$WORK/syntax1.yaml" --backend anthropic
submit "$SP2" "$REF" taskmanager "repair: false"
start_server syntax2 '{"steps": [{"match": "config", "kind": "syntax"}]}' --key "$KEY"
config syntax2
run_once "$SP2" --config "$WORK/syntax2.yaml" --backend anthropic
check "an atom with syntax errors left is not cached: only it calls again" sh -c "$(cat <<EOS
"$PY" -c "import json; s = json.load(open('$STATS')); assert s['atoms'] == ['config'], s['atoms']"
EOS
)"
check "its report says miss, every other atom hit" yq_true "$SP2/outbox/taskmanager.metrics.yaml" \
        "[a['id'] for a in d['atoms'] if a['cache'] == 'miss'] == ['config'] and d['api']['cache_hits'] == 49"

# one entity's field changes: exactly the atoms that see it call the model. A third
# entity, Tag, related to no other, in a planned job (no dag.json); the canned answers
# are the pattern backend's for it; one worker, so shared targets are answered in order.
B3="$WORK/b3"; mkdir -p "$B3"
"$PY" - "$REF/spec.yaml" "$B3/spec.yaml" 7 <<'PYEOF'
import sys
s = open(sys.argv[1]).read()
tag = """  - name: Tag
    table: tags
    description: A label.
    fields:
      - {name: label, type: string, required: true, min_length: 1, max_length: 40}
      - {name: color, type: string, max_length: %s}

endpoints:
  - {entity: Tag, operation: list,   method: GET,    path: /tags}
  - {entity: Tag, operation: create, method: POST,   path: /tags}
""" % sys.argv[3]
open(sys.argv[2], "w").write(s.replace("endpoints:\n", tag, 1))
PYEOF
sp=$(new_spool canned3); submit "$sp" "$B3" taskmanager; run_once "$sp"
mkdir -p "$WORK/canned3"; tar -xzf "$sp/outbox/taskmanager.tar.gz" -C "$WORK/canned3"
CANNED="$WORK/canned3/taskmanager"
SP3=$(new_spool entity)
start_server entity1 '{"steps": []}' --key "$KEY"
config entity1 "  concurrency: 1"
submit "$SP3" "$B3" taskmanager
run_once "$SP3" --config "$WORK/entity1.yaml" --backend anthropic
check "the three-entity job succeeds through anthropic" test "$RC" -eq 0
N3=$(requests)
"$PY" - "$REF/spec.yaml" "$B3/spec.yaml" 9 <<'PYEOF'
import sys
s = open(sys.argv[2]).read()
open(sys.argv[2], "w").write(s.replace("{name: color, type: string, max_length: 7}", "{name: color, type: string, max_length: 9}"))
PYEOF
check "the spec's Tag.color changed" grep -q 'max_length: 9}' "$B3/spec.yaml"
start_server entity2 '{"steps": []}' --key "$KEY"
config entity2 "  concurrency: 1"
submit "$SP3" "$B3" taskmanager
run_once "$SP3" --config "$WORK/entity2.yaml" --backend anthropic
check "the changed job succeeds" test "$RC" -eq 0
check "exactly the atoms of Tag and the atoms of no entity (which see the whole spec) call the model" sh -c "$(cat <<EOS
mkdir -p "$WORK/x3" && tar -xzf "$SP3/outbox/taskmanager.tar.gz" -C "$WORK/x3" &&
"$PY" - "$SP3/outbox/taskmanager.metrics.yaml" "$STATS" "$N3" "$WORK/x3/taskmanager/.codegen/dag.json" <<'PYEOF'
import json, sys, yaml
m, s = yaml.safe_load(open(sys.argv[1])), json.load(open(sys.argv[2]))
entity = {a['id']: a.get('entity') for a in json.load(open(sys.argv[4]))['atoms']}
for a in m['atoms']:
    a['entity'] = entity[a['id']]
missed = sorted(a['id'] for a in m['atoms'] if a['cache'] == 'miss')
called = sorted(s['atoms'])
want = sorted(a['id'] for a in m['atoms'] if a.get('entity') in (None, 'Tag'))
assert missed == want and called == want, (missed, called, want)
assert 0 < len(want) < int(sys.argv[3]), (len(want), sys.argv[3])
assert all(a['cache'] == 'hit' for a in m['atoms'] if a.get('entity') in ('User', 'Task'))
assert m['api']['calls'] == len(want) and m['api']['cache_hits'] == len(m['atoms']) - len(want)
PYEOF
EOS
)"

# the pattern backend hits too; eviction keeps the cache under cache_max_bytes
SP4=$(new_spool pattern)
submit "$SP4" "$REF" taskmanager
run_once "$SP4"
cp "$SP4/outbox/taskmanager.tar.gz" "$WORK/pattern.tar.gz"
submit "$SP4" "$REF" taskmanager
run_once "$SP4"
check "pattern: a re-run takes all 50 atoms from the cache" yq_true "$SP4/outbox/taskmanager.metrics.yaml" \
        "d['api']['cache_hits'] == 50 and all(a['cache'] == 'hit' for a in d['atoms'])"
check "pattern: the same tarball" cmp "$WORK/pattern.tar.gz" "$SP4/outbox/taskmanager.tar.gz"
SIZE=$(du -sb "$SP4/.codegend/cache" | cut -f1)
LIMIT=$((SIZE / 3))
printf 'cache_max_bytes: %s\n' "$LIMIT" > "$WORK/small.yaml"
SP5=$(new_spool evict)
submit "$SP5" "$REF" taskmanager
run_once "$SP5" --config "$WORK/small.yaml"
check "eviction: the cache stays under cache_max_bytes after the job" sh -c \
        "b=\$(cat '$SP5'/.codegend/cache/* | wc -c); test \$b -le $LIMIT && test \$b -gt 0"
check "eviction is logged" grep -q 'atom cache: removed' "$SP5.err"
finish
