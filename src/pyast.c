/* pyast.c - tree-sitter-python wrapped: parse, syntax errors, quality facts, import layout.
 *
 * Interface: pyast.h. This is the only file that includes <tree_sitter/api.h>.
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
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <tree_sitter/api.h>

#include "pyast.h"
#include "shared/macro.h"

const TSLanguage *tree_sitter_python(void);

struct pyast {
        TSTree *tree;
        const char *src;
        size_t len;
};

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

/* Children in order through a cursor: `_cleanup_kids_ struct kids k = kids_of(n);
 * while (kids_next(&k, &child)) ...` (ts_node_child(n, i) costs O(i) in 0.20). */
struct kids {
        TSTreeCursor cursor;
        bool started, done;
};

static struct kids kids_of(TSNode n) {
        return (struct kids) { .cursor = ts_tree_cursor_new(n) };
}

static bool kids_next(struct kids *k, TSNode *ret) {
        if (k->done)
                return false;
        bool ok = k->started ? ts_tree_cursor_goto_next_sibling(&k->cursor)
                             : ts_tree_cursor_goto_first_child(&k->cursor);
        k->started = true;
        k->done = !ok;
        if (ok)
                *ret = ts_tree_cursor_current_node(&k->cursor);
        return ok;
}

static const char *kids_field(struct kids *k) {
        return ts_tree_cursor_current_field_name(&k->cursor);
}

static void kids_done(struct kids *k) {
        ts_tree_cursor_delete(&k->cursor);
}
#define _cleanup_kids_ _cleanup_(kids_done)

static bool is(TSNode n, const char *type) {
        return !ts_node_is_null(n) && streq(ts_node_type(n), type);
}

static const char *text(const struct pyast *a, TSNode n, size_t *ret_len) {
        uint32_t s = ts_node_start_byte(n), e = ts_node_end_byte(n);
        *ret_len = e > s ? e - s : 0;
        return a->src + s;
}

static bool text_is(const struct pyast *a, TSNode n, const char *s) {
        size_t l;
        const char *t = text(a, n, &l);
        return l == strlen(s) && memcmp(t, s, l) == 0;
}

static size_t line_start_of(TSNode n) {
        return ts_node_start_byte(n) - ts_node_start_point(n).column;
}

/* The first child of the given type. */
static TSNode child_of_type(TSNode n, const char *type) {
        _cleanup_kids_ struct kids k = kids_of(n);
        TSNode c;
        while (kids_next(&k, &c))
                if (is(c, type))
                        return c;
        return (TSNode) { 0 };
}

static TSNode first_named_non_comment(TSNode n) {
        _cleanup_kids_ struct kids k = kids_of(n);
        TSNode c;
        while (kids_next(&k, &c))
                if (ts_node_is_named(c) && !is(c, "comment"))
                        return c;
        return (TSNode) { 0 };
}

/* Copies a node's text without whitespace or line continuations ("a . b" -> "a.b"). */
static char *compact_text(const struct pyast *a, TSNode n) {
        size_t l;
        const char *t = text(a, n, &l);
        char *s = malloc(l + 1), *o = s;
        if (!s)
                return NULL;
        for (size_t i = 0; i < l; i++)
                if (t[i] == '\0' || !strchr(" \t\r\n\f\\", t[i]))
                        *o++ = t[i];
        *o = '\0';
        return s;
}

/* String literal prefix and quote: returns false for a node that is not a string. */
struct strinfo {
        bool f, b, backtick;
        char quote;
        bool triple;
};

