#!/usr/bin/python3
"""make-corpus.py INBOX CANARY MANIFEST - writes the hostile bundles a public drop directory
meets into INBOX (generated at test time, never committed) and MANIFEST, a JSON map from each
entry's name to what the daemon must make of it:
  {"job": JOB NAME, "stage": [allowed stages], "msg": regular expression for one error message}
CANARY is a directory outside the spool that hostile members aim at (absolute paths, links);
the test checks that it is unchanged afterwards. Special files that need privileges (devices,
sockets, FIFOs) and the runtime cases are made by hostile.sh itself."""
import io
import json
import os
import socket
import stat
import subprocess
import sys
import tarfile
import zipfile

inbox, canary, manifest_path = sys.argv[1:4]
manifest = {}

SPEC = b"""format: 1
name: tiny
entities:
  - name: Note
    fields:
      - {name: title, type: string, required: true}
endpoints:
  - {entity: Note, operation: list, method: GET, path: /notes}
"""
INTAKE = ["intake"]
VALID = ["validation"]
ANY = ["intake", "validation"]


def expect(entry, job, stage, msg, todo=None, placed=None):
    manifest[entry] = {"job": job, "stage": stage, "msg": msg}
    if todo:
        manifest[entry]["todo"] = todo
    if placed:  # the bundle's name in failed/ when it is not the entry's own
        manifest[entry]["placed"] = placed


def tinfo(name, kind=tarfile.REGTYPE, data=b"", **kw):
    i = tarfile.TarInfo(name)
    i.type = kind
    i.size = len(data) if kind == tarfile.REGTYPE else 0
    for k, v in kw.items():
        setattr(i, k, v)
    return i, (io.BytesIO(data) if kind == tarfile.REGTYPE else None)


def tar(name, members, mode="w:gz", ext="tar.gz"):
    """members: list of (TarInfo, fileobj); a valid spec goes first."""
    with tarfile.open(os.path.join(inbox, name + "." + ext), mode) as t:
        t.addfile(*tinfo("tiny/spec.yaml", data=SPEC))
        for i, f in members:
            t.addfile(i, f)
    return name + "." + ext


def zinfo(name, mode):
    z = zipfile.ZipInfo(name)
    z.create_system = 3  # unix: the mode is in the high half of external_attr
    z.external_attr = mode << 16
    return z


