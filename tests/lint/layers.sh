#!/bin/bash
# layers.sh - the source tree's layering (docs/architecture.md): a file may include headers
# of its own folder and of the folders its layer may use, never of a folder above it.
# One TAP result per folder; a failure lists each offending `#include` with file:line.
set -u
: "${top_srcdir:?run through make check}"
cd "$top_srcdir/src" || exit 1

# folder -> the folders it may include from (its own is always allowed)
declare -A may=(
        [shared]=""
        [format]="shared"
        [bundle]="format shared"
        [analysis]="format shared"
        [backend]="format analysis shared"
        [backend/pattern]="backend format analysis shared"
        [backend/model]="backend format analysis shared"
        [backend/hybrid]="backend backend/pattern backend/model format analysis shared"
        [output]="backend format analysis shared"
        [daemon]="output backend backend/pattern backend/model backend/hybrid bundle analysis format shared"
        [ctl]="format shared"
)

n=0
failed=0
for dir in $(find . -name '*.[ch]' -printf '%h\n' | sed 's|^\./||' | sort -u); do
        n=$((n + 1))
        allowed=" $dir ${may[$dir]-__unknown__} "
        bad=""
        for f in "$dir"/*.[ch]; do
                while IFS=: read -r line inc; do
                        case "$inc" in */*) ;; *) continue ;; esac   # same folder, or config.h
                        folder=${inc%/*}
                        case "$allowed" in *" $folder "*) ;; *) bad="$bad
$f:$line: includes $inc (${dir} may use: ${may[$dir]-nothing: folder not in the layer table})" ;; esac
                done < <(awk -F'"' '/^[ \t]*#[ \t]*include[ \t]*"/ {print FNR ":" $2}' "$f")
        done
        if [ -z "$bad" ]; then echo "ok $n - src/$dir includes only from its own layer and below"
        else failed=$((failed + 1)); echo "not ok $n - src/$dir includes from above"; printf '%s\n' "$bad" | sed '/^$/d; s/^/# /'; fi
done
echo "1..$n"
[ "$failed" -eq 0 ]
