#!/bin/sh
# observe.sh - what an operator's monitoring sees: the metrics_textfile in Prometheus text
# format (checked by a strict parser below: every sample belongs to a declared family of
# its type, names and labels are well-formed, histograms are cumulative and end in +Inf
# = _count), its figures after a succeeded, a failed and a cancelled job; the one log line
# per job end; and the journal's structured fields (a private /run with a python3
# listener on the journal's socket, where unshare(1) may mount one).
. "$(dirname "$0")/lib.sh"
: "${CODEGENCTL:?run through make check}"

PROM="$WORK/codegend.prom"
# prom_check FILE PY-EXPR: parses FILE strictly; PY-EXPR over `s` (a dict from
# 'name{label="v",...}' with labels sorted, to float) must be true
prom_check() {
        "$PY" - "$@" <<'PYEOF'
import math, re, sys
path, expr = sys.argv[1], sys.argv[2]
NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"'
types, helps, s = {}, {}, {}
def fail(msg):
    print("%s: %s" % (path, msg)); print(open(path).read()); sys.exit(1)
text = open(path).read()
if not text.endswith("\n"):
    fail("no final newline")
for n, line in enumerate(text.split("\n")[:-1], 1):
    if line.startswith("# HELP "):
        m = re.fullmatch(r"# HELP (%s) (.*)" % NAME, line) or fail("line %d: bad HELP" % n)
        if m.group(1) in helps: fail("line %d: second HELP for %s" % (n, m.group(1)))
        helps[m.group(1)] = m.group(2); continue
    if line.startswith("# TYPE "):
        m = re.fullmatch(r"# TYPE (%s) (counter|gauge|histogram|summary|untyped)" % NAME, line) or fail("line %d: bad TYPE" % n)
        if m.group(1) in types: fail("line %d: second TYPE for %s" % (n, m.group(1)))
        types[m.group(1)] = m.group(2); continue
    if line.startswith("#") or not line.strip():
        fail("line %d: unexpected comment or blank line" % n)
    m = re.fullmatch(r"(%s)(\{(.*)\})? (\S+)" % NAME, line) or fail("line %d: bad sample %r" % (n, line))
    name, labels = m.group(1), m.group(3) or ""
    pairs = []
    while labels:
        lm = re.match(LABEL + r"(,|$)", labels) or fail("line %d: bad labels %r" % (n, labels))
        pairs.append((lm.group(1), lm.group(2))); labels = labels[lm.end():]
    try: value = float(m.group(4))
    except ValueError: fail("line %d: bad value" % n)
    family = re.sub(r"_(bucket|sum|count)$", "", name) if re.sub(r"_(bucket|sum|count)$", "", name) in types and types[re.sub(r"_(bucket|sum|count)$", "", name)] == "histogram" else name
    if family not in types: fail("line %d: %s has no TYPE" % (n, name))
    if types[family] == "counter" and (value < 0 or not name.endswith("_total")): fail("line %d: bad counter %s" % (n, name))
    key = name + ("{" + ",".join('%s="%s"' % p for p in sorted(pairs)) + "}" if pairs else "")
    if key in s: fail("line %d: duplicate sample %s" % (n, key))
    s[key] = value
for fam, t in types.items():
    if fam not in helps: fail("%s has no HELP" % fam)
    if t == "histogram":
        b = sorted(((float(k.split('le="')[1].split('"')[0]), v) for k, v in s.items() if k.startswith(fam + "_bucket{")))
        if not b or not math.isinf(b[-1][0]): fail("%s: no +Inf bucket" % fam)
        if any(b[i][1] > b[i + 1][1] for i in range(len(b) - 1)): fail("%s: buckets not cumulative" % fam)
        if b[-1][1] != s.get(fam + "_count"): fail("%s: +Inf bucket != _count" % fam)
if not eval(expr):
    fail("expression false: " + expr)
PYEOF
}

printf 'rescan_interval: 3600\nsettle_time: 0\nmetrics_textfile: %s\n' "$PROM" > "$WORK/cfg.yaml"
sp=$(new_spool obs)
start_daemon "$sp" "$WORK/cfg.yaml" CODEGEND_FAULT_INJECT=readme=hang
check "the textfile exists from the start and parses, all zero" prom_check "$PROM" \
        "s['codegend_jobs_total{status=\"succeeded\"}'] == 0 and s['codegend_build_info{version=\"$("$CODEGEND" --version | cut -d' ' -f2)\"}'] == 1"
