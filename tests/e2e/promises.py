#!/usr/bin/python3
"""promises.py - checks for promises.sh over the fsorder shim's log and the daemon's YAML.

  promises.py publish LOG OUTBOX NAME     tarball durable and renamed in, outbox fsynced,
                                          then the report renamed in, outbox fsynced again
  promises.py failed LOG FAILED NAME      error report durable before the bundle moves in,
                                          failed/ fsynced after each rename into it
  promises.py claim LOG INBOX ENTRY       the claim's rename out of the inbox, then the
                                          inbox fsynced
  promises.py deps LOG DAG ATOM           no atom depending (transitively) on ATOM was
                                          forked before ATOM's result was renamed in
  promises.py yaml FILE...                every plain scalar means the same to PyYAML
                                          (YAML 1.1) as to a YAML 1.2 core reader
Exits 1 with the reason on stdout when a promise is broken.
"""
import datetime
import json
import os
import re
import sys

import yaml


def load_log(path):
    events = []
    with open(path) as f:
        for line in f:
            parts = line.rstrip("\n").split(" ")
            if len(parts) < 4:
                continue
            pid, op, res = int(parts[0]), parts[1], int(parts[2])
            if op in ("rename", "fsync", "unlink", "rmdir", "create") and res < 0:
                continue  # failed calls promise nothing
            events.append({"i": len(events), "pid": pid, "op": op, "res": res,
                           "path": os.path.normpath(parts[3]),
                           "dst": os.path.normpath(parts[4]) if len(parts) > 4 else None})
    return events


def fail(msg):
    print(msg)
    sys.exit(1)


def first(events, pred, after=-1, what="event"):
    for e in events:
        if e["i"] > after and pred(e):
            return e
    return None


def renames_to(events, dst):
    return [e for e in events if e["op"] == "rename" and e["dst"] == dst]


def chain_durable(events, rename_ev):
    """The file renamed by rename_ev was fsynced under one of its earlier names (its own
    renames, and those of a directory above it: a job directory renamed to ID+ending)."""
    path, before = rename_ev["path"], rename_ev["i"]
    while True:
        if first(events, lambda e: e["op"] == "fsync" and e["path"] == path and e["i"] < before):
            return True
        prev = [e for e in events if e["op"] == "rename" and e["i"] < before and
                (e["dst"] == path or path.startswith(e["dst"] + "/"))]
        if not prev:
            return False
        e = prev[-1]
        before, path = e["i"], e["path"] + path[len(e["dst"]):]


def dir_fsync_after(events, d, after):
    """the fsync of directory d that follows event `after`, before that process renames
    anything else: each publishing rename is made durable before the next step"""
    pid = events[after]["pid"] if after >= 0 else None
    for e in events[after + 1:]:
        if e["pid"] != pid and pid is not None:
            continue
        if e["op"] == "fsync" and e["path"] == d:
            return e
        if e["op"] == "rename":
            return None
    return None


def cmd_publish(log, outbox, name):
    ev = load_log(log)
    outbox = os.path.normpath(os.path.abspath(outbox))
    tar = os.path.join(outbox, name + ".tar.gz")
    rep = os.path.join(outbox, name + ".metrics.yaml")
    t = renames_to(ev, tar)
    r = renames_to(ev, rep)
    if not t or not r:
        fail("no rename publishing %s (%d) or %s (%d)" % (tar, len(t), rep, len(r)))
    t, r = t[-1], r[-1]
    if not t["i"] < r["i"]:
        fail("report renamed in (event %d) before the tarball (event %d)" % (r["i"], t["i"]))
    if not chain_durable(ev, t):
        fail("tarball renamed in without an fsync of its contents")
    f1 = dir_fsync_after(ev, outbox, t["i"])
    if not f1 or f1["i"] > r["i"]:
        fail("outbox not fsynced between the tarball's rename (%d) and the report's (%d)" % (t["i"], r["i"]))
    if not chain_durable(ev, r):
        fail("report renamed in without an fsync of its contents")
    if not dir_fsync_after(ev, outbox, r["i"]):
        fail("outbox not fsynced after the report's rename")
    # nothing else of NAME appears in the outbox under its final name by any other means
    for e in ev:
        if e["op"] == "create" and e["path"] in (tar, rep):
            fail("an output was written in place: %s" % e["path"])


def cmd_failed(log, failed, name):
    ev = load_log(log)
    failed = os.path.normpath(os.path.abspath(failed))
    err = os.path.join(failed, name + ".error.yaml")
    r = renames_to(ev, err)
    if not r:
        fail("no rename publishing %s" % err)
    r = r[-1]
    if not chain_durable(ev, r):
        fail("error report renamed in without an fsync of its contents")
    if not dir_fsync_after(ev, failed, r["i"]):
        fail("failed/ not fsynced after the error report's rename")
    def is_bundle(p):
        b = os.path.basename(p)
        return b == name or (b.startswith(name + ".") and not b.endswith(".error.yaml"))
    moves = [e for e in ev if e["op"] == "rename" and os.path.dirname(e["dst"]) == failed
             and is_bundle(e["dst"])]
    if not moves:
        fail("the bundle was not renamed into failed/")
    m = moves[-1]
    if m["i"] < r["i"]:
        fail("bundle moved into failed/ (%d) before its error report was (%d)" % (m["i"], r["i"]))
    if not dir_fsync_after(ev, failed, m["i"]):
        fail("failed/ not fsynced after the bundle's rename")


