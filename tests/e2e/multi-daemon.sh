#!/bin/sh
# multi-daemon.sh - several daemons on one spool (docs/reliability.md section 6): they
# share the work and each job ends exactly once; a daemon killed with SIGKILL has its jobs
# taken over by another once their leases expire, and they end exactly once; a live
# daemon's jobs are never taken over while a slow atom runs (its leases are renewed);
# expiry is judged by file times, not by the holder's clock; jobs of one name end in claim
# order across daemons. "Hosts" are simulated with CODEGEND_HOST.
. "$(dirname "$0")/lib.sh"

now() { date +%s.%N; }
elapsed() { "$PY" -c 'import sys; print("%.1f" % (float(sys.argv[2]) - float(sys.argv[1])))' "$@"; }
# claims LOG: how many "ENTRY: claimed" lines the log has
claims() { grep -c ': claimed$' "$1"; }
# exactly_once PREFIX N LOG...: every job PREFIX* claimed once and ended once over all logs
exactly_once() {
        "$PY" - "$@" <<'PYEOF'
import collections, re, sys
prefix, n, logs = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
claims, ends = collections.Counter(), collections.Counter()
for log in logs:
    for line in open(log, errors="replace"):
        m = re.search(r": (%s[^: ]*): (claimed|succeeded|failed)\b" % re.escape(prefix), line)
        if m:
            name = re.sub(r"\.(job\.yaml|tar\.gz)$", "", m.group(1))
            (claims if m.group(2) == "claimed" else ends)[name] += 1
bad = sorted(k for k in set(claims) | set(ends) if claims[k] != 1 or ends[k] != 1)
print("%d claimed, %d ended, not exactly once: %s" % (len(claims), len(ends), bad[:10]))
sys.exit(0 if len(claims) == n and len(ends) == n and not bad else 1)
PYEOF
}
PIDS=
stop_all() { for p in $PIDS; do kill "$p" 2>/dev/null; done; for p in $PIDS; do wait "$p" 2>/dev/null; done; PIDS=; }
trap 'stop_all; cleanup' EXIT
# daemon NAME SPOOL CONFIG [ENV...]: one more daemon in the background, log in WORK/NAME.err
daemon() {
        name=$1 sp=$2 cfg=$3; shift 3
        env "$@" "$CODEGEND" --spool "$sp" --config "$cfg" >"$WORK/$name.out" 2>"$WORK/$name.err" &
        eval "PID_$name=$!"
        PIDS="$PIDS $!"
}

stage="$WORK/staging"
mkdir -p "$stage"
cat > "$stage/tiny.job.yaml" <<'YAML'
spec:
  format: 1
  name: tiny
  entities:
    - name: Note
      fields:
        - {name: title, type: string}
dag:
  format: 1
  name: tiny
  atoms:
    - {id: config, kind: config, target: src/config.py}
    - {id: pkg, kind: package, target: src/__init__.py}
YAML
# drop PREFIX N SPOOL: N copies renamed into the inbox at once
drop() {
        mkdir -p "$stage/$1"
        i=0; while [ $i -lt "$2" ]; do cp "$stage/tiny.job.yaml" "$stage/$1/$1$i.job.yaml"; i=$((i + 1)); done
        # (mv may complain that a file it moved is gone: a daemon claimed it at once)
        (cd "$stage/$1" && find . -name '*.job.yaml' -exec mv -t "$3/inbox" {} + 2>/dev/null)
}
# (wait_for's conditions run in sh -c: no functions there)
# a short lease; the grace covers a loaded machine's stalls (a directory fsync can take a
# second or more when other builds write)
printf 'rescan_interval: 1\nsettle_time: 0\nlease_seconds: 2\nlease_grace: 2\nworkers: 1\n' > "$WORK/short.yaml"

