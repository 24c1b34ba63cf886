/* doc.c - YAML and JSON documents to and from struct node; the module wraps libyaml (in
 * doc-yaml.c) and cJSON (in doc-json.c), each at exactly one place.
 *
 * Interface (doc.h): doc_parse_yaml(), doc_parse_json(), doc_load(), doc_emit_yaml(),
 * doc_emit_json(). Parsers return 0, -EINVAL after adding diagnostics, or -ENOMEM; on
 * failure *ret is untouched. This file holds doc_load() and what both parsers use
 * (doc-internal.h); YAML is read and written in doc-yaml.c, JSON in doc-json.c.
 *
 * YAML is read with libyaml's event parser so that every node and every map key keeps
 * its position (mark + 1). Plain "", "~" and null/Null/NULL become NODE_NULL; other
 * scalars keep whether they were quoted (a quoted scalar, or one tagged !!str, is a
 * string). JSON is parsed by cJSON; since cJSON keeps no positions, a small scan of the
 * (already valid) text records the position of every value and key in document order,
 * which is the order of a pre-order walk of cJSON's tree.
 *
 * Diagnostics (all with line:column): libyaml reader/scanner/parser errors (invalid
 * UTF-8, tabs in indentation, ...), "empty document", "more than one document",
 * "anchors are not supported", "aliases are not supported", "mapping keys must be
 * scalars", "duplicate key 'k'", "nesting deeper than 64 levels", "unsupported tag 't'",
 * "invalid JSON near '...'", "invalid JSON: unexpected end of input", "invalid UTF-8",
 * and from doc_load() "file is larger than N bytes", "binary data", "not a regular file",
 * "file is a symbolic link". Other I/O errors of doc_load() are returned as -errno
 * without a diagnostic: they are not the bundle's fault.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "doc-internal.h"
#include "shared/fs.h"
#include "shared/macro.h"

/* ---- positions ---- */

/* 1-based line and column (in characters) of byte offset off in data. */
void doc_offset_position(const char *data, size_t len, size_t off, unsigned *ret_line,
                         unsigned *ret_column) {
        unsigned line = 1, column = 1;
        if (off > len)
                off = len;
        for (size_t i = 0; i < off; i++) {
                unsigned char c = (unsigned char) data[i];
                if (c == '\n') {
                        line++;
                        column = 1;
                } else if ((c & 0xC0) != 0x80)
                        column++;
        }
        *ret_line = line;
        *ret_column = column;
}
/* ---- paths of nodes being built, for diagnostics ---- */

int doc_path_push_key(struct strbuf *sb, const char *key) {
        if (sb->len > 0 && strbuf_addc(sb, '.') < 0)
                return -ENOMEM;
        return strbuf_adds(sb, key) < 0 ? -ENOMEM : 0;
}

int doc_path_push_index(struct strbuf *sb, size_t i) {
        return strbuf_addf(sb, "[%zu]", i) < 0 ? -ENOMEM : 0;
}

static int cmp_key_index(const void *a, const void *b, void *userdata) {
        const struct node *map = userdata;
        size_t i = *(const size_t *) a, j = *(const size_t *) b;
        int c = strcmp(map->keys[i]->value, map->keys[j]->value);
        if (c != 0)
                return c;
        return i < j ? -1 : i > j;
}

/* Reports every key of map that repeats an earlier one. Sorting keeps this
 * O(n log n) for large maps. */
int doc_check_duplicate_keys(const struct node *map, const char *file, const char *path,
                             struct diags *d, bool *found) {
        if (map->n < 2)
                return 0;
        _cleanup_free_ size_t *idx = calloc(map->n, sizeof(size_t));
        if (!idx)
                return -ENOMEM;
        for (size_t i = 0; i < map->n; i++)
                idx[i] = i;
        qsort_r(idx, map->n, sizeof(size_t), cmp_key_index, (void *) map);
        for (size_t i = 1; i < map->n; i++) {
                const struct node *k = map->keys[idx[i]];
                if (!streq(k->value, map->keys[idx[i - 1]]->value))
                        continue;
                _cleanup_strbuf_ struct strbuf p = STRBUF_INIT;
                if (strbuf_adds(&p, path) < 0 || doc_path_push_key(&p, k->value) < 0)
                        return -ENOMEM;
                if (diags_add(d, file, k->line, k->column, strbuf_str(&p), "duplicate key '%s'",
                              k->value) < 0)
                        return -ENOMEM;
                *found = true;
        }
        return 0;
}

/* ---- loading ---- */

int doc_load(const char *path, const char *file, size_t max, struct node **ret, struct diags *d) {
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        int r;

        r = read_file_bounded(path, max, &data, &len);
        if (r == -E2BIG)
                r = diags_add(d, file, 0, 0, NULL, "file is larger than %zu bytes", max);
        else if (r == -EISDIR || r == -EINVAL)
                r = diags_add(d, file, 0, 0, NULL, "not a regular file");
        else if (r == -ELOOP)
                r = diags_add(d, file, 0, 0, NULL, "file is a symbolic link");
        else if (r < 0)
                return r;
        else {
                const char *nul = memchr(data, '\0', len);
                if (nul) {
                        unsigned line, column;
                        doc_offset_position(data, len, (size_t) (nul - data), &line, &column);
                        r = diags_add(d, file, line, column, NULL, "binary data");
                } else {
                        const char *dot = strrchr(path_basename(path), '.');
                        if (dot && streq(dot, ".json"))
                                return doc_parse_json(data, len, file, ret, d);
                        return doc_parse_yaml(data, len, file, ret, d);
                }
        }
        return r < 0 ? r : -EINVAL;
}
