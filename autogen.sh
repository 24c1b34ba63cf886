#!/bin/sh
# autogen.sh: fetch the tree-sitter-python grammar source (npm registry) when it is not
# there yet, then generate the build system. Nothing third-party is committed.
set -eu
cd "$(dirname "$0")"

TSPY_VERSION=${TSPY_VERSION:-0.23.6}
dest=third_party/tree-sitter-python
if [ ! -f "$dest/src/parser.c" ]; then
  command -v npm >/dev/null 2>&1 || { echo "autogen.sh: npm is needed to fetch tree-sitter-python (apt-get install npm)" >&2; exit 1; }
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "tree-sitter-python@$TSPY_VERSION" >/dev/null)
  mkdir -p "$tmp/x"
  tar -xzf "$tmp"/tree-sitter-python-*.tgz -C "$tmp/x"
  mkdir -p "$dest/src/tree_sitter"
  for f in src/parser.c src/scanner.c src/tree_sitter/parser.h src/tree_sitter/alloc.h src/tree_sitter/array.h LICENSE package.json; do
    [ -f "$tmp/x/package/$f" ] && cp "$tmp/x/package/$f" "$dest/$f"
  done
  echo "autogen.sh: fetched tree-sitter-python $TSPY_VERSION into $dest"
fi

autoreconf -fi
