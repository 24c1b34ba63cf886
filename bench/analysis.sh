#!/bin/sh
# analysis.sh - how cheap the analysis is next to generation (issue 5): runs the reference
# job through the daemon N times and `codegend analyze` on the resulting project N times,
# interleaved, and prints the medians, their ratio (target: analysis < 10% of generation)
# and the parse throughput in lines per second. Then (issue 14) the analysis next to a raw
# tree-sitter parse of the same files: every .py file of CORPUS (default Debian's
# /usr/lib/python3.11) through `codegend analyze` and through bench/ts-parse (read + parse,
# nothing else), N times each, interleaved; medians and their ratio (target: within 3x).
# Builds nothing: it uses src/codegend and bench/ts-parse (make bench/ts-parse) from the
# build tree. See bench/README.md.
#
#   bench/analysis.sh [N]        N runs of each (default 5)
#
# Environment: CODEGEND (default: BUILDDIR/src/codegend), TS_PARSE (default:
# BUILDDIR/bench/ts-parse), CORPUS, CODEGEND_DATADIR (default: the source tree), TMPDIR.
set -eu

N=${1:-5}
case $N in '' | *[!0-9]* | 0) echo "usage: $0 [N]  (N: runs of each, at least 1)" >&2; exit 2 ;; esac

here=$(cd "$(dirname "$0")/.." && pwd)
CODEGEND=${CODEGEND:-${top_builddir:-$here}/src/codegend}
CODEGEND_DATADIR=${CODEGEND_DATADIR:-${top_srcdir:-$here}}
export CODEGEND_DATADIR
REF=${top_srcdir:-$here}/spool-example/taskmanager
TS_PARSE=${TS_PARSE:-${top_builddir:-$here}/bench/ts-parse}
CORPUS=${CORPUS:-/usr/lib/python3.11}
[ -x "$CODEGEND" ] || { echo "$0: no $CODEGEND: build it first (make src/codegend)" >&2; exit 1; }
[ -x "$TS_PARSE" ] || { echo "$0: no $TS_PARSE: build it first (make bench/ts-parse)" >&2; exit 1; }
[ -d "$CORPUS" ] || { echo "$0: no corpus directory $CORPUS" >&2; exit 1; }
[ -f "$REF/spec.yaml" ] || { echo "$0: no reference job in $REF" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/codegend-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT INT TERM

now() { date +%s%N; }
# elapsed START: seconds since START (from now()), as a decimal
elapsed() { echo "$1 $(now)" | awk '{ printf "%.6f\n", ($2 - $1) / 1e9 }'; }
median() { sort -n "$1" | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

: > "$WORK/gen.txt"
: > "$WORK/folder.txt"
: > "$WORK/tarball.txt"
i=0
while [ $i -lt "$N" ]; do
        i=$((i + 1))
        sp="$WORK/spool$i"
        mkdir -p "$sp/inbox"
        cp -R "$REF" "$sp/inbox/"
        t=$(now)
        "$CODEGEND" --spool "$sp" --once >"$WORK/gen.out" 2>&1 ||
                { cat "$WORK/gen.out" >&2; echo "$0: the daemon failed" >&2; exit 1; }
        elapsed "$t" >> "$WORK/gen.txt"

        tgz="$sp/outbox/taskmanager.tar.gz"
        mkdir -p "$WORK/x$i" && tar -xzf "$tgz" -C "$WORK/x$i"
        t=$(now)
        "$CODEGEND" analyze "$WORK/x$i/taskmanager" >"$WORK/report.yaml" ||
                { echo "$0: codegend analyze failed" >&2; exit 1; }
        elapsed "$t" >> "$WORK/folder.txt"
        t=$(now)
        "$CODEGEND" analyze "$tgz" >"$WORK/report-tgz.yaml" ||
                { echo "$0: codegend analyze failed on the tarball" >&2; exit 1; }
        elapsed "$t" >> "$WORK/tarball.txt"
done

loc=$(awk '/^loc:/ { l = 1; next } l && /^  total:/ { print $2; exit }' "$WORK/report.yaml")
files=$(awk '/^files:/ { f = 1; next } f && /^  total:/ { print $2; exit }' "$WORK/report.yaml")
gen=$(median "$WORK/gen.txt")
ana=$(median "$WORK/folder.txt")
tga=$(median "$WORK/tarball.txt")

cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
echo "machine: $(nproc) CPUs${cpu:+ ($cpu)}, $(uname -sr)"
echo "runs: N=$N of each, interleaved; reference job (spool-example/taskmanager), pattern backend"
echo "project: $files files, $loc lines of code (non-blank lines, docs/metrics.md)"
awk -v gen="$gen" -v ana="$ana" -v tga="$tga" -v loc="$loc" 'BEGIN {
        printf "generation time (median, daemon --once):          %8.1f ms\n", gen * 1000
        printf "analysis time (median, codegend analyze FOLDER):  %8.1f ms\n", ana * 1000
        printf "  of the tarball (median, unpack + analyze):      %8.1f ms\n", tga * 1000
        ratio = 100 * ana / gen
        printf "analysis / generation:                            %8.1f %%  (target < 10%%: %s)\n",
               ratio, ratio < 10 ? "met" : "NOT met"
        printf "parse throughput:                                 %8.0f lines/s\n", loc / ana
}'

# ---- the analysis next to a raw tree-sitter parse of the same files ----
mkdir -p "$WORK/corpus"
find "$CORPUS" -name '*.py' -type f ! -path '*/__pycache__/*' ! -path '*-packages/*' | sort |
        awk -v d="$WORK/corpus" '{ printf "%s\t%s/f%05d.py\n", $0, d, NR }' |
        while IFS="$(printf '\t')" read -r src dst; do cp "$src" "$dst"; done
: > "$WORK/ana-corpus.txt"
: > "$WORK/raw-corpus.txt"
i=0
while [ $i -lt "$N" ]; do
        i=$((i + 1))
        t=$(now)
        "$CODEGEND" analyze "$WORK/corpus" >"$WORK/corpus.yaml" ||
                { echo "$0: codegend analyze failed on the corpus" >&2; exit 1; }
        elapsed "$t" >> "$WORK/ana-corpus.txt"
        t=$(now)
        "$TS_PARSE" "$WORK"/corpus/*.py >/dev/null || { echo "$0: ts-parse failed" >&2; exit 1; }
        elapsed "$t" >> "$WORK/raw-corpus.txt"
done
cfiles=$(awk '/^files:/ { f = 1; next } f && /^  total:/ { print $2; exit }' "$WORK/corpus.yaml")
cloc=$(awk '/^loc:/ { l = 1; next } l && /^  total:/ { print $2; exit }' "$WORK/corpus.yaml")
cana=$(median "$WORK/ana-corpus.txt")
craw=$(median "$WORK/raw-corpus.txt")
echo "corpus: $CORPUS, $cfiles Python files, $cloc lines of code; N=$N of each, interleaved"
awk -v ana="$cana" -v raw="$craw" -v loc="$cloc" 'BEGIN {
        printf "raw tree-sitter parse (median, bench/ts-parse):   %8.1f ms  (%8.0f lines/s)\n", raw * 1000, loc / raw
        printf "analysis (median, codegend analyze):              %8.1f ms  (%8.0f lines/s)\n", ana * 1000, loc / ana
        ratio = ana / raw
        printf "analysis / raw parse:                             %8.2f x  (target <= 3x: %s)\n",
               ratio, ratio <= 3 ? "met" : "NOT met"
}'