def cmd_claim(log, inbox, entry):
    ev = load_log(log)
    inbox = os.path.normpath(os.path.abspath(inbox))
    src = os.path.join(inbox, entry)
    c = [e for e in ev if e["op"] == "rename" and e["path"] == src]
    if not c:
        fail("no rename claiming %s" % src)
    c = c[0]
    if not dir_fsync_after(ev, inbox, c["i"]):
        fail("inbox not fsynced after the claim")
    if not dir_fsync_after(ev, os.path.dirname(c["dst"]), c["i"]):
        fail("the claim's destination directory not fsynced after the claim")
    # the job's state directory is durable too: its parent is fsynced after the claim
    jobdir = os.path.dirname(os.path.dirname(c["dst"]))
    if not dir_fsync_after(ev, os.path.dirname(jobdir), c["i"]):
        fail("the state area not fsynced after the claim")


def cmd_deps(log, dagfile, atom):
    ev = load_log(log)
    dag = json.load(open(dagfile))
    deps = {a["id"]: set(a.get("depends_on", [])) for a in dag["atoms"]}
    dependents, grew = set(), True
    while grew:
        grew = False
        for a, ds in deps.items():
            if a not in dependents and (atom in ds or ds & dependents):
                dependents.add(a)
                grew = True
    # which process wrote which atom: a worker creates frags/.ID.frag.PID[@TAG].N.tmp
    pid_atom = {}
    for e in ev:
        m = re.search(r"/frags/\.(.+)\.frag\.\d+(?:@[0-9a-z]+)?\.\d+\.tmp$", e["path"])
        if e["op"] == "create" and m:
            pid_atom[e["pid"]] = m.group(1)
    forks = {int(e["path"]): e for e in ev if e["op"] == "fork"}
    started = {}
    for pid, a in pid_atom.items():
        if pid in forks:
            started.setdefault(a, forks[pid]["i"])
    if atom not in started:
        fail("atom %s never started" % atom)
    end = [e for e in ev if e["op"] == "rename" and e["dst"].endswith("/results/%s.yaml" % atom)]
    if not end:
        fail("atom %s never finished" % atom)
    end = end[-1]["i"]
    early = sorted(a for a in dependents if a in started and started[a] < end)
    if early:
        fail("started before %s ended: %s" % (atom, ", ".join(early)))
    if not any(a in started for a in dependents):
        fail("no dependent of %s ran (the check would be empty)" % atom)
    others = [a for a in started if a not in dependents and a != atom and started[a] > started[atom] and started[a] < end]
    if not others:
        fail("nothing else ran while %s was running (the check shows no parallelism)" % atom)
    print("%d dependents after %s ended; %d others ran meanwhile" % (len(dependents), atom, len(others)))


# YAML 1.2 core schema resolution of a plain scalar
CORE = [
    ("null", re.compile(r"^(~|null|Null|NULL|)$")),
    ("bool", re.compile(r"^(true|True|TRUE|false|False|FALSE)$")),
    ("int", re.compile(r"^([-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")),
    ("float", re.compile(r"^([-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN))$")),
]
TAGS = {"null": "tag:yaml.org,2002:null", "bool": "tag:yaml.org,2002:bool",
        "int": "tag:yaml.org,2002:int", "float": "tag:yaml.org,2002:float"}


def core_value(kind, s):
    if kind == "null":
        return None
    if kind == "bool":
        return s.lower() == "true"
    if kind == "int":
        return int(s, 0) if s.startswith(("0o", "0x")) else int(s)
    return float(s.replace("inf", "Inf").replace("INF", "Inf").lower())


def check_plain(node, where, problems):
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            check_plain(k, where, problems)
            check_plain(v, where, problems)
    elif isinstance(node, yaml.SequenceNode):
        for v in node.value:
            check_plain(v, where, problems)
    elif isinstance(node, yaml.ScalarNode) and node.style is None:
        s = node.value
        kind = next((k for k, rx in CORE if rx.match(s)), "str")
        meant = s if kind == "str" else core_value(kind, s)
        try:
            got = yaml.safe_load(s) if s else None
        except yaml.YAMLError:
            got = ("unreadable", s)
        if kind == "str" and isinstance(got, (datetime.date, datetime.datetime)):
            return  # a timestamp (started_at): meant as one, read as one (section 5)
        if type(got) is not type(meant) or (got != meant and not (got != got and meant != meant)):
            problems.append("%s:%d: plain %r is %r to YAML 1.2 but %r to PyYAML"
                            % (where, node.start_mark.line + 1, s, meant, got))


def cmd_yaml(files):
    problems = []
    for f in files:
        with open(f) as fh:
            text = fh.read()
        try:
            node = yaml.compose(text, Loader=yaml.SafeLoader)
            yaml.safe_load(text)
        except yaml.YAMLError as e:
            fail("%s: PyYAML cannot read it: %s" % (f, e))
        check_plain(node, f, problems)
    if problems:
        fail("\n".join(problems[:20]))
    print("%d files read back the same" % len(files))


def main():
    cmds = {"publish": cmd_publish, "failed": cmd_failed, "claim": cmd_claim, "deps": cmd_deps}
    if len(sys.argv) >= 2 and sys.argv[1] == "yaml":
        cmd_yaml(sys.argv[2:])
    elif len(sys.argv) == 5 and sys.argv[1] in cmds:
        cmds[sys.argv[1]](*sys.argv[2:])
    else:
        fail(__doc__)


main()
