#!/bin/sh
# daemon.sh - the long-running daemon: inotify pickup, startup rescan, .ready markers,
# worker crashes and timeouts, kill -9 recovery, the spool lock, configuration errors.
. "$(dirname "$0")/lib.sh"

printf 'rescan_interval: 3600\nsettle_time: 0\n' > "$WORK/slow-rescan.yaml"

# --- inotify: a directory renamed into the inbox is taken within a second
sp=$(new_spool live)
start_daemon "$sp" "$WORK/slow-rescan.yaml"
mkdir -p "$sp/staging" && cp -r "$REF" "$sp/staging/renamed"
mv "$sp/staging/renamed" "$sp/inbox/renamed"
check "a bundle renamed into the inbox is claimed within a second (inotify)" \
        wait_for "! test -e '$sp/inbox/renamed'" 10
check "its outputs appear in the outbox" wait_for "test -s '$sp/outbox/renamed.metrics.yaml'"
check "the tarball is complete when its report appears" sh -c "
        sha256sum '$sp/outbox/renamed.tar.gz' | cut -d' ' -f1 | grep -qx \$('$PY' -c \"import yaml; print(yaml.safe_load(open('$sp/outbox/renamed.metrics.yaml'))['tarball']['sha256'])\")"
# a file written in place (closed after writing)
(cd "$REF/.." && tar -czf "$WORK/inplace.tar.gz" taskmanager)
cat "$WORK/inplace.tar.gz" > "$sp/inbox/inplace.tar.gz"
check "a file written in place is claimed within a second of its close" \
        wait_for "! test -e '$sp/inbox/inplace.tar.gz'" 10
check "its outputs appear" wait_for "test -s '$sp/outbox/inplace.metrics.yaml'"
echo partial > "$sp/inbox/upload.tar.gz.part"
sleep 0.5
check "a .part upload is left alone" test -f "$sp/inbox/upload.tar.gz.part"
mv "$sp/inbox/upload.tar.gz.part" "$sp/inbox/upload.tar.gz"
check "renamed to its final name it is taken (and fails: not an archive)" \
        wait_for "test -s '$sp/failed/upload.error.yaml'"
check "a second daemon with --exclusive is refused while another runs (exit 2)" sh -c "
        '$CODEGEND' --spool '$sp' --once --exclusive 2>'$WORK/second.err'; [ \$? -eq 2 ] && grep -q 'in use' '$WORK/second.err'"
check "a second daemon shares the spool by default (exit 0)" sh -c "
        '$CODEGEND' --spool '$sp' --once 2>'$WORK/second.err'"
stop_daemon
check "SIGTERM stops the daemon with status 0" test "$RC" -eq 0

# --- the startup rescan takes what was dropped while the daemon was down
sp=$(new_spool rescan)
cp -r "$REF" "$sp/inbox/early"
start_daemon "$sp" "$WORK/slow-rescan.yaml"
check "a bundle present at start is taken (startup rescan)" wait_for "test -s '$sp/outbox/early.metrics.yaml'"
stop_daemon

# --- the periodic rescan: the only mechanism where inotify sees nothing (NFS); here a
# directory created in place, which gives no rename event
printf 'rescan_interval: 1\nsettle_time: 1\n' > "$WORK/fast-rescan.yaml"
sp=$(new_spool periodic)
start_daemon "$sp" "$WORK/fast-rescan.yaml"
cp -r "$REF" "$sp/inbox/inplace-dir"
check "a directory created in place is taken by the periodic rescan once settled" \
        wait_for "test -s '$sp/outbox/inplace-dir.metrics.yaml'" 100
stop_daemon

# --- the .ready marker mode
printf 'rescan_interval: 3600\nrequire_ready_marker: true\n' > "$WORK/ready.yaml"
sp=$(new_spool ready)
start_daemon "$sp" "$WORK/ready.yaml"
cp -r "$REF" "$sp/inbox/marked"
sleep 1
check "with require_ready_marker a bundle waits for its marker" test -d "$sp/inbox/marked"
touch "$sp/inbox/marked.ready"
check "the marker releases it" wait_for "test -s '$sp/outbox/marked.metrics.yaml'"
check "the marker is consumed" test ! -e "$sp/inbox/marked.ready"
stop_daemon

# --- kill -9 in the middle of a job: the job resumes at the next start
sp=$(new_spool crash)
start_daemon "$sp" "$WORK/slow-rescan.yaml" CODEGEND_FAULT_INJECT=readme=hang
mkdir -p "$sp/staging" && cp -r "$REF" "$sp/staging/survivor" && mv "$sp/staging/survivor" "$sp/inbox/"
check "the job is claimed and running" wait_for "ls '$sp/.codegend/jobs/'*/bundle/survivor" 50
# the readme atom hangs: once its worker runs the job cannot finish; kill the daemon only
check "the job reaches its hanging atom (every other atom done)" \
        wait_for "[ \$(ls '$sp/.codegend/jobs/'*/results | wc -l) -ge 49 ] && pgrep -P $DAEMON_PID >/dev/null" 300
kill -KILL "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null
check "its workers die with it (no orphan keeps the spool)" wait_for "! pgrep -f '^$CODEGEND --spool $sp ' >/dev/null" 50
DAEMON_PID=
check "after kill -9 the job is still in the state area" sh -c "ls '$sp/.codegend/jobs/'*/bundle/survivor"
run_once "$sp"
check "the next start resumes it to success" sh -c "[ $RC -eq 0 ] && test -s '$sp/outbox/survivor.metrics.yaml'"

# --- workers that crash, exit non-zero or hang fail their atom with that reason
for fault in crash exit hang; do
        sp=$(new_spool "fault-$fault")
        cp -r "$REF" "$sp/inbox/$fault"
        printf 'atom_timeout: 1\n' > "$WORK/timeout.yaml"
        export CODEGEND_FAULT_INJECT="model_user=$fault"
        run_once "$sp" --config "$WORK/timeout.yaml"
        unset CODEGEND_FAULT_INJECT
        check "$fault: the job fails (exit 1)" test "$RC" -eq 1
        case $fault in
        crash) why="killed by signal 11" ;;
        exit) why="exited with status 3" ;;
        hang) why="timed out after 1 s" ;;
        esac
        e="$sp/failed/$fault.error.yaml"
        check "$fault: the report says '$why'" has_error "$e" "$why"
        check "$fault: stage generation, partial metrics with the failed atom" yq_true "$e" \
                "d['stage'] == 'generation' and any(a['id'] == 'model_user' and a['status'] == 'failed' for a in d['metrics']['atoms'])"
        check "$fault: the original bundle is in failed/" test -f "$sp/failed/$fault/spec.yaml"
