/* pyast.c - tree-sitter-python wrapped: parse, syntax errors, quality facts, import layout.
 *
 * Interface: pyast.h. This file parses, keeps the error list and reports the parser's
 * own errors; pyast-inspect.c and pyast-facts.c walk the tree, pyast-layout.c reads the
 * imports. They share pyast-internal.h and are the only files that include
 * <tree_sitter/api.h>.
 * Diagnostics: syntax errors go into struct py_errors (never logged); library failures
 * become -ENOMEM/-EFBIG/-EIO.
 *
 * Trees are walked with tree cursors (ts_node_child() is linear in 0.20, so indexing wide
 * nodes would be quadratic) and without recursion, so deeply nested input cannot exhaust
 * the stack. The walk keeps one frame per depth saying which scope (module, class,
 * function, async function, lambda) and whether a loop body encloses the node; the
 * CPython-only checks read it. docs/metrics.md lists those checks.
 */
#include "config.h"

#include <ctype.h>
#include <stdint.h>

#include "pyast-internal.h"

const TSLanguage *tree_sitter_python(void);

/* ---- error list ---- */

void py_errors_init(struct py_errors *e) {
        memset(e, 0, sizeof(*e));
}

void py_errors_done(struct py_errors *e) {
        free(e->lines);
        e->lines = NULL;
        e->lines_bytes = 0;
}

bool py_errors_on_line(const struct py_errors *e, unsigned line) {
        return line / 8 < e->lines_bytes && (e->lines[line / 8] & (1u << (line % 8)));
}

static int mark_lines(struct py_errors *e, unsigned first, unsigned last) {
        if (last / 8 >= e->lines_bytes) {
                size_t nb = (last / 8 + 1) * 2;
                unsigned char *nv = realloc(e->lines, nb);
                if (!nv)
                        return -ENOMEM;
                memset(nv + e->lines_bytes, 0, nb - e->lines_bytes);
                e->lines = nv;
                e->lines_bytes = nb;
        }
        for (unsigned l = first; l <= last; l++)
                e->lines[l / 8] |= (unsigned char) (1u << (l % 8));
        return 0;
}

static size_t utf8_seq_len(const unsigned char *s, size_t avail) {
        unsigned c = s[0];
        size_t n;
        if (c < 0x80)
                return 1;
        if (c >= 0xc2 && c <= 0xdf)
                n = 2;
        else if (c >= 0xe0 && c <= 0xef)
                n = 3;
        else if (c >= 0xf0 && c <= 0xf4)
                n = 4;
        else
                return 0;
        if (n > avail)
                return 0;
        for (size_t i = 1; i < n; i++)
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
        return n;
}

static void make_excerpt(struct py_error *pe, const char *src, size_t len, size_t line_start) {
        size_t end = line_start;
        while (end < len && src[end] != '\n')
                end++;
        size_t start = line_start;
        while (start < end && (src[start] == ' ' || src[start] == '\t' || src[start] == '\f'))
                start++;
        /* far into a long line: start shortly before the error instead */
        size_t chars = 0;
        for (size_t i = start; i < pe->offset && i < end; i++)
                if (((unsigned char) src[i] & 0xc0) != 0x80)
                        chars++;
        if (chars > 50) {
                size_t back = 0, i = pe->offset < end ? pe->offset : end;
                while (i > start && back < 20) {
                        i--;
                        if (((unsigned char) src[i] & 0xc0) != 0x80)
                                back++;
                }
                start = i;
        }
        size_t o = 0, nchars = 0;
        for (size_t i = start; i < end && nchars < PY_EXCERPT_CHARS;) {
                unsigned char c = (unsigned char) src[i];
                size_t k = utf8_seq_len((const unsigned char *) src + i, end - i);
                if (k == 0) {
                        pe->excerpt[o++] = '?';
                        i++;
                } else if (k == 1) {
                        pe->excerpt[o++] = (c < 0x20 || c == 0x7f) ? ' ' : (char) c;
                        i++;
                } else {
                        memcpy(pe->excerpt + o, src + i, k);
                        o += k;
                        i += k;
                }
                nchars++;
        }
        while (o > 0 && pe->excerpt[o - 1] == ' ')
                o--;
        pe->excerpt[o] = '\0';
}

