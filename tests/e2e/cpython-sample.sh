#!/bin/sh
# cpython-sample.sh - `codegend analyze` against CPython's compile() on a fixed sample of
# Debian's python3.11 standard library and seeded damage of it (tests/cpython-diff.py:
# 150 files, 2 damaged copies each, seed 14): no false positive beyond the known ones,
# false negatives at most 3%. `make check-cpython` runs the whole library.
here=$(cd "$(dirname "$0")/.." && pwd)
CODEGEND=${CODEGEND:-${top_builddir:-$here/..}/src/codegend}
export CODEGEND
[ -x /usr/bin/python3 ] || { echo "1..0 # SKIP no /usr/bin/python3"; exit 0; }
exec /usr/bin/python3 "${top_srcdir:-$here/..}/tests/cpython-diff.py" --sample 150 --mutants 2 --seed 14 \
        --max-fn-rate 0.03
