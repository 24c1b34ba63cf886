#!/bin/sh
# ctl.sh - codegenctl round trips against the real daemon on a temporary spool: submit
# (directory, archive, refused names), wait (0/1/2), list --json and status --json parsed
# by python3's json, cancel of a queued and of a running job, a cancel request that waits
# for a stopped daemon, retry, and the spool from the configuration's `spool:` key.
. "$(dirname "$0")/lib.sh"
: "${CODEGENCTL:?run through make check}"

ctl() { "$CODEGENCTL" --spool "$sp" "$@"; }
# jq_true FILE EXPR: a Python expression over the JSON document `d` is true
jq_true() {
        if [ "$("$PY" -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2" 2>&1)" = True ]; then
                return 0
        fi
        echo "expression failed: $2"; cat "$1"; return 1
}
printf 'rescan_interval: 3600\nsettle_time: 0\n' > "$WORK/cfg.yaml"

sp=$(new_spool ctl)
mkdir -p "$WORK/src" && cp -r "$REF" "$WORK/src/alpha"
(cd "$REF/.." && tar -czf "$WORK/src/beta.tar.gz" taskmanager)

# --- with no daemon running: submit queues, cancel withdraws
check "submit of a directory exits 0" ctl submit "$WORK/src/alpha/"
check "the bundle is in the inbox under its name, complete" cmp -s "$REF/spec.yaml" "$sp/inbox/alpha/spec.yaml"
check "no temporary name is left in the inbox" sh -c "[ -z \"\$(ls -A '$sp/inbox' | grep '^\\.')\" ]"
check "the copy's directories are group-writable and setgid (the daemon's group moves them)" \
        sh -c "[ \"\$(stat -c %a '$sp/inbox/alpha')\" = 2770 ]"
check "status of a queued job says queued" sh -c "'$CODEGENCTL' --spool '$sp' status alpha | grep -q '^state: *queued'"
check "a second submit of a queued directory is refused (exit 1)" sh -c "
        '$CODEGENCTL' --spool '$sp' submit '$WORK/src/alpha' 2>'$WORK/dup.err'; [ \$? -eq 1 ] && grep -q 'already queued' '$WORK/dup.err'"
echo junk > "$WORK/src/notes.txt"
check "a path that is no bundle form is refused (exit 1)" sh -c "
        '$CODEGENCTL' --spool '$sp' submit '$WORK/src/notes.txt' 2>/dev/null; [ \$? -eq 1 ] && [ ! -e '$sp/inbox/notes.txt' ]"
