#!/usr/bin/python3
"""rusage.py OUT CMD... - runs CMD (the daemon) as a child, passes SIGTERM and SIGINT on to it,
and once it has exited writes to OUT the peak RSS in kB of the largest process among all the
descendants that were waited for (the daemon and the unpacking and worker processes it reaped:
getrusage(RUSAGE_CHILDREN).ru_maxrss). Exits with CMD's status. Writes CMD's pid to OUT.pid."""
import resource
import signal
import subprocess
import sys

out, cmd = sys.argv[1], sys.argv[2:]
p = subprocess.Popen(cmd)
with open(out + ".pid", "w") as f:
    f.write("%d\n" % p.pid)
for s in (signal.SIGTERM, signal.SIGINT):
    signal.signal(s, lambda sig, frame: p.send_signal(sig))
rc = p.wait()
with open(out, "w") as f:
    f.write("%d\n" % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(rc if rc >= 0 else 128 - rc)
