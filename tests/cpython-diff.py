#!/usr/bin/python3
"""cpython-diff.py - `codegend analyze` against CPython's compile() on code nobody here wrote.

The corpus is every .py file of a Python standard library (default /usr/lib/python3.11,
Debian's python3.11) plus seeded random damage of the same files: a deleted token, a line
cut short, a block re-indented, a line of stray prose. Each file is judged by compile()
of its bytes (so PEP 263 declarations and byte order marks count as CPython reads files),
then all of them are analysed by one `codegend analyze DIR --format json` run, and the two
verdicts are compared:

  false positive  compile() accepts the file, codegend reports a syntax error;
  false negative  compile() refuses it, codegend reports none.

Known false positives (the grammar's own, docs/metrics.md "Known differences") are listed
in KNOWN below by file and message; any other one fails the run (exit 1). False negatives
are counted and their rate printed; --max-fn-rate fails the run above that rate.

  tests/cpython-diff.py [--sample N] [--mutants K] [--seed S] [--stdlib DIR] [-v]

--sample N takes N valid files of the library (chosen by the seed; 0: all of them) and K
damaged copies of each (default 2). Output is TAP (one test per verdict class) so that
`make check` can run a fixed sample; `make check-cpython` runs everything.
Environment: CODEGEND (the binary), TMPDIR.
"""
import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import warnings

# (path below the library, message): accepted by CPython, refused by codegend because of
# tree-sitter-python's grammar; docs/metrics.md gives the reason of each.
KNOWN = {
}

# Files a sample always takes: the false positives codegend once had on this library.
ALWAYS = ("traceback.py", "unittest/mock.py")

PROSE = [
    "Here is the updated code with the changes you asked for:",
    "Note that this function may raise an exception",
    "TODO fix this later",
    "The following section handles the edge cases.",
    "```python",
    "```",
    "This should work now, let me know if there are other issues!",
]


