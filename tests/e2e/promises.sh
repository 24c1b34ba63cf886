#!/bin/sh
# promises.sh - what the daemon promises over time (job-format.md section 4), observed
# directly: the order and durability of publication, claims and failures through an
# LD_PRELOAD shim (tests/shim/fsorder.c) that logs rename/fsync/unlink/create/write/fork;
# dependency order with a slow atom; a failure's dependents skipped; the rescan's settle
# time; --once exit statuses; every YAML the daemon writes read back by PyYAML (YAML 1.1).
# PROMISES_ONLY="publish deps ..." runs only those sections (make mutants uses it).
. "$(dirname "$0")/lib.sh"

: "${top_builddir:?run through make check}"
SHIM="$top_builddir/tests/shim/fsorder.so"
CHK="$top_srcdir/tests/e2e/promises.py"
case "${SANITIZERS:-}" in
*address*) ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"; export ASAN_OPTIONS ;;
esac
want() { [ -z "${PROMISES_ONLY:-}" ] || case " $PROMISES_ONLY " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
# traced SPOOL LOG [ARGS...]: run_once under the shim, logging to LOG
traced() {
        sp=$1 log=$2; shift 2
        : > "$log"
        FSORDER_LOG="$log" LD_PRELOAD="$SHIM" "$CODEGEND" --spool "$sp" --once "$@" >"$sp.out" 2>"$sp.err"
        RC=$?
}
wait_for() {
        n=0; max=${2:-300}
        while ! sh -c "$1" 2>/dev/null; do
                n=$((n + 1)); [ $n -ge $max ] && return 1; sleep 0.1
        done
}

check "the fsorder shim was built" test -f "$SHIM"

# a small job (three atoms: a package's modules need its __init__.py) where the reference
# job's 50 are not needed
TINY="$WORK/tiny"
mkdir -p "$TINY"
printf 'format: 1\nname: tiny\ntitle: Tiny\nentities:\n  - name: Note\n    table: notes\n    fields:\n      - {name: text, type: string, required: true}\n' > "$TINY/spec.yaml"
cat > "$TINY/dag.json" <<'EOF'
{"format": 1, "name": "tiny", "atoms": [
  {"id": "pkg", "kind": "package", "target": "src/__init__.py", "depends_on": []},
  {"id": "config", "kind": "config", "target": "src/config.py", "depends_on": ["pkg"]},
  {"id": "ignore", "kind": "infra", "target": ".gitignore", "depends_on": ["config"]}]}
EOF

# --- publication, claims and failures, in the order promised
if want publish; then
        sp=$(new_spool publish)
        cp -r "$TINY" "$sp/inbox/pub"
        mkdir "$sp/inbox/bad" && sed 's/format: 1/format: 9/' "$REF/spec.yaml" > "$sp/inbox/bad/spec.yaml"
        echo notes > "$sp/inbox/notes.txt"
        traced "$sp" "$WORK/publish.log"
        check "publish: --once exits 1 (one job failed)" test "$RC" -eq 1
        check "publish: the shim saw the daemon's calls" grep -q " fsync 0 $sp/outbox\$" "$WORK/publish.log"
        check "publish: tarball fsynced and renamed in, outbox fsynced, then the report renamed in, outbox fsynced" \
                "$PY" "$CHK" publish "$WORK/publish.log" "$sp/outbox" pub
        check "publish: the claim renames out of the inbox, then fsyncs inbox, bundle dir and state area" \
                "$PY" "$CHK" claim "$WORK/publish.log" "$sp/inbox" pub
        check "publish: a failed job's error report is durable before its bundle moves to failed/" \
                "$PY" "$CHK" failed "$WORK/publish.log" "$sp/failed" bad
        check "publish: a rejected entry's error report is durable before it moves to failed/" \
                "$PY" "$CHK" failed "$WORK/publish.log" "$sp/failed" notes.txt
        check "publish: the report names the published tarball's sha256" sh -c "
                [ \$(sha256sum '$sp/outbox/pub.tar.gz' | cut -d' ' -f1) = \$('$PY' -c \"import yaml; print(yaml.safe_load(open('$sp/outbox/pub.metrics.yaml'))['tarball']['sha256'])\") ]"
        check "publish: the state area is empty afterwards" sh -c "[ -z \"\$(ls -A '$sp/.codegend/jobs')\" ]"
        # a later failure of the same name retracts the pair: the report goes first
        mkdir "$sp/inbox/pub" && sed 's/format: 1/format: 9/' "$REF/spec.yaml" > "$sp/inbox/pub/spec.yaml"
        traced "$sp" "$WORK/retract.log"
        check "publish: a failing job of the same name unlinks the report before the tarball, then fsyncs" \
                "$PY" - "$WORK/retract.log" "$sp/outbox" <<'PYEOF'
import sys
ev = [l.split() for l in open(sys.argv[1])]
out = sys.argv[2]
ops = [(i, e[1], e[3]) for i, e in enumerate(ev) if e[2] == "0"]
rep = [i for i, op, p in ops if op == "unlink" and p == out + "/pub.metrics.yaml"]
tar = [i for i, op, p in ops if op == "unlink" and p == out + "/pub.tar.gz"]
assert rep and tar and rep[0] < tar[0], (rep, tar)
assert any(op == "fsync" and p == out and i > tar[0] for i, op, p in ops), "outbox not fsynced"
PYEOF
fi

# --- dependency order: with a slow atom, no dependent starts before it ends
if want deps; then
        printf 'workers: 2\n' > "$WORK/two.yaml"
        sp=$(new_spool deps)
        cp -r "$REF" "$sp/inbox/slow"
        CODEGEND_FAULT_INJECT=database=sleep:2 traced "$sp" "$WORK/deps.log" --config "$WORK/two.yaml"
        check "deps: a job with a slow atom succeeds" test "$RC" -eq 0
        check "deps: no (transitive) dependent of the slow atom was forked before its result was in" \
                "$PY" "$CHK" deps "$WORK/deps.log" "$REF/dag.json" database
        check "deps: the slow atom took its time" yq_true "$sp/outbox/slow.metrics.yaml" \
                "[a['duration_s'] for a in d['atoms'] if a['id'] == 'database'][0] >= 2"

        sp=$(new_spool depfail)
        cp -r "$REF" "$sp/inbox/broken"
        CODEGEND_FAULT_INJECT=database=exit traced "$sp" "$WORK/depfail.log" --config "$WORK/two.yaml"
        check "deps: a failed atom fails the job" test "$RC" -eq 1
        "$PY" - "$REF/dag.json" database > "$WORK/dependents" <<'PYEOF'
import json, sys
deps = {a["id"]: set(a["depends_on"]) for a in json.load(open(sys.argv[1]))["atoms"]}
out, grew = set(), True
while grew:
    grew = False
    for a, ds in deps.items():
        if a not in out and (sys.argv[2] in ds or ds & out):
            out.add(a); grew = True
print(" ".join(sorted(out)))
PYEOF
        check "deps: every dependent of the failed atom is skipped, never attempted" yq_true \
                "$sp/failed/broken.error.yaml" \
                "all(a['status'] == 'skipped' and a.get('attempts', 0) == 0 for a in d['metrics']['atoms'] if a['id'] in '$(cat "$WORK/dependents")'.split()) and len('$(cat "$WORK/dependents")'.split()) > 10"
        check "deps: once an atom fails no other atom starts (some independent ones are skipped too)" yq_true \
                "$sp/failed/broken.error.yaml" \
                "any(a['status'] == 'skipped' for a in d['metrics']['atoms'] if a['id'] not in '$(cat "$WORK/dependents")'.split() + ['database'])"
        check "deps: the failed atom is failed after its one attempt (atom_attempts: 1), with its reason" yq_true "$sp/failed/broken.error.yaml" \
                "[(a['status'], a['attempts']) for a in d['metrics']['atoms'] if a['id'] == 'database'] == [('failed', 1)] and any('exited with status 3' in e['message'] for e in d['errors'])"
        check "deps: no worker wrote a dependent's fragment" sh -c "
                for a in \$(cat '$WORK/dependents'); do grep -q \"/frags/\\.\$a\\.frag\" '$WORK/depfail.log' && { echo \"\$a ran\"; exit 1; }; done; exit 0"
fi

# --- the periodic rescan leaves entries younger than settle_time alone
if want settle; then
        printf 'rescan_interval: 1\nsettle_time: 4\n' > "$WORK/settle.yaml"
        sp=$(new_spool settle)
        "$CODEGEND" --spool "$sp" --config "$WORK/settle.yaml" >"$sp.out" 2>"$sp.err" &
        DAEMON_PID=$!
        wait_for "test -d '$sp/.codegend/jobs'" 50
        sleep 0.3
        # a directory created in place (no rename, so no inotify event): half-copied at first
        mkdir "$sp/inbox/copying" && cp "$TINY/spec.yaml" "$sp/inbox/copying/"
        sleep 2.5
        check "settle: a directory younger than settle_time survives two rescans untouched" \
                test -f "$sp/inbox/copying/spec.yaml"
        cp "$TINY/dag.json" "$sp/inbox/copying/"
        check "settle: once settled it is taken" wait_for "test -s '$sp/outbox/copying.metrics.yaml'" 150
        check "settle: it ran with the DAG copied last (it was not taken half-copied)" yq_true \
                "$sp/outbox/copying.metrics.yaml" "len(d['atoms']) == 3"
        kill -TERM "$DAEMON_PID"; wait "$DAEMON_PID"; DAEMON_PID=
fi

# --- --once exit statuses
if want once; then
        sp=$(new_spool once-empty)
        run_once "$sp"
        check "once: an empty inbox exits 0" test "$RC" -eq 0
        sp=$(new_spool once-reject)
        echo notes > "$sp/inbox/notes.txt"
        run_once "$sp"
        check "once: only a rejected non-bundle entry exits 1" test "$RC" -eq 1
        check "once: the rejected entry is in failed/ with its report" \
                test -f "$sp/failed/notes.txt" -a -s "$sp/failed/notes.txt.error.yaml"
        sp=$(new_spool once-ok)
        cp -r "$TINY" "$sp/inbox/good"
        run_once "$sp"
        check "once: only a succeeding job exits 0" test "$RC" -eq 0
        cp -r "$TINY" "$sp/inbox/good2"
        mkdir "$sp/inbox/bad" && echo 'format: 1' > "$sp/inbox/bad/spec.yaml"
        run_once "$sp"
        check "once: a success and a failure exit 1" test "$RC" -eq 1
        sp=$(new_spool once-resume)
        mkdir -p "$sp/.codegend/jobs/20260101T000000.000000000Z-1-0/bundle"
        cp -r "$TINY" "$sp/.codegend/jobs/20260101T000000.000000000Z-1-0/bundle/resumed"
        run_once "$sp"
        check "once: a job left in the state area is resumed and published (exit 0)" \
                sh -c "[ $RC -eq 0 ] && test -s '$sp/outbox/resumed.metrics.yaml' && [ -z \"\$(ls -A '$sp/.codegend/jobs')\" ]"
        mkdir -p "$sp/.codegend/jobs/20260101T000000.000000000Z-1-1/bundle"
        mkdir -p "$sp/.codegend/jobs/20260101T000000.000000000Z-1-1/bundle/broken"
        echo 'format: 1' > "$sp/.codegend/jobs/20260101T000000.000000000Z-1-1/bundle/broken/spec.yaml"
        run_once "$sp"
        check "once: a resumed job that fails exits 1 and ends in failed/" \
                sh -c "[ $RC -eq 1 ] && test -s '$sp/failed/broken.error.yaml' && test -d '$sp/failed/broken'"
        mkdir -p "$sp/.codegend/jobs/20260101T000000.000000000Z-1-2/bundle"
        # bounded: a daemon that took the empty claim for a job would wait for it forever
        RC=0; timeout -k 5 30 "$CODEGEND" --spool "$sp" --once >"$sp.out" 2>"$sp.err" || RC=$?
        check "once: an empty claim directory is removed (exit 0)" \
                sh -c "[ $RC -eq 0 ] && [ -z \"\$(ls -A '$sp/.codegend/jobs')\" ]"
fi

# --- every YAML the daemon writes means to PyYAML what codegend meant
if want yaml; then
        sp=$(new_spool yaml)
        for n in 12:30 yes on 0x1F 1e3 '~' 1_000 +12; do
                cp -r "$TINY" "$sp/inbox/$n"
        done
        mkdir "$sp/inbox/tricky"
        "$PY" - "$REF" "$sp/inbox/tricky" "$WORK/tricky-spec.json" <<'PYEOF'
import json, sys, yaml
ref, out, keep = sys.argv[1:4]
spec = yaml.safe_load(open(ref + "/spec.yaml"))
spec["title"] = "12:30"
spec["description"] = "yes"
u = spec["entities"][0]
u["description"] = "~"
u["fields"].append({"name": "code", "type": "string", "default": "0x1F"})
u["fields"].append({"name": "level", "type": "enum", "values": ["yes", "no", "on", "null"], "default": "on"})
spec["entities"][1]["description"] = "1e3"
dag = json.load(open(ref + "/dag.json"))
ren = {"config": "yes", "database": "no", "errors": "on", "requirements": "null",
       "src_pkg": "1e3", "models_pkg": "0x1f", "schemas_pkg": "1_000", "readme": "off"}
for a in dag["atoms"]:
    a["id"] = ren.get(a["id"], a["id"])
    a["depends_on"] = [ren.get(d, d) for d in a["depends_on"]]
if "waves" in dag:
    dag["waves"] = [[ren.get(x, x) for x in w] for w in dag["waves"]]
# JSON input: no YAML reader's opinion about what these strings are
json.dump(spec, open(out + "/spec.json", "w"), indent=1)
json.dump(dag, open(out + "/dag.json", "w"), indent=1)
json.dump(spec, open(keep, "w"))
PYEOF
        # failures whose error reports carry such strings
        for n in yes:12:30 off:0x1F; do
                mkdir "$sp/inbox/bad-${n%%:*}"
                printf 'format: 1\nname: "%s"\n' "${n#*:}" > "$sp/inbox/bad-${n%%:*}/spec.yaml"
        done
        echo x > "$sp/inbox/null"
        run_once "$sp"
        check "yaml: the jobs ran (some fail on purpose)" test "$RC" -eq 1
        for n in 12:30 yes on 0x1F 1e3 '~' 1_000 +12; do
                check "yaml: report of job '$n' reads back with job == '$n'" yq_true "$sp/outbox/$n.metrics.yaml" \
                        "d['job'] == '$n' and d['tarball']['file'] == '$n.tar.gz' and d['status'] == 'succeeded'"
        done
        check "yaml: a rejected entry 'null' reads back as the string" yq_true "$sp/failed/null.error.yaml" \
                "d['job'] == 'null' and d['errors'][0]['file'] == 'null'"
        check "yaml: atom ids yes/no/on/off/null/1e3/0x1f/1_000 read back as strings" yq_true \
                "$sp/outbox/tricky.metrics.yaml" \
                "{'yes','no','on','off','null','1e3','0x1f','1_000'} <= set(a['id'] for a in d['atoms']) and all(isinstance(a['id'], str) for a in d['atoms'])"
        mkdir -p "$WORK/tricky-x" && tar -xzf "$sp/outbox/tricky.tar.gz" -C "$WORK/tricky-x"
        check "yaml: the shipped spec reads back equal to the spec given" "$PY" -c "
import json, sys, yaml
a = yaml.safe_load(open('$WORK/tricky-x/taskmanager/.codegen/spec.yaml'))
b = json.load(open('$WORK/tricky-spec.json'))
def sub(x, y, at='spec'):
    if isinstance(y, dict):
        assert isinstance(x, dict), at
        for k in y: sub(x.get(k), y[k], at + '.' + k)
    elif isinstance(y, list):
        assert isinstance(x, list) and len(x) == len(y), at
        for i, (p, q) in enumerate(zip(x, y)): sub(p, q, '%s[%d]' % (at, i))
    else:
        assert x == y and type(x) is type(y), '%s: %r != %r' % (at, x, y)
sub(a, b)"
        check "yaml: the shipped metrics read back with the same atom ids" "$PY" -c "
import yaml
a = yaml.safe_load(open('$WORK/tricky-x/taskmanager/.codegen/metrics.yaml'))
b = yaml.safe_load(open('$sp/outbox/tricky.metrics.yaml'))
assert [x['id'] for x in a['atoms']] == [x['id'] for x in b['atoms']]
assert all(isinstance(x['id'], str) for x in a['atoms'])"
        check "yaml: error reports read back with the offending strings" yq_true "$sp/failed/bad-yes.error.yaml" \
                "d['job'] == 'bad-yes' and all(isinstance(e['message'], str) and e['file'] == 'bad-yes/spec.yaml' for e in d['errors'])"
        # generic: every plain scalar of every YAML file the daemon wrote means the same
        # under YAML 1.1 (PyYAML) as under YAML 1.2's core schema
        find "$sp/outbox" "$sp/failed" -maxdepth 1 -name '*.yaml' > "$WORK/yamls"
        find "$WORK/tricky-x" -name '*.yaml' -path '*/.codegen/*' >> "$WORK/yamls"
        check "yaml: every report, error file and shipped YAML means the same to PyYAML ($(wc -l < "$WORK/yamls") files)" \
                sh -c "xargs '$PY' '$CHK' yaml < '$WORK/yamls'"
fi

finish
