#!/bin/sh
# analyze.sh - `codegend analyze` on the reference job's project, as a tarball and as a
# folder: the same figures as the tarball's .codegen/metrics.yaml, YAML and JSON; syntax
# errors injected into a copy agree file by file with CPython's compile(); archives of
# every layout; exit statuses and messages; the temporary directory never left behind.
. "$(dirname "$0")/lib.sh"

TMPDIR="$WORK/tmp"
export TMPDIR
mkdir -p "$TMPDIR"

# an: runs `codegend analyze ARGS...`; exit status in $RC, output in $WORK/an.out/.err
an() {
        "$CODEGEND" analyze "$@" >"$WORK/an.out" 2>"$WORK/an.err"
        RC=$?
}
# an_ok NAME ARGS...: analyze, expecting exit 0; the report is kept as $WORK/NAME
an_ok() {
        name=$1; shift
        an "$@"
        if [ "$RC" -eq 0 ]; then ok "analyze $name exits 0"; else
                not_ok "analyze $name exits 0 (got $RC)"; diag < "$WORK/an.err"
        fi
        cp "$WORK/an.out" "$WORK/$name"
}
# same_figures REPORT METRICS: the content figures of two reports are equal
same_figures() {
        "$PY" - "$1" "$2" <<'PYEOF'
import sys, yaml
a, b = (yaml.safe_load(open(f)) for f in sys.argv[1:3])
for k in ("files", "loc", "syntax", "quality"):
    if a[k] != b[k]:
        sys.exit("%s differs:\n%s\n%s" % (k, a[k], b[k]))
crit = {k: v for k, v in b["success_criteria"].items() if k != "all_atoms_generated"}
if a["success_criteria"] != crit:
    sys.exit("success_criteria differ: %s %s" % (a["success_criteria"], crit))
PYEOF
}
# no_tmp_left: the command's temporary directory is gone
no_tmp_left() { [ -z "$(ls -A "$TMPDIR")" ] || { ls -la "$TMPDIR"; return 1; }; }

# ---- the reference job through the daemon ----
sp=$(new_spool analyze)
cp -r "$REF" "$sp/inbox/"
run_once "$sp"
check "daemon --once on the reference job exits 0" test "$RC" -eq 0
tgz="$sp/outbox/taskmanager.tar.gz"
mkdir -p "$WORK/x" && tar -xzf "$tgz" -C "$WORK/x"
proj="$WORK/x/taskmanager"
metrics="$proj/.codegen/metrics.yaml"

# ---- the clean project ----
an_ok tarball.yaml "$tgz"
check "tarball: figures equal the tarball's .codegen/metrics.yaml" same_figures "$WORK/tarball.yaml" "$metrics"
check "tarball: exactly the content keys, no files_with_errors when clean" yq_true "$WORK/tarball.yaml" \
        "list(d) == ['files', 'loc', 'syntax', 'quality', 'success_criteria', 'python_version'] and d['python_version'] == '3.11'"
check "tarball: entities and endpoints expected from the shipped .codegen/spec.yaml" yq_true "$WORK/tarball.yaml" \
        "d['quality']['entities'] == {'expected': 2, 'found': 2} and d['quality']['endpoints'] == {'expected': 10, 'found': 10}"
check "tarball: nothing left in TMPDIR" no_tmp_left

an_ok folder.yaml "$proj"
check "folder: figures equal the tarball's .codegen/metrics.yaml" same_figures "$WORK/folder.yaml" "$metrics"
check "folder and tarball reports are byte-identical" cmp "$WORK/tarball.yaml" "$WORK/folder.yaml"

an_ok folder.json "$proj" --format json
check "--format json parses and holds the same report" "$PY" -c "
import json, sys, yaml
j = json.load(open('$WORK/folder.json')); y = yaml.safe_load(open('$WORK/folder.yaml'))
assert j == y, (j, y)
assert isinstance(j['syntax']['rate'], float) and isinstance(j['files']['total'], int)
assert j['success_criteria']['syntax_clean'] is True"
an_ok folder2.yaml --format=yaml "$proj"
check "--format yaml is the default" cmp "$WORK/folder.yaml" "$WORK/folder2.yaml"

# without .codegen/ there is no spec: nothing expected; --spec brings the expectations back
mkdir -p "$WORK/nospec" && cp -r "$proj" "$WORK/nospec/" && rm -rf "$WORK/nospec/taskmanager/.codegen"
an_ok nospec.yaml "$WORK/nospec/taskmanager"
check "no spec: entities and endpoints expected 0, ORM classes still found" yq_true "$WORK/nospec.yaml" \
        "d['quality']['entities'] == {'expected': 0, 'found': 2} and d['quality']['endpoints']['expected'] == 0 and d['loc'] == yaml.safe_load(open('$metrics'))['loc']"
