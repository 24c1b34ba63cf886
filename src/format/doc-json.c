/* doc-json.c - JSON documents to and from struct node: the one wrapper of cJSON.
 *
 * Interface: doc_parse_json() and doc_emit_json() (doc.h). cJSON keeps no positions, so a
 * small scan of the (already valid) text records the position of every value and key in
 * document order, which is the order of a pre-order walk of cJSON's tree. Emitting
 * re-indents cJSON's compact output (two spaces per level); plain scalars that are JSON
 * numbers, booleans or null are written as such.
 * Diagnostics (with line:column): "invalid UTF-8", "empty document", "invalid JSON near
 * '...'", "invalid JSON: unexpected end of input", "duplicate key 'k'", "nesting deeper
 * than 64 levels". Returns 0, -EINVAL after diagnostics, or -ENOMEM.
 */
#include "config.h"

#include <cJSON.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doc-internal.h"
#include "shared/macro.h"

/* ---- JSON parsing ---- */

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
                                r = doc_path_push_key(path, key->value);
                        } else
                                r = doc_path_push_index(path, i);
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
                        r = doc_check_duplicate_keys(n, b->file, strbuf_str(path), b->d,
                                                     &b->failed);
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
        doc_offset_position(data, len, off, &line, &column);
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
                doc_offset_position(data, len, off, &line, &column);
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
