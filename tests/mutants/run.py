#!/usr/bin/python3
"""run.py - mutation testing of the daemon's promises (`make mutants`).

Copies the source tree (git's files plus the fetched grammar) into a scratch directory,
builds it there out of tree once, then for each mutant of tests/mutants/mutants.yaml:
replaces its `find` snippet (which must occur exactly once in its file) by `replace`,
rebuilds incrementally, runs only the mutant's `tests` with its `env`, and restores the
file. A mutant is killed when the tests fail (or time out); it survives when they pass.
A snippet that is no longer found is "stale" and a mutant that does not compile is
"invalid": neither counts. Prints the kill rate and the survivors; exits 1 if the rate is
below --min-rate (default 90).

  run.py [--srcdir DIR] [--scratch DIR] [--keep] [--min-rate N] [--timeout S] [ID...]
"""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import yaml


def sh(cmd, cwd, env=None, timeout=None, log=None):
    """runs cmd (a list); returns (exit status, or None on timeout)"""
    with open(log or os.devnull, "ab") as out:
        # its own process group: on a timeout the tests and the daemons they started go
        # too, not only make (a hung daemon would otherwise outlive the run)
        p = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
                             start_new_session=True)
        try:
            return p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
            return None


def copy_tree(srcdir, dst):
    files = subprocess.run(["git", "ls-files", "-z"], cwd=srcdir, check=True,
                           capture_output=True).stdout.decode().split("\0")
    for f in files:
        a, b = os.path.join(srcdir, f), os.path.join(dst, f)
        if not f or not os.path.isfile(a):
            continue
        # a kept scratch tree is brought up to date: changed files only, with a new mtime
        if os.path.isfile(b) and open(a, "rb").read() == open(b, "rb").read():
            continue
        os.makedirs(os.path.dirname(b), exist_ok=True)
        shutil.copyfile(a, b)
        shutil.copymode(a, b)
    tp = os.path.join(srcdir, "third_party")
    if os.path.isdir(tp) and not os.path.isdir(os.path.join(dst, "third_party")):
        # sources only: objects of an in-tree build would shadow the scratch build's (VPATH)
        shutil.copytree(tp, os.path.join(dst, "third_party"), symlinks=True,
                        ignore=shutil.ignore_patterns("*.o", "*.a", ".deps", ".dirstamp"))


def make_check(build, tests, env, timeout, log):
    units = " ".join(t for t in tests if t.startswith("tests/unit/"))
    return sh(["make", "-s", "check", "TESTS=" + " ".join(tests), "check_PROGRAMS=" + units],
              build, env=env, timeout=timeout, log=log)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--srcdir", default=os.path.dirname(os.path.dirname(here)))
    ap.add_argument("--scratch", help="work directory (default: a new one under $TMPDIR)")
    ap.add_argument("--keep", action="store_true", help="keep the scratch directory")
    ap.add_argument("--min-rate", type=float, default=90.0)
    ap.add_argument("--timeout", type=int, default=150, help="seconds for one mutant's tests")
    ap.add_argument("--list", default=os.path.join(here, "mutants.yaml"))
    ap.add_argument("ids", nargs="*", help="run only these mutants")
    a = ap.parse_args()

    mutants = yaml.safe_load(open(a.list))
    ids = [m["id"] for m in mutants]
    if len(ids) != len(set(ids)):
        sys.exit("run.py: duplicate mutant ids in %s" % a.list)
    if a.ids:
        unknown = set(a.ids) - set(ids)
        if unknown:
            sys.exit("run.py: unknown mutants: %s" % ", ".join(sorted(unknown)))
        mutants = [m for m in mutants if m["id"] in a.ids]

    scratch = a.scratch or tempfile.mkdtemp(prefix="codegend-mutants.")
    src, build = os.path.join(scratch, "src"), os.path.join(scratch, "build")
    log = os.path.join(scratch, "log")
    print("mutants: %d, scratch %s (log: %s)" % (len(mutants), scratch, log), flush=True)
    copy_tree(a.srcdir, src)
    os.makedirs(build, exist_ok=True)
    if not os.path.exists(os.path.join(build, "Makefile")):
        if sh(["autoreconf", "-fi"], src, log=log) != 0 or \
           sh([os.path.join(src, "configure")], build, log=log) != 0:
            sys.exit("run.py: configuring the scratch copy failed, see %s" % log)
    jobs = os.environ.get("MUTANTS_JOBS", "2")
    if sh(["make", "-j" + jobs], build, log=log) != 0:
        sys.exit("run.py: building the scratch copy failed, see %s" % log)

    # the tests must pass unmutated, or a "kill" means nothing
    base_env = dict(os.environ)
    base_env.pop("MAKEFLAGS", None)
    base_env.pop("MFLAGS", None)
    runs = {}
    for m in mutants:
        tests = m["tests"].split()
        key = (tuple(tests), m.get("env", ""))
        runs.setdefault(key, tests)
    for (tests, envs), _ in runs.items():
        env = dict(base_env)
        env.update(dict(e.split("=", 1) for e in envs.split()))
        t0 = time.time()
        if make_check(build, list(tests), env, a.timeout, log) != 0:
            sys.exit("run.py: the unmutated tree fails %s %s: see %s" % (envs, " ".join(tests), log))
        print("baseline ok: %s %s (%.0f s)" % (envs, " ".join(tests), time.time() - t0), flush=True)

    results = {"killed": [], "survived": [], "stale": [], "invalid": []}
    for m in mutants:
        path = os.path.join(src, m["file"])
        original = open(path).read()
        count = original.count(m["find"])
        if count != 1:
            results["stale"].append(m["id"])
            print("%-40s stale (snippet found %d times in %s)" % (m["id"], count, m["file"]), flush=True)
            continue
        t0 = time.time()
        try:
            with open(path, "w") as f:
                f.write(original.replace(m["find"], m["replace"]))
            with open(log, "ab") as f:
                f.write(("\n==== mutant %s\n" % m["id"]).encode())
            if sh(["make", "-j" + jobs], build, log=log) != 0:
                state = "invalid"
            else:
                env = dict(base_env)
                env.update(dict(e.split("=", 1) for e in m.get("env", "").split()))
                r = make_check(build, m["tests"].split(), env, a.timeout, log)
                state = "survived" if r == 0 else "killed"
        finally:
            with open(path, "w") as f:
                f.write(original)
        results[state].append(m["id"])
        print("%-40s %s (%.0f s)" % (m["id"], state, time.time() - t0), flush=True)
    sh(["make", "-j" + jobs], build, log=log)

    counted = len(results["killed"]) + len(results["survived"])
    rate = 100.0 * len(results["killed"]) / counted if counted else 0.0
    print()
    print("killed %d of %d mutants: kill rate %.1f%%" % (len(results["killed"]), counted, rate))
    for k in ("survived", "stale", "invalid"):
        if results[k]:
            print("%s: %s" % (k, ", ".join(results[k])))
    if not a.keep and not a.scratch:
        shutil.rmtree(scratch, ignore_errors=True)
    sys.exit(0 if counted and rate >= a.min_rate and not results["stale"] else 1)


main()
