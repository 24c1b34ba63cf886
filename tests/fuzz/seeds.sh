#!/bin/sh
# seeds.sh SRCDIR OUTDIR - writes the fuzz targets' seed corpora, generated from the
# project's own test data (tests/data, spool-example, patterns/) so they follow the format:
# OUTDIR/yaml, json, spec, unpack, template.
set -eu
src=$1 out=$2
rm -rf "$out"
mkdir -p "$out/yaml" "$out/json" "$out/spec" "$out/unpack" "$out/template"
ref="$src/spool-example/taskmanager"
for f in "$src"/tests/data/specs/*.yaml "$ref/spec.yaml" "$src/etc/codegend.yaml" "$src/patterns/index.yaml"; do
  cp "$f" "$out/yaml/$(basename "$f")"
done
for f in "$src"/tests/data/specs/*.json "$ref/dag.json"; do
  cp "$f" "$out/json/$(basename "$f")"
done
for f in "$src"/tests/data/specs/*.yaml; do
  cp "$f" "$out/spec/$(basename "$f")"
done
{ cat "$ref/spec.yaml"; printf '\n%%%%\n'; cat "$ref/dag.json"; } > "$out/spec/taskmanager-with-dag"
for f in "$src"/patterns/*.tmpl; do
  cp "$f" "$out/template/$(basename "$f")"
done
python3 - "$ref" "$out/unpack" <<'PYEOF'
import io, os, sys, tarfile, zipfile
ref, out = sys.argv[1], sys.argv[2]
files = sorted(os.listdir(ref))
for mode, ext in (("w", "tar"), ("w:gz", "tar.gz"), ("w:xz", "tar.xz")):
    with tarfile.open(os.path.join(out, "taskmanager." + ext), mode) as t:
        for f in files:
            t.add(os.path.join(ref, f), "taskmanager/" + f)
with tarfile.open(os.path.join(out, "flat.tar"), "w", format=tarfile.GNU_FORMAT) as t:
    for f in files:
        t.add(os.path.join(ref, f), f)
for comp in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(os.path.join(out, "taskmanager-%d.zip" % comp), "w", comp) as z:
        for f in files:
            z.write(os.path.join(ref, f), "taskmanager/" + f)
with tarfile.open(os.path.join(out, "links.tar"), "w") as t:
    i = tarfile.TarInfo("a/l"); i.type = tarfile.SYMTYPE; i.linkname = "../x"; t.addfile(i)
    i = tarfile.TarInfo("a/h"); i.type = tarfile.LNKTYPE; i.linkname = "a/l"; t.addfile(i)
    i = tarfile.TarInfo("a/d"); i.type = tarfile.DIRTYPE; t.addfile(i)
PYEOF
