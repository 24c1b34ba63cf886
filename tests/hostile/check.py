#!/usr/bin/python3
"""check.py MANIFEST SPOOL - one line per corpus entry: "ok|not ok" "|description|todo|detail".
An entry passes when it ended exactly once: failed/JOB.error.yaml with an allowed stage and a
message matching the expected expression, the bundle itself in failed/ and not in the inbox
(or, where the manifest allows "ok", outbox/JOB.metrics.yaml). With --wait it only exits 0
once every entry not marked todo has an outcome (used to poll)."""
import json
import os
import re
import sys

import yaml

wait = sys.argv[1] == "--wait"
manifest_path, spool = sys.argv[1 + wait:3 + wait]
m = json.load(open(manifest_path))
done = 0
needed = sum(1 for e in m.values() if "todo" not in e)
for entry, e in sorted(m.items()):
    job, shown = e["job"], ascii(entry)[1:-1][:60]
    report = os.path.join(spool, "failed", job + ".error.yaml")
    metrics = os.path.join(spool, "outbox", job + ".metrics.yaml")
    status, detail = "not ok", ""
    if os.path.exists(report):
        done += "todo" not in e
        try:
            d = yaml.safe_load(open(report))
            msgs = [x.get("message", "") for x in d.get("errors") or []]
            if d.get("status") != "failed" or d.get("stage") not in e["stage"]:
                detail = "stage %r, expected one of %r" % (d.get("stage"), e["stage"])
            elif not any(re.search(e["msg"], x) for x in msgs):
                detail = "no message matching %r in %r" % (e["msg"], msgs[:3])
            elif not os.path.lexists(os.path.join(spool, "failed", e.get("placed", entry))):
                detail = "the bundle is not in failed/"
            elif os.path.lexists(os.path.join(spool, "inbox", entry)):
                detail = "the bundle is still in the inbox"
            else:
                status, detail = "ok", "%s: %s" % (d["stage"], ascii(msgs[0])[:100])
        except Exception as ex:  # an unreadable report is a failure of the test, not a crash
            detail = "bad report: %s" % ex
    elif os.path.exists(metrics):
        done += "todo" not in e
        status, detail = ("ok", "succeeded") if "ok" in e["stage"] else ("not ok", "succeeded")
    else:
        detail = "no outcome (inbox: %s)" % os.path.lexists(os.path.join(spool, "inbox", entry))
    if not wait:
        what = "ends once, in outbox/ or in failed/ with a clear error" if "ok" in e["stage"] else \
            "ends in failed/ with a clear error"
        print("%s|%s %s|%s|%s" % (status, shown, what, e.get("todo", ""), detail))
if wait:
    sys.exit(0 if done >= needed else 1)