# --- 1. three daemons, 45 jobs dropped at once: shared, each job exactly once
sp=$(new_spool share)
mkdir -p "$sp/.codegend"
for d in a b c; do daemon $d "$sp" "$WORK/short.yaml" CODEGEND_HOST=host-$d CODEGEND_ATOM_DELAY_MS=30; done
wait_for "test -d '$sp/.codegend/jobs'" 50; sleep 0.5
t0=$(now)
drop s 45 "$sp"
check "three daemons: 45 jobs dropped at once all end within 60 s" wait_for "[ \$(ls '$sp/outbox' | grep -c 'metrics.yaml\$') -eq 45 ] &&
        [ \$(cat '$WORK/a.err' '$WORK/b.err' '$WORK/c.err' | grep -c ': s[0-9]*: succeeded') -ge 45 ]" 600
t1=$(now)
check "every job was claimed once and ended once over the three daemons' logs" exactly_once s 45 "$WORK/a.err" "$WORK/b.err" "$WORK/c.err"
echo "3 daemons: 45 jobs in $(elapsed "$t0" "$t1") s; claims a/b/c: $(claims "$WORK/a.err")/$(claims "$WORK/b.err")/$(claims "$WORK/c.err")" | diag
check "the work was shared: every daemon claimed some jobs" sh -c "
        [ $(claims "$WORK/a.err") -gt 0 ] && [ $(claims "$WORK/b.err") -gt 0 ] && [ $(claims "$WORK/c.err") -gt 0 ]"
