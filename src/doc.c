/* doc.c - YAML and JSON documents to and from struct node: the one wrapper of libyaml
 * and cJSON.
 *
 * Interface (doc.h): doc_parse_yaml(), doc_parse_json(), doc_load(), doc_emit_yaml(),
 * doc_emit_json(). Parsers return 0, -EINVAL after adding diagnostics, or -ENOMEM; on
 * failure *ret is untouched.
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

#include <cJSON.h>
#include <errno.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "doc.h"
#include "shared/fs.h"
#include "shared/macro.h"

#define DOC_MAX_DEPTH 64

/* ---- positions ---- */

/* 1-based line and column (in characters) of byte offset off in data. */
static void offset_position(const char *data, size_t len, size_t off, unsigned *ret_line,
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

/* Offset of the first byte that is not valid UTF-8 (overlongs, surrogates and values
 * past U+10FFFF are invalid), or len when all is valid. */
static size_t utf8_invalid_offset(const char *data, size_t len) {
        const unsigned char *s = (const unsigned char *) data;
        size_t i = 0;
        while (i < len) {
                unsigned char c = s[i];
                size_t n;
                unsigned cp;
                if (c < 0x80) {
                        i++;
                        continue;
                } else if (c >= 0xC2 && c <= 0xDF) {
                        n = 1;
                        cp = c & 0x1F;
                } else if (c >= 0xE0 && c <= 0xEF) {
                        n = 2;
                        cp = c & 0x0F;
                } else if (c >= 0xF0 && c <= 0xF4) {
                        n = 3;
                        cp = c & 0x07;
                } else
                        return i;
                if (len - i <= n)
                        return i;
                for (size_t k = 1; k <= n; k++) {
                        if ((s[i + k] & 0xC0) != 0x80)
                                return i;
                        cp = (cp << 6) | (s[i + k] & 0x3F);
                }
                if ((n == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
                    (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
                        return i;
                i += n + 1;
        }
        return len;
}

/* ---- paths of nodes being built, for diagnostics ---- */

static int path_push_key(struct strbuf *sb, const char *key) {
        if (sb->len > 0 && strbuf_addc(sb, '.') < 0)
                return -ENOMEM;
        return strbuf_adds(sb, key) < 0 ? -ENOMEM : 0;
}

static int path_push_index(struct strbuf *sb, size_t i) {
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
static int check_duplicate_keys(const struct node *map, const char *file, const char *path,
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
                if (strbuf_adds(&p, path) < 0 || path_push_key(&p, k->value) < 0)
                        return -ENOMEM;
                if (diags_add(d, file, k->line, k->column, strbuf_str(&p), "duplicate key '%s'",
                              k->value) < 0)
                        return -ENOMEM;
                *found = true;
        }
        return 0;
}

/* ---- YAML parsing ---- */

struct ybuild {
        const char *file;
        struct diags *d;
        struct node *root;
        struct {
                struct node *node;
                struct node *key; /* map: key waiting for its value */
        } stack[DOC_MAX_DEPTH];
        size_t depth;
        bool failed; /* diagnostics were added */
};

/* The path of the innermost open collection's last child (pending = false, e.g. for a map
 * that is being closed), or of the node about to be added to it (pending = true). The
 * ancestors' last children always form the chain down to the innermost collection. */
static int ybuild_path(const struct ybuild *b, struct strbuf *sb, bool pending) {
        if (strbuf_adds(sb, "") < 0)
                return -ENOMEM;
        for (size_t i = 0; i < b->depth; i++) {
                const struct node *n = b->stack[i].node;
                bool top = i + 1 == b->depth;
                int r = 0;
                if (top && pending) {
                        if (n->kind == NODE_SEQ)
                                r = path_push_index(sb, n->n);
                        else if (b->stack[i].key)
                                r = path_push_key(sb, b->stack[i].key->value);
                } else if (n->n > 0) {
                        if (n->kind == NODE_SEQ)
                                r = path_push_index(sb, n->n - 1);
                        else
                                r = path_push_key(sb, n->keys[n->n - 1]->value);
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

_printf_(3, 4) static int ybuild_error(struct ybuild *b, const yaml_mark_t *m, const char *fmt,
                                       ...) {
        _cleanup_strbuf_ struct strbuf path = STRBUF_INIT;
        _cleanup_free_ char *msg = NULL;
        va_list ap;
        int k;

        if (ybuild_path(b, &path, true) < 0)
                return -ENOMEM;
        va_start(ap, fmt);
        k = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (k < 0)
                return -ENOMEM;
        b->failed = true;
        return diags_add(b->d, b->file, (unsigned) m->line + 1, (unsigned) m->column + 1,
                         strbuf_str(&path), "%s", msg);
}

/* Adds n (owned) at the current place: root, sequence item, map key or map value. */
static int ybuild_add(struct ybuild *b, struct node *n, const yaml_mark_t *m) {
        if (!n)
                return -ENOMEM;
        n->line = (unsigned) m->line + 1;
        n->column = (unsigned) m->column + 1;
        if (b->depth == 0) {
                b->root = n;
                return 0;
        }
        struct node *top = b->stack[b->depth - 1].node;
        if (top->kind == NODE_SEQ)
                return node_seq_append(top, n);
        if (!b->stack[b->depth - 1].key) {
                if (n->kind != NODE_SCALAR) {
                        /* scalar keys arrive as scalars; only an alias (already
                         * reported) gives a null node here: keep it as an empty key */
                        if (n->kind == NODE_NULL) {
                                n->kind = NODE_SCALAR;
                                n->value = strdup("");
                                if (!n->value) {
                                        node_free(n);
                                        return -ENOMEM;
                                }
                        } else {
                                node_free(n);
                                int r = ybuild_error(b, m, "mapping keys must be scalars");
                                return r < 0 ? r : -EINVAL;
                        }
                }
                b->stack[b->depth - 1].key = n;
                return 0;
        }
        return node_map_set_node(top, TAKE_PTR(b->stack[b->depth - 1].key), n);
}

static int ybuild_push(struct ybuild *b, struct node *n, const yaml_mark_t *m) {
        if (b->depth >= DOC_MAX_DEPTH) {
                node_free(n);
                int r = ybuild_error(b, m, "nesting deeper than %d levels", DOC_MAX_DEPTH);
                return r < 0 ? r : -EINVAL;
        }
        int r = ybuild_add(b, n, m);
        if (r < 0)
                return r;
        b->stack[b->depth].node = n;
        b->stack[b->depth].key = NULL;
        b->depth++;
        return 0;
}

static int ybuild_pop(struct ybuild *b) {
        if (b->depth == 0)
                return -EINVAL;
        b->depth--;
        struct node *n = b->stack[b->depth].node;
        node_free(TAKE_PTR(b->stack[b->depth].key));
        if (n->kind != NODE_MAP)
                return 0;
        _cleanup_strbuf_ struct strbuf path = STRBUF_INIT;
        if (ybuild_path(b, &path, false) < 0)
                return -ENOMEM;
        return check_duplicate_keys(n, b->file, strbuf_str(&path), b->d, &b->failed);
}

static bool tag_is(const yaml_char_t *tag, const char *suffix) {
        return tag && streq((const char *) tag, suffix);
}

/* Checks an explicit tag; *ret_str is set for !!str, *ret_null for !!null. */
static int ybuild_tag(struct ybuild *b, const yaml_char_t *tag, const yaml_mark_t *m,
                      bool scalar, bool *ret_str, bool *ret_null) {
        *ret_str = *ret_null = false;
        if (!tag || (!scalar && tag_is(tag, "!")))
                return 0;
        if (scalar && (tag_is(tag, YAML_STR_TAG) || tag_is(tag, "!")))
                *ret_str = true;
        else if (scalar && tag_is(tag, YAML_NULL_TAG))
                *ret_null = true;
        else if (scalar && (tag_is(tag, YAML_BOOL_TAG) || tag_is(tag, YAML_INT_TAG) ||
                            tag_is(tag, YAML_FLOAT_TAG)))
                ;
        else if (!scalar && (tag_is(tag, YAML_MAP_TAG) || tag_is(tag, YAML_SEQ_TAG)))
                ;
        else {
                int r = ybuild_error(b, m, "unsupported tag '%s'", (const char *) tag);
                return r < 0 ? r : -EINVAL;
        }
        return 0;
}

static bool is_null_word(const char *s) {
        return streq(s, "") || streq(s, "~") || streq(s, "null") || streq(s, "Null") ||
               streq(s, "NULL");
}

/* Handles one event; returns 1 at the end of the stream, 0 to go on, <0 to stop. */
static int ybuild_event(struct ybuild *b, const yaml_event_t *ev, bool *seen_doc) {
        const yaml_mark_t *m = &ev->start_mark;
        bool is_str, is_null;
        int r;

        switch (ev->type) {
        case YAML_STREAM_START_EVENT:
        case YAML_DOCUMENT_END_EVENT:
        case YAML_NO_EVENT:
                return 0;
        case YAML_STREAM_END_EVENT:
                if (!*seen_doc) {
                        r = ybuild_error(b, m, "empty document");
                        return r < 0 ? r : -EINVAL;
                }
                return 1;
        case YAML_DOCUMENT_START_EVENT:
                if (*seen_doc) {
                        r = ybuild_error(b, m, "more than one document");
                        return r < 0 ? r : -EINVAL;
                }
                *seen_doc = true;
                return 0;
        case YAML_ALIAS_EVENT:
                r = ybuild_error(b, m, "aliases are not supported");
                if (r < 0)
                        return r;
                return ybuild_add(b, node_new_null(), m);
        case YAML_SCALAR_EVENT: {
                const char *v = (const char *) ev->data.scalar.value;
                if (ev->data.scalar.anchor && (r = ybuild_error(b, m, "anchors are not supported")) < 0)
                        return r;
                r = ybuild_tag(b, ev->data.scalar.tag, m, true, &is_str, &is_null);
                if (r < 0)
                        return r;
                bool quoted = is_str || ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
                bool is_key = b->depth > 0 && b->stack[b->depth - 1].node->kind == NODE_MAP &&
                              !b->stack[b->depth - 1].key;
                struct node *n;
                if (!is_key && (is_null || (!quoted && is_null_word(v))))
                        n = node_new_null();
                else
                        n = node_new_scalarn(v, ev->data.scalar.length, quoted);
                return ybuild_add(b, n, m);
        }
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT: {
                bool seq = ev->type == YAML_SEQUENCE_START_EVENT;
                const yaml_char_t *anchor = seq ? ev->data.sequence_start.anchor
                                                : ev->data.mapping_start.anchor;
                const yaml_char_t *tag = seq ? ev->data.sequence_start.tag
                                             : ev->data.mapping_start.tag;
                if (anchor && (r = ybuild_error(b, m, "anchors are not supported")) < 0)
                        return r;
                r = ybuild_tag(b, tag, m, false, &is_str, &is_null);
                if (r < 0)
                        return r;
                if (b->depth > 0 && b->stack[b->depth - 1].node->kind == NODE_MAP &&
                    !b->stack[b->depth - 1].key) {
                        r = ybuild_error(b, m, "mapping keys must be scalars");
                        return r < 0 ? r : -EINVAL;
                }
                return ybuild_push(b, seq ? node_new_seq() : node_new_map(), m);
        }
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
                return ybuild_pop(b);
        }
        return 0;
}

static int yaml_parser_diag(const yaml_parser_t *p, const char *data, size_t len,
                            const char *file, struct diags *d) {
        unsigned line, column;
        const char *problem = p->problem ? p->problem : "cannot parse YAML";

        if (p->error == YAML_MEMORY_ERROR)
                return -ENOMEM;
        if (p->error == YAML_READER_ERROR) {
                /* libyaml gives reader errors (bad UTF-8, control characters) as a byte
                 * offset, not a mark */
                offset_position(data, len, p->problem_offset, &line, &column);
                if (p->problem_value >= 0)
                        return diags_add(d, file, line, column, NULL, "%s (0x%X)", problem,
                                         (unsigned) p->problem_value);
                return diags_add(d, file, line, column, NULL, "%s", problem);
        }
        line = (unsigned) p->problem_mark.line + 1;
        column = (unsigned) p->problem_mark.column + 1;
        if (p->context)
                return diags_add(d, file, line, column, NULL, "%s: %s", p->context, problem);
        return diags_add(d, file, line, column, NULL, "%s", problem);
}

static void ybuild_clear(struct ybuild *b) {
        for (size_t i = 0; i < b->depth; i++)
                node_free(b->stack[i].key);
        node_free(b->root);
}

int doc_parse_yaml(const char *data, size_t len, const char *file, struct node **ret,
                   struct diags *d) {
        struct ybuild b = { .file = file, .d = d };
        yaml_parser_t p;
        bool seen_doc = false;
        int r = 0;

        if (!yaml_parser_initialize(&p))
                return -ENOMEM;
        yaml_parser_set_input_string(&p, (const unsigned char *) data, len);
        yaml_parser_set_encoding(&p, YAML_UTF8_ENCODING);
        for (;;) {
                yaml_event_t ev;
                if (!yaml_parser_parse(&p, &ev)) {
                        r = yaml_parser_diag(&p, data, len, file, d);
                        if (r == 0)
                                r = -EINVAL;
                        break;
                }
                r = ybuild_event(&b, &ev, &seen_doc);
                yaml_event_delete(&ev);
                if (r != 0)
                        break;
        }
        yaml_parser_delete(&p);
        if (r == 1 && b.failed)
                r = -EINVAL;
        if (r < 0) {
                ybuild_clear(&b);
                return r;
        }
        *ret = b.root;
        return 0;
}

/* ---- JSON parsing ---- */

struct jpos {
        unsigned *line, *column;
        size_t n, next;
};

/* Records the position of every value and key of valid JSON text in document order. */
static int json_scan_positions(const char *data, size_t len, struct jpos *pos) {
        size_t alloc = 0;
        unsigned line = 1, column = 1;
        size_t i = 0;

        while (i < len) {
                unsigned char c = (unsigned char) data[i];
                bool token = c == '"' || c == '{' || c == '[' || c == '-' ||
                             (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z');
                if (token) {
                        if (pos->n == alloc) {
                                size_t na = alloc ? alloc * 2 : 64;
                                unsigned *nl = realloc(pos->line, na * sizeof(unsigned));
                                if (!nl)
                                        return -ENOMEM;
                                pos->line = nl;
                                unsigned *nc = realloc(pos->column, na * sizeof(unsigned));
                                if (!nc)
                                        return -ENOMEM;
                                pos->column = nc;
                                alloc = na;
                        }
                        pos->line[pos->n] = line;
                        pos->column[pos->n] = column;
                        pos->n++;
                }
                if (c == '"') {
                        /* skip the string, escapes included */
                        i++, column++;
                        while (i < len && data[i] != '"') {
                                if (data[i] == '\\' && i + 1 < len)
                                        i++, column++;
                                if (data[i] == '\n')
                                        line++, column = 1;
                                else if (((unsigned char) data[i] & 0xC0) != 0x80)
                                        column++;
                                i++;
                        }
                        i++, column++;
                        continue;
                }
                if (c == '-' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')) {
                        while (i < len && strchr("0123456789+-.eEabcdefghijklmnopqrstuvwxyz",
                                                 data[i]) && data[i])
                                i++, column++;
                        continue;
                }
                if (c == '\n')
                        line++, column = 1;
                else if ((c & 0xC0) != 0x80)
                        column++;
                i++;
        }
        return 0;
}

static void jpos_take(struct jpos *pos, struct node *n) {
        if (pos->next < pos->n) {
                n->line = pos->line[pos->next];
                n->column = pos->column[pos->next];
                pos->next++;
        }
}

/* Shortest text that reads back as v. */
static int format_number(double v, char *buf, size_t size) {
        /* integers up to 2^53 are exact in a double; no libm needed for the test */
        if (v > -9007199254740992.0 && v < 9007199254740992.0 && v == (double) (long long) v)
                return snprintf(buf, size, "%lld", (long long) v);
        for (int prec = 1; prec <= 17; prec++) {
                snprintf(buf, size, "%.*g", prec, v);
                if (strtod(buf, NULL) == v)
                        break;
        }
        return 0;
}

struct jbuild {
        const char *file;
        struct diags *d;
        struct jpos pos;
        bool failed;
};

static int json_to_node(struct jbuild *b, const cJSON *j, struct strbuf *path, size_t depth,
                        struct node **ret) {
        _cleanup_node_ struct node *n = NULL;
        char num[64];
        int r;

        if (cJSON_IsNull(j))
                n = node_new_null();
        else if (cJSON_IsTrue(j))
                n = node_new_bool(true);
        else if (cJSON_IsFalse(j))
                n = node_new_bool(false);
        else if (cJSON_IsNumber(j)) {
                format_number(j->valuedouble, num, sizeof(num));
                n = node_new_scalar(num, false);
        } else if (cJSON_IsString(j))
                n = node_new_string(j->valuestring);
        else if (cJSON_IsArray(j) || cJSON_IsObject(j)) {
                bool obj = cJSON_IsObject(j);
                n = obj ? node_new_map() : node_new_seq();
                if (!n)
                        return -ENOMEM;
                jpos_take(&b->pos, n);
                if (depth > DOC_MAX_DEPTH) {
                        b->failed = true;
                        r = diags_add(b->d, b->file, n->line, n->column, strbuf_str(path),
                                      "nesting deeper than %d levels", DOC_MAX_DEPTH);
                        return r < 0 ? r : -EINVAL;
                }
                size_t i = 0;
                for (const cJSON *c = j->child; c; c = c->next, i++) {
                        size_t saved = path->len;
                        struct node *key = NULL, *v = NULL;
                        if (obj) {
                                key = node_new_string(c->string ? c->string : "");
                                if (!key)
                                        return -ENOMEM;
                                jpos_take(&b->pos, key);
                                r = path_push_key(path, key->value);
                        } else
                                r = path_push_index(path, i);
                        if (r >= 0)
                                r = json_to_node(b, c, path, depth + 1, &v);
                        path->len = saved;
                        path->buf[saved] = '\0';
                        if (r < 0) {
                                node_free(key);
                                return r;
                        }
                        r = obj ? node_map_set_node(n, key, v) : node_seq_append(n, v);
                        if (r < 0)
                                return r;
                }
                if (obj) {
                        r = check_duplicate_keys(n, b->file, strbuf_str(path), b->d, &b->failed);
                        if (r < 0)
                                return r;
                }
                *ret = TAKE_PTR(n);
                return 0;
        } else
                return -EINVAL;
        if (!n)
                return -ENOMEM;
        jpos_take(&b->pos, n);
        *ret = TAKE_PTR(n);
        return 0;
}

/* Does the text end inside a string or with brackets still open? cJSON reports such
 * errors at the last byte or inside the open string, which would make a misleading
 * excerpt. *ret_string is where an unterminated string starts (else SIZE_MAX). */
static bool json_truncated(const char *data, size_t len, size_t *ret_string) {
        size_t open = 0, string = SIZE_MAX;

        for (size_t i = 0; i < len; i++) {
                char c = data[i];
                if (string != SIZE_MAX) {
                        if (c == '\\')
                                i++;
                        else if (c == '"')
                                string = SIZE_MAX;
                } else if (c == '"')
                        string = i;
                else if (c == '{' || c == '[')
                        open++;
                else if ((c == '}' || c == ']') && open > 0)
                        open--;
        }
        *ret_string = string;
        return string != SIZE_MAX || open > 0;
}

static int json_syntax_error(const char *data, size_t len, size_t off, const char *file,
                             struct diags *d) {
        unsigned line, column;
        size_t k = 0;

        size_t string;
        if (json_truncated(data, len, &string) &&
            (off + 1 >= len || off == string || off == string + 1))
                off = len;
        offset_position(data, len, off, &line, &column);
        if (off >= len)
                return diags_add(d, file, line, column, NULL,
                                 "invalid JSON: unexpected end of input");
        /* a short excerpt, up to the end of the line, cut at a character boundary */
        while (off + k < len && k < 24 && data[off + k] != '\n' && data[off + k] != '\r' &&
               (unsigned char) data[off + k] >= 0x20)
                k++;
        while (off + k < len && k > 0 && ((unsigned char) data[off + k] & 0xC0) == 0x80)
                k--;
        return diags_add(d, file, line, column, NULL, "invalid JSON near '%.*s'", (int) k,
                         data + off);
}

int doc_parse_json(const char *data, size_t len, const char *file, struct node **ret,
                   struct diags *d) {
        const char *end = NULL;
        size_t off;
        int r;

        off = utf8_invalid_offset(data, len);
        if (off < len) {
                unsigned line, column;
                offset_position(data, len, off, &line, &column);
                r = diags_add(d, file, line, column, NULL, "invalid UTF-8 (byte 0x%02X)",
                              (unsigned char) data[off]);
                return r < 0 ? r : -EINVAL;
        }
        off = 0;
        while (off < len && strchr(" \t\r\n", data[off]) && data[off])
                off++;
        if (off == len) {
                r = diags_add(d, file, 1, 1, NULL, "empty document");
                return r < 0 ? r : -EINVAL;
        }

        cJSON *j = cJSON_ParseWithLengthOpts(data, len, &end, false);
        if (!j) {
                if (!end)
                        end = cJSON_GetErrorPtr();
                off = end && end >= data && end <= data + len ? (size_t) (end - data) : 0;
                r = json_syntax_error(data, len, off, file, d);
                return r < 0 ? r : -EINVAL;
        }
        off = end ? (size_t) (end - data) : len;
        while (off < len && strchr(" \t\r\n", data[off]) && data[off])
                off++;
        if (off < len) {
                cJSON_Delete(j);
                r = json_syntax_error(data, len, off, file, d);
                return r < 0 ? r : -EINVAL;
        }

        struct jbuild b = { .file = file, .d = d };
        _cleanup_strbuf_ struct strbuf path = STRBUF_INIT;
        struct node *n = NULL;
        r = json_scan_positions(data, len, &b.pos);
        if (r >= 0 && strbuf_adds(&path, "") < 0)
                r = -ENOMEM;
        if (r >= 0)
                r = json_to_node(&b, j, &path, 1, &n);
        cJSON_Delete(j);
        free(b.pos.line);
        free(b.pos.column);
        if (r >= 0 && b.failed)
                r = -EINVAL;
        if (r < 0) {
                node_free(n);
                return r;
        }
        *ret = n;
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
                        offset_position(data, len, (size_t) (nul - data), &line, &column);
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

/* ---- YAML emitting ---- */

/* Would this text, written as a plain scalar, read back as something other than the
 * same string? Besides our own YAML 1.2 reading, YAML 1.1 readers (PyYAML) take yes/no/
 * on/off, 0x.., 1_000 and .inf as non-strings, so those are quoted as well. */
static bool plain_changes_meaning(const char *s) {
        static const char *const words[] = {
                "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON",
                "off", "Off", "OFF", ".inf", ".Inf", ".INF", "-.inf", "+.inf", ".nan", ".NaN",
                ".NAN", "=", "<<",
        };
        struct node n = { .kind = NODE_SCALAR, .value = (char *) s };

        if (!node_is_string(&n))
                return true;
        for (size_t i = 0; i < ELEMENTSOF(words); i++)
                if (streq(s, words[i]))
                        return true;
        /* anything that starts like a number and is made of number characters */
        const char *p = s;
        if (*p == '+' || *p == '-')
                p++;
        if (*p == '.')
                p++;
        if (!(*p >= '0' && *p <= '9'))
                return false;
        return strspn(s, "0123456789+-._:eExXoObBabcdefABCDEF") == strlen(s);
}

struct yemit {
        yaml_emitter_t e;
        struct strbuf *out;
        int write_error;
};

static int yemit_write(void *data, unsigned char *buffer, size_t size) {
        struct yemit *y = data;
        int r = strbuf_add(y->out, buffer, size);
        if (r < 0) {
                y->write_error = r;
                return 0;
        }
        return 1;
}

static int yemit_fail(struct yemit *y) {
        if (y->write_error)
                return y->write_error;
        return y->e.error == YAML_MEMORY_ERROR ? -ENOMEM : -EINVAL;
}

static int yemit_scalar(struct yemit *y, const char *value, bool quoted) {
        yaml_event_t ev;
        yaml_scalar_style_t style = YAML_PLAIN_SCALAR_STYLE;

        if (quoted) {
                if (!*value || plain_changes_meaning(value))
                        style = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
                else if (strchr(value, '\n'))
                        style = YAML_LITERAL_SCALAR_STYLE;
                else
                        style = YAML_ANY_SCALAR_STYLE;
        }
        if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *) value,
                                          (int) strlen(value), 1, 1, style))
                return -ENOMEM;
        if (!yaml_emitter_emit(&y->e, &ev))
                return yemit_fail(y);
        return 0;
}

static int yemit_node(struct yemit *y, const struct node *n) {
        yaml_event_t ev;
        int r;

        if (!n || n->kind == NODE_NULL)
                return yemit_scalar(y, "null", false);
        if (n->kind == NODE_SCALAR)
                return yemit_scalar(y, n->value, n->quoted);
        if (n->kind == NODE_MAP) {
                if (!yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
                                                         n->n ? YAML_BLOCK_MAPPING_STYLE
                                                              : YAML_FLOW_MAPPING_STYLE))
                        return -ENOMEM;
        } else if (!yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
                                                         n->n ? YAML_BLOCK_SEQUENCE_STYLE
                                                              : YAML_FLOW_SEQUENCE_STYLE))
                return -ENOMEM;
        if (!yaml_emitter_emit(&y->e, &ev))
                return yemit_fail(y);
        for (size_t i = 0; i < n->n; i++) {
                if (n->kind == NODE_MAP && (r = yemit_node(y, n->keys[i])) < 0)
                        return r;
                if ((r = yemit_node(y, n->items[i])) < 0)
                        return r;
        }
        if (n->kind == NODE_MAP ? !yaml_mapping_end_event_initialize(&ev)
                                : !yaml_sequence_end_event_initialize(&ev))
                return -ENOMEM;
        if (!yaml_emitter_emit(&y->e, &ev))
                return yemit_fail(y);
        return 0;
}

int doc_emit_yaml(const struct node *n, struct strbuf *out) {
        struct yemit y = { .out = out };
        yaml_event_t ev;
        size_t saved = out->len;
        int r = 0;

        if (!yaml_emitter_initialize(&y.e))
                return -ENOMEM;
        yaml_emitter_set_output(&y.e, yemit_write, &y);
        yaml_emitter_set_unicode(&y.e, 1);
        yaml_emitter_set_width(&y.e, -1);
        yaml_emitter_set_indent(&y.e, 2);

        if (!yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING))
                r = -ENOMEM;
        else if (!yaml_emitter_emit(&y.e, &ev))
                r = yemit_fail(&y);
        if (r >= 0) {
                if (!yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1))
                        r = -ENOMEM;
                else if (!yaml_emitter_emit(&y.e, &ev))
                        r = yemit_fail(&y);
        }
        if (r >= 0)
                r = yemit_node(&y, n);
        if (r >= 0) {
                if (!yaml_document_end_event_initialize(&ev, 1))
                        r = -ENOMEM;
                else if (!yaml_emitter_emit(&y.e, &ev))
                        r = yemit_fail(&y);
        }
        if (r >= 0) {
                if (!yaml_stream_end_event_initialize(&ev))
                        r = -ENOMEM;
                else if (!yaml_emitter_emit(&y.e, &ev))
                        r = yemit_fail(&y);
        }
        if (r >= 0 && !yaml_emitter_flush(&y.e))
                r = yemit_fail(&y);
        yaml_emitter_delete(&y.e);
        if (r < 0) {
                out->len = saved;
                if (out->buf)
                        out->buf[saved] = '\0';
        }
        return r;
}

/* ---- JSON emitting ---- */

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool is_json_number(const char *s) {
        if (*s == '-')
                s++;
        if (*s == '0')
                s++;
        else if (*s >= '1' && *s <= '9')
                s += strspn(s, "0123456789");
        else
                return false;
        if (*s == '.') {
                s++;
                size_t k = strspn(s, "0123456789");
                if (k == 0)
                        return false;
                s += k;
        }
        if (*s == 'e' || *s == 'E') {
                s++;
                if (*s == '+' || *s == '-')
                        s++;
                size_t k = strspn(s, "0123456789");
                if (k == 0)
                        return false;
                s += k;
        }
        return *s == '\0';
}

static cJSON *node_to_json(const struct node *n) {
        bool b;
        double v;

        if (!n || node_is_null(n))
                return cJSON_CreateNull();
        if (n->kind == NODE_SCALAR) {
                if (n->quoted)
                        return cJSON_CreateString(n->value);
                if (node_as_bool(n, &b) == 0)
                        return cJSON_CreateBool(b);
                if (node_as_double(n, &v) == 0)
                        return is_json_number(n->value) ? cJSON_CreateRaw(n->value)
                                                        : cJSON_CreateNumber(v);
                return cJSON_CreateString(n->value);
        }
        cJSON *j = n->kind == NODE_MAP ? cJSON_CreateObject() : cJSON_CreateArray();
        if (!j)
                return NULL;
        for (size_t i = 0; i < n->n; i++) {
                cJSON *c = node_to_json(n->items[i]);
                if (!c || (n->kind == NODE_MAP ? !cJSON_AddItemToObject(j, n->keys[i]->value, c)
                                               : !cJSON_AddItemToArray(j, c))) {
                        cJSON_Delete(c);
                        cJSON_Delete(j);
                        return NULL;
                }
        }
        return j;
}

static int add_indent(struct strbuf *out, unsigned level) {
        if (strbuf_addc(out, '\n') < 0)
                return -ENOMEM;
        for (unsigned i = 0; i < level; i++)
                if (strbuf_adds(out, "  ") < 0)
                        return -ENOMEM;
        return 0;
}

/* Re-indents cJSON's compact output: two spaces per level, "key": value, and empty
 * containers as {} and []. Only the structure outside strings is touched. */
static int json_pretty(const char *s, struct strbuf *out) {
        unsigned level = 0;
        int r = 0;

        for (; *s && r >= 0; s++) {
                char c = *s;
                if (c == '"') {
                        const char *p = s + 1;
                        while (*p && *p != '"')
                                p += p[0] == '\\' && p[1] ? 2 : 1;
                        r = strbuf_add(out, s, (size_t) (p - s) + (*p ? 1 : 0));
                        s = *p ? p : p - 1;
                } else if (c == '{' || c == '[') {
                        if (s[1] == (c == '{' ? '}' : ']')) {
                                r = strbuf_add(out, s, 2);
                                s++;
                        } else if ((r = strbuf_addc(out, c)) >= 0)
                                r = add_indent(out, ++level);
                } else if (c == '}' || c == ']') {
                        if ((r = add_indent(out, level ? --level : 0)) >= 0)
                                r = strbuf_addc(out, c);
                } else if (c == ',') {
                        if ((r = strbuf_addc(out, c)) >= 0)
                                r = add_indent(out, level);
                } else if (c == ':')
                        r = strbuf_adds(out, ": ");
                else
                        r = strbuf_addc(out, c);
        }
        if (r >= 0)
                r = strbuf_addc(out, '\n');
        return r < 0 ? r : 0;
}

int doc_emit_json(const struct node *n, struct strbuf *out) {
        size_t saved = out->len;
        cJSON *j = node_to_json(n);
        if (!j)
                return -ENOMEM;
        _cleanup_free_ char *compact = cJSON_PrintUnformatted(j);
        cJSON_Delete(j);
        if (!compact)
                return -ENOMEM;
        int r = json_pretty(compact, out);
        if (r < 0) {
                out->len = saved;
                if (out->buf)
                        out->buf[saved] = '\0';
        }
        return r;
}
