#!/bin/sh
# signals.sh - the daemon and systemd: a NOTIFY_SOCKET listener (python3, AF_UNIX
# datagrams) records READY, STATUS, WATCHDOG, RELOADING, STOPPING; SIGHUP reloads a good
# file (new jobs use it, a running job keeps its settings) and refuses a bad one
# (file:line:column, the old configuration stays); SIGTERM drains running atoms for
# drain_timeout seconds, then kills them, and the job stays resumable.
. "$(dirname "$0")/lib.sh"
: "${CODEGENCTL:?run through make check}"

SOCK="$WORK/notify.sock"
NLOG="$WORK/notify.log"
"$PY" - "$SOCK" "$NLOG" <<'PYEOF' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a") as log:
    while True:
        msg = s.recv(4096).decode()
        # one line per assignment, each datagram ended by a line "--"
        log.write(msg.rstrip("\n") + "\n--\n")
        log.flush()
PYEOF
LISTENER=$!
trap 'kill $LISTENER 2>/dev/null; cleanup' EXIT
wait_for "test -S '$SOCK'" 50
# notified LINE-REGEX: the listener received such a line
notified() { grep -Eq "$1" "$NLOG"; }
# submit SPOOL NAME: the reference job under NAME, through codegenctl (atomic)
submit() {
        rm -rf "$WORK/src/$2" && mkdir -p "$WORK/src" && cp -r "$REF" "$WORK/src/$2" &&
                "$CODEGENCTL" --spool "$1" submit "$WORK/src/$2" >/dev/null
}
# ndaemon SPOOL CONFIG [ENV...]: the daemon, talking to the listener
ndaemon() {
        sp=$1 cfg=$2; shift 2
        start_daemon "$sp" "$cfg" NOTIFY_SOCKET="$SOCK" WATCHDOG_USEC=1000000 "$@"
}

printf 'rescan_interval: 3600\nsettle_time: 0\natom_timeout: 300\ndrain_timeout: 10\nlog_level: debug\n' > "$WORK/a.yaml"
cp "$WORK/a.yaml" "$WORK/cfg.yaml"
sp=$(new_spool sig)

# --- READY, STATUS, WATCHDOG
ndaemon "$sp" "$WORK/cfg.yaml" CODEGEND_FAULT_INJECT=readme=slow
check "READY=1 is sent" wait_for "grep -qx 'READY=1' '$NLOG'" 50
check "STATUS= counts jobs: 0 running, 0 queued, 0 done, 0 failed" \
        notified '^STATUS=0 running, 0 queued, 0 done, 0 failed$'
check "WATCHDOG=1 is sent with WATCHDOG_USEC set" wait_for "grep -qx 'WATCHDOG=1' '$NLOG'" 30

# --- SIGHUP with a good file: new jobs use it, the running job keeps its own
submit "$sp" keeps
check "a job is running (its readme atom takes 2 s)" wait_for "grep -q 'keeps: atom readme started' '$sp.err'" 100
check "STATUS= says 1 running" wait_for "grep -q '^STATUS=1 running, 0 queued' '$NLOG'" 50
printf 'rescan_interval: 3600\nsettle_time: 0\natom_timeout: 1\nlog_level: debug\nsuccess_criteria: {loc_min: 7}\n' > "$WORK/cfg.yaml"
: > "$NLOG"
kill -HUP "$DAEMON_PID"
check "RELOADING=1 with MONOTONIC_USEC is sent" wait_for "grep -qx 'RELOADING=1' '$NLOG' && grep -Eq '^MONOTONIC_USEC=[0-9]+$' '$NLOG'" 50
check "then READY=1 again" wait_for "sed -n '/RELOADING=1/,\$p' '$NLOG' | grep -qx 'READY=1'" 50
check "the reload is logged" wait_for "grep -q 'configuration reloaded' '$sp.err'" 50
check "the job claimed before the reload ends with the settings it started with" sh -c "
        '$CODEGENCTL' --spool '$sp' wait keeps --timeout 60 >/dev/null &&
        grep -A1 '^success_thresholds:' '$sp/outbox/keeps.metrics.yaml' | grep -q 'loc_min: 1000'"
