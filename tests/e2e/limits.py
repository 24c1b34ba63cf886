#!/usr/bin/python3
"""limits.py OUTDIR - writes the boundary cases of limits.sh, one folder per case:

  OUTDIR/CASE/config.yaml   the daemon's configuration (the limit under test)
  OUTDIR/CASE/inbox/ENTRY   the bundle
  OUTDIR/CASE/expect        "ok", or the error message the job must fail with

For every configured limit and every bundle form it applies to, the bundle's measure Q
is computed here the way job-format.md defines it, and the limit is set to Q + 1, Q and
Q - 1: the bundle is at limit - 1, at the limit (both accepted) and at limit + 1 (refused).
"""
import io
import json
import os
import random
import sys
import tarfile
import zipfile

OUT = sys.argv[1]
rng = random.Random(16)

SPEC = """format: 1
name: tiny
title: Tiny
entities:
  - name: Note
    table: notes
    fields:
      - {name: text, type: string, required: true}
"""
# (a module's package is in the DAG before it: validation refuses a module without one)
ATOMS = [
    {"id": "requirements", "kind": "infra", "target": "requirements.txt", "depends_on": []},
    {"id": "src_pkg", "kind": "package", "target": "src/__init__.py", "depends_on": []},
    {"id": "config", "kind": "config", "target": "src/config.py", "depends_on": ["src_pkg"]},
]


def dag(n_atoms=2):
    return json.dumps({"format": 1, "name": "tiny", "atoms": ATOMS[:n_atoms]}, indent=1) + "\n"


def padded(text, size, comment="#"):
    """text plus comment lines up to exactly size bytes"""
    data = text.encode()
    assert len(data) + 2 <= size, (len(data), size)
    fill = size - len(data) - len(comment) - 1
    return data + comment.encode() + b"x" * (fill) + b"\n"


def noise(n):
    """incompressible bytes, so that a compressed archive is large too"""
    return bytes(rng.getrandbits(8) for _ in range(n))


def files(pads=1, pad_bytes=1200, spec=None, dagtext=None):
    f = {"spec.yaml": spec if spec is not None else SPEC.encode(),
         "dag.json": (dagtext if dagtext is not None else dag()).encode()}
    for i in range(pads):
        f["pad-%d.txt" % i] = noise(pad_bytes)
    return f


def write_form(form, name, fs, inbox):
    """the bundle `fs` (name -> bytes) in one form; returns its entry path"""
    if form == "dir":
        d = os.path.join(inbox, name)
        os.makedirs(d)
        for n, b in fs.items():
            with open(os.path.join(d, n), "wb") as f:
                f.write(b)
        return d
    if form in ("tar", "tar.gz", "tar.xz"):
        p = os.path.join(inbox, name + "." + form)
        mode = {"tar": "w", "tar.gz": "w:gz", "tar.xz": "w:xz"}[form]
        with tarfile.open(p, mode, format=tarfile.PAX_FORMAT) as t:
            for n, b in fs.items():
                ti = tarfile.TarInfo(n)
                ti.size, ti.mode, ti.mtime = len(b), 0o644, 1700000000
                t.addfile(ti, io.BytesIO(b))
        return p
    if form == "zip":
        p = os.path.join(inbox, name + ".zip")
        with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as z:
            for n, b in fs.items():
                z.writestr(zipfile.ZipInfo(n, (2024, 1, 1, 0, 0, 0)), b)
        return p
    raise ValueError(form)


def single(form, name, inbox, spec_pad=0, n_atoms=2, size=None):
    """a single-file bundle; size: padded with a comment (YAML) or an x- key (JSON)"""
    import yaml
    spec = yaml.safe_load(SPEC)
    d = json.loads(dag(n_atoms))
    p = os.path.join(inbox, name + ".job." + form)
    if form == "yaml":
        text = "spec:\n" + "".join("  " + l + "\n" for l in SPEC.splitlines()) + \
               "dag:\n" + "".join("  " + l + "\n" for l in json.dumps(d, indent=1).splitlines())
        data = padded(text, size) if size else text.encode()
    else:
        doc = {"spec": spec, "dag": d, "options": {"x-pad": ""}}
        base = len(json.dumps(doc).encode())
        if size:
            doc["options"]["x-pad"] = "x" * (size - base)
        data = json.dumps(doc).encode()
        assert not size or len(data) == size
    with open(p, "wb") as f:
        f.write(data)
    return p


CASES = []