done

# --- the job's own children: unpacking (archives) and packing
(cd "$REF/.." && tar -czf "$WORK/tm.tar.gz" taskmanager)
for child in unpack pack; do
        sp=$(new_spool "child-$child")
        cp "$WORK/tm.tar.gz" "$sp/inbox/$child.tar.gz"
        export CODEGEND_FAULT_INJECT="@$child=crash"
        run_once "$sp"
        unset CODEGEND_FAULT_INJECT
        e="$sp/failed/$child.error.yaml"
        check "$child child crashes: the job fails (exit 1), the archive in failed/" \
                sh -c "[ $RC -eq 1 ] && cmp -s '$WORK/tm.tar.gz' '$sp/failed/$child.tar.gz'"
        check "$child child crashes: the report says so" has_error "$e" "${child}ing process killed by signal 11"
done
check "unpacking crash: stage intake" yq_true "$WORK/child-unpack/failed/unpack.error.yaml" "d['stage'] == 'intake'"
check "packing crash: stage packaging, with the partial metrics" yq_true "$WORK/child-pack/failed/pack.error.yaml" \
        "d['stage'] == 'packaging' and all(a['status'] == 'ok' for a in d['metrics']['atoms'])"
check "no outputs of a failed packing reach the outbox" sh -c "[ \$(ls -A '$WORK/child-pack/outbox' | wc -l) -eq 0 ]"

# --- configuration errors name file:line:column and exit 2
printf 'workers: 4\nworkerz: 2\n' > "$WORK/bad.yaml"
"$CODEGEND" --spool "$WORK/unused" --config "$WORK/bad.yaml" --once >/dev/null 2>"$WORK/bad.err"
check "an unknown configuration key exits 2" test $? -eq 2
check "and names file:line:column" grep -q "bad.yaml:2:1: workerz: unknown key 'workerz'" "$WORK/bad.err"
printf 'limits:\n  max_unpacked_bytes: lots\n' > "$WORK/bad2.yaml"
"$CODEGEND" --spool "$WORK/unused" --config "$WORK/bad2.yaml" --once >/dev/null 2>"$WORK/bad2.err"
rc=$?
check "a bad value exits 2 naming file:line:column" sh -c "[ $rc -eq 2 ] && grep -q 'bad2.yaml:2:23: limits.max_unpacked_bytes' '$WORK/bad2.err'"
"$CODEGEND" --once >/dev/null 2>&1
check "no spool is a usage error (exit 2)" test $? -eq 2
"$CODEGEND" --bogus >/dev/null 2>&1
check "an unknown flag is a usage error (exit 2)" test $? -eq 2

finish