submit "$sp" fresh
check "a job claimed after the reload uses the new file (atom_timeout 1 s fails its 2 s atom)" \
        wait_for "grep -q 'timed out after 1 s' '$sp/failed/fresh.error.yaml'" 100

# --- SIGHUP with a bad file: logged with file:line:column, the current one stays
printf 'rescan_interval: 3600\natom_timeout: soon\n' > "$WORK/cfg.yaml"
kill -HUP "$DAEMON_PID"
check "a bad file is refused with file:line:column" \
        wait_for "grep -q 'cfg.yaml:2:15: .*atom_timeout' '$sp.err' && grep -q 'keeping the current one' '$sp.err'" 50
check "the daemon still runs" kill -0 "$DAEMON_PID"
submit "$sp" after-bad
check "the configuration before the bad file stays in force (atom_timeout 1 s)" \
        wait_for "grep -q 'timed out after 1 s' '$sp/failed/after-bad.error.yaml'" 100
stop_daemon

# --- SIGTERM: STOPPING=1, drain_timeout for the running atoms, then the kill
printf 'rescan_interval: 3600\nsettle_time: 0\natom_timeout: 300\ndrain_timeout: 1\nlog_level: debug\n' > "$WORK/cfg.yaml"
: > "$NLOG"
ndaemon "$sp" "$WORK/cfg.yaml" CODEGEND_FAULT_INJECT=readme=hang
submit "$sp" hangs
wait_for "grep -q 'hangs: atom readme started' '$sp.err'" 100
t0=$(date +%s.%N)
kill -TERM "$DAEMON_PID"; wait "$DAEMON_PID"; RC=$?; DAEMON_PID=
t1=$(date +%s.%N)
check "STOPPING=1 is sent" notified '^STOPPING=1$'
check "SIGTERM with a hanging atom exits 0 after the drain timeout (1 s), not before" \
        sh -c "[ $RC -eq 0 ] && \"$PY\" -c 'import sys; d = $t1 - $t0; sys.exit(not 0.9 <= d < 5)'"
check "the drain is logged, then the kill" sh -c "grep -Eq 'waiting up to 1 s for [0-9]+ running atoms' '$sp.err' && grep -q 'drain_timeout (1 s) passed' '$sp.err'"
check "no worker outlives the daemon" wait_for "! pgrep -f '^$CODEGEND --spool $sp ' >/dev/null" 50
check "the interrupted job stays resumable in the state area" sh -c "ls '$sp/.codegend/jobs/'*/bundle/hangs"

# --- SIGTERM while an atom is slow (2 s) but within drain_timeout (10 s): it finishes
printf 'rescan_interval: 3600\nsettle_time: 0\ndrain_timeout: 10\nlog_level: debug\n' > "$WORK/cfg.yaml"
sp2=$(new_spool drain)
ndaemon "$sp2" "$WORK/cfg.yaml" CODEGEND_FAULT_INJECT=readme=slow
submit "$sp2" slowpoke
check "the slow atom runs" wait_for "grep -q 'slowpoke: atom readme started' '$sp2.err'" 100
t0=$(date +%s.%N)
kill -TERM "$DAEMON_PID"; wait "$DAEMON_PID"; RC=$?; DAEMON_PID=
t1=$(date +%s.%N)
check "the daemon waits for the running atom, then exits 0 well before drain_timeout" \
        sh -c "[ $RC -eq 0 ] && \"$PY\" -c 'import sys; d = $t1 - $t0; sys.exit(not d < 8)'"
check "the drained atom was not killed" sh -c "! grep -q 'killed by signal' '$sp2.err' && ! grep -q 'drain_timeout (10 s) passed' '$sp2.err'"
run_once "$sp2"
check "the job resumes at the next start and succeeds" sh -c "[ $RC -eq 0 ] && test -s '$sp2/outbox/slowpoke.metrics.yaml'"

finish