mkdir -p "$WORK/src/linked" && cp "$REF/spec.yaml" "$WORK/src/linked/" && ln -s /etc/passwd "$WORK/src/linked/dag.json"
check "a directory with a symbolic link is refused and leaves nothing behind" sh -c "
        '$CODEGENCTL' --spool '$sp' submit '$WORK/src/linked' 2>/dev/null; [ \$? -eq 1 ] && [ -z \"\$(ls -A '$sp/inbox' | grep linked)\" ]"
check "cancel of a queued job exits 0" ctl cancel alpha
check "it is gone from the inbox, with no hidden leftovers" sh -c "[ -z \"\$(ls -A '$sp/inbox')\" ]"
check "status of an unknown job exits 1" sh -c "'$CODEGENCTL' --spool '$sp' status alpha 2>/dev/null; [ \$? -eq 1 ]"
check "a usage error exits 64" sh -c "'$CODEGENCTL' --spool '$sp' frobnicate 2>/dev/null; [ \$? -eq 64 ]"
mkdir "$sp/inbox/upload.crdownload" "$sp/inbox/old.error.yaml"
check "list leaves out what the daemon leaves alone or refuses (an upload's name, a report's name)" sh -c "
        '$CODEGENCTL' --spool '$sp' list >'$WORK/odd.out' && ! grep -Eq 'crdownload|error.yaml' '$WORK/odd.out'"
rmdir "$sp/inbox/upload.crdownload" "$sp/inbox/old.error.yaml"
printf 'spool: %s\n' "$sp" > "$WORK/with-spool.yaml"
check "the spool comes from the configuration's spool: key" \
        "$CODEGENCTL" --config "$WORK/with-spool.yaml" list

# --- submit, wait, list, status against the daemon
start_daemon "$sp" "$WORK/cfg.yaml"
check "submit of a directory and an archive in one call" ctl submit "$WORK/src/alpha" "$WORK/src/beta.tar.gz"
check "wait for both exits 0" ctl wait alpha beta --timeout 60
ctl --json list > "$WORK/list.json"
check "list --json is JSON with both jobs done, with their report times" jq_true "$WORK/list.json" \
        "sorted(j['name'] for j in d['jobs'] if j['state'] == 'done') == ['alpha', 'beta'] and all(j['started_at'] and j['finished_at'] and j['duration_s'] > 0 for j in d['jobs'])"
ctl status beta --json > "$WORK/status.json"
check "status --json names the report" jq_true "$WORK/status.json" \
        "d['state'] == 'done' and d['path'].endswith('outbox/beta.metrics.yaml') and d['stage'] is None"
printf 'format: 1\nname: Bad Name\n' > "$WORK/bad.job.yaml"
check "submit of a single-file bundle" ctl submit "$WORK/bad.job.yaml"
check "wait for a job that fails exits 1" sh -c "'$CODEGENCTL' --spool '$sp' wait bad --timeout 60 >/dev/null; [ \$? -eq 1 ]"
check "list shows it failed at validation or intake" sh -c "'$CODEGENCTL' --spool '$sp' list | grep -Eq '^failed +bad .*(intake|validation)'"
check "wait for an unknown job exits 1" sh -c "'$CODEGENCTL' --spool '$sp' wait nosuch --timeout 5 2>/dev/null; [ \$? -eq 1 ]"
stop_daemon

# --- a running job: wait times out, cancel stops it, retry runs it again
start_daemon "$sp" "$WORK/cfg.yaml" CODEGEND_FAULT_INJECT=readme=hang
cp -r "$REF" "$WORK/src/gamma"
check "submit gamma (its readme atom hangs)" ctl submit "$WORK/src/gamma"
check "it is running" wait_for "'$CODEGENCTL' --spool '$sp' status gamma | grep -q '^state: *running'" 100
check "wait --timeout 1 on a running job exits 2" sh -c "'$CODEGENCTL' --spool '$sp' wait gamma --timeout 1 >/dev/null 2>&1; [ \$? -eq 2 ]"
check "cancel of the running job exits 0" ctl cancel gamma --timeout 30
check "it ended in failed/ with stage cancelled and its bundle kept" sh -c "
        test -d '$sp/failed/gamma' && grep -q '^stage: cancelled' '$sp/failed/gamma.error.yaml'"
check "the daemon has no worker left running" wait_for "! pgrep -P $DAEMON_PID >/dev/null" 50
check "the cancel request was consumed" sh -c "[ -z \"\$(ls -A '$sp/.codegend/cancel')\" ]"
check "a finished job cannot be cancelled (exit 1)" sh -c "'$CODEGENCTL' --spool '$sp' cancel alpha 2>/dev/null; [ \$? -eq 1 ]"
stop_daemon
start_daemon "$sp" "$WORK/cfg.yaml"
check "retry puts the cancelled bundle back into the inbox" ctl retry gamma
check "the old error report is gone" test ! -e "$sp/failed/gamma.error.yaml"
check "the retried job succeeds" ctl wait gamma --timeout 60
check "retry of a job that did not fail exits 1" sh -c "'$CODEGENCTL' --spool '$sp' retry gamma 2>/dev/null; [ \$? -eq 1 ]"
stop_daemon

# --- a cancel request written while no daemon runs is acted on at its next start
start_daemon "$sp" "$WORK/cfg.yaml" CODEGEND_FAULT_INJECT=readme=hang
cp -r "$REF" "$WORK/src/delta"
ctl submit "$WORK/src/delta" >/dev/null
check "delta is running" wait_for "'$CODEGENCTL' --spool '$sp' status delta | grep -q '^state: *running'" 100
kill -KILL "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null; DAEMON_PID=
wait_for "! pgrep -f '^$CODEGEND --spool $sp ' >/dev/null" 50
check "cancel with no daemon times out (exit 2) and leaves the request" sh -c "
        '$CODEGENCTL' --spool '$sp' cancel delta --timeout 1 >/dev/null 2>&1; [ \$? -eq 2 ] && test -e '$sp/.codegend/cancel/delta'"
start_daemon "$sp" "$WORK/cfg.yaml" CODEGEND_FAULT_INJECT=readme=hang
check "the next start cancels the resumed job" wait_for "grep -q '^stage: cancelled' '$sp/failed/delta.error.yaml'" 100
stop_daemon

finish
