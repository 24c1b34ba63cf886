#!/bin/sh
# build.sh - builds the libFuzzer targets (tests/fuzz/fuzz-*.c) with clang, ASan and UBSan,
# and optionally runs each. Called by `make fuzz` and `make fuzz-build`; needs clang with
# libFuzzer (Debian: clang, which ships libclang_rt.fuzzer), never needed by a normal build.
#   build.sh SRCDIR BUILDDIR [SECONDS]   SECONDS > 0: run each target that long
# Each target runs on a copy of its seed corpus (generated from tests/data by seeds.sh)
# plus tests/fuzz/regress/TARGET; crashes are written to BUILDDIR/tests/fuzz/crash-TARGET/.
set -eu
src=$1 build=$2 secs=${3:-0}
CLANG=${CLANG:-clang}
out="$build/tests/fuzz"
mkdir -p "$out/obj"
flags="-std=c11 -g -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
  -fno-omit-frame-pointer -Wall -Wextra -Werror -I$build -I$src/src
  $(pkg-config --cflags yaml-0.1 libcjson libarchive libsystemd)"
libs="$(pkg-config --libs yaml-0.1 libcjson libarchive libsystemd)"
srcs="shared/strbuf shared/fs shared/log shared/macro shared/sha256
  format/diag format/node format/doc format/doc-yaml format/doc-json
  format/spec format/spec-entity format/spec-api format/dag format/plan
  bundle/intake bundle/unpack backend/template"
objs=
for s in $srcs; do
  [ -f "$src/src/$s.c" ] || continue
  o="$out/obj/$(echo "$s" | tr / _).o"
  if [ ! -f "$o" ] || [ "$src/src/$s.c" -nt "$o" ]; then
    echo "  CC(fuzz) $s.c"
    # shellcheck disable=SC2086
    $CLANG $flags -c "$src/src/$s.c" -o "$o"
  fi
  objs="$objs $o"
done
targets="yaml json spec unpack template"
for t in $targets; do
  echo "  CCLD(fuzz) fuzz-$t"
  # shellcheck disable=SC2086
  $CLANG $flags -fsanitize=fuzzer "$src/tests/fuzz/fuzz-$t.c" $objs $libs -o "$out/fuzz-$t"
done
[ "$secs" -gt 0 ] || exit 0
sh "$src/tests/fuzz/seeds.sh" "$src" "$out/seeds"
status=0
for t in $targets; do
  corpus="$out/corpus-$t"
  mkdir -p "$corpus" "$out/crash-$t"
  cp -n "$out/seeds/$t"/* "$corpus/" 2>/dev/null || true
  [ -d "$src/tests/fuzz/regress/$t" ] && cp -n "$src/tests/fuzz/regress/$t"/* "$corpus/" 2>/dev/null || true
  dict=
  [ -f "$src/tests/fuzz/$t.dict" ] && dict="-dict=$src/tests/fuzz/$t.dict"
  echo "fuzz-$t: ${secs}s on $(ls "$corpus" | wc -l) inputs"
  # shellcheck disable=SC2086
  if ! "$out/fuzz-$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
      -artifact_prefix="$out/crash-$t/" $dict "$corpus" > "$out/fuzz-$t.log" 2>&1; then
    echo "fuzz-$t: FAILED, see $out/fuzz-$t.log and $out/crash-$t/"; status=1
  fi
  tail -n 3 "$out/fuzz-$t.log"
done
exit $status