mkdir -p "$WORK/src" && cp -r "$REF" "$WORK/src/hangs" && printf 'format: 1\nname: Bad Name\n' > "$WORK/src/bad.job.yaml"
"$CODEGENCTL" --spool "$sp" submit "$WORK/src/hangs" "$WORK/src/bad.job.yaml" >/dev/null
"$CODEGENCTL" --spool "$sp" wait bad --timeout 60 >/dev/null
wait_for "grep -q 'hangs: atom readme started' '$sp.err' || pgrep -P $DAEMON_PID >/dev/null" 100
"$CODEGENCTL" --spool "$sp" cancel hangs --timeout 30 >/dev/null
stop_daemon
check "a failed job's end line names its stage" grep -Eq 'bad: failed at (intake|validation) \([0-9]+ errors\) after' "$sp.err"
check "a cancelled job's end line says so" grep -q 'hangs: cancelled after' "$sp.err"
start_daemon "$sp" "$WORK/cfg.yaml"
cp -r "$REF" "$WORK/src/good"
"$CODEGENCTL" --spool "$sp" submit "$WORK/src/good" >/dev/null
check "a job succeeds" "$CODEGENCTL" --spool "$sp" wait good --timeout 60
wait_for "grep -q 'status=\"succeeded\"} 1' '$PROM'" 30
# the cancelled job's finished atoms are in the atom cache: the textfile counts the hits the
# report names
HITS=$(yq "$sp/outbox/good.metrics.yaml" "d['api']['cache_hits']")
check "after it the textfile counts the job, its 50 atoms ok, 0 model calls, its cache hits and its duration" prom_check "$PROM" \
        "s['codegend_jobs_total{status=\"succeeded\"}'] == 1 and s['codegend_atoms_total{backend=\"pattern\",status=\"ok\"}'] == 50 and s['codegend_model_calls_total{backend=\"pattern\"}'] == 0 and s['codegend_job_duration_seconds_count'] == 1 and s['codegend_job_duration_seconds_sum'] > 0 and s['codegend_queue_depth'] == 0 and s['codegend_cache_hits_total'] == $HITS"
check "the job end line carries its figures" \
        grep -Eq 'good: succeeded in [0-9.]+ s, 50/50 atoms ok, [0-9]+ files, [0-9]+ LOC, backend pattern, 0 model calls, 0 tokens' "$sp.err"
stop_daemon
check "no temporary textfile is left beside it" sh -c "[ -z \"\$(ls -A '$WORK' | grep '^\\.codegend.prom')\" ]"
# one daemon run counts from its start: the failed and cancelled jobs were counted by the first
printf 'rescan_interval: 3600\nsettle_time: 0\nmetrics_textfile: %s\n' "$WORK/first.prom" > "$WORK/cfg1.yaml"
sp=$(new_spool obs2)
cp -r "$REF" "$WORK/src/c2" && cp "$WORK/src/bad.job.yaml" "$WORK/src/bad2.job.yaml"
"$CODEGENCTL" --spool "$sp" submit "$WORK/src/c2" "$WORK/src/bad2.job.yaml" >/dev/null
run_once "$sp" --config "$WORK/cfg1.yaml"
check "--once counts a succeeded and a failed job" prom_check "$WORK/first.prom" \
        "s['codegend_jobs_total{status=\"succeeded\"}'] == 1 and s['codegend_jobs_total{status=\"failed\"}'] == 1 and s['codegend_job_duration_seconds_count'] == 2"

# --- the journal: structured fields, when a private /run can be mounted
JLOG="$WORK/journal.log"
cat > "$WORK/journal.sh" <<EOF
mount -t tmpfs tmpfs /run && mkdir -p /run/systemd/journal || exit 77
"$PY" - <<'PYEOF' &
import socket
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/run/systemd/journal/socket")
with open("$JLOG", "a") as log:
    while True:
        log.write(s.recv(65536).decode() + "--\n"); log.flush()
PYEOF
L=\$!
n=0; while [ ! -S /run/systemd/journal/socket ] && [ \$n -lt 50 ]; do sleep 0.1; n=\$((n + 1)); done
mkdir -p "$WORK/jsp/inbox" && cp -r "$REF" "$WORK/jsp/inbox/journaled"
"$CODEGEND" --spool "$WORK/jsp" --once --log-target journal >"$WORK/jsp.out" 2>"$WORK/jsp.err"
rc=\$?
sleep 0.3; kill \$L
exit \$rc
EOF
if unshare --mount --propagation private true 2>/dev/null; then
        unshare --mount --propagation private sh "$WORK/journal.sh"
        check "--log-target journal: the daemon ran (exit 0)" test $? -eq 0
        check "the journal received the job end with CODEGEN_JOB=, CODEGEN_STAGE=, PRIORITY=" "$PY" -c "
import sys
msgs = [dict(l.split('=', 1) for l in m.strip().split('\n') if '=' in l) for m in open('$JLOG').read().split('--\n') if m.strip()]
end = [m for m in msgs if m.get('MESSAGE', '').startswith('journaled: succeeded in')]
assert end and end[0].get('CODEGEN_JOB') == 'journaled' and end[0].get('CODEGEN_STAGE') == 'published' and end[0].get('PRIORITY') == '6' and end[0].get('SYSLOG_IDENTIFIER') == 'codegend', msgs[-3:]
"
        check "nothing went to stderr instead" test ! -s "$WORK/jsp.err"
else
        echo "ok $((TAP_N + 1)) # SKIP unshare cannot mount a private /run here"; TAP_N=$((TAP_N + 1))
fi

finish