def cpython_accepts(data, name):
    """compile() of the bytes, as CPython reads a file (coding declaration, BOM)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            compile(data, name, "exec", dont_inherit=True)
            return True
        except (SyntaxError, ValueError):
            return False
        except (RecursionError, MemoryError):  # "too many nested parentheses" and the like
            return False


def encoding_of(data):
    import tokenize
    import io
    try:
        enc, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return enc
    except SyntaxError:
        return None


TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\d+|\*\*|//|->|[-+*/%=<>!]=|[()\[\]{}:,.;=+\-*/<>@]")


def damage(text, rng):
    """One random mistake in the text; None when the file gives no room for one."""
    lines = text.split("\n")
    code = [i for i, l in enumerate(lines) if l.strip() and not l.lstrip().startswith("#")]
    if not code:
        return None
    kind = rng.choice(["token", "cut", "indent", "prose"])
    i = rng.choice(code)
    line = lines[i]
    if kind == "token":
        toks = list(TOKEN.finditer(line))
        if not toks:
            return None
        m = rng.choice(toks)
        lines[i] = line[: m.start()] + line[m.end():]
    elif kind == "cut":
        body = len(line) - len(line.lstrip())
        if len(line) - body < 2:
            return None
        cut = rng.randrange(body + 1, len(line))
        lines[i] = line[:cut]
    elif kind == "indent":
        n = rng.randint(1, 6)
        delta = rng.choice([-4, -2, -1, 1, 2, 4])
        for j in range(i, min(i + n, len(lines))):
            l = lines[j]
            if not l.strip():
                continue
            ind = len(l) - len(l.lstrip())
            lines[j] = " " * max(0, ind + delta) + l.lstrip()
    else:
        ind = len(line) - len(line.lstrip())
        lines.insert(i, " " * rng.choice([0, ind]) + rng.choice(PROSE))
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--stdlib", default="/usr/lib/python3.11")
    ap.add_argument("--sample", type=int, default=0)
    ap.add_argument("--mutants", type=int, default=2)
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--max-fn-rate", type=float, default=1.0)
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    codegend = os.environ.get("CODEGEND") or os.path.join(
        os.environ.get("top_builddir", "."), "src", "codegend")
    if not os.access(codegend, os.X_OK):
        print("Bail out! no codegend at %s (build it first)" % codegend)
        return 1
    if not os.path.isdir(args.stdlib):
        print("1..0 # SKIP no %s" % args.stdlib)
        return 0

    files = []
    for root, dirs, names in os.walk(args.stdlib):
        dirs[:] = sorted(d for d in dirs if d not in ("__pycache__", "site-packages", "dist-packages"))
        for n in sorted(names):
            if n.endswith(".py"):
                files.append(os.path.join(root, n))
    rng = random.Random(args.seed)
    if args.sample and args.sample < len(files):
        always = [f for f in files if os.path.relpath(f, args.stdlib) in ALWAYS]
        files = sorted(set(rng.sample(files, args.sample)) | set(always))

    work = tempfile.mkdtemp(prefix="codegend-cpython.")
    try:
        cases = {}  # name in work -> (origin, kind, cpython verdict)
        for k, path in enumerate(files):
            with open(path, "rb") as f:
                data = f.read()
            rel = os.path.relpath(path, args.stdlib)
            name = "f%04d.py" % k
            cases[name] = (rel, "original", cpython_accepts(data, rel))
            with open(os.path.join(work, name), "wb") as f:
                f.write(data)
            enc = encoding_of(data)
            if not enc or not cases[name][2]:
                continue
            text = data.decode(enc)  # "utf-8-sig" drops a BOM and puts it back on encoding
            made = tries = 0
            while made < args.mutants and tries < 4 * args.mutants:
                tries += 1
                t = damage(text, rng)
                if t is None:
                    continue
                try:
                    b = t.encode(enc)
                except (UnicodeError, LookupError):
                    continue
                mname = "f%04d-m%d.py" % (k, made)
                cases[mname] = (rel, "damaged", cpython_accepts(b, rel))
                with open(os.path.join(work, mname), "wb") as f:
                    f.write(b)
                made += 1

        out = subprocess.run([codegend, "analyze", work, "--format", "json"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, check=False)
        if out.returncode != 0:
            print("Bail out! codegend analyze failed: %s" % out.stderr.decode(errors="replace").strip())
            return 1
        report = json.loads(out.stdout)
        flagged = {e["path"]: e["errors"][0] for e in report.get("files_with_errors", [])}

        fp, known_fp, fn = [], [], []
        counts = {"original": [0, 0], "damaged": [0, 0]}  # valid, invalid
        for name, (rel, kind, valid) in sorted(cases.items()):
            counts[kind][0 if valid else 1] += 1
            err = flagged.get(name)
            if valid and err:
                msg = err["message"]
                where = "%s:%d:%d: %s (%s) [%s]" % (rel, err["line"], err["column"], msg, err["excerpt"], kind)
                (known_fp if (rel, msg) in KNOWN and kind == "original" else fp).append(where)
            elif not valid and not err:
                fn.append("%s [%s %s]" % (rel, kind, name))
        invalid = counts["original"][1] + counts["damaged"][1]
        fn_rate = len(fn) / invalid if invalid else 0.0

        print("1..3")
        print("# corpus: %s, seed %d: %d files (%d valid, %d refused by compile()), "
              "%d damaged copies (%d still valid, %d refused)" % (
                  args.stdlib, args.seed, len(files), counts["original"][0], counts["original"][1],
                  sum(counts["damaged"]), counts["damaged"][0], counts["damaged"][1]))
        print("# false positives: %d unexplained, %d known (the grammar's, docs/metrics.md)" % (len(fp), len(known_fp)))
        print("# false negatives: %d of %d refused files (%.1f%%)" % (len(fn), invalid, 100 * fn_rate))
        for w in known_fp:
            print("#   known: %s" % w)
        print("%s 1 - no unexplained false positive" % ("ok" if not fp else "not ok"))
        for w in fp:
            print("#   false positive: %s" % w)
        print("%s 2 - false-negative rate %.1f%% <= %.1f%%" % (
            "ok" if fn_rate <= args.max_fn_rate else "not ok", 100 * fn_rate, 100 * args.max_fn_rate))
        for w in fn if args.verbose else fn[:10]:
            print("#   false negative: %s" % w)
        missing = [k for k in KNOWN if not any(w.startswith(k[0] + ":") for w in known_fp)]
        full = not args.sample
        print("%s 3 - every known false positive still happens%s" % (
            "ok" if not (full and missing) else "not ok", "" if full else " # SKIP sample"))
        for k in missing if full else []:
            print("#   no longer a false positive: %s: %s" % k)
        if args.verbose:
            keep = os.path.join(tempfile.gettempdir(), "codegend-cpython-last")
            shutil.rmtree(keep, ignore_errors=True)
            shutil.copytree(work, keep)
            print("# corpus kept in %s" % keep)
        return 0 if not fp and fn_rate <= args.max_fn_rate and not (full and missing) else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