static bool string_info(const struct pyast *a, TSNode str, struct strinfo *si) {
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
                return string_info(a, n, &si) && !si.f && !si.b && !si.backtick;
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
static char *string_value(const struct pyast *a, TSNode n) {
        struct strinfo si;
        if (!is(n, "string") || !string_info(a, n, &si) || si.f || si.b || si.backtick)
                return NULL;
        uint32_t k = ts_node_child_count(n);
        TSNode first = ts_node_child(n, 0), last = ts_node_child(n, k - 1);
        if (k < 2 || !is(last, "string_end"))
                return NULL;
        uint32_t s = ts_node_end_byte(first), e = ts_node_start_byte(last);
        return strndup(a->src + s, e >= s ? e - s : 0);
}

static bool is_docstring_stmt(const struct pyast *a, TSNode stmt) {
        if (!is(stmt, "expression_statement") || ts_node_named_child_count(stmt) != 1)
                return false;
        return is_plain_string(a, ts_node_named_child(stmt, 0));
}

/* `HTTPException` or `<anything>.HTTPException` */
static bool names_http_exception(const struct pyast *a, TSNode n) {
        if (is(n, "identifier"))
                return text_is(a, n, "HTTPException");
        if (is(n, "attribute")) {
                TSNode attr = ts_node_child_by_field_name(n, "attribute", 9);
                return !ts_node_is_null(attr) && text_is(a, attr, "HTTPException");
        }
        return false;
}

static bool names_identifier(const struct pyast *a, TSNode n, const char *name) {
        if (is(n, "identifier"))
                return text_is(a, n, name);
        if (is(n, "attribute")) {
                TSNode attr = ts_node_child_by_field_name(n, "attribute", 9);
                return !ts_node_is_null(attr) && text_is(a, attr, name);
        }
        return false;
}

/* ---- the walk ---- */

enum scope { SCOPE_MODULE, SCOPE_CLASS, SCOPE_FUNC, SCOPE_ASYNC_FUNC, SCOPE_LAMBDA };
enum kind { K_OTHER, K_FUNC, K_ASYNC_FUNC, K_LAMBDA, K_CLASS, K_LOOP };

struct frame {
        unsigned char scope; /* scope the node is in */
        bool loop;           /* inside a loop body (of the current scope) */
        unsigned char kind;  /* the node's own kind, for its children's frames */
};

struct prefix {
        char *name;
        char *prefix;
};

struct pending_route {
        char method[8];
        char *object; /* decorator's object when it is a plain name, else NULL */
        char *path;
        unsigned line;
};

struct walker {
        const struct pyast *a;
        struct py_errors *errors;
        struct py_facts *facts;
        bool module_code_seen;
        struct prefix *prefixes;
        size_t n_prefixes, alloc_prefixes;
        struct pending_route *routes;
        size_t n_routes, alloc_routes;
};

static int grow(void **v, size_t *alloc, size_t n, size_t size) {
        if (n < *alloc)
                return 0;
        size_t na = *alloc ? *alloc * 2 : 8;
        void *nv = realloc(*v, na * size);
        if (!nv)
                return -ENOMEM;
        *v = nv;
        *alloc = na;
        return 0;
}

static int check_at(struct walker *w, TSNode n, size_t offset, const char *message) {
        if (!w->errors)
                return 0;
        TSPoint p = ts_node_start_point(n);
        size_t ls = line_start_of(n);
        /* offset may lie on a later line than n's start (f-string parts): find its line */
        unsigned line = p.row + 1;
        for (size_t i = ts_node_start_byte(n); i < offset && i < w->a->len; i++)
                if (w->a->src[i] == '\n') {
                        line++;
                        ls = i + 1;
                }
        return py_errors_add_extra(w->errors, w->a->src, w->a->len, offset, line, ls, message);
}

static int check(struct walker *w, TSNode n, const char *message) {
        return check_at(w, n, ts_node_start_byte(n), message);
}

/* Checks that depend on the block structure (is this inside a function, a loop?) are
 * made only before the first error found: after a structural mistake the blocks the
 * parser recovered are not the ones the author meant, and one mistake would be counted
 * again at every return or break that follows. */
static int check_scope(struct walker *w, TSNode n, const char *message) {
        if (w->errors && w->errors->n > 0 && w->errors->v[0].offset <= ts_node_start_byte(n))
                return 0;
        return check(w, n, message);
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

static bool param_is_default(TSNode p) {
        return is(p, "default_parameter") || is(p, "typed_default_parameter");
}

static bool param_is_star(TSNode p) {
        if (is(p, "typed_parameter")) {
                TSNode k = ts_node_named_child(p, 0);
                return is(k, "list_splat_pattern") || is(k, "dictionary_splat_pattern");
        }
        return is(p, "list_splat_pattern") || is(p, "dictionary_splat_pattern") ||
               is(p, "keyword_separator");
}

static TSNode param_name(TSNode p) {
        for (int guard = 0; guard < 4 && !ts_node_is_null(p) && !is(p, "identifier"); guard++) {
                TSNode nm = ts_node_child_by_field_name(p, "name", 4);
                p = ts_node_is_null(nm) ? ts_node_named_child(p, 0) : nm;
        }
        return is(p, "identifier") ? p : (TSNode) { 0 };
}

#define MAX_NAME_CHECK 512

/* Parameter lists: non-default after default, duplicate names. Also says whether every
 * parameter is annotated (self/cls first in a method excepted). */
static int check_parameters(struct walker *w, TSNode params, bool method, bool *ret_annotated) {
        const struct pyast *a = w->a;
        TSNode names[MAX_NAME_CHECK];
        size_t n_names = 0;
        bool seen_default = false, seen_star = false, seen_dstar = false, annotated = true, first = true;
        int r = 0;
        _cleanup_kids_ struct kids k = kids_of(params);
        TSNode p;
        while (r == 0 && kids_next(&k, &p)) {
                if (!ts_node_is_named(p) || is(p, "comment") || is(p, "positional_separator"))
                        continue;
                if (seen_dstar) {
                        r = check(w, p, "arguments cannot follow var-keyword argument");
                        continue;
                }
                bool star = is(p, "keyword_separator") || is(p, "list_splat_pattern") ||
                            (is(p, "typed_parameter") && is(ts_node_named_child(p, 0), "list_splat_pattern"));
                if (star && seen_star) {
                        r = check(w, p, "* argument may appear only once");
                        continue;
                }
                if (is(p, "keyword_separator")) {
                        seen_star = true;
                        continue;
                }
                if (is(p, "dictionary_splat_pattern") ||
                    (is(p, "typed_parameter") && is(ts_node_named_child(p, 0), "dictionary_splat_pattern")))
                        seen_dstar = true;
                bool typed = is(p, "typed_parameter") || is(p, "typed_default_parameter");
                TSNode nm = param_name(p);
                if (!typed && !(first && method && is(p, "identifier") &&
                                (text_is(a, p, "self") || text_is(a, p, "cls"))))
                        annotated = false;
                first = false;
                if (param_is_star(p))
                        seen_star = true;
                else if (param_is_default(p))
                        seen_default = true;
                else if (seen_default && !seen_star)
                        r = check(w, p, "non-default argument follows default argument");
                if (r < 0 || ts_node_is_null(nm))
                        continue;
                size_t l;
                const char *t = text(a, nm, &l);
                for (size_t i = 0; i < n_names; i++) {
                        size_t l2;
                        const char *t2 = text(a, names[i], &l2);
                        if (l == l2 && memcmp(t, t2, l) == 0) {
                                r = check(w, nm, "duplicate argument in function definition");
                                break;
                        }
                }
                if (n_names < MAX_NAME_CHECK)
                        names[n_names++] = nm;
        }
        if (ret_annotated)
                *ret_annotated = annotated;
        return r;
}

/* Calls: positional after keyword arguments, repeated keywords, * after **. */
static int check_arguments(struct walker *w, TSNode args) {
        const struct pyast *a = w->a;
        TSNode kws[MAX_NAME_CHECK];
        size_t n_kws = 0;
        bool seen_kw = false, seen_dstar = false;
        int r = 0;
        _cleanup_kids_ struct kids k = kids_of(args);
        TSNode p;
        while (r == 0 && kids_next(&k, &p)) {
                if (!ts_node_is_named(p) || is(p, "comment"))
                        continue;
                if (is(p, "keyword_argument")) {
                        seen_kw = true;
                        TSNode nm = ts_node_child_by_field_name(p, "name", 4);
                        if (ts_node_is_null(nm))
                                continue;
                        size_t l;
                        const char *t = text(a, nm, &l);
                        for (size_t i = 0; i < n_kws; i++) {
                                size_t l2;
                                const char *t2 = text(a, kws[i], &l2);
                                if (l == l2 && memcmp(t, t2, l) == 0) {
                                        r = check(w, nm, "keyword argument repeated");
                                        break;
                                }
                        }
                        if (n_kws < MAX_NAME_CHECK)
                                kws[n_kws++] = nm;
                } else if (is(p, "dictionary_splat"))
                        seen_dstar = true;
                else if (is(p, "list_splat")) {
                        if (seen_dstar)
                                r = check(w, p, "iterable argument unpacking follows keyword argument unpacking");
                } else if (seen_dstar)
                        r = check(w, p, "positional argument follows keyword argument unpacking");
                else if (seen_kw)
                        r = check(w, p, "positional argument follows keyword argument");
        }
        return r;
}

/* Python 3.11 tokenizes an f-string as one string first: its expressions cannot hold the
 * closing quote, a backslash or a comment (PEP 701 lifted this in 3.12). */
static int check_fstring_expr(struct walker *w, TSNode expr, const struct strinfo *si) {
        size_t l;
        const char *t = text(w->a, expr, &l);
        size_t base = ts_node_start_byte(expr);
        for (size_t i = 0; i < l; i++) {
                if (t[i] == '\\')
                        return check_at(w, expr, base + i, "f-string expression part cannot include a backslash");
                if (t[i] == '#')
                        return check_at(w, expr, base + i, "f-string expression part cannot include '#'");
                if (t[i] == si->quote &&
                    (!si->triple || (i + 2 < l && t[i + 1] == si->quote && t[i + 2] == si->quote)))
                        return check_at(w, expr, base + i, "f-string: expecting '}'");
        }
        return 0;
}

static int check_string(struct walker *w, TSNode str) {
        struct strinfo si;
        if (!string_info(w->a, str, &si))
                return 0;
        if (si.backtick)
                return check(w, str, "invalid syntax");
        if (!si.f)
                return 0;
        int r = 0;
        _cleanup_kids_ struct kids k = kids_of(str);
        TSNode in;
        while (r == 0 && kids_next(&k, &in)) {
                if (!is(in, "interpolation"))
                        continue;
                TSNode e = ts_node_child_by_field_name(in, "expression", 10);
                if (!ts_node_is_null(e))
                        r = check_fstring_expr(w, e, &si);
                TSNode fs = ts_node_child_by_field_name(in, "format_specifier", 16);
                if (r < 0 || ts_node_is_null(fs))
                        continue;
                _cleanup_kids_ struct kids k2 = kids_of(fs);
                TSNode fe;
                while (r == 0 && kids_next(&k2, &fe)) {
                        TSNode e2 = is(fe, "format_expression") ? ts_node_child_by_field_name(fe, "expression", 10)
                                                               : (TSNode) { 0 };
                        if (!ts_node_is_null(e2))
                                r = check_fstring_expr(w, e2, &si);
                }
        }
        return r;
}

static int check_integer(struct walker *w, TSNode n) {
        size_t l;
        const char *t = text(w->a, n, &l);
        if (l == 0 || t[l - 1] == 'j' || t[l - 1] == 'J')
                return 0;
        if (t[l - 1] == 'l' || t[l - 1] == 'L')
                return check(w, n, "invalid decimal literal");
        if (l > 1 && t[0] == '0' && (isdigit((unsigned char) t[1]) || t[1] == '_'))
                for (size_t i = 1; i < l; i++)
                        if (t[i] >= '1' && t[i] <= '9')
                                return check(w, n, "leading zeros in decimal integer literals are not permitted");
        return 0;
}

/* tree-sitter lets some keywords through as names (def import(), x.class, for class in) */
static int check_identifier(struct walker *w, TSNode n) {
        static const char *const keywords[] = {
                "False", "None", "True", "and", "as", "assert", "async", "await", "break",
                "class", "continue", "def", "del", "elif", "else", "except", "finally", "for",
                "from", "global", "if", "import", "in", "is", "lambda", "nonlocal", "not", "or",
                "pass", "raise", "return", "try", "while", "with", "yield",
        };
        size_t l;
        const char *t = text(w->a, n, &l);
        if (l < 2 || l > 8)
                return 0;
        for (size_t i = 0; i < ELEMENTSOF(keywords); i++)
                if (strlen(keywords[i]) == l && memcmp(keywords[i], t, l) == 0)
                        return check(w, n, "invalid syntax");
        return 0;
}

static bool has_anon_child(TSNode n, const char *type) {
        _cleanup_kids_ struct kids k = kids_of(n);
        TSNode c;
        while (kids_next(&k, &c))
                if (!ts_node_is_named(c) && is(c, type))
                        return true;
        return false;
}

/* from m import a.b: the grammar takes dotted names, Python only plain ones; and
 * __future__ has a fixed list of features */
static int check_from_names(struct walker *w, TSNode n) {
        static const char *const features[] = {
                "nested_scopes", "generators", "division", "absolute_import", "with_statement",
                "print_function", "unicode_literals", "barry_as_FLUFL", "generator_stop", "annotations",
        };
        bool future = is(n, "future_import_statement");
        _cleanup_kids_ struct kids k = kids_of(n);
        TSNode c;
        while (kids_next(&k, &c)) {
                const char *field = kids_field(&k);
                if (field && streq(field, "module_name"))
                        continue;
                TSNode name = is(c, "aliased_import") ? ts_node_child_by_field_name(c, "name", 4) : c;
                size_t l = 0;
                const char *t = is(name, "dotted_name") ? text(w->a, name, &l) : NULL;
                if (t && memchr(t, '.', l))
                        return check(w, name, "invalid syntax");
                bool known = !future || !t;
                for (size_t i = 0; i < ELEMENTSOF(features) && !known; i++)
                        known = strlen(features[i]) == l && memcmp(features[i], t, l) == 0;
                if (!known)
                        return check(w, name, "future feature is not defined");
        }
        return 0;
}

/* Statements of a module or block: two on one line need a ';' between them (tree-sitter
 * accepts `import os import sys`). */
static int check_statement_lines(struct walker *w, TSNode body) {
        _cleanup_kids_ struct kids k = kids_of(body);
        TSNode c;
        bool have_prev = false, semicolon = false;
        uint32_t prev_row = 0;
        while (kids_next(&k, &c)) {
                if (!ts_node_is_named(c)) {
                        semicolon |= is(c, ";");
                        continue;
                }
                if (is(c, "comment"))
                        continue;
                if (is(c, "ERROR") || ts_node_is_missing(c)) {
                        have_prev = false;
                        continue;
                }
                if (have_prev && !semicolon && ts_node_start_point(c).row == prev_row) {
                        int r = check(w, c, "invalid syntax");
                        if (r < 0)
                                return r;
                }
                have_prev = true;
                semicolon = false;
                prev_row = ts_node_end_point(c).row;
        }
        return 0;
}

static int add_docstring_candidate(struct walker *w, TSNode body) {
        w->facts->doc_candidates++;
        TSNode first = ts_node_is_null(body) ? body : first_named_non_comment(body);
        if (!ts_node_is_null(first) && is_docstring_stmt(w->a, first))
                w->facts->docstrings++;
        return 0;
}

static int facts_function(struct walker *w, TSNode fn, bool method) {
        bool annotated = false;
        TSNode params = ts_node_child_by_field_name(fn, "parameters", 10);
        int r = 0;
        if (!ts_node_is_null(params))
                r = check_parameters(w, params, method, &annotated);
        if (r < 0 || !w->facts)
                return r;
        w->facts->functions++;
        if (annotated && !ts_node_is_null(ts_node_child_by_field_name(fn, "return_type", 11)))
                w->facts->annotated++;
        return add_docstring_candidate(w, child_of_type(fn, "block"));
}

static int facts_class(struct walker *w, TSNode cls) {
        int r = add_docstring_candidate(w, child_of_type(cls, "block"));
        TSNode sup = ts_node_child_by_field_name(cls, "superclasses", 12);
        TSNode name = ts_node_child_by_field_name(cls, "name", 4);
        if (r < 0 || ts_node_is_null(sup) || ts_node_is_null(name))
                return r;
        _cleanup_kids_ struct kids k = kids_of(sup);
        TSNode base;
        while (kids_next(&k, &base)) {
                if (!names_identifier(w->a, base, "Base"))
                        continue;
                struct py_facts *f = w->facts;
                size_t alloc = f->n_orm_classes;
                char **nv = realloc(f->orm_classes, (alloc + 1) * sizeof(*nv));
                if (!nv)
                        return -ENOMEM;
                f->orm_classes = nv;
                size_t l;
                const char *t = text(w->a, name, &l);
                if (!(f->orm_classes[f->n_orm_classes] = strndup(t, l)))
                        return -ENOMEM;
                f->n_orm_classes++;
                break;
        }
        return 0;
}

/* router = APIRouter(prefix="/users") */
static int facts_assignment(struct walker *w, TSNode as) {
        TSNode left = ts_node_child_by_field_name(as, "left", 4);
        TSNode right = ts_node_child_by_field_name(as, "right", 5);
        if (!is(left, "identifier") || !is(right, "call"))
                return 0;
        if (!names_identifier(w->a, ts_node_child_by_field_name(right, "function", 8), "APIRouter"))
                return 0;
        TSNode args = ts_node_child_by_field_name(right, "arguments", 9);
        if (!is(args, "argument_list"))
                return 0;
        _cleanup_kids_ struct kids k = kids_of(args);
        TSNode kw;
        while (kids_next(&k, &kw)) {
                if (!is(kw, "keyword_argument") ||
                    !text_is(w->a, ts_node_child_by_field_name(kw, "name", 4), "prefix"))
                        continue;
                _cleanup_free_ char *v = string_value(w->a, ts_node_child_by_field_name(kw, "value", 5));
                if (!v)
                        return 0;
                if (grow((void **) &w->prefixes, &w->alloc_prefixes, w->n_prefixes, sizeof(*w->prefixes)) < 0)
                        return -ENOMEM;
                size_t l;
                const char *t = text(w->a, left, &l);
                char *name = strndup(t, l);
                if (!name)
                        return -ENOMEM;
                w->prefixes[w->n_prefixes++] = (struct prefix) { name, TAKE_PTR(v) };
                return 0;
        }
        return 0;
}

/* @<object>.get("/path", ...) */
static int facts_decorator(struct walker *w, TSNode dec) {
        static const char *const methods[] = { "get", "post", "put", "patch", "delete" };
        TSNode call = ts_node_named_child(dec, 0);
        if (!is(call, "call"))
                return 0;
        TSNode fn = ts_node_child_by_field_name(call, "function", 8);
        TSNode args = ts_node_child_by_field_name(call, "arguments", 9);
        if (!is(fn, "attribute") || !is(args, "argument_list"))
                return 0;
        TSNode attr = ts_node_child_by_field_name(fn, "attribute", 9);
        TSNode obj = ts_node_child_by_field_name(fn, "object", 6);
        const char *method = NULL;
        for (size_t i = 0; i < ELEMENTSOF(methods) && !method; i++)
                if (text_is(w->a, attr, methods[i]))
                        method = methods[i];
        if (!method)
                return 0;
        _cleanup_free_ char *path = NULL;
        _cleanup_kids_ struct kids k = kids_of(args);
        TSNode arg;
        while (!path && kids_next(&k, &arg)) {
                if (!ts_node_is_named(arg) || is(arg, "comment"))
                        continue;
                if (is(arg, "keyword_argument")) {
                        if (text_is(w->a, ts_node_child_by_field_name(arg, "name", 4), "path"))
                                path = string_value(w->a, ts_node_child_by_field_name(arg, "value", 5));
                        continue;
                }
                path = string_value(w->a, arg);
                if (!path)
                        return 0; /* the first positional argument is not a literal */
        }
        if (!path)
                return 0;
        if (grow((void **) &w->routes, &w->alloc_routes, w->n_routes, sizeof(*w->routes)) < 0)
                return -ENOMEM;
        struct pending_route *pr = &w->routes[w->n_routes];
        memset(pr, 0, sizeof(*pr));
        for (size_t i = 0; method[i]; i++)
                pr->method[i] = (char) toupper((unsigned char) method[i]);
        if (is(obj, "identifier")) {
                size_t l;
                const char *t = text(w->a, obj, &l);
                if (!(pr->object = strndup(t, l)))
                        return -ENOMEM;
        }
        pr->path = TAKE_PTR(path);
        pr->line = ts_node_start_point(dec).row + 1;
        w->n_routes++;
        return 0;
}

static char *join_route(const char *prefix, const char *path) {
        size_t pl = strlen(prefix);
        while (pl > 0 && prefix[pl - 1] == '/')
                pl--;
        char *s;
        int k;
        if (pl == 0 && (!*path || streq(path, "/")))
                k = asprintf(&s, "/");
        else if (!*path || streq(path, "/"))
                k = asprintf(&s, "%.*s", (int) pl, prefix);
        else
                k = asprintf(&s, "%.*s%s%s", (int) pl, prefix, path[0] == '/' ? "" : "/", path);
        return k < 0 ? NULL : s;
}

static int resolve_routes(struct walker *w) {
        struct py_facts *f = w->facts;
        for (size_t i = 0; i < w->n_routes; i++) {
                struct pending_route *pr = &w->routes[i];
                const char *prefix = "";
                for (size_t j = 0; pr->object && j < w->n_prefixes; j++)
                        if (streq(w->prefixes[j].name, pr->object))
                                prefix = w->prefixes[j].prefix;
                struct py_route *nv = realloc(f->routes, (f->n_routes + 1) * sizeof(*nv));
                if (!nv)
                        return -ENOMEM;
                f->routes = nv;
                struct py_route *rt = &f->routes[f->n_routes];
                memcpy(rt->method, pr->method, sizeof(rt->method));
                rt->line = pr->line;
                if (!(rt->path = join_route(prefix, pr->path)))
                        return -ENOMEM;
                f->n_routes++;
        }
        return 0;
}

static void walker_done(struct walker *w) {
        for (size_t i = 0; i < w->n_prefixes; i++) {
                free(w->prefixes[i].name);
                free(w->prefixes[i].prefix);
        }
        free(w->prefixes);
        for (size_t i = 0; i < w->n_routes; i++) {
                free(w->routes[i].object);
                free(w->routes[i].path);
        }
        free(w->routes);
}

static bool first_child_is(TSNode n, const char *type) {
        return ts_node_child_count(n) > 0 && is(ts_node_child(n, 0), type);
}

/* Statements directly in the module, in order: a __future__ import must come before any
 * other statement but the docstring. */
static int check_module_statement(struct walker *w, TSNode n, bool first) {
        if (is(n, "comment") || is(n, "ERROR"))
                return 0;
        if (is(n, "future_import_statement")) {
                if (w->module_code_seen)
                        return check_scope(w, n, "from __future__ imports must occur at the beginning of the file");
                return 0;
        }
        if (!(first && is_docstring_stmt(w->a, n)))
                w->module_code_seen = true;
        return 0;
}

/* One node: its CPython checks and facts. Returns >0 to descend, 0 to skip, <0 on error. */
static int visit(struct walker *w, TSNode n, struct frame *f) {
        const char *t = ts_node_type(n);
        const struct pyast *a = w->a;
        int r = 0;
        bool in_func = f->scope == SCOPE_FUNC || f->scope == SCOPE_ASYNC_FUNC;

        f->kind = K_OTHER;
        if (!ts_node_is_named(n) || streq(t, "ERROR") || ts_node_is_missing(n))
                return 0;
        if (streq(t, "function_definition")) {
                f->kind = first_child_is(n, "async") ? K_ASYNC_FUNC : K_FUNC;
                r = facts_function(w, n, f->scope == SCOPE_CLASS);
        } else if (streq(t, "class_definition")) {
                f->kind = K_CLASS;
                if (w->facts)
                        r = facts_class(w, n);
        } else if (streq(t, "lambda")) {
                f->kind = K_LAMBDA;
                TSNode params = ts_node_child_by_field_name(n, "parameters", 10);
                if (!ts_node_is_null(params))
                        r = check_parameters(w, params, false, NULL);
        } else if (streq(t, "for_statement") || streq(t, "while_statement")) {
                f->kind = K_LOOP;
                if (first_child_is(n, "async") && f->scope != SCOPE_ASYNC_FUNC)
                        r = check_scope(w, n, "'async for' outside async function");
        } else if (streq(t, "with_statement")) {
                if (first_child_is(n, "async") && f->scope != SCOPE_ASYNC_FUNC)
                        r = check_scope(w, n, "'async with' outside async function");
        } else if (streq(t, "for_in_clause")) {
                if (first_child_is(n, "async") && f->scope != SCOPE_ASYNC_FUNC)
                        r = check_scope(w, n, "asynchronous comprehension outside of an asynchronous function");
        } else if (streq(t, "return_statement")) {
                if (!in_func)
                        r = check_scope(w, n, "'return' outside function");
        } else if (streq(t, "yield")) {
                if (f->scope == SCOPE_MODULE || f->scope == SCOPE_CLASS)
                        r = check_scope(w, n, "'yield' outside function");
        } else if (streq(t, "await")) {
                if (f->scope != SCOPE_ASYNC_FUNC)
                        r = check_scope(w, n, "'await' outside async function");
        } else if (streq(t, "break_statement") || streq(t, "continue_statement")) {
                if (!f->loop)
                        r = check_scope(w, n, t[0] == 'b' ? "'break' outside loop" : "'continue' not properly in loop");
        } else if (streq(t, "nonlocal_statement")) {
                if (f->scope == SCOPE_MODULE)
                        r = check_scope(w, n, "nonlocal declaration not allowed at module level");
        } else if (streq(t, "print_statement") || streq(t, "exec_statement")) {
                if (!is(ts_node_named_child(n, 0), "chevron")) /* print >>f, x is a valid tuple */
                        r = check(w, n, t[0] == 'p' ? "missing parentheses in call to 'print'"
                                                    : "missing parentheses in call to 'exec'");
        } else if (streq(t, "argument_list"))
                r = check_arguments(w, n);
        else if (streq(t, "string"))
                r = check_string(w, n);
        else if (streq(t, "integer"))
                r = check_integer(w, n);
        else if (streq(t, "identifier"))
                r = check_identifier(w, n);
        else if (streq(t, "module") || streq(t, "block"))
                r = check_statement_lines(w, n);
        else if (streq(t, "comparison_operator")) {
                TSNode ne = child_of_type(n, "<>");
                if (!ts_node_is_null(ne))
                        r = check(w, ne, "invalid syntax");
        } else if (streq(t, "except_clause")) {
                if (has_anon_child(n, ","))
                        r = check(w, n, "multiple exception types must be parenthesized");
        } else if (streq(t, "raise_statement")) {
                TSNode e = ts_node_named_child(n, 0);
                if (is(e, "expression_list"))
                        r = check(w, e, "invalid syntax");
                if (w->facts) {
                        w->facts->raises++;
                        if (names_http_exception(a, e))
                                w->facts->http_exceptions++;
                }
        } else if (streq(t, "expression_statement")) {
                if (is(ts_node_named_child(n, 0), "named_expression"))
                        r = check(w, n, "invalid syntax");
        } else if (streq(t, "type_alias_statement"))
                r = check(w, n, "type alias statements need python 3.12");
        else if (streq(t, "import_from_statement") || streq(t, "future_import_statement")) {
                if (f->scope != SCOPE_MODULE && !ts_node_is_null(child_of_type(n, "wildcard_import")))
                        r = check_scope(w, n, "import * only allowed at module level");
                if (r == 0)
                        r = check_from_names(w, n);
        } else if (w->facts) {
                if (streq(t, "try_statement"))
                        w->facts->try_blocks++;
                else if (streq(t, "call")) {
                        if (names_http_exception(a, ts_node_child_by_field_name(n, "function", 8)))
                                w->facts->http_exceptions++;
                } else if (streq(t, "assignment"))
                        r = facts_assignment(w, n);
                else if (streq(t, "decorator"))
                        r = facts_decorator(w, n);
        }
        return r < 0 ? r : 1;
}

static void child_frame(const struct frame *parent, const char *field, struct frame *child) {
        child->scope = parent->scope;
        child->loop = parent->loop;
        child->kind = K_OTHER;
        if (!field || !streq(field, "body"))
                return;
        switch (parent->kind) {
        case K_FUNC:
                child->scope = SCOPE_FUNC;
                child->loop = false;
                break;
        case K_ASYNC_FUNC:
                child->scope = SCOPE_ASYNC_FUNC;
                child->loop = false;
                break;
        case K_LAMBDA:
                child->scope = SCOPE_LAMBDA;
                child->loop = false;
                break;
        case K_CLASS:
                child->scope = SCOPE_CLASS;
                child->loop = false;
                break;
        case K_LOOP:
                child->loop = true;
                break;
        default:
                break;
        }
}

static int walk(struct walker *w) {
        TSNode root = ts_tree_root_node(w->a->tree);
        if (w->facts && !ts_node_is_null(first_named_non_comment(root)))
                add_docstring_candidate(w, root); /* comments alone make no candidate */

        TSTreeCursor c = ts_tree_cursor_new(root);
        struct frame *frames = malloc(64 * sizeof(*frames));
        size_t alloc = 64, depth = 0;
        int r = 0;
        bool first_stmt = true;
        if (!frames) {
                ts_tree_cursor_delete(&c);
                return -ENOMEM;
        }
        frames[0] = (struct frame) { SCOPE_MODULE, false, K_OTHER };
        for (;;) {
                TSNode n = ts_tree_cursor_current_node(&c);
                if (depth == 1 && ts_node_is_named(n)) {
                        r = check_module_statement(w, n, first_stmt);
                        if (!is(n, "comment"))
                                first_stmt = false;
                        if (r < 0)
                                break;
                }
                r = visit(w, n, &frames[depth]);
                if (r < 0)
                        break;
                if (r > 0 && ts_tree_cursor_goto_first_child(&c)) {
                        if (depth + 1 == alloc) {
                                struct frame *nf = realloc(frames, alloc * 2 * sizeof(*nf));
                                if (!nf) {
                                        r = -ENOMEM;
                                        break;
                                }
                                frames = nf;
                                alloc *= 2;
                        }
                        child_frame(&frames[depth], ts_tree_cursor_current_field_name(&c), &frames[depth + 1]);
                        depth++;
                        continue;
                }
                bool moved = false;
                while (!(moved = ts_tree_cursor_goto_next_sibling(&c))) {
                        if (!ts_tree_cursor_goto_parent(&c))
                                break;
                        depth--;
                }
                if (!moved)
                        break;
                child_frame(&frames[depth - 1], ts_tree_cursor_current_field_name(&c), &frames[depth]);
        }
        r = r < 0 ? r : 0;
        free(frames);
        ts_tree_cursor_delete(&c);
        return r;
}

int pyast_parser_errors(const struct pyast *a, struct py_errors *errors) {
        return parser_errors(a, errors);
}

int pyast_inspect(const struct pyast *a, struct py_errors *errors, struct py_facts *facts) {
        struct walker w = { .a = a, .errors = errors, .facts = facts };
        int r = walk(&w);
        if (r == 0 && facts)
                r = resolve_routes(&w);
        walker_done(&w);
        return r;
}

/* ---- layout for merging ---- */

static void import_clear(struct py_import *im) {
        free(im->module);
        for (size_t i = 0; i < im->n_names; i++) {
                free(im->names[i].name);
                free(im->names[i].alias);
        }
        free(im->names);
        free(im->comment);
}

void py_layout_free(struct py_layout *l) {
        if (!l)
                return;
        for (size_t i = 0; i < l->n_imports; i++)
                import_clear(&l->imports[i]);
        free(l->imports);
        free(l->strings);
        free(l);
}

static int add_comment(char **comment, const char *t, size_t l) {
        char *s;
        if (asprintf(&s, "%s%s%.*s", *comment ? *comment : "", *comment ? " " : "", (int) l, t) < 0)
                return -ENOMEM;
        free(*comment);
        *comment = s;
        return 0;
}

static int add_import_name(const struct pyast *a, struct py_import *im, TSNode n) {
        TSNode name = n, alias = { 0 };
        if (is(n, "aliased_import")) {
                name = ts_node_child_by_field_name(n, "name", 4);
                alias = ts_node_child_by_field_name(n, "alias", 5);
        }
        if (ts_node_is_null(name))
                return 0;
        struct py_import_name *nv = realloc(im->names, (im->n_names + 1) * sizeof(*nv));
        if (!nv)
                return -ENOMEM;
        im->names = nv;
        struct py_import_name *in = &im->names[im->n_names];
        in->name = compact_text(a, name);
        in->alias = ts_node_is_null(alias) ? NULL : compact_text(a, alias);
        if (!in->name || (!ts_node_is_null(alias) && !in->alias)) {
                free(in->name);
                free(in->alias);
                return -ENOMEM;
        }
        im->n_names++;
        return 0;
}

static int read_import(const struct pyast *a, TSNode n, struct py_import *im) {
        memset(im, 0, sizeof(*im));
        im->kind = is(n, "import_statement") ? PY_IMPORT
                   : is(n, "future_import_statement") ? PY_IMPORT_FUTURE : PY_IMPORT_FROM;
        im->start = ts_node_start_byte(n);
        im->end = ts_node_end_byte(n);
        if (im->kind == PY_IMPORT_FUTURE && !(im->module = strdup("__future__")))
                return -ENOMEM;
        int r = 0;
        _cleanup_kids_ struct kids k = kids_of(n);
        TSNode c;
        while (r == 0 && kids_next(&k, &c)) {
                const char *field = kids_field(&k);
                if (is(c, "comment")) {
                        size_t l;
                        const char *t = text(a, c, &l);
                        r = add_comment(&im->comment, t, l);
                } else if (field && streq(field, "module_name")) {
                        if (!(im->module = compact_text(a, c)))
                                r = -ENOMEM;
                } else if (is(c, "wildcard_import"))
                        im->wildcard = true;
                else if (is(c, "dotted_name") || is(c, "aliased_import"))
                        r = add_import_name(a, im, c);
        }
        return r;
}

static int collect_strings(const struct pyast *a, struct py_layout *l) {
        size_t alloc = 0;
        TSTreeCursor c = ts_tree_cursor_new(ts_tree_root_node(a->tree));
        int r = 0;
        for (;;) {
                TSNode n = ts_tree_cursor_current_node(&c);
                bool descend = true;
                if (is(n, "string")) {
                        descend = false;
                        if (ts_node_end_point(n).row > ts_node_start_point(n).row) {
                                if (grow((void **) &l->strings, &alloc, l->n_strings, sizeof(*l->strings)) < 0) {
                                        r = -ENOMEM;
                                        break;
                                }
                                l->strings[l->n_strings++] =
                                        (struct py_range) { ts_node_start_byte(n), ts_node_end_byte(n) };
                        }
                }
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

/* The module's direct children: docstring, imports and comments that follow imports. */
static int read_module(const struct pyast *a, TSNode root, struct py_layout *l) {
        size_t alloc = 0;
        bool first = true;
        struct py_import *prev = NULL; /* the import just read, for a comment after it */
        _cleanup_kids_ struct kids k = kids_of(root);
        TSNode n;
        int r = 0;
        while (r == 0 && kids_next(&k, &n)) {
                if (is(n, "comment")) {
                        size_t cs = ts_node_start_byte(n);
                        bool same_line = prev && cs >= prev->end &&
                                         !memchr(a->src + prev->end, '\n', cs - prev->end);
                        if (same_line) {
                                size_t tl;
                                const char *t = text(a, n, &tl);
                                r = add_comment(&prev->comment, t, tl);
                                prev->end = ts_node_end_byte(n);
                        }
                        prev = NULL;
                        continue;
                }
                prev = NULL;
                if (first && ts_node_is_named(n) && is_docstring_stmt(a, n)) {
                        l->has_docstring = true;
                        l->doc_start = ts_node_start_byte(n);
                        l->doc_end = ts_node_end_byte(n);
                }
                if (ts_node_is_named(n))
                        first = false;
                /* an import with an error inside stays in the body as written */
                if ((!is(n, "import_statement") && !is(n, "import_from_statement") &&
                     !is(n, "future_import_statement")) || ts_node_has_error(n))
                        continue;
                if (grow((void **) &l->imports, &alloc, l->n_imports, sizeof(*l->imports)) < 0) {
                        r = -ENOMEM;
                        break;
                }
                struct py_import *im = &l->imports[l->n_imports];
                r = read_import(a, n, im);
                bool complete = (im->kind == PY_IMPORT || im->module) && (im->n_names > 0 || im->wildcard);
                if (r < 0 || !complete) { /* an import we cannot rewrite stays in the body */
                        import_clear(im);
                        continue;
                }
                l->n_imports++;
                prev = im;
        }
        return r;
}

int pyast_layout(const struct pyast *a, struct py_layout **ret) {
        _cleanup_py_layout_ struct py_layout *l = calloc(1, sizeof(*l));
        if (!l)
                return -ENOMEM;
        TSNode root = ts_tree_root_node(a->tree);
        l->has_errors = ts_node_has_error(root);
        int r = is(root, "module") ? read_module(a, root, l) : 0;
        if (r == 0)
                r = collect_strings(a, l);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(l);
        return 0;
}
