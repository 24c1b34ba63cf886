#!/bin/sh
# fuzz-replay.sh - replays every input in tests/fuzz/regress/TARGET/ (what the fuzzers once
# found, and hand-written hostile inputs) through TARGET's harness built without libFuzzer
# (tests/fuzz/replay-TARGET), so a fixed crash stays fixed in every `make check`.
. "$top_srcdir/tests/e2e/lib.sh"
for t in yaml json spec unpack template; do
        prog="$top_builddir/tests/fuzz/replay-$t"
        for f in "$top_srcdir/tests/fuzz/regress/$t"/*; do
                [ -f "$f" ] || continue
                check "replay-$t $(basename "$f")" "$prog" "$f"
        done
done
finish
