/* merge.h - combine the fragments several atoms wrote for one shared target.
 *
 * job-format.md section 3: fragments are combined in the order given (dependency order);
 * for Python files imports are merged, deduplicated and placed at the top.
 *
 * merge_python() emits, in this order: the first module docstring found (with any comment
 * lines above it; later fragments' docstrings are dropped), `from __future__` imports,
 * `import x` lines (one module per line, deduplicated, first-seen order), `from m import
 * a, b` lines (all names of one module merged and deduplicated, aliases and relative
 * modules kept, wildcard imports on their own line), then each fragment's remaining body
 * separated by two blank lines. Only top-level import statements are moved; imports in
 * functions, `if TYPE_CHECKING:` blocks or a `try:` stay where they are, and so does an
 * import statement with a syntax error in it. A fragment that does not parse is merged
 * anyway: nothing but whitespace is lost. Lines end without trailing whitespace (except
 * inside multi-line strings; CRLF becomes LF) and the file with exactly one newline.
 *
 * merge_plain() concatenates fragments (without their trailing newlines) separated by one
 * blank line, ending with one newline; empty fragments are skipped.
 * merge_fragments() picks merge_python() for *.py targets and merge_plain() otherwise.
 *
 * All append to out, which is left as it was on failure; they return 0, -ENOMEM, or
 * -E2BIG when out's maximum would be passed.
 */
#pragma once

#include <stddef.h>

#include "shared/strbuf.h"

int merge_python(const char *const *frags, const size_t *lens, size_t n, struct strbuf *out);
int merge_plain(const char *const *frags, const size_t *lens, size_t n, struct strbuf *out);
int merge_fragments(const char *target, const char *const *frags, const size_t *lens, size_t n,
                    struct strbuf *out);
