#!/bin/sh
# reliability-watchdog.sh - many bundles at once never starve the event loop: with
# WATCHDOG_BUNDLES (default 300) bad bundles in the inbox at start, the daemon (under a
# 2 s systemd watchdog, NOTIFY_SOCKET pointing at this test) keeps pinging, because a
# rescan claims in batches (32 entries or 250 ms) between loop iterations. Before that,
# 1,000 bundles made a 56 s gap, far past systemd's 30 s watchdog.
. "$(dirname "$0")/lib.sh"

N=${WATCHDOG_BUNDLES:-300}
sp=$(new_spool watchdog)
printf 'rescan_interval: 3600\nsettle_time: 0\nmax_jobs: 100000\n' > "$WORK/wd.yaml"
"$PY" - "$CODEGEND" "$sp" "$WORK/wd.yaml" "$N" > "$WORK/wd.out" <<'PYEOF'
import os, socket, subprocess, sys, time
codegend, spool, config, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
path = spool + ".notify"
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
s.settimeout(0.2)
for i in range(n):  # all present at start: the startup rescan meets them at once
    with open("%s/inbox/b%05d.job.yaml" % (spool, i), "w") as f:
        f.write("spec: {format: 1, name: x, entities: []}\n")
env = dict(os.environ, NOTIFY_SOCKET=path, WATCHDOG_USEC="2000000")
p = subprocess.Popen([codegend, "--spool", spool, "--config", config], env=env,
                     stdout=subprocess.DEVNULL, stderr=open(spool + ".err", "w"))
pings, start = [], time.monotonic()
while time.monotonic() - start < 300:
    try:
        msg = s.recv(4096).decode()
    except socket.timeout:
        msg = ""
    if "WATCHDOG=1" in msg:
        pings.append(time.monotonic())
    if not os.listdir(spool + "/inbox") and not os.listdir(spool + "/.codegend/jobs") and len(pings) > 2:
        break
p.terminate()
p.wait()
gaps = [b - a for a, b in zip(pings, pings[1:])]
print("%d %.2f %.1f %d" % (len(pings), max(gaps) if gaps else 99, time.monotonic() - start,
                          len([e for e in os.listdir(spool + "/failed") if e.endswith(".error.yaml")])))
PYEOF
read pings gap took failed < "$WORK/wd.out"
echo "# $N bundles in ${took}s: $pings watchdog pings, the longest gap ${gap}s"
check "all $N bundles end in failed/ ($failed)" test "$failed" -eq "$N"
check "the watchdog is pinged at least every 1.5 s (longest gap ${gap}s)" \
        "$PY" -c "import sys; sys.exit(0 if $gap < 1.5 else 1)"

finish
