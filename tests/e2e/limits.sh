#!/bin/sh
# limits.sh - every configured limit (bundle size, archive entries, unpacked size,
# document bytes, atoms) at limit - 1, at the limit and at limit + 1, in every bundle form
# it applies to (directory, tar, tar.gz, tar.xz, zip, single file). The cases are
# generated at test time by limits.py (one folder per case: config, inbox, expectation).
# LIMITS_ONLY=max_atoms (a prefix of the case names) runs only some (make mutants uses it).
. "$(dirname "$0")/lib.sh"

"$PY" "$top_srcdir/tests/e2e/limits.py" "$WORK/cases" > "$WORK/case-list" || { not_ok "generating the cases"; finish; exit 1; }
check "the table has a case for every limit at -1, 0 and +1 ($(wc -l < "$WORK/case-list") cases)" \
        sh -c "for l in max_archive_entries max_bundle_bytes max_unpacked_bytes max_document_bytes max_atoms; do
                for p in below at above; do grep -q \"^\$l-.*-\$p\\\$\" '$WORK/case-list' || exit 1; done; done"

# the cases are independent spools: four daemons at a time, then the checks in order
n=0
while read -r c; do
        case $c in "${LIMITS_ONLY:-}"*) ;; *) continue ;; esac
        d="$WORK/cases/$c"
        ( run_once "$d" --config "$d/config.yaml"; echo "$RC" > "$d.rc" ) &
        n=$((n + 1)); [ $((n % 4)) -eq 0 ] && wait
done < "$WORK/case-list"
wait

while read -r c; do
        case $c in "${LIMITS_ONLY:-}"*) ;; *) continue ;; esac
        d="$WORK/cases/$c"
        name=$c # limits.py names each bundle after its case
        expect=$(cat "$d/expect")
        RC=$(cat "$d.rc")
        if [ "$expect" = ok ]; then
                check "$c: accepted, the job succeeds" sh -c "
                        [ $RC -eq 0 ] && test -s '$d/outbox/$name.metrics.yaml' -a -s '$d/outbox/$name.tar.gz' ||
                        { cat '$d.err' '$d/failed/$name.error.yaml'; exit 1; }"
        else
                check "$c: refused at intake: $expect" sh -c "
                        [ $RC -eq 1 ] && test ! -e '$d/outbox/$name.metrics.yaml'" &&
                check "$c: the error report says so" has_error "$d/failed/$name.error.yaml" "$expect"
        fi
done < "$WORK/case-list"

finish
