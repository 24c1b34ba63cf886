#!/bin/sh
# bad-bundles.sh - every class of bad bundle ends in failed/, untouched, with an error
# report that says what is wrong and where (file, line, column, path).
. "$(dirname "$0")/lib.sh"

sp=$(new_spool bad)
in="$sp/inbox"
cat > "$WORK/codegend.yaml" <<'YAML'
limits:
  max_unpacked_bytes: 1M
YAML

# spec.yaml variants: a copy of the reference with one line replaced (sed line numbers
# refer to spool-example/taskmanager/spec.yaml)
variant() { # NAME SED-SCRIPT [drop the dag]
        mkdir -p "$in/$1"; sed "$2" "$REF/spec.yaml" > "$in/$1/spec.yaml"
        [ $# -gt 2 ] || cp "$REF/dag.json" "$in/$1/dag.json"
}
variant yamlsyntax '15s/unique: true}/unique: true/'
variant unknownkey '26s/    fields:/    feilds:/'
variant unknowntype '16s/type: string/type: strng/'
variant badformat '2s/format: 1/format: 2/'
variant badfk '32s/target: User/target: Person/'
variant manyerrors '2s/format: 1/format: 2/; 16s/type: string/type: strng/; 32s/target: User/target: Person/'
variant customop '46a\  - {entity: Task, operation: custom, name: archive_done, method: POST, path: /tasks/archive, description: Archive all done tasks}' nodag
# job options: an unknown key and a backend this build does not have
mkdir -p "$in/badoptions" && cp "$REF"/* "$in/badoptions/"
printf 'backend: claude\nx-team: ignored\nretries: 3\n' > "$in/badoptions/job.yaml"
mkdir -p "$in/badutf8"; { head -5 "$REF/spec.yaml"; printf 'description: caf\351 \377\n'; } > "$in/badutf8/spec.yaml"

# DAG variants, made with Python from the reference DAG
"$PY" - "$REF" "$in" <<'PYEOF'
import json, os, shutil, sys
ref, inbox = sys.argv[1], sys.argv[2]
def job(name, mutate, drop_waves=True):
    d = json.load(open(ref + "/dag.json"))
    if drop_waves:
        d.pop("waves")
    mutate(d)
    os.makedirs(inbox + "/" + name)
    shutil.copy(ref + "/spec.yaml", inbox + "/" + name)
    json.dump(d, open(inbox + "/" + name + "/dag.json", "w"), indent=2)
def atom(d, i): return next(a for a in d["atoms"] if a["id"] == i)
job("cycle", lambda d: atom(d, "config")["depends_on"].append("model_user"))
job("unknowndep", lambda d: atom(d, "errors")["depends_on"].append("nonesuch"))
job("dupid", lambda d: d["atoms"].append(dict(atom(d, "config"))))
job("unsafetarget", lambda d: atom(d, "readme").update(target="../../etc/passwd"))
job("abstarget", lambda d: atom(d, "readme").update(target="/etc/passwd"))
def swap(d): d["waves"][0], d["waves"][1] = d["waves"][1], d["waves"][0]
job("wrongwaves", swap, drop_waves=False)
job("unknownentity", lambda d: atom(d, "model_user").update(entity="Person"))
PYEOF

# archives with hostile members, made with Python's tarfile
"$PY" - "$REF" "$in" <<'PYEOF'
import gzip, io, os, sys, tarfile
ref, inbox = sys.argv[1], sys.argv[2]
def add(t, name, data):
    i = tarfile.TarInfo(name); i.size = len(data); t.addfile(i, io.BytesIO(data))
spec = open(ref + "/spec.yaml", "rb").read()
for name, member, kind in [("traversal", "../evil.txt", "file"), ("absolute", "/tmp/evil.txt", "file"),
                           ("symlink", "taskmanager/link", "symlink")]:
    with tarfile.open(inbox + "/" + name + ".tar.gz", "w:gz") as t:
        add(t, "taskmanager/spec.yaml", spec)
        if kind == "file":
            add(t, member, b"x")
        else:
            i = tarfile.TarInfo(member); i.type = tarfile.SYMTYPE; i.linkname = "/etc/passwd"; t.addfile(i)
# a compression bomb: 20 MiB of zeros (the test's limit is 1 MiB)
with tarfile.open(inbox + "/bomb.tar.gz", "w:gz") as t:
    i = tarfile.TarInfo("taskmanager/spec.yaml"); i.size = 20 << 20
    t.addfile(i, io.BytesIO(bytes(20 << 20)))
open(inbox + "/garbage.tar.gz", "wb").write(os.urandom(4096))
open(inbox + "/empty.job.yaml", "wb").close()
PYEOF
echo "just some notes" > "$in/notes.txt"
ln -s /etc/hostname "$in/a-link"
# a good bundle among the bad ones (sorted last): it must still run in the same --once pass
cp -r "$REF" "$in/zz-good"
# keep pristine copies to prove failed/ holds the bundles untouched
cp -a "$in" "$WORK/pristine"

run_once "$sp" --config "$WORK/codegend.yaml"
check "daemon --once exits 1 when jobs failed" test "$RC" -eq 1
check "only the good bundle reached the outbox" sh -c "[ \"\$(ls '$sp/outbox')\" = \"\$(printf 'zz-good.metrics.yaml\\nzz-good.tar.gz')\" ]"
check "the inbox is empty" sh -c "[ \$(ls '$in' | wc -l) -eq 0 ]"

failed_ok() { # NAME ENTRY STAGE
        e="$sp/failed/$1.error.yaml"
        check "$1: bundle moved to failed/ untouched" diff -r "$WORK/pristine/$2" "$sp/failed/$2"
        check "$1: error report names job, status and stage $3" yq_true "$e" \
                "d['job'] == '$1' and d['status'] == 'failed' and d['stage'] == '$3' and len(d['errors']) >= 1"
}
expect() { # NAME STAGE ENTRY SUBSTRING [LINE COLUMN]
        name=$1 stage=$2 entry=$3 sub=$4; shift 4
        failed_ok "$name" "$entry" "$stage"
        check "$name: error '$sub'${1:+ at $1:${2:-}}" has_error "$sp/failed/$name.error.yaml" "$sub" "$@"
}
expect yamlsyntax intake yamlsyntax ""
check "yamlsyntax: the error has a line and column at or after the mistake" yq_true "$sp/failed/yamlsyntax.error.yaml" \
        "any(e.get('line', 0) >= 15 and e.get('column', 0) >= 1 and e.get('file', '').endswith('spec.yaml') for e in d['errors'])"
expect unknownkey validation unknownkey "unknown key 'feilds'" 26 5
check "unknownkey: suggests the right key" has_error "$sp/failed/unknownkey.error.yaml" "did you mean 'fields'"
expect unknowntype validation unknowntype "unknown field type 'strng'" 16 33
check "unknowntype: error path names the field" yq_true "$sp/failed/unknowntype.error.yaml" \
        "any(e.get('path') == 'entities[0].fields[1].type' and e.get('file', '').endswith('spec.yaml') for e in d['errors'])"
expect badformat validation badformat "format" 2 9
expect badfk validation badfk "'Person'" 32 53
check "manyerrors: every error of the bundle is reported" yq_true "$sp/failed/manyerrors.error.yaml" \
        "len(d['errors']) >= 3"
expect customop validation customop "archive_done" 47 5
check "customop: the error names the spec file" yq_true "$sp/failed/customop.error.yaml" "any(e.get('file') == 'customop/spec.yaml' for e in d['errors'])"
expect badutf8 intake badutf8 "UTF-8" 6
expect badoptions validation badoptions "unknown key 'retries' in job options" 3 1
check "badoptions: the unknown backend is named where it is set" has_error "$sp/failed/badoptions.error.yaml" \
        "unknown backend 'claude'" 1 10
expect cycle validation cycle "cycle"
check "cycle: the error names the cycle" has_error "$sp/failed/cycle.error.yaml" "config -> "
expect unknowndep validation unknowndep "'nonesuch'"
expect dupid validation dupid "'config'"
expect unsafetarget validation unsafetarget "../../etc/passwd"
expect abstarget validation abstarget "/etc/passwd"
expect wrongwaves validation wrongwaves "wave"
expect unknownentity validation unknownentity "'Person'"
expect traversal intake traversal.tar.gz "../evil.txt"
expect absolute intake absolute.tar.gz "/tmp/evil.txt"
expect symlink intake symlink.tar.gz "symbolic link"
expect bomb intake bomb.tar.gz "exceeds"
expect garbage intake garbage.tar.gz "not a readable archive"
expect empty intake empty.job.yaml "empty"
expect notes.txt intake notes.txt "not a job bundle"
check "a symbolic link in the inbox is moved to failed/ as a link, never followed" \
        sh -c "test -L '$sp/failed/a-link' && [ \"\$(readlink '$sp/failed/a-link')\" = /etc/hostname ] && test -s '$sp/failed/a-link.error.yaml'"
check "nothing was written outside the spool by hostile archives" \
        sh -c "! test -e '$sp/evil.txt' && ! test -e /tmp/evil.txt && ! test -e '$sp/.codegend/evil.txt'"
check "the state area is empty" sh -c "[ \$(ls '$sp/.codegend/jobs' | wc -l) -eq 0 ]"

finish