an_ok withspec.yaml "$WORK/nospec/taskmanager" --spec "$REF/spec.yaml"
check "--spec: the same figures as the shipped spec gives" cmp "$WORK/folder.yaml" "$WORK/withspec.yaml"
"$PY" -c "import json, yaml; json.dump(yaml.safe_load(open('$REF/spec.yaml')), open('$WORK/spec.json', 'w'))"
an_ok withjsonspec.yaml -s "$WORK/spec.json" "$WORK/nospec/taskmanager"
check "--spec reads a JSON spec too" cmp "$WORK/folder.yaml" "$WORK/withjsonspec.yaml"

# ---- injected mistakes, checked against CPython's compile() ----
bad="$WORK/bad/taskmanager"
mkdir -p "$WORK/bad" && cp -r "$proj" "$WORK/bad/"
printf '\nThis code creates the user service with validation.\n' >> "$bad/src/services/user.py"
{ echo '```python'; cat "$proj/src/models/task.py"; } > "$bad/src/models/task.py"
"$PY" - "$bad/src/api/routes/tasks.py" <<'PYEOF'
import re, sys
p = sys.argv[1]; s = open(p).read()
m = re.search(r"^    +return [^\n]*?\(", s, re.M)   # a return inside a function, cut after its "("
assert m, "no return with a call in " + p
open(p, "w").write(s[:m.end()])
PYEOF
an_ok bad.yaml "$bad"
check "injected mistakes: errors and files_with_errors agree with compile() file by file" \
        "$PY" - "$bad" "$WORK/bad.yaml" <<'PYEOF'
import os, sys, yaml
root, report = sys.argv[1], yaml.safe_load(open(sys.argv[2]))
failing = set()
for d, dirs, files in os.walk(root):
    dirs[:] = [x for x in dirs if x not in (".codegen", "__pycache__")]
    for f in files:
        if f.endswith(".py"):
            p = os.path.join(d, f)
            try:
                compile(open(p, "rb").read(), p, "exec")
            except SyntaxError:
                failing.add(os.path.relpath(p, root))
listed = [f["path"] for f in report.get("files_with_errors", [])]
assert failing == {"src/services/user.py", "src/models/task.py", "src/api/routes/tasks.py"}, failing
assert set(listed) == failing, (listed, failing)
assert listed == sorted(listed), listed
assert report["syntax"]["files_with_errors"] == len(failing), report["syntax"]
assert report["syntax"]["errors"] >= len(failing), report["syntax"]
assert sum(len(f["errors"]) for f in report["files_with_errors"]) <= report["syntax"]["errors"]
for f in report["files_with_errors"]:
    assert f["errors"], f
    for e in f["errors"]:
        assert set(e) == {"line", "column", "message", "excerpt"}, e
        assert e["line"] >= 1 and e["column"] >= 1 and e["message"], e
assert report["success_criteria"]["syntax_clean"] is False
loc = report["loc"]["total"]
assert report["syntax"]["rate"] == round(report["syntax"]["errors"] / loc, 4), report["syntax"]
PYEOF
check "injected mistakes: the fence and the prose are reported where they are" yq_true "$WORK/bad.yaml" \
        "{f['path']: (f['errors'][0]['line'], f['errors'][0]['excerpt']) for f in d['files_with_errors'] if f['path'] != 'src/api/routes/tasks.py'} == {'src/models/task.py': (1, '\`\`\`python'), 'src/services/user.py': (len(open('$bad/src/services/user.py').read().splitlines()), 'This code creates the user service with validation.')}"
check "injected mistakes: the other figures are still measured" yq_true "$WORK/bad.yaml" \
        "d['files'] == yaml.safe_load(open('$metrics'))['files'] and d['quality']['functions'] > 0"

# ---- archives of every layout give the folder's report ----
(cd "$WORK/bad" && tar -czf "$WORK/bad.tar.gz" taskmanager && zip -qr "$WORK/bad.zip" taskmanager &&
        tar --zstd -cf "$WORK/bad.tar.zst" taskmanager && tar -cJf "$WORK/bad.tar.xz" taskmanager)
(cd "$bad" && tar -cf "$WORK/flat.tar" .)
for a in bad.tar.gz bad.zip bad.tar.zst bad.tar.xz flat.tar; do
        an_ok "$a.yaml" "$WORK/$a"
        check "$a: the same report as the folder" cmp "$WORK/bad.yaml" "$WORK/$a.yaml"
done
an_ok bad.json --format json "$WORK/bad.tar.gz"
check "--format json lists files_with_errors too" "$PY" -c "
import json, yaml
assert json.load(open('$WORK/bad.json')) == yaml.safe_load(open('$WORK/bad.yaml'))"
check "archives: nothing left in TMPDIR" no_tmp_left