def case(limit, form, measure, make, message, extra_cfg=""):
    """three cases: limit = measure + 1, measure, measure - 1 (measure: a number, or a
    function of the written bundle's path: an archive's size depends on its name)"""
    for label, delta in (("below", 1), ("at", 0), ("above", -1)):
        lim = None if callable(measure) else measure + delta
        cid = "%s-%s-%s" % (limit, form.replace(".", ""), label)
        d = os.path.join(OUT, cid)
        inbox = os.path.join(d, "inbox")
        os.makedirs(inbox)
        p = make(inbox, cid)
        if callable(measure):
            lim = measure(p) + delta
        with open(os.path.join(d, "config.yaml"), "w") as f:
            f.write("workers: 1\n%slimits:\n  %s: %d\n" % (extra_cfg, limit, lim))
        with open(os.path.join(d, "expect"), "w") as f:
            f.write("ok\n" if label != "above" else (message % lim) + "\n")
        CASES.append(cid)


def dir_bytes(p):
    if os.path.isdir(p):
        return sum(os.path.getsize(os.path.join(p, n)) for n in os.listdir(p))
    return os.path.getsize(p)


ARCHIVES = ["tar", "tar.gz", "tar.xz", "zip"]
FORMS = ["dir"] + ARCHIVES

# max_archive_entries: members of an archive, entries of a directory bundle (files only
# here: 2 documents + 4 pads = 6)
for form in FORMS:
    fs = files(pads=4, pad_bytes=10)
    what = "bundle" if form == "dir" else "archive"
    case("max_archive_entries", form, len(fs),
         lambda inbox, cid, form=form, fs=fs: write_form(form, cid, fs, inbox),
         what + " has more than %d entries")
# ... a directory bundle's subdirectories count as entries too: 2 documents + sub/ + 1 file
fs_sub = files(pads=0)


def make_sub(inbox, cid):
    d = write_form("dir", cid, fs_sub, inbox)
    os.makedirs(os.path.join(d, "sub"))
    with open(os.path.join(d, "sub", "notes.txt"), "wb") as f:
        f.write(b"notes\n")
    return d


case("max_archive_entries", "dir-nested", 4, make_sub, "bundle has more than %d entries")

# max_bundle_bytes: the dropped file, or a directory bundle's files
for form in FORMS:
    fs = files(pads=2, pad_bytes=900)
    mk = (lambda inbox, cid, form=form, fs=fs: write_form(form, cid, fs, inbox))
    case("max_bundle_bytes", form, dir_bytes, mk, "bundle size exceeds %d bytes")
for form in ("yaml", "json"):
    mk = (lambda inbox, cid, form=form: single(form, cid, inbox, size=1500))
    case("max_bundle_bytes", "job" + form, dir_bytes, mk, "bundle size exceeds %d bytes")

# max_unpacked_bytes: what an archive's members unpack to
for form in ARCHIVES:
    fs = files(pads=2, pad_bytes=700)
    case("max_unpacked_bytes", form, sum(len(b) for b in fs.values()),
         lambda inbox, cid, form=form, fs=fs: write_form(form, cid, fs, inbox),
         "unpacked size exceeds %d bytes")

# max_document_bytes: the spec (and the DAG) in every form; the single file as a whole
spec_big = padded(SPEC, 1400)
for form in FORMS:
    fs = files(pads=0, spec=spec_big)
    case("max_document_bytes", form, len(spec_big),
         lambda inbox, cid, form=form, fs=fs: write_form(form, cid, fs, inbox),
         "file is larger than %d bytes")
dag_big = dag().rstrip("\n") + " " * (1300 - len(dag())) + "\n"
for form in ("dir", "zip"):
    fs = files(pads=0, dagtext=dag_big)
    case("max_document_bytes", form + "-dag", len(dag_big.encode()),
         lambda inbox, cid, form=form, fs=fs: write_form(form, cid, fs, inbox),
         "file is larger than %d bytes")
for form in ("yaml", "json"):
    mk = (lambda inbox, cid, form=form: single(form, cid, inbox, size=1600))
    case("max_document_bytes", "job" + form, 1600, mk, "file is larger than %d bytes")

# max_atoms: the DAG's atoms, in every form
for form in FORMS:
    fs = files(pads=0, dagtext=dag(3))
    case("max_atoms", form, 3, lambda inbox, cid, form=form, fs=fs: write_form(form, cid, fs, inbox),
         "the DAG has 3 atoms, more than the limit of %d")
for form in ("yaml", "json"):
    case("max_atoms", "job" + form, 3, lambda inbox, cid, form=form: single(form, cid, inbox, n_atoms=3),
         "the DAG has 3 atoms, more than the limit of %d")

print("\n".join(CASES))
