#!/bin/sh
# reliability-crash.sh - crash safety: the daemon is killed with SIGKILL at CRASH_KILLS
# (default 50; `make check-crash` runs 300) random moments while jobs of every form (and
# bad ones) go through intake, unpacking, generation, packing, publication and cleanup,
# and restarted each time; some jobs are dropped while it runs. At the end every job has
# ended exactly once, in outbox/ (a report whose SHA-256 matches its tarball) or in
# failed/ (its report and its bundle), no temporary file survives, the state area and the
# inbox are empty, and the count is exact.
. "$(dirname "$0")/lib.sh"

KILLS=${CRASH_KILLS:-50}
sp=$(new_spool crash)
crash=$sp # run_once sets sp
printf 'rescan_interval: 1\nsettle_time: 0\nworkers: 2\n' > "$WORK/crash.yaml"
mkdir -p "$WORK/stage"
(cd "$REF/.." && tar -czf "$WORK/tm.tar.gz" taskmanager)
"$PY" - "$REF" "$WORK/single.job.yaml" <<'PYEOF'
import json, sys, yaml
ref, out = sys.argv[1], sys.argv[2]
spec = yaml.safe_load(open(ref + "/spec.yaml"))
dag = json.load(open(ref + "/dag.json"))
yaml.safe_dump({"spec": spec, "dag": dag}, open(out, "w"))
PYEOF
bad_spec='spec: {format: 1, name: x, entities: []}'

# drop NAME KIND: a job into the inbox (atomically, as a well-behaved writer does)
GOOD= BAD=
drop() {
        case $2 in
        dir) cp -r "$REF" "$WORK/stage/$1" && mv "$WORK/stage/$1" "$sp/inbox/$1" ;;
        dir2) cp -r "$REF" "$WORK/stage/$1" && sed -i 's/^title: .*/title: Task Manager API, second edition/' "$WORK/stage/$1/spec.yaml" &&
                mv "$WORK/stage/$1" "$sp/inbox/$1" ;;
        tar) cp "$WORK/tm.tar.gz" "$WORK/stage/$1.tar.gz" && mv "$WORK/stage/$1.tar.gz" "$sp/inbox/" ;;
        single) cp "$WORK/single.job.yaml" "$WORK/stage/$1.job.yaml" && mv "$WORK/stage/$1.job.yaml" "$sp/inbox/" ;;
        bad) echo "$bad_spec" > "$WORK/stage/$1.job.yaml" && mv "$WORK/stage/$1.job.yaml" "$sp/inbox/" ;;
        badtar) mkdir -p "$WORK/stage/b/$1" && echo 'format: 1' > "$WORK/stage/b/$1/spec.yaml" &&
                (cd "$WORK/stage/b" && tar -czf "$WORK/stage/$1.tar.gz" "$1") && mv "$WORK/stage/$1.tar.gz" "$sp/inbox/" ;;
        esac
        case " $GOOD $BAD " in *" $1 "*) return ;; esac # a new edition of a job: counted once
        case $2 in bad|badtar) BAD="$BAD $1" ;; *) GOOD="$GOOD $1" ;; esac
}
drop d1 dir; drop t1 tar; drop s1 single; drop x1 bad; drop y1 badtar