int py_errors_add(struct py_errors *e, const char *src, size_t len, size_t offset, unsigned line,
                  size_t line_start, unsigned last_line, const char *message) {
        if (mark_lines(e, line, last_line < line ? line : last_line) < 0)
                return -ENOMEM;
        e->count++;
        if (e->n == PY_ERRORS_KEEP && offset >= e->v[e->n - 1].offset)
                return 0;
        size_t at = e->n;
        while (at > 0 && e->v[at - 1].offset > offset)
                at--;
        if (e->n == PY_ERRORS_KEEP)
                e->n--;
        memmove(e->v + at + 1, e->v + at, (e->n - at) * sizeof(e->v[0]));
        e->n++;
        struct py_error *pe = &e->v[at];
        pe->offset = offset;
        pe->line = line;
        pe->message = message;
        unsigned col = 1;
        for (size_t i = line_start; i < offset && i < len; i++)
                if (((unsigned char) src[i] & 0xc0) != 0x80)
                        col++;
        pe->column = col;
        make_excerpt(pe, src, len, line_start);
        return 0;
}

int py_errors_add_extra(struct py_errors *e, const char *src, size_t len, size_t offset,
                        unsigned line, size_t line_start, const char *message) {
        if (py_errors_on_line(e, line))
                return 0;
        return py_errors_add(e, src, len, offset, line, line_start, line, message);
}

void py_facts_clear(struct py_facts *f) {
        for (size_t i = 0; i < f->n_orm_classes; i++)
                free(f->orm_classes[i]);
        free(f->orm_classes);
        for (size_t i = 0; i < f->n_routes; i++)
                free(f->routes[i].path);
        free(f->routes);
        memset(f, 0, sizeof(*f));
}

/* ---- parsing ---- */

int pyast_parse(const char *data, size_t len, struct pyast **ret) {
        if (len > UINT32_MAX)
                return -EFBIG;
        struct pyast *a = calloc(1, sizeof(*a));
        if (!a)
                return -ENOMEM;
        TSParser *p = ts_parser_new();
        if (!p || !ts_parser_set_language(p, tree_sitter_python())) {
                ts_parser_delete(p);
                free(a);
                return -EIO;
        }
        a->tree = ts_parser_parse_string(p, NULL, data, (uint32_t) len);
        ts_parser_delete(p);
        if (!a->tree) {
                free(a);
                return -EIO;
        }
        a->src = data;
        a->len = len;
        *ret = a;
        return 0;
}

void pyast_free(struct pyast *a) {
        if (!a)
                return;
        ts_tree_delete(a->tree);
        free(a);
}

/* ---- small node helpers ---- */

/* The first child of the given type. */
TSNode pyast_child_of_type(TSNode n, const char *type) {
        _cleanup_kids_ struct kids k = kids_of(n);
        TSNode c;
        while (kids_next(&k, &c))
                if (is(c, type))
                        return c;
        return (TSNode) { 0 };
}

TSNode pyast_first_named_non_comment(TSNode n) {
        _cleanup_kids_ struct kids k = kids_of(n);
        TSNode c;
        while (kids_next(&k, &c))
                if (ts_node_is_named(c) && !is(c, "comment"))
                        return c;
        return (TSNode) { 0 };
}

/* String literal prefix and quote: returns false for a node that is not a string. */
bool pyast_string_info(const struct pyast *a, TSNode str, struct strinfo *si) {
        TSNode st = ts_node_child(str, 0);
        if (!is(st, "string_start"))
                return false;
        size_t l;
        const char *t = text(a, st, &l);
        memset(si, 0, sizeof(*si));
        size_t i = 0;
        for (; i < l && isalpha((unsigned char) t[i]); i++) {
                if (t[i] == 'f' || t[i] == 'F')
                        si->f = true;
                if (t[i] == 'b' || t[i] == 'B')
                        si->b = true;
        }
        if (i >= l)
                return false;
        si->quote = t[i];
        si->backtick = t[i] == '`';
        si->triple = l - i >= 3;
        return true;
}

/* A plain (not f-, not bytes) string literal, or an implicit concatenation of them. */
static bool is_plain_string(const struct pyast *a, TSNode n) {
        struct strinfo si;
        if (is(n, "string"))
                return pyast_string_info(a, n, &si) && !si.f && !si.b && !si.backtick;
        if (!is(n, "concatenated_string"))
                return false;
        _cleanup_kids_ struct kids k = kids_of(n);
        TSNode c;
        while (kids_next(&k, &c))
                if (ts_node_is_named(c) && !is(c, "comment") && !is_plain_string(a, c))
                        return false;
        return true;
}