check "nothing failed, nothing left in the inbox or the state area" sh -c "
        [ -z \"\$(ls '$sp/failed')\" ] && [ -z \"\$(ls '$sp/inbox')\" ] && [ -z \"\$(ls '$sp/.codegend/jobs')\" ]"
check "no daemon took over a live daemon's job" sh -c "! grep 'took over\|stopping it here' '$WORK/a.err' '$WORK/b.err' '$WORK/c.err'"
stop_all

# --- 2. kill -9 of a daemon on "host x" mid-run: "host y" takes its jobs over after the
# lease (2 s) and its grace (2 s) and every job ends exactly once
sp=$(new_spool takeover)
daemon x "$sp" "$WORK/short.yaml" CODEGEND_HOST=host-x CODEGEND_ATOM_DELAY_MS=1500
wait_for "test -d '$sp/.codegend/jobs'" 50; sleep 0.3
drop k 6 "$sp"
wait_for "[ \$(grep -c ': claimed\$' '$WORK/x.err') -ge 6 ]" 100
daemon y "$sp" "$WORK/short.yaml" CODEGEND_HOST=host-y
sleep 0.5
kill -9 "$PID_x"
tk=$(now)
check "host y takes the killed daemon's jobs over" wait_for "grep -q 'took over' '$WORK/y.err'" 150
tt=$(now)
check "every job ends once in outbox/" wait_for "[ \$(ls '$sp/outbox' | grep -c '^k.*metrics.yaml\$') -eq 6 ] &&
        [ \$(cat '$WORK/x.err' '$WORK/y.err' | grep -c ': k[0-9]: succeeded') -ge 6 ]" 300
check "each job ended exactly once (the killed daemon published none of the taken ones)" sh -c "
        \"$PY\" - '$WORK/x.err' '$WORK/y.err' <<'EOF'
import re, sys
x = open(sys.argv[1]).read(); y = open(sys.argv[2]).read()
ends = re.findall(r': (k\d+): succeeded', x) + re.findall(r': (k\d+): succeeded', y)
print(sorted(ends)); sys.exit(0 if sorted(ends) == sorted(set(ends)) and len(ends) == 6 else 1)
EOF"
echo "takeover $(elapsed "$tk" "$tt") s after kill -9 (lease 2 s + grace 2 s); $(grep -c 'took over' "$WORK/y.err") jobs taken over" | diag
check "the state area is empty afterwards" wait_for "[ -z \"\$(ls '$sp/.codegend/jobs')\" ]" 50
stop_all

# --- 3. a live daemon's jobs are not taken over while its slow atoms run (6 s per job,
# longer than lease + grace): its leases are renewed from its event loop
sp=$(new_spool live)
daemon p "$sp" "$WORK/short.yaml" CODEGEND_HOST=host-p CODEGEND_ATOM_DELAY_MS=3000
wait_for "test -d '$sp/.codegend/jobs'" 50; sleep 0.3
drop l 2 "$sp"
wait_for "[ \$(grep -c ': claimed\$' '$WORK/p.err') -ge 2 ]" 50
daemon q "$sp" "$WORK/short.yaml" CODEGEND_HOST=host-q
# (the end line is logged after the job directory's removal: wait for it)
check "both slow jobs end" wait_for "[ \$(ls '$sp/outbox' | grep -c '^l.*metrics.yaml\$') -eq 2 ] &&
        [ \$(grep -c ': l[01]: succeeded' '$WORK/p.err') -eq 2 ]" 300
check "host q took none of them over, host p lost none" sh -c "
        ! grep 'took over\|resuming' '$WORK/q.err' && ! grep 'stopping it here\|taken over' '$WORK/p.err' &&
        [ \$(grep -c ': l[01]: succeeded' '$WORK/p.err') -eq 2 ]"
stop_all

# --- 4. expiry by the spool's clock (file times), not by what the holder wrote: a lease
# file written now that claims a renewal long ago stays; one that says "just renewed" but
# is an hour old on the file system is taken over
sp=$(new_spool skew)
for n in 0 1; do
        jd="$sp/.codegend/jobs/20260101T000000.00000000${n}Z-far-away-0123abcd-4242-$n"
        mkdir -p "$jd/bundle" && cp "$stage/tiny.job.yaml" "$jd/bundle/skew$n.job.yaml"
done
printf 'host: far-away\nboot: 0123abcd\npid: 4242\nrenewed: 1000\nlease_seconds: 2\n' > "$sp/.codegend/jobs/20260101T000000.000000000Z-far-away-0123abcd-4242-0/lease"
printf 'host: far-away\nboot: 0123abcd\npid: 4242\nrenewed: 99999999999\nlease_seconds: 2\n' > "$sp/.codegend/jobs/20260101T000000.000000001Z-far-away-0123abcd-4242-1/lease"
touch -d '1 hour ago' "$sp/.codegend/jobs/20260101T000000.000000001Z-far-away-0123abcd-4242-1/lease"
run_once "$sp" --config "$WORK/short.yaml"
check "the lease with an old mtime is taken over and its job published" test -s "$sp/outbox/skew1.metrics.yaml"
check "the fresh lease (whatever its holder's clock said) is left to its holder" sh -c "
        ! test -e '$sp/outbox/skew0.metrics.yaml' && ls '$sp/.codegend/jobs/'*far-away*-0/bundle/skew0.job.yaml"

# --- 5. two jobs of one name on two daemons: the one claimed later stands. Daemon o
# (max_jobs 1, slow) claims the first edition; the second, dropped while o is busy, goes
# to daemon n (fast) and ends first: o's older job is superseded, never published
sp=$(new_spool order)
printf 'rescan_interval: 1\nsettle_time: 0\nlease_seconds: 2\nlease_grace: 2\nmax_jobs: 1\n' > "$WORK/one.yaml"
daemon o "$sp" "$WORK/one.yaml" CODEGEND_HOST=host-o CODEGEND_ATOM_DELAY_MS=2500
wait_for "test -d '$sp/.codegend/jobs'" 50; sleep 0.3
cp "$stage/tiny.job.yaml" "$stage/same.job.yaml" && mv "$stage/same.job.yaml" "$sp/inbox/"
wait_for "grep -q 'same.job.yaml: claimed' '$WORK/o.err'" 50
daemon n "$sp" "$WORK/short.yaml" CODEGEND_HOST=host-n
sleep 0.5
cp "$stage/tiny.job.yaml" "$stage/same.job.yaml" && mv "$stage/same.job.yaml" "$sp/inbox/"
check "the second edition is claimed by the other daemon and published" wait_for "grep -q 'same: succeeded' '$WORK/n.err'" 100
check "the older edition is dropped by its daemon, never published or failed" \
        wait_for "grep -q 'same: dropped' '$WORK/o.err' && ! grep -q 'same: succeeded\|same: failed' '$WORK/o.err'" 100
check "one report, no error report, an empty state area" sh -c "
        test -s '$sp/outbox/same.metrics.yaml' && ! test -e '$sp/failed/same.error.yaml' && [ -z \"\$(ls '$sp/.codegend/jobs')\" ]"
stop_all

# --- 6. a daemon stalled longer than lease + grace (SIGSTOP) loses its job to another;
# resumed, it finds the job directory gone, stops its workers and drops the job: the job
# ends once, by the taker
sp=$(new_spool stall)
daemon s "$sp" "$WORK/short.yaml" CODEGEND_HOST=host-s CODEGEND_ATOM_DELAY_MS=400
wait_for "test -d '$sp/.codegend/jobs'" 50; sleep 0.3
cp "$stage/tiny.job.yaml" "$stage/stall.job.yaml" && mv "$stage/stall.job.yaml" "$sp/inbox/"
wait_for "grep -q 'stall.job.yaml: claimed' '$WORK/s.err'" 50
daemon t "$sp" "$WORK/short.yaml" CODEGEND_HOST=host-t
kill -STOP "$PID_s"
check "the other daemon takes the stalled daemon's job over and publishes it" \
        wait_for "grep -q 'took over' '$WORK/t.err' && grep -q 'stall: succeeded' '$WORK/t.err'" 150
kill -CONT "$PID_s"
check "resumed, the stalled daemon drops the job without an outcome" \
        wait_for "grep -q 'stall: taken over by another daemon' '$WORK/s.err'" 50
check "the job ended once: one report, no error report, an empty state area" sh -c "
        grep 'stall' '$WORK/s.err' '$WORK/t.err'; ls -A '$sp/failed' '$sp/.codegend/jobs';
        ! grep -q 'stall: succeeded in\|stall: failed at' '$WORK/s.err' && [ \$(grep -c 'stall: succeeded' '$WORK/t.err') -eq 1 ] &&
        ! test -e '$sp/failed/stall.error.yaml' && [ -z \"\$(ls -A '$sp/.codegend/jobs')\" ]"
stop_all

# --- 7. the same, stalled in the middle of publishing (@publish=slow: 150 ms between the
# spool's steps; stopped once its job directory is ID+ending): resumed, its next step fails
# on the vanished directory, and the job is dropped there, not failed
sp=$(new_spool stall2)
daemon u "$sp" "$WORK/short.yaml" CODEGEND_HOST=host-u CODEGEND_FAULT_INJECT=@publish=slow
wait_for "test -d '$sp/.codegend/jobs'" 50; sleep 0.3
cp "$stage/tiny.job.yaml" "$stage/pub.job.yaml" && mv "$stage/pub.job.yaml" "$sp/inbox/"
n=0; while ! ls -d "$sp/.codegend/jobs/"*+ending >/dev/null 2>&1 && [ $n -lt 3000 ]; do sleep 0.005; n=$((n + 1)); done
kill -STOP "$PID_u"
daemon v "$sp" "$WORK/short.yaml" CODEGEND_HOST=host-v
check "stopped while publishing, its job is taken over and published by the other daemon" \
        wait_for "grep -q 'took over' '$WORK/v.err' && grep -q 'pub: succeeded' '$WORK/v.err'" 150
kill -CONT "$PID_u"
check "resumed, the stalled daemon drops the job: no error report, the other's outputs stand" sh -c "
        sleep 2; grep 'pub' '$WORK/u.err' '$WORK/v.err'; ls -A '$sp/failed' '$sp/outbox';
        ! grep -q 'pub: succeeded in\|pub: failed at' '$WORK/u.err' && [ -z \"\$(ls -A '$sp/failed')\" ] &&
        test -s '$sp/outbox/pub.metrics.yaml' && test -s '$sp/outbox/pub.tar.gz'"
stop_all

finish