# --- a targeted kill first: the moment a new edition's tarball replaces the old one
w=$(new_spool window)
cp -r "$REF" "$w/inbox/w"
run_once "$w"
v1=$(sha256sum "$w/outbox/w.tar.gz" | cut -d' ' -f1)
cp -r "$REF" "$WORK/stage/w" && sed -i 's/^title: .*/title: Second edition/' "$WORK/stage/w/spec.yaml" && mv "$WORK/stage/w" "$w/inbox/w"
CODEGEND_FAULT_INJECT=@publish=slow "$CODEGEND" --spool "$w" --once >"$w.out" 2>"$w.err" &
DAEMON_PID=$!
n=0
while [ "$(sha256sum "$w/outbox/w.tar.gz" 2>/dev/null | cut -d' ' -f1)" = "$v1" ] && [ $n -lt 3000 ]; do sleep 0.01; n=$((n + 1)); done
kill -KILL "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null; DAEMON_PID=
check "killed as the new tarball replaced the old one: no report names the old tarball" sh -c "
        ! test -e '$w/outbox/w.metrics.yaml' ||
        [ \"\$(sha256sum '$w/outbox/w.tar.gz' | cut -d' ' -f1)\" = \"\$('$PY' -c \"import yaml; print(yaml.safe_load(open('$w/outbox/w.metrics.yaml'))['tarball']['sha256'])\")\" ]"
run_once "$w"
check "the next start publishes the second edition with its report" sh -c "
        tar -xzOf '$w/outbox/w.tar.gz' taskmanager/.codegen/spec.yaml | grep -q 'Second edition' &&
        [ \"\$(sha256sum '$w/outbox/w.tar.gz' | cut -d' ' -f1)\" = \"\$('$PY' -c \"import yaml; print(yaml.safe_load(open('$w/outbox/w.metrics.yaml'))['tarball']['sha256'])\")\" ]"

# --- random kills
sp=$crash
# random_sleep SEED: most runs are short (intake, generation), some long enough for jobs to
# reach packing, publication and cleanup
random_sleep() {
        awk -v s="$1" 'BEGIN { srand(s); r = rand(); printf "%.2f", r < 0.8 ? 0.05 + rand() * 0.5 : 1 + rand() * 1.5 }'
}
phases=
tmps=0
: > "$WORK/mismatch"
seed=$$
i=0
while [ $i -lt "$KILLS" ]; do
        i=$((i + 1))
        # @publish=slow: 150 ms between the steps of claims, publications and failures,
        # so that kills land between them too
        CODEGEND_FAULT_INJECT=@publish=slow "$CODEGEND" --spool "$sp" --config "$WORK/crash.yaml" >>"$sp.out" 2>>"$sp.err" &
        DAEMON_PID=$!
        sleep "$(random_sleep $((seed + i)))"
        # what was going on at the moment of the kill (the latest phase of any job)
        p=idle
        [ -n "$(ls -A "$sp/inbox")" ] && p=intake
        ls -d "$sp/.codegend/jobs/"*/scratch/* >/dev/null 2>&1 && p=unpack
        ls "$sp/.codegend/jobs/"*/results/*.yaml >/dev/null 2>&1 && p=generation
        ls -d "$sp/.codegend/jobs/"*/project/* >/dev/null 2>&1 && p=packing
        ls "$sp/.codegend/jobs/"*/out/* >/dev/null 2>&1 && p=publication
        ls "$sp/outbox/".*.tmp "$sp/failed/".*.tmp >/dev/null 2>&1 && p=publication-tmp
        [ "$p" = publication-tmp ] && tmps=$((tmps + 1))
        kill -KILL "$DAEMON_PID" 2>/dev/null
        wait "$DAEMON_PID" 2>/dev/null
        DAEMON_PID=
        phases="$phases $p"
        # at every moment, a present report names the tarball beside it
        "$PY" - "$sp/outbox" >>"$WORK/mismatch" <<'PYEOF'
import glob, hashlib, sys, yaml
for rep in glob.glob(sys.argv[1] + "/*.metrics.yaml"):
    tar = rep[:-len(".metrics.yaml")] + ".tar.gz"
    want = yaml.safe_load(open(rep))["tarball"]["sha256"]
    try:
        got = hashlib.sha256(open(tar, "rb").read()).hexdigest()
    except FileNotFoundError:
        got = None
    if got != want:
        print("%s: report names %s, tarball is %s" % (rep, want, got))
PYEOF
        # more jobs arrive while the daemon comes and goes
        # (at the same fractions of the run whatever CRASH_KILLS is: 5, 15, 20, 30 of 50)
        case $i in
        $((KILLS / 10))) drop d2 dir; drop t2 tar ;;
        $((KILLS * 3 / 10))) drop s2 single ;;
        # new editions of d1 and t1 (another tarball under the same name): a report must
        # never name the tarball it replaces
        $((KILLS * 2 / 5))) drop d1 dir2 ;;
        $((KILLS * 3 / 5))) drop t1 dir2 ;;
        esac
        # its children die with it (PR_SET_PDEATHSIG); wait until they are gone
        n=0
        while pgrep -f "^$CODEGEND --spool $sp " >/dev/null && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
done
echo "$phases" | tr ' ' '\n' | sed '/^$/d' | sort | uniq -c | sed 's/^/# kills during /'
early=$(ls "$sp/outbox/"*.metrics.yaml "$sp/failed/"*.error.yaml 2>/dev/null | wc -l)
echo "# $early of the jobs had ended before the last start; the rest end in it"
check "jobs ended between kills too, not only in the last start ($early)" test "$early" -gt 0

check "after every one of the $KILLS kills, every present report matched its tarball" sh -c "! test -s '$WORK/mismatch' || { cat '$WORK/mismatch'; false; }"
echo "# $tmps kills left a temporary file in outbox/ or failed/"

# the last start finishes everything
run_once "$sp" --config "$WORK/crash.yaml"
check "the last start ends (exit $RC: 1 because bad jobs failed)" test "$RC" -le 1

check "d1 and t1: the second editions stand" sh -c "
        tar -xzOf '$sp/outbox/d1.tar.gz' taskmanager/.codegen/spec.yaml | grep -q 'second edition' &&
        tar -xzOf '$sp/outbox/t1.tar.gz' taskmanager/.codegen/spec.yaml | grep -q 'second edition'"
for n in $GOOD; do
        check "$n: published exactly once, its report matches its tarball" sh -c "
                test -s '$sp/outbox/$n.tar.gz' && test -s '$sp/outbox/$n.metrics.yaml' &&
                [ \"\$(sha256sum '$sp/outbox/$n.tar.gz' | cut -d' ' -f1)\" = \
                  \"\$('$PY' -c \"import yaml; print(yaml.safe_load(open('$sp/outbox/$n.metrics.yaml'))['tarball']['sha256'])\")\" ] &&
                ! test -e '$sp/failed/$n.error.yaml'"
done
for n in $BAD; do
        check "$n: failed exactly once, with its report and its bundle" sh -c "
                test -s '$sp/failed/$n.error.yaml' && ls '$sp/failed/' | grep -qx '$n\\.\\(job\\.yaml\\|tar\\.gz\\)' &&
                ! test -e '$sp/outbox/$n.tar.gz'"
done
ngood=$(echo $GOOD | wc -w) nbad=$(echo $BAD | wc -w)
check "the count is exact: $ngood reports + $ngood tarballs in outbox/, $nbad reports + $nbad bundles in failed/" sh -c "
        [ \$(ls '$sp/outbox' | wc -l) -eq $((2 * ngood)) ] && [ \$(ls '$sp/failed' | wc -l) -eq $((2 * nbad)) ]"
check "no temporary file survives anywhere in the spool" sh -c "[ -z \"\$(find '$sp' -name '*.tmp')\" ]"
check "the state area and the inbox are empty" sh -c "
        [ -z \"\$(ls -A '$sp/.codegend/jobs')\" ] && [ -z \"\$(ls -A '$sp/inbox')\" ]"
check "outbox/ holds only complete files (no partial tarball)" sh -c "
        for t in '$sp'/outbox/*.tar.gz; do gzip -t \"\$t\" || exit 1; done"

finish
