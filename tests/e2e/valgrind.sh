#!/bin/sh
# valgrind.sh - the reference job through the daemon under valgrind, children included:
# no invalid access, no uninitialised use, no leak. (Skipped in the sanitizer build:
# valgrind and AddressSanitizer do not mix.)
. "$(dirname "$0")/lib.sh"

if [ -n "${SANITIZERS:-}" ] || ! command -v valgrind >/dev/null 2>&1; then
        echo "1..0 # SKIP sanitizer build or no valgrind"
        exit 0
fi
sp=$(new_spool vg)
cp -r "$REF" "$sp/inbox/taskmanager"
valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect,possible \
        --errors-for-leak-kinds=definite,indirect,possible --trace-children=yes \
        --child-silent-after-fork=no --log-file="$WORK/vg.%p.log" \
        "$CODEGEND" --spool "$sp" --once --workers 2 >"$sp.out" 2>"$sp.err"
RC=$?
check "the reference job succeeds under valgrind" sh -c "[ $RC -eq 0 ] && test -s '$sp/outbox/taskmanager.metrics.yaml'"
# valgrind 3.19 does not know pidfd_open (434); sd-event then falls back to waitid()
cat "$WORK"/vg.*.log 2>/dev/null | grep -v -e 'unhandled amd64-linux syscall: 434' \
        -e 'You may be able to write your own handler' -e 'README_MISSING_SYSCALL_OR_IOCTL' \
        -e 'Nevertheless we consider this a bug' -e 'valgrind.org/support/bug_reports' > "$WORK/vg.all"
check "valgrind reports nothing in the daemon or any worker" sh -c "! test -s '$WORK/vg.all'"
[ -s "$WORK/vg.all" ] && head -60 "$WORK/vg.all" | diag
finish