# ---- failures ----
an "$WORK/missing"
check "a missing path exits 1" test "$RC" -eq 1
check "... naming the path" grep -q "cannot read '$WORK/missing': No such file or directory" "$WORK/an.err"
an --bogus "$proj"
check "an unknown option exits 2" test "$RC" -eq 2
check "... naming the option" grep -q "unknown option '--bogus'" "$WORK/an.err"
an --format xml "$proj"
check "--format xml exits 2" sh -c "[ $RC -eq 2 ] && grep -q \"yaml or json, not 'xml'\" '$WORK/an.err'"
an
check "no PATH exits 2" sh -c "[ $RC -eq 2 ] && grep -q 'missing PATH' '$WORK/an.err'"
an "$proj" "$proj"
check "two PATHs exit 2" test "$RC" -eq 2
an --python-version 2.7 "$proj"
check "--python-version 2.7 exits 2" sh -c "[ $RC -eq 2 ] && grep -q \"takes 3.8 to 3.14, not '2.7'\" '$WORK/an.err'"
mkdir -p "$WORK/py312"
printf 'type Point = tuple[float, float]\n' > "$WORK/py312/a.py"
an_ok py311.yaml "$WORK/py312"
check "a type alias is an error for the default Python 3.11" yq_true "$WORK/py311.yaml" \
        "d['syntax']['errors'] == 1 and d['python_version'] == '3.11'"
an_ok py312.yaml --python-version 3.12 "$WORK/py312"
check "... and valid with --python-version 3.12, shown in the report" yq_true "$WORK/py312.yaml" \
        "d['syntax']['errors'] == 0 and d['python_version'] == '3.12'"
an --help
check "--help exits 0 and shows the usage" sh -c "[ $RC -eq 0 ] && grep -q 'Usage: codegend analyze PATH' '$WORK/an.out'"
check "codegend --help mentions analyze" sh -c "'$CODEGEND' --help | grep -q 'codegend analyze PATH'"

head -c 3000 /dev/urandom > "$WORK/garbage.tar.gz"
an "$WORK/garbage.tar.gz"
check "an unreadable archive exits 1, naming it" sh -c "[ $RC -eq 1 ] &&
        grep -q '$WORK/garbage.tar.gz: not a readable archive' '$WORK/an.err' &&
        grep -q \"cannot unpack '$WORK/garbage.tar.gz'\" '$WORK/an.err'"
"$PY" - "$WORK/evil.tar" <<'PYEOF'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w") as t:
    for name in ("p/ok.py", "../evil.py"):
        data = b"x = 1\n"
        i = tarfile.TarInfo(name); i.size = len(data)
        t.addfile(i, io.BytesIO(data))
PYEOF
an "$WORK/evil.tar"
check "an archive member leaving the tree exits 1 and writes nothing outside" sh -c "[ $RC -eq 1 ] &&
        grep -q \"archive member '../evil.py' leaves the bundle\" '$WORK/an.err' && [ ! -e '$TMPDIR/../evil.py' ]"
an "$proj" --spec "$WORK/missing.yaml"
check "a missing --spec exits 1, naming it" sh -c "[ $RC -eq 1 ] && grep -q \"cannot read spec '$WORK/missing.yaml'\" '$WORK/an.err'"
sed 's/type: string/type: strng/' "$REF/spec.yaml" > "$WORK/badspec.yaml"
an "$proj" --spec "$WORK/badspec.yaml"
check "an invalid --spec exits 1 with its diagnostics" sh -c "[ $RC -eq 1 ] &&
        grep -q \"$WORK/badspec.yaml:[0-9]*:[0-9]*: .*unknown field type 'strng'\" '$WORK/an.err' &&
        grep -q \"invalid spec '$WORK/badspec.yaml'\" '$WORK/an.err'"
mkfifo "$WORK/fifo"
an "$WORK/fifo"
check "a fifo exits 1" sh -c "[ $RC -eq 1 ] && grep -q 'not a directory or a regular file' '$WORK/an.err'"
truncate -s 65M "$WORK/huge.tar"
an "$WORK/huge.tar"
check "an archive over 64 MiB exits 1" sh -c "[ $RC -eq 1 ] && grep -q \"'$WORK/huge.tar' is larger than 67108864 bytes\" '$WORK/an.err'"
check "failures: nothing left in TMPDIR" no_tmp_left

# a signal while the temporary directory exists takes effect once it is removed
"$PY" - "$WORK/slow.tar.gz" <<'PYEOF'
import io, sys, tarfile
class Zeros(io.RawIOBase):
    def __init__(self, n): self.n = n
    def readinto(self, b):
        k = min(len(b), self.n); b[:k] = bytes(k); self.n -= k; return k
size = 120 << 20
with tarfile.open(sys.argv[1], "w:gz", compresslevel=1) as t:
    i = tarfile.TarInfo("p/zeros.bin"); i.size = size
    t.addfile(i, Zeros(size))
PYEOF
"$CODEGEND" analyze "$WORK/slow.tar.gz" >"$WORK/slow.out" 2>&1 &
pid=$!
n=0
while [ -z "$(ls -A "$TMPDIR")" ] && [ $n -lt 500 ] && kill -0 $pid 2>/dev/null; do sleep 0.01; n=$((n + 1)); done
held=$(ls -A "$TMPDIR")
kill -TERM $pid 2>/dev/null
wait $pid 2>/dev/null
RC=$?
check "SIGTERM while unpacking: killed after the cleanup, no report" sh -c "[ -n '$held' ] && [ $RC -eq 143 ] && [ ! -s '$WORK/slow.out' ]"
check "SIGTERM while unpacking: nothing left in TMPDIR" no_tmp_left

finish