def zipf(name, members, comp=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(os.path.join(inbox, name + ".zip"), "w", comp) as z:
        z.writestr("tiny/spec.yaml", SPEC)
        for info, data in members:
            z.writestr(info, data)
    return name + ".zip"


# ---- tar members: traversal, absolute, links, special files ----
expect(tar("tar-traversal", [tinfo("../evil.txt", data=b"x")]), "tar-traversal", INTAKE, "leaves the bundle")
expect(tar("tar-traversal-inner", [tinfo("tiny/a/../../../evil.txt", data=b"x")]),
       "tar-traversal-inner", INTAKE, "leaves the bundle")
expect(tar("tar-absolute", [tinfo(canary + "/evil.txt", data=b"x")]), "tar-absolute", INTAKE, "absolute path")
expect(tar("tar-symlink", [tinfo("tiny/link", tarfile.SYMTYPE, linkname=canary)]),
       "tar-symlink", INTAKE, "is a symbolic link")
expect(tar("tar-symlink-through", [tinfo("tiny/d", tarfile.SYMTYPE, linkname=canary),
                                   tinfo("tiny/d/evil.txt", data=b"x")]),
       "tar-symlink-through", INTAKE, "is a symbolic link")
expect(tar("tar-hardlink-out", [tinfo("tiny/h", tarfile.LNKTYPE, linkname=canary + "/file")]),
       "tar-hardlink-out", INTAKE, "is a hard link")
expect(tar("tar-hardlink-in", [tinfo("tiny/h", tarfile.LNKTYPE, linkname="tiny/spec.yaml")]),
       "tar-hardlink-in", INTAKE, "is a hard link")
expect(tar("tar-fifo", [tinfo("tiny/fifo", tarfile.FIFOTYPE)]), "tar-fifo", INTAKE, "is a fifo")
expect(tar("tar-chardev", [tinfo("tiny/zero", tarfile.CHRTYPE, devmajor=1, devminor=5)]),
       "tar-chardev", INTAKE, "is a device")
expect(tar("tar-blockdev", [tinfo("tiny/sda", tarfile.BLKTYPE, devmajor=8, devminor=0)]),
       "tar-blockdev", INTAKE, "is a device")
expect(tar("tar-dup", [tinfo("tiny/spec.yaml", data=b"format: 2\n")]), "tar-dup", ANY, "clashes|format")
expect(tar("tar-longname", [tinfo("tiny/" + "n" * 255, data=b"x")]), "tar-longname", INTAKE + VALID + ["ok"], ".")
# names a checker has to get right: 3,000 components, a 300-byte component, terminal escapes,
# a folder member after a file below it, an empty name, the top itself
expect(tar("tar-deep-member", [tinfo("tiny/" + "a/" * 3000 + "f", data=b"x")], mode="w", ext="tar"),
       "tar-deep-member", INTAKE, "unsafe name")
expect(tar("tar-longcomp", [tinfo("tiny/" + "n" * 300, data=b"x")], mode="w", ext="tar"),
       "tar-longcomp", INTAKE, "unsafe name")
expect(tar("tar-escapes", [tinfo("tiny/\x1b[2J\x07bell", data=b"x")]), "tar-escapes", INTAKE,
       r"'tiny/\?\[2J\?bell' has an unsafe name")
expect(tar("tar-clash-dir", [tinfo("tiny/d/x", data=b"x"), tinfo("tiny/d", data=b"x")]),
       "tar-clash-dir", INTAKE, "clashes with another member")
expect(tar("tar-empty-name", [tinfo("", data=b"x")]), "tar-empty-name", INTAKE, "unsafe name")
expect(tar("tar-dotdot-last", [tinfo("tiny/..", data=b"x")]), "tar-dotdot-last", INTAKE, "leaves the bundle")
# a member that is the daemon's own state folder, inside the bundle: harmless, it stays in scratch
expect(tar("tar-dotcodegend", [tinfo("tiny/.codegend/jobs/evil/spec.yaml", data=b"x"),
                               tinfo("../.codegend/evil", data=b"x")]),
       "tar-dotcodegend", INTAKE, "leaves the bundle")

# ---- zip members ----
expect(zipf("zip-traversal", [(zinfo("../evil.txt", 0o100644), b"x")]), "zip-traversal", INTAKE, "leaves the bundle")
expect(zipf("zip-absolute", [(zinfo(canary + "/evil.txt", 0o100644), b"x")]),
       "zip-absolute", INTAKE, "absolute path")
expect(zipf("zip-symlink", [(zinfo("tiny/link", 0o120777), canary.encode())]),
       "zip-symlink", INTAKE, "is a symbolic link")
# libarchive's zip reader turns a FIFO's mode into a regular file's: the member is unpacked as
# an empty regular file (no FIFO is ever created), so the job may succeed
expect(zipf("zip-fifo", [(zinfo("tiny/fifo", 0o010644), b"")]), "zip-fifo", INTAKE + ["ok"], "is a fifo")
expect(zipf("zip-chardev", [(zinfo("tiny/dev", 0o020644), b"")]), "zip-chardev", INTAKE, "is a device")
expect(zipf("zip-blockdev", [(zinfo("tiny/blk", 0o060644), b"")]), "zip-blockdev", INTAKE, "is a device")
expect(zipf("zip-socket", [(zinfo("tiny/sock", 0o140644), b"")]), "zip-socket", INTAKE, "is a socket|is a device")

# ---- bombs: a high compression ratio, and many entries (the test sets 8 MiB / 1000) ----
with tarfile.open(os.path.join(inbox, "bomb-ratio.tar.gz"), "w:gz", compresslevel=1) as t:
    t.addfile(*tinfo("tiny/spec.yaml", data=SPEC))
    t.addfile(*tinfo("tiny/zeros", data=bytes(32 << 20)))
expect("bomb-ratio.tar.gz", "bomb-ratio", INTAKE, "unpacked size exceeds")
with tarfile.open(os.path.join(inbox, "bomb-sparse.tar"), "w", format=tarfile.GNU_FORMAT) as t:
    t.addfile(*tinfo("tiny/spec.yaml", data=SPEC))
    # a header that announces 1 TiB with no data behind it
    i = tarfile.TarInfo("tiny/huge")
    i.size = 1 << 40
    t.fileobj.write(i.tobuf(format=tarfile.GNU_FORMAT))
expect("bomb-sparse.tar", "bomb-sparse", INTAKE, "unpacked size exceeds|not a readable archive|truncated")
# the zstd stream itself as a .tar.zst: 32 MiB of zeros in one member
raw = io.BytesIO()
with tarfile.open(fileobj=raw, mode="w") as t:
    t.addfile(*tinfo("tiny/spec.yaml", data=SPEC))
    t.addfile(*tinfo("tiny/zeros", data=bytes(32 << 20)))
with open(os.path.join(inbox, "bomb-zst.tar.zst"), "wb") as f:
    f.write(subprocess.run(["zstd", "-3", "-q", "-c"], input=raw.getvalue(), stdout=subprocess.PIPE,
                           check=True).stdout)
expect("bomb-zst.tar.zst", "bomb-zst", INTAKE, "unpacked size exceeds")
with zipfile.ZipFile(os.path.join(inbox, "bomb-ratio.zip"), "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
    z.writestr("tiny/spec.yaml", SPEC)
    z.writestr("tiny/zeros", bytes(32 << 20))
expect("bomb-ratio.zip", "bomb-ratio", INTAKE, "unpacked size exceeds")
# (its own job name: of two failing jobs of one name only the later one's outcome stands)
with tarfile.open(os.path.join(inbox, "bomb-entries-tgz.tar.gz"), "w:gz") as t:
    t.addfile(*tinfo("tiny/spec.yaml", data=SPEC))
    for n in range(5000):
        t.addfile(*tinfo("tiny/e/%d" % n, data=b""))
expect("bomb-entries-tgz.tar.gz", "bomb-entries-tgz", INTAKE, "more than 1000 entries")
with zipfile.ZipFile(os.path.join(inbox, "bomb-entries.zip"), "w", zipfile.ZIP_STORED) as z:
    z.writestr("tiny/spec.yaml", SPEC)
    for n in range(5000):
        z.writestr("tiny/e/%d" % n, b"")
expect("bomb-entries.zip", "bomb-entries", INTAKE, "more than 1000 entries")
with open(os.path.join(inbox, "garbage.tar.gz"), "wb") as f:
    f.write(os.urandom(8192))
expect("garbage.tar.gz", "garbage", INTAKE, "not a readable archive")
good = io.BytesIO()
with tarfile.open(fileobj=good, mode="w:gz") as t:
    t.addfile(*tinfo("tiny/spec.yaml", data=SPEC + b"# " + os.urandom(30000).hex().encode() + b"\n"))
with open(os.path.join(inbox, "truncated.tar.gz"), "wb") as f:
    f.write(good.getvalue()[: len(good.getvalue()) // 2])
expect("truncated.tar.gz", "truncated", INTAKE, "not a readable archive|truncated|unexpected end")


# ---- documents: aliases, nesting, NUL bytes, invalid UTF-8, size ----
def single(name, data, ext="job.yaml"):
    with open(os.path.join(inbox, name + "." + ext), "wb") as f:
        f.write(data)
    return name + "." + ext


laughs = [b'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
for n in range(1, 10):
    prev = chr(ord("a") + n - 1)
    laughs.append(("%s: &%s [*%s,*%s,*%s,*%s,*%s,*%s,*%s,*%s,*%s]" % ((chr(ord("a") + n),) * 2 + (prev,) * 9)).encode())
expect(single("billion-laughs", b"spec:\n  x-lol:\n" + b"\n".join(b"    " + l for l in laughs) + b"\n"),
       "billion-laughs", INTAKE, "anchors are not supported|aliases are not supported")
expect(single("deep-yaml", b"spec: " + b"[" * 100000 + b"]" * 100000 + b"\n"), "deep-yaml", INTAKE,
       "nesting deeper than")
expect(single("deep-yaml-block", b"spec:\n" + b"".join(b" " * i + b"- \n" for i in range(1, 2000))),
       "deep-yaml-block", INTAKE, "nesting deeper than")
expect(single("deep-json", b'{"spec": ' + b"[" * 100000 + b"]" * 100000 + b"}", "job.json"), "deep-json",
       INTAKE, "nesting|invalid JSON")
expect(single("nul-yaml", b"spec:\n  format: 1\n  name: ti\x00ny\n"), "nul-yaml", INTAKE, "binary data|NUL|invalid")
expect(single("nul-json", b'{"spec": {"format": 1, "name": "ti\x00ny"}}', "job.json"), "nul-json", INTAKE,
       "binary data|NUL|invalid")
expect(single("utf8-yaml", b"spec:\n  format: 1\n  name: caf\xc3\x28\xff\n"), "utf8-yaml", INTAKE, "UTF-8")
expect(single("utf8-json", b'{"spec": {"name": "\xed\xa0\x80 surrogate", "format": 1}}', "job.json"),
       "utf8-json", INTAKE, "UTF-8")
expect(single("utf8-overlong", b"spec:\n  name: \xc0\xaf\n"), "utf8-overlong", INTAKE, "UTF-8")
expect(single("huge-doc", b"spec:\n  x-pad: '" + b"x" * (5 << 20) + b"'\n"), "huge-doc", INTAKE, "larger than")
expect(single("wide-keys", b"spec:\n" + b"".join(b"  k%d: 1\n" % i for i in range(100000))),
       "wide-keys", VALID, "unknown key")
expect(single("empty", b""), "empty", INTAKE, "empty document")


# ---- DAGs: 100k atoms, a 1000-atom cycle ----
def dirbundle(name, files):
    d = os.path.join(inbox, name)
    os.makedirs(d)
    for rel, data in files.items():
        os.makedirs(os.path.dirname(os.path.join(d, rel)), exist_ok=True)
        with open(os.path.join(d, rel), "wb") as f:
            f.write(data)
    return name


def atoms(n, cycle):
    a = [{"id": "a%d" % i, "kind": "doc", "target": "docs/a%d.md" % i,
          "depends_on": ["a%d" % ((i + 1) % n)] if cycle or i + 1 < n else []} for i in range(n)]
    return json.dumps({"format": 1, "name": "tiny", "atoms": a}, separators=(",", ":")).encode()


expect(dirbundle("dag-100k-atoms", {"spec.yaml": SPEC, "dag.json": atoms(100000, False)}), "dag-100k-atoms",
       ANY, "more than the limit|larger than")
expect(dirbundle("dag-cycle-1000", {"spec.yaml": SPEC, "dag.json": atoms(1000, True)}), "dag-cycle-1000",
       VALID, "dependency cycle")
expect(dirbundle("dag-target-escape", {"spec.yaml": SPEC, "dag.json": json.dumps(
    {"format": 1, "name": "tiny", "atoms": [{"id": "x", "kind": "doc", "target": canary + "/evil.md"}]}).encode()}),
    "dag-target-escape", VALID, "target")

# ---- directory bundles: links inside, depth ----
d = dirbundle("dir-symlink-spec", {})
os.symlink(canary + "/file", os.path.join(inbox, d, "spec.yaml"))
expect(d, d, INTAKE, "is a symbolic link")
d = dirbundle("dir-symlink-dir", {"spec.yaml": SPEC})
os.symlink(canary, os.path.join(inbox, d, "sub"))
expect(d, d, INTAKE, "is a symbolic link")
d = dirbundle("dir-socket", {"spec.yaml": SPEC})
s = socket.socket(socket.AF_UNIX)
s.bind(os.path.join(inbox, d, "sock"))
s.close()
expect(d, d, INTAKE, "is a socket")
d = dirbundle("dir-fifo", {"spec.yaml": SPEC})
os.mkfifo(os.path.join(inbox, d, "fifo"))
expect(d, d, INTAKE, "is a fifo")
d = dirbundle("dir-deep", {"spec.yaml": SPEC})
p = os.path.join(inbox, d)
for i in range(300):
    p = os.path.join(p, "d")
os.makedirs(p)
expect(d, d, INTAKE, "nests deeper than")
# spec.yaml a hard link to a file outside: read (it is a regular file) but never changed
d = dirbundle("dir-hardlink-spec", {})
os.link(canary + "/file", os.path.join(inbox, d, "spec.yaml"))
expect(d, d, ANY, ".")
os.link(canary + "/file", os.path.join(inbox, "top-hardlink.job.yaml"))
expect("top-hardlink.job.yaml", "top-hardlink", ANY, ".")
os.symlink(canary + "/file", os.path.join(inbox, "top-symlink.job.yaml"))
expect("top-symlink.job.yaml", "top-symlink", INTAKE, "symbolic link")
os.symlink(canary, os.path.join(inbox, "top-symlink-dir"))
expect("top-symlink-dir", "top-symlink-dir", INTAKE, "not a job bundle|not a directory|symbolic link")

# ---- names: 255 bytes, control characters, the daemon's own files ----
n255 = "n" * 246 + ".job.yaml"  # 255 bytes: NAME.error.yaml cannot exist beside it
single(n255[: -len(".job.yaml")], b"spec: [\n")
# refused, and placed in failed/ under the entry's first 200 bytes (docs/reliability.md)
expect(n255, "n" * 200, INTAKE, "has 246 bytes: at most 200", placed="n" * 200)
expect(dirbundle("d" * 255, {"spec.yaml": SPEC}), "d" * 200, INTAKE, "has 255 bytes: at most 200",
       placed="d" * 200)
# not a bundle (control characters): moved to failed/ under its own name, with ENTRY.error.yaml
expect(single("ctl\x1b[31mname", b"spec: [\n"), "ctl\x1b[31mname.job.yaml", INTAKE, "not a usable job name")
# named like the daemon's reports: refused, and placed under a free name (ENTRY~N), so that
# they never replace a report of job "collide"
expect(dirbundle("collide.error.yaml", {"spec.yaml": b"format: 2\n"}), "collide.error.yaml~0", INTAKE,
       "the name of the daemon's own reports", placed="collide.error.yaml~0")
expect(dirbundle("collide.metrics.yaml", {"spec.yaml": b"format: 2\n"}), "collide.metrics.yaml~0",
       INTAKE, "the name of the daemon's own reports", placed="collide.metrics.yaml~0")

# a job that fails, whose report a later drop named like it must not replace (hostile.sh)
expect(dirbundle("victim", {"spec.yaml": b"format: 2\n"}), "victim", VALID, "unsupported format")
# the daemon's state folder's name, in the inbox: a dot name, left alone (hostile.sh checks)
os.makedirs(os.path.join(inbox, ".codegend", "jobs"))
with open(os.path.join(inbox, ".codegend", "spec.yaml"), "wb") as f:
    f.write(SPEC)

json.dump(manifest, open(manifest_path, "w"), indent=1)