/* The content of a plain single string literal without interpolation; NULL otherwise. */
char *pyast_string_value(const struct pyast *a, TSNode n) {
        struct strinfo si;
        if (!is(n, "string") || !pyast_string_info(a, n, &si) || si.f || si.b || si.backtick)
                return NULL;
        uint32_t k = ts_node_child_count(n);
        TSNode first = ts_node_child(n, 0), last = ts_node_child(n, k - 1);
        if (k < 2 || !is(last, "string_end"))
                return NULL;
        uint32_t s = ts_node_end_byte(first), e = ts_node_start_byte(last);
        return strndup(a->src + s, e >= s ? e - s : 0);
}

bool pyast_is_docstring_stmt(const struct pyast *a, TSNode stmt) {
        if (!is(stmt, "expression_statement") || ts_node_named_child_count(stmt) != 1)
                return false;
        return is_plain_string(a, ts_node_named_child(stmt, 0));
}

/* `HTTPException` or `<anything>.HTTPException` */
bool pyast_names_http_exception(const struct pyast *a, TSNode n) {
        if (is(n, "identifier"))
                return text_is(a, n, "HTTPException");
        if (is(n, "attribute")) {
                TSNode attr = ts_node_child_by_field_name(n, "attribute", 9);
                return !ts_node_is_null(attr) && text_is(a, attr, "HTTPException");
        }
        return false;
}

bool pyast_names_identifier(const struct pyast *a, TSNode n, const char *name) {
        if (is(n, "identifier"))
                return text_is(a, n, name);
        if (is(n, "attribute")) {
                TSNode attr = ts_node_child_by_field_name(n, "attribute", 9);
                return !ts_node_is_null(attr) && text_is(a, attr, name);
        }
        return false;
}

static const char *missing_message(const char *type) {
        static const char *const table[][2] = {
                { ")", "missing ')'" }, { "]", "missing ']'" }, { "}", "missing '}'" },
                { ":", "missing ':'" }, { "string_end", "unterminated string literal" },
                { "identifier", "missing name" },
        };
        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (streq(type, table[i][0]))
                        return table[i][1];
        return "invalid syntax";
}

/* First pass: outermost ERROR regions and MISSING tokens, in document order. */
static int parser_errors(const struct pyast *a, struct py_errors *e) {
        TSNode root = ts_tree_root_node(a->tree);
        if (!ts_node_has_error(root))
                return 0;
        TSTreeCursor c = ts_tree_cursor_new(root);
        int r = 0;
        for (;;) {
                TSNode n = ts_tree_cursor_current_node(&c);
                bool descend = false;
                if (is(n, "ERROR") || ts_node_is_missing(n)) {
                        size_t ls = line_start_of(n);
                        unsigned line = ts_node_start_point(n).row + 1;
                        const char *msg = "invalid syntax";
                        if (ts_node_is_missing(n))
                                msg = missing_message(ts_node_type(n));
                        r = py_errors_add(e, a->src, a->len, ts_node_start_byte(n), line, ls,
                                          ts_node_end_point(n).row + 1, msg);
                        if (r < 0)
                                break;
                } else
                        descend = ts_node_has_error(n);
                if (descend && ts_tree_cursor_goto_first_child(&c))
                        continue;
                bool moved = false;
                while (!(moved = ts_tree_cursor_goto_next_sibling(&c)))
                        if (!ts_tree_cursor_goto_parent(&c))
                                break;
                if (!moved)
                        break;
        }
        ts_tree_cursor_delete(&c);
        return r;
}

int pyast_parser_errors(const struct pyast *a, struct py_errors *errors) {
        return parser_errors(a, errors);
}

int pyast_check_source(const char *data, size_t len, unsigned minor, struct py_errors *errors,
                       struct py_facts *facts) {
        _cleanup_pyast_ struct pyast *a = NULL;
        _cleanup_free_ char *decoded = NULL;
        size_t dlen;
        bool failed;
        int r = pyast_decode(data, len, errors, &decoded, &dlen, &failed);
        if (r < 0 || failed)
                return r;
        if (decoded)
                data = decoded, len = dlen;
        r = pyast_parse(data, len, &a);
        /* parser first, then lines, then the tree: each skips what the previous found */
        if (r == 0)
                r = pyast_parser_errors(a, errors);
        if (r == 0)
                r = pyast_lexical_checks(data, len, errors);
        if (r == 0)
                r = pyast_inspect(a, minor, errors, facts);
        return r;
}
