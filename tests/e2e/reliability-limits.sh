#!/bin/sh
# reliability-limits.sh - the workers' resource limits (limits.worker_cpu_seconds,
# worker_memory, worker_output_bytes): a worker that burns CPU, allocates without end or
# writes without end is stopped by its limit, and the job's report names the limit.
. "$(dirname "$0")/lib.sh"

# limit_case FAULT CONFIG-LINE EXPECTED-MESSAGE
limit_case() {
        sp=$(new_spool "limit-$1")
        cp -r "$REF" "$sp/inbox/$1"
        printf 'atom_timeout: 120\nlimits:\n  %s\n' "$2" > "$WORK/$1.yaml"
        start=$(date +%s)
        CODEGEND_FAULT_INJECT="model_user=$1" run_once "$sp" --config "$WORK/$1.yaml"
        took=$(($(date +%s) - start))
        check "$1: the job fails (exit $RC) within its limit, not the atom timeout (${took}s)" \
                sh -c "[ $RC -eq 1 ] && [ $took -lt 60 ]"
        check "$1: the report names the limit" has_error "$sp/failed/$1.error.yaml" "$3"
}
limit_case spin "worker_cpu_seconds: 1" "exceeded its CPU time limit of 1 s (limits.worker_cpu_seconds)"
limit_case bigout "worker_output_bytes: 1M" "exceeded its output size limit of 1048576 bytes (limits.worker_output_bytes)"
if [ -n "${SANITIZERS:-}" ]; then
        ok "# SKIP eatmem: address-space limits are not applied under AddressSanitizer"
else
        limit_case eatmem "worker_memory: 256M" "out of memory (limits.worker_memory: 268435456 bytes)"
fi
# the defaults let the reference job through
sp=$(new_spool limit-defaults)
cp -r "$REF" "$sp/inbox/ref"
run_once "$sp"
check "the default limits let the reference job succeed" sh -c "[ $RC -eq 0 ] && test -s '$sp/outbox/ref.metrics.yaml'"
printf 'limits:\n  worker_memory: lots\n' > "$WORK/bad-limit.yaml"
"$CODEGEND" --spool "$WORK/unused" --config "$WORK/bad-limit.yaml" --once >/dev/null 2>"$WORK/bad-limit.err"
rc=$?
check "a bad limit value exits 2 naming file:line:column" sh -c "[ $rc -eq 2 ] && grep -q 'bad-limit.yaml:2:18: limits.worker_memory' '$WORK/bad-limit.err'"

finish
