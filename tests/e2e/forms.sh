#!/bin/sh
# forms.sh - every bundle form of job-format.md section 1 through the real daemon:
# outputs, report keys, checksum, determinism, ignored names, replacement by name.
. "$(dirname "$0")/lib.sh"

# the reference job in every form
mk_forms() {
        sp=$1
        cp -r "$REF" "$sp/inbox/dirjob"
        mkdir -p "$WORK/src/nested/taskmanager" "$WORK/src/flat"
        cp "$REF"/* "$WORK/src/nested/taskmanager/"
        cp "$REF"/* "$WORK/src/flat/"
        (cd "$WORK/src/nested" && tar -cf "$sp/inbox/tarjob.tar" taskmanager)
        (cd "$WORK/src/flat" && tar -czf "$sp/inbox/gzjob.tar.gz" spec.yaml dag.json)
        (cd "$WORK/src/nested" && tar -czf "$sp/inbox/tgzjob.tgz" taskmanager)
        (cd "$WORK/src/nested" && tar -cJf "$sp/inbox/xzjob.tar.xz" taskmanager)
        (cd "$WORK/src/nested" && tar --zstd -cf "$sp/inbox/zstjob.tar.zst" taskmanager)
        (cd "$WORK/src/nested" && zip -qr "$sp/inbox/zipjob.zip" taskmanager)
        "$PY" - "$REF" "$sp/inbox" "$WORK/contract-dag.json" <<'PYEOF'
import json, sys, yaml
ref, inbox, contract = sys.argv[1], sys.argv[2], sys.argv[3]
spec = yaml.safe_load(open(ref + "/spec.yaml"))
dag = json.load(open(ref + "/dag.json"))
with open(inbox + "/yamljob.job.yaml", "w") as f:
    yaml.safe_dump({"spec": spec, "dag": dag, "options": {"backend": "pattern"}}, f, sort_keys=False)
with open(inbox + "/jsonjob.job.json", "w") as f:
    json.dump({"spec": spec, "dag": dag}, f, indent=1)
with open(inbox + "/planned.job.yaml", "w") as f:
    yaml.safe_dump({"spec": spec}, f, sort_keys=False)
# the job-format contract's own 49-atom DAG: spool-example's without the makefile atom
dag["atoms"] = [a for a in dag["atoms"] if a["id"] != "makefile"]
dag["waves"] = [[x for x in w if x != "makefile"] for w in dag["waves"]]
with open(inbox + "/contract.job.json", "w") as f:
    json.dump({"spec": spec, "dag": dag}, f, indent=1)
with open(contract, "w") as f:
    json.dump(dag, f)
PYEOF
}

sp=$(new_spool forms)
forms_sp=$sp
mk_forms "$sp"
# names that are being written are never touched
echo partial > "$sp/inbox/.hidden.tar.gz"
echo partial > "$sp/inbox/upload.tar.gz.part"
echo partial > "$sp/inbox/upload2.job.yaml.tmp"
echo partial > "$sp/inbox/upload3.zip.partial"
run_once "$sp"
check "daemon --once exits 0 when every job succeeds" test "$RC" -eq 0
[ "$RC" -eq 0 ] || diag < "$sp.err"

for job in dirjob tarjob gzjob tgzjob xzjob zstjob zipjob yamljob jsonjob planned; do
        check "$job: tarball and report in outbox" \
                test -s "$sp/outbox/$job.tar.gz" -a -s "$sp/outbox/$job.metrics.yaml"
        m="$sp/outbox/$job.metrics.yaml"
        check "$job: report has every key of section 5" yq_true "$m" \
                "all(k in d for k in ['job','status','backend','started_at','finished_at','duration_s','files','loc','waves','time_by_kind','syntax','api','quality','success_criteria','atoms','tarball']) and d['status'] == 'succeeded' and d['job'] == '$job'"
        sum=$(sha256sum "$sp/outbox/$job.tar.gz" | cut -d' ' -f1)
        bytes=$(stat -c %s "$sp/outbox/$job.tar.gz")
        check "$job: report names the tarball's sha256 and size" yq_true "$m" \
                "d['tarball'] == {'file': '$job.tar.gz', 'bytes': $bytes, 'sha256': '$sum'}"
done

m="$sp/outbox/dirjob.metrics.yaml"
check "reference job: 50 atoms, all ok, 10 waves" yq_true "$m" \
        "len(d['atoms']) == 50 and all(a['status'] == 'ok' for a in d['atoms']) and len(d['waves']) == 10"
check "reference job: at least 40 files and 1000 lines" yq_true "$m" \
        "d['files']['total'] >= 40 and d['loc']['total'] >= 1000"
check "reference job: no syntax errors, success criteria all true" yq_true "$m" \
        "d['syntax']['errors'] == 0 and all(d['success_criteria'].values())"
check "planned job (no DAG) ran the same 50 atoms" yq_true "$sp/outbox/planned.metrics.yaml" \
        "sorted(a['id'] for a in d['atoms']) == sorted(a['id'] for a in yaml.safe_load(open('$m'))['atoms'])"

tar -tzvf "$sp/outbox/dirjob.tar.gz" > "$WORK/list.txt"
check "tarball: one top-level folder named after the spec" \
        sh -c "tar -tzf '$sp/outbox/dirjob.tar.gz' | cut -d/ -f1 | sort -u | grep -qx taskmanager && [ \$(tar -tzf '$sp/outbox/dirjob.tar.gz' | cut -d/ -f1 | sort -u | wc -l) -eq 1 ]"
for f in .codegen/spec.yaml .codegen/dag.json .codegen/metrics.yaml src/main.py src/models/user.py \
        src/api/routes/users.py tests/conftest.py migrations/env.py Dockerfile docker-compose.yml README.md; do
        check "tarball holds $f" grep -q " taskmanager/$f\$" "$WORK/list.txt"
done
check "tarball entries are sorted, owned by 0:0, one timestamp" sh -c "
        tar -tzf '$sp/outbox/dirjob.tar.gz' > '$WORK/names' && LC_ALL=C sort -c '$WORK/names' &&
        [ \"\$(tar --numeric-owner -tzvf '$sp/outbox/dirjob.tar.gz' | awk '{print \$2}' | sort -u)\" = 0/0 ] &&
        [ \$(tar --numeric-owner -tzvf '$sp/outbox/dirjob.tar.gz' | awk '{print \$4, \$5}' | sort -u | wc -l) -eq 1 ]"
check "gzip header has no name and no time" sh -c "
        od -An -tx1 -N8 '$sp/outbox/dirjob.tar.gz' | tr -d ' \n' | grep -q '^1f8b0800000000..$'"
mkdir -p "$WORK/x" && tar -xzf "$sp/outbox/dirjob.tar.gz" -C "$WORK/x"
check "shipped .codegen/dag.json is the plan that ran" "$PY" -c "
import json; a = json.load(open('$WORK/x/taskmanager/.codegen/dag.json')); b = json.load(open('$REF/dag.json'))
assert [x['id'] for x in a['atoms']] == [x['id'] for x in b['atoms']]
assert a['waves'] == b['waves'], a['waves']"
check "tarball metrics hold only content figures" yq_true "$WORK/x/taskmanager/.codegen/metrics.yaml" \
        "set(d) == {'backend','files','loc','syntax','quality','success_criteria','atoms'} and set(d['atoms'][0]) <= {'id','kind','wave','target','loc','syntax_errors','syntax_error_list'}"

check "every form of the same bundle gives a byte-identical tarball" sh -c "
        cd '$sp/outbox' && for f in tarjob gzjob tgzjob xzjob zstjob zipjob yamljob jsonjob; do
                cmp dirjob.tar.gz \$f.tar.gz || { mkdir -p '$WORK/a' '$WORK/b'; tar -xzf dirjob.tar.gz -C '$WORK/a';
                tar -xzf \$f.tar.gz -C '$WORK/b'; diff -r '$WORK/a' '$WORK/b' | head -20; exit 1; }; done"
check "entries being written are left in the inbox" sh -c "
        cd '$sp/inbox' && test -f .hidden.tar.gz -a -f upload.tar.gz.part -a -f upload2.job.yaml.tmp -a -f upload3.zip.partial"
check "claimed bundles are gone from the inbox and the state area is empty" sh -c "
        [ \$(ls '$sp/inbox' | grep -v -e '\\.part\$' -e '\\.tmp\$' -e '\\.partial\$' | wc -l) -eq 0 ] && [ \$(ls -A '$sp/.codegend/jobs' | wc -l) -eq 0 ]"
check "--once prints a human summary" grep -q "Files Generated: " "$sp.out"
check "--once summary shows thousands separators and waves" sh -c "grep -q 'Total Lines of Code: [0-9],[0-9][0-9][0-9]' '$sp.out' && grep -q 'Wave 10: ' '$sp.out'"

# the same job again replaces its outputs, byte for byte the same
cp "$sp/outbox/dirjob.tar.gz" "$WORK/first.tar.gz"
sleep 1
cp -r "$REF" "$sp/inbox/dirjob"
run_once "$sp"
check "re-running a job replaces its outputs" test "$RC" -eq 0
check "the same job twice gives a byte-identical tarball" cmp "$WORK/first.tar.gz" "$sp/outbox/dirjob.tar.gz"

# a later failing job of the same name retracts the earlier outputs; a later success
# removes the earlier error report (the newest result of NAME is what a consumer sees)
mkdir -p "$sp/inbox/dirjob" && sed 's/format: 1/format: 9/' "$REF/spec.yaml" > "$sp/inbox/dirjob/spec.yaml"
run_once "$sp"
check "a failing job of the same name removes the earlier outbox pair" \
        sh -c "[ $RC -eq 1 ] && test ! -e '$sp/outbox/dirjob.tar.gz' -a ! -e '$sp/outbox/dirjob.metrics.yaml' -a -s '$sp/failed/dirjob.error.yaml'"
cp -r "$REF" "$sp/inbox/dirjob"
run_once "$sp"
check "a later success removes the earlier error report and failed bundle" \
        sh -c "[ $RC -eq 0 ] && test -s '$sp/outbox/dirjob.metrics.yaml' -a ! -e '$sp/failed/dirjob.error.yaml' -a ! -e '$sp/failed/dirjob'"

check "the report names the success thresholds it used" yq_true "$sp/outbox/dirjob.metrics.yaml" \
        "d['success_thresholds'] == {'loc_min': 1000, 'type_hints_min': 0.95, 'docstrings_min': 0.95, 'syntax_errors_max': 0, 'python_version': '3.11'}"
# thresholds come from the configuration
sp2=$(new_spool thresholds)
cp -r "$REF" "$sp2/inbox/strict"
printf 'success_criteria:\n  loc_min: 100000\n  docstrings_min: 1.0\npython_version: "3.12"\n' > "$WORK/strict.yaml"
run_once "$sp2" --config "$WORK/strict.yaml"
check "configured thresholds decide the criteria (and are reported)" yq_true "$sp2/outbox/strict.metrics.yaml" \
        "d['success_thresholds']['loc_min'] == 100000 and d['success_criteria']['loc_at_least_1000'] is False and d['success_criteria']['docstrings'] is (d['quality']['docstring_coverage'] >= 1.0)"
check "the configured python_version is reported" yq_true "$sp2/outbox/strict.metrics.yaml" \
        "d['success_thresholds']['python_version'] == '3.12'"

check "the contract's 49-atom DAG (no Makefile atom) runs unchanged" yq_true "$forms_sp/outbox/contract.metrics.yaml" \
        "len(d['atoms']) == 49 and all(a['status'] == 'ok' for a in d['atoms'])"
check "and its project has no Makefile (the planned job's has)" sh -c "tar -tzf '$forms_sp/outbox/contract.tar.gz' >'$WORK/contract.lst' && grep -q '/README.md\$' '$WORK/contract.lst' && ! grep -q '/Makefile\$' '$WORK/contract.lst' && tar -tzf '$forms_sp/outbox/planned.tar.gz' | grep -q '/Makefile\$'"
shared_dag="$top_srcdir/../shared/examples/taskmanager/dag.json"
if [ -r "$shared_dag" ]; then
        check "that DAG is the contract's reference dag.json (../shared)" "$PY" -c "
import json, sys
sys.exit(0 if json.load(open(sys.argv[1])) == json.load(open(sys.argv[2])) else 1)" "$WORK/contract-dag.json" "$shared_dag"
fi
finish
