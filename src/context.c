/* context.c - a validated spec as the template context of the pattern backend.
 *
 * Interface: context.h. The templates under patterns/ are logic-less, so this module
 * derives once, in C, every piece of generated code that depends on the spec in a way a
 * template cannot express: safe identifiers, SQLAlchemy column and relationship
 * arguments, Pydantic annotations and Field() constraints, the imports each file needs,
 * tables in foreign-key order, association tables of many_to_many relationships, and the
 * data of the generated tests (valid samples, values Pydantic must refuse, the rejected
 * and the accepted case of every rule). docs/templates.md lists every key.
 *
 * Test samples must satisfy the spec's constraints; for fields with a pattern they are
 * derived from the regular expression itself (context_regex_sample(), a generator for a
 * practical subset of Python's re syntax).
 * Diagnostics: context_check() adds one per thing the generated code cannot express;
 * builders return 0 or -ENOMEM. This module never logs.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "context.h"
#include "doc.h"
#include "shared/macro.h"
#include "shared/strbuf.h"

#define N_VARIANTS 16u
#define MISSING_ID "999999"

#define TRY(expr)                                                                          \
        do {                                                                               \
                int _r_ = (expr);                                                          \
                if (_r_ < 0)                                                               \
                        return _r_;                                                        \
        } while (0)

/* ---- small builders ---- */

static int put(struct node *m, const char *k, struct node *v) {
        return node_map_set(m, k, v) < 0 ? -ENOMEM : 0;
}

static int put_str(struct node *m, const char *k, const char *v) {
        return node_map_set_string(m, k, v);
}

static int put_strf(struct node *m, const char *k, const char *fmt, ...) _printf_(3, 4);
static int put_strf(struct node *m, const char *k, const char *fmt, ...) {
        _cleanup_free_ char *s = NULL;
        va_list ap;
        va_start(ap, fmt);
        int n = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (n < 0)
                return -ENOMEM;
        return node_map_set_string(m, k, s);
}

static int put_bool(struct node *m, const char *k, bool v) {
        return node_map_set_bool(m, k, v);
}

static int put_int(struct node *m, const char *k, long long v) {
        return node_map_set_int(m, k, v);
}

static int append_str(struct node *seq, const char *s) {
        return node_seq_append(seq, node_new_string(s));
}

/* Marks the last item of every map in a sequence with last: true (others false), for
 * separators in templates. */
static int mark_last(struct node *seq) {
        for (size_t i = 0; i < seq->n; i++)
                if (seq->items[i]->kind == NODE_MAP)
                        TRY(put_bool(seq->items[i], "last", i + 1 == seq->n));
        return 0;
}

static char *strf(const char *fmt, ...) _printf_(1, 2);
static char *strf(const char *fmt, ...) {
        char *s;
        va_list ap;
        va_start(ap, fmt);
        int n = vasprintf(&s, fmt, ap);
        va_end(ap);
        return n < 0 ? NULL : s;
}

/* ---- numbers (without libm, which the build does not link) ---- */

static double dfloor(double x) {
        double t = (double) (long long) x;
        return t > x ? t - 1 : t;
}

static double dceil(double x) {
        return -dfloor(-x);
}

static double dabs(double x) {
        return x < 0 ? -x : x;
}

/* ---- literals ---- */

/* A double-quoted Python string literal. */
static int add_py_str(struct strbuf *sb, const char *s) {
        TRY(strbuf_addc(sb, '"'));
        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                int r;
                if (*p == '\\' || *p == '"')
                        r = strbuf_addf(sb, "\\%c", *p);
                else if (*p == '\n')
                        r = strbuf_adds(sb, "\\n");
                else if (*p == '\t')
                        r = strbuf_adds(sb, "\\t");
                else if (*p < 0x20 || *p == 0x7f)
                        r = strbuf_addf(sb, "\\x%02x", *p);
                else
                        r = strbuf_addc(sb, (char) *p);
                TRY(r);
        }
        return strbuf_addc(sb, '"');
}

static char *py_str(const char *s) {
        struct strbuf sb;
        strbuf_init(&sb, 0);
        if (add_py_str(&sb, s) < 0) {
                strbuf_free(&sb);
                return NULL;
        }
        return strbuf_detach(&sb, NULL);
}

/* A double-quoted JSON string, which is also a valid TOML basic string and YAML
 * double-quoted scalar. */
static char *json_str(const char *s) {
        struct strbuf sb;
        int r = 0;
        strbuf_init(&sb, 0);
        r = strbuf_addc(&sb, '"');
        for (const unsigned char *p = (const unsigned char *) s; *p && r >= 0; p++) {
                if (*p == '\\' || *p == '"')
                        r = strbuf_addf(&sb, "\\%c", *p);
                else if (*p == '\n')
                        r = strbuf_adds(&sb, "\\n");
                else if (*p == '\t')
                        r = strbuf_adds(&sb, "\\t");
                else if (*p < 0x20 || *p == 0x7f)
                        r = strbuf_addf(&sb, "\\u%04x", *p);
                else
                        r = strbuf_addc(&sb, (char) *p);
        }
        if (r >= 0)
                r = strbuf_addc(&sb, '"');
        if (r < 0) {
                strbuf_free(&sb);
                return NULL;
        }
        return strbuf_detach(&sb, NULL);
}

/* Shortest text of a number as Python reads it: "13", "0.5", "1e+20". */
static char *num_str(double x) {
        char buf[64];
        if (dabs(x) < 1e15 && x == dfloor(x))
                snprintf(buf, sizeof(buf), "%.0f", x);
        else {
                for (int prec = 1; prec <= 17; prec++) {
                        snprintf(buf, sizeof(buf), "%.*g", prec, x);
                        if (strtod(buf, NULL) == x)
                                break;
                }
        }
        return strdup(buf);
}

/* One line of text for docstrings and Markdown tables: whitespace runs become one space. */
static char *one_line(const char *s) {
        char *out = strdup(s ? s : ""), *w = out;
        if (!out)
                return NULL;
        bool space = false;
        for (const char *p = out; *p; p++) {
                if (*p == '\n' || *p == '\r' || *p == '\t' || *p == ' ') {
                        space = w != out;
                        continue;
                }
                if (space)
                        *w++ = ' ';
                space = false;
                *w++ = *p;
        }
        *w = '\0';
        return out;
}

/* The JSON-ish node as a Python literal (json defaults). */
static int add_py_literal(struct strbuf *sb, const struct node *n) {
        bool b;
        double d;
        switch (n ? n->kind : NODE_NULL) {
        case NODE_NULL:
                return strbuf_adds(sb, "None");
        case NODE_MAP:
                TRY(strbuf_addc(sb, '{'));
                for (size_t i = 0; i < n->n; i++) {
                        if (i)
                                TRY(strbuf_adds(sb, ", "));
                        TRY(add_py_str(sb, n->keys[i]->value));
                        TRY(strbuf_adds(sb, ": "));
                        TRY(add_py_literal(sb, n->items[i]));
                }
                return strbuf_addc(sb, '}');
        case NODE_SEQ:
                TRY(strbuf_addc(sb, '['));
                for (size_t i = 0; i < n->n; i++) {
                        if (i)
                                TRY(strbuf_adds(sb, ", "));
                        TRY(add_py_literal(sb, n->items[i]));
                }
                return strbuf_addc(sb, ']');
        case NODE_SCALAR:
                if (n->quoted)
                        return add_py_str(sb, n->value);
                if (node_is_null(n))
                        return strbuf_adds(sb, "None");
                if (node_as_bool(n, &b) == 0)
                        return strbuf_adds(sb, b ? "True" : "False");
                if (node_as_double(n, &d) == 0)
                        return strbuf_adds(sb, n->value);
                return add_py_str(sb, n->value);
        }
        return -EINVAL;
}

/* ---- names ---- */

static bool in_list(const char *const *list, const char *s) {
        for (; *list; list++)
                if (streq(*list, s))
                        return true;
        return false;
}

static const char *const py_keywords[] = {
        "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class",
        "continue", "def", "del", "elif", "else", "except", "finally", "for", "from", "global",
        "if", "import", "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise",
        "return", "try", "while", "with", "yield", NULL,
};

/* Lower-case names that generated modules bind themselves (module aliases, Pydantic
 * and SQLAlchemy reserved attributes): a field of that name gets a trailing "_". */
static const char *const py_reserved[] = {
        "sa", "orm", "dt", "re", "metadata", "registry", "query", "dict", "json", "copy",
        "parse_obj", "parse_raw", "parse_file", "from_orm", "construct", "schema",
        "schema_json", "validate", "update_forward_refs", "fields", "validator", NULL,
};

/* PascalCase names the generated modules import: an entity of that name gets a class
 * named NameRecord. */
static const char *const class_reserved[] = {
        "Any", "AnyUrl", "APIRouter", "Base", "BaseModel", "ConflictError", "Decimal",
        "Depends", "Dict", "DomainError", "EmailStr", "Engine", "FastAPI", "Field",
        "IntegrityError", "Iterator", "JSONResponse", "List", "Literal", "NotFoundError",
        "Optional", "Path", "Query", "Request", "Response", "Session", "Settings",
        "TestClient", "Tuple", "UUID", "ValidationFailed", NULL,
};

char *context_py_ident(const char *name) {
        if (in_list(py_keywords, name) || in_list(py_reserved, name))
                return strf("%s_", name);
        return strdup(name);
}

static bool is_py_keyword(const char *s) {
        return in_list(py_keywords, s);
}

static char *class_name_of(const struct entity *e) {
        if (in_list(class_reserved, e->name))
                return strf("%sRecord", e->name);
        return strdup(e->name);
}

static char *upper(const char *s) {
        char *u = strdup(s);
        for (char *p = u; p && *p; p++)
                if (*p >= 'a' && *p <= 'z')
                        *p = (char) (*p - 'a' + 'A');
        return u;
}

/* "due_date" -> "DueDate" */
static char *pascal_of(const char *snake) {
        char *out = malloc(strlen(snake) + 1), *w = out;
        bool up = true;
        if (!out)
                return NULL;
        for (const char *p = snake; *p; p++) {
                if (*p == '_') {
                        up = true;
                        continue;
                }
                *w++ = up && *p >= 'a' && *p <= 'z' ? (char) (*p - 'a' + 'A') : *p;
                up = false;
        }
        *w = '\0';
        return out;
}

/* "due_date" -> "due date" */
static char *words_of(const char *snake) {
        char *out = strdup(snake);
        for (char *p = out; p && *p; p++)
                if (*p == '_')
                        *p = ' ';
        return out;
}

/* "TaskItem" -> "task item" */
static char *title_words(const struct entity *e) {
        _cleanup_free_ char *w = words_of(e->snake);
        return w ? strdup(w) : NULL;
}

/* ---- import lists ---- */

enum { IMP_STDLIB, IMP_THIRD, IMP_LOCAL, _IMP_MAX };

struct import {
        int group;
        char *module;   /* from-imports */
        char **names;
        size_t n_names;
        char *line;     /* plain "import x [as y]" */
};

struct imports {
        struct import *v;
        size_t n, alloc;
};

static void imports_clear(struct imports *im) {
        for (size_t i = 0; i < im->n; i++) {
                for (size_t j = 0; j < im->v[i].n_names; j++)
                        free(im->v[i].names[j]);
                free(im->v[i].names);
                free(im->v[i].module);
                free(im->v[i].line);
        }
        free(im->v);
        *im = (struct imports) { .n = 0 };
}

/* A new, zeroed entry at the end. */
static struct import *imports_push(struct imports *im) {
        if (im->n == im->alloc) {
                size_t na = im->alloc ? im->alloc * 2 : 16;
                struct import *v = realloc(im->v, na * sizeof(*v));
                if (!v)
                        return NULL;
                im->v = v;
                im->alloc = na;
        }
        im->v[im->n] = (struct import) { .group = 0 };
        return &im->v[im->n++];
}

static int imp_plain(struct imports *im, int group, const char *line) {
        for (size_t i = 0; i < im->n; i++)
                if (im->v[i].line && streq(im->v[i].line, line))
                        return 0;
        struct import *x = imports_push(im);
        if (!x)
                return -ENOMEM;
        x->group = group;
        return (x->line = strdup(line)) ? 0 : -ENOMEM;
}

static int imp_from(struct imports *im, int group, const char *module, const char *name) {
        struct import *x = NULL;
        for (size_t i = 0; i < im->n && !x; i++)
                if (im->v[i].module && streq(im->v[i].module, module))
                        x = &im->v[i];
        if (!x) {
                if (!(x = imports_push(im)))
                        return -ENOMEM;
                x->group = group;
                if (!(x->module = strdup(module)))
                        return -ENOMEM;
        }
        for (size_t j = 0; j < x->n_names; j++)
                if (streq(x->names[j], name))
                        return 0;
        char **nv = realloc(x->names, (x->n_names + 1) * sizeof(char *));
        if (!nv)
                return -ENOMEM;
        x->names = nv;
        if (!(nv[x->n_names] = strdup(name)))
                return -ENOMEM;
        x->n_names++;
        return 0;
}

static int cmp_strp(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* isort's order: "import x" lines, then "from x import ..." lines, each by module. */
static const char *import_module(const struct import *x, bool *from) {
        *from = !x->line || strncmp(x->line, "from ", 5) == 0;
        if (!x->line)
                return x->module;
        return x->line + (*from ? 5 : 7);
}

static int cmp_import(const void *a, const void *b) {
        bool fa, fb;
        const char *ma = import_module(a, &fa), *mb = import_module(b, &fb);
        if (fa != fb)
                return fa ? 1 : -1;
        return strcmp(ma, mb);
}

/* [{lines: ["import re", "from typing import Any, Dict"]}, ...]: one map per non-empty
 * group (standard library, third party, the project), PEP 8 order. */
static int imports_node(struct imports *im, struct node **ret) {
        _cleanup_node_ struct node *groups = node_new_seq();
        if (!groups)
                return -ENOMEM;
        if (im->n > 1)
                qsort(im->v, im->n, sizeof(im->v[0]), cmp_import);
        for (int g = 0; g < _IMP_MAX; g++) {
                _cleanup_node_ struct node *lines = node_new_seq();
                if (!lines)
                        return -ENOMEM;
                for (size_t i = 0; i < im->n; i++) {
                        struct import *x = &im->v[i];
                        if (x->group != g)
                                continue;
                        if (x->line) {
                                TRY(append_str(lines, x->line));
                                continue;
                        }
                        if (x->n_names > 1)
                                qsort(x->names, x->n_names, sizeof(char *), cmp_strp);
                        struct strbuf sb;
                        strbuf_init(&sb, 0);
                        int r = strbuf_addf(&sb, "from %s import ", x->module);
                        for (size_t j = 0; j < x->n_names && r >= 0; j++)
                                r = strbuf_addf(&sb, "%s%s", j ? ", " : "", x->names[j]);
                        if (r >= 0)
                                r = append_str(lines, strbuf_str(&sb));
                        strbuf_free(&sb);
                        TRY(r);
                }
                if (lines->n == 0)
                        continue;
                _cleanup_node_ struct node *m = node_new_map();
                if (!m)
                        return -ENOMEM;
                TRY(put(m, "lines", TAKE_PTR(lines)));
                TRY(node_seq_append(groups, TAKE_PTR(m)));
        }
        TRY(mark_last(groups));
        *ret = TAKE_PTR(groups);
        return 0;
}

static int put_imports(struct node *m, const char *key, struct imports *im) {
        struct node *n = NULL;
        int r = imports_node(im, &n);
        imports_clear(im);
        if (r < 0)
                return r;
        return put(m, key, n);
}

/* ---- regular expression samples ---- */

/* Printable ASCII in the order samples prefer: letters, digits, then the rest. */
static char pref_order[95];

static void init_pref_order(void) {
        size_t n = 0;
        if (pref_order[0])
                return;
        for (char c = 'a'; c <= 'z'; c++)
                pref_order[n++] = c;
        for (char c = 'A'; c <= 'Z'; c++)
                pref_order[n++] = c;
        for (char c = '0'; c <= '9'; c++)
                pref_order[n++] = c;
        for (int c = 32; c < 127; c++)
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
                        pref_order[n++] = (char) c;
}

#define RX_MAX_PATTERN 1000   /* longer patterns get no derived samples */
#define RX_MAX_STEPS 100000u  /* atoms generated per attempt, zero-width ones included */

struct rx {
        unsigned variant;
        size_t extra; /* repetitions beyond the minimum still to hand out */
        struct strbuf *out;
        int err;
        unsigned depth;
        unsigned steps;
};

static const char *rx_fail(struct rx *r, int err) {
        if (r->err == 0)
                r->err = err;
        return NULL;
}

static void set_range(bool set[128], int lo, int hi) {
        for (int c = lo; c <= hi; c++)
                set[c] = true;
}

/* \d \w \s and their negations as a set; false when c is not a class escape. */
static bool class_escape(char c, bool set[128]) {
        bool tmp[128] = { false };
        bool neg = c == 'D' || c == 'W' || c == 'S';
        switch (c) {
        case 'd':
        case 'D':
                set_range(tmp, '0', '9');
                break;
        case 'w':
        case 'W':
                set_range(tmp, 'a', 'z');
                set_range(tmp, 'A', 'Z');
                set_range(tmp, '0', '9');
                tmp['_'] = true;
                break;
        case 's':
        case 'S':
                tmp[' '] = tmp['\t'] = tmp['\n'] = tmp['\r'] = tmp['\f'] = tmp['\v'] = true;
                break;
        default:
                return false;
        }
        for (int i = 32; i < 127; i++)
                if (tmp[i] != neg)
                        set[i] = true;
        if (!neg)
                for (int i = 0; i < 32; i++)
                        set[i] = set[i] || tmp[i];
        return true;
}

static int hexval(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* A single-character escape at p (after the backslash): its value, or -1. */
static int char_escape(const char **p) {
        char c = **p;
        static const char from[] = "ntrfv0", to[] = "\n\t\r\f\v";
        const char *k = strchr(from, c);
        if (c && k) {
                (*p)++;
                return k - from < 5 ? to[k - from] : 0;
        }
        if (c == 'x') {
                int a = hexval((*p)[1]), b = a >= 0 ? hexval((*p)[2]) : -1;
                if (a < 0 || b < 0 || a * 16 + b >= 128)
                        return -1;
                *p += 3;
                return a * 16 + b;
        }
        if ((unsigned char) c < 128 && c && !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                                (c >= '0' && c <= '9'))) {
                (*p)++;
                return c;
        }
        return -1;
}

static int pick(struct rx *r, const bool set[128]) {
        init_pref_order();
        unsigned n = 0;
        for (size_t i = 0; i < sizeof(pref_order); i++)
                n += set[(unsigned char) pref_order[i]];
        if (n == 0) {
                /* only control characters: take the first */
                for (int c = 0; c < 32; c++)
                        if (set[c])
                                return strbuf_addc(r->out, (char) c);
                return -EINVAL;
        }
        unsigned want = r->variant % n;
        for (size_t i = 0; i < sizeof(pref_order); i++)
                if (set[(unsigned char) pref_order[i]] && want-- == 0)
                        return strbuf_addc(r->out, pref_order[i]);
        return -EINVAL;
}

static const char *rx_class(struct rx *r, const char *p, bool set[128]) {
        bool neg = false, first = true;
        memset(set, 0, 128 * sizeof(bool));
        if (*p == '^') {
                neg = true;
                p++;
        }
        while (*p && (*p != ']' || first)) {
                int lo, hi;
                first = false;
                if (*p == '\\') {
                        p++;
                        if (class_escape(*p, set)) {
                                p++;
                                continue;
                        }
                        if ((lo = char_escape(&p)) < 0)
                                return rx_fail(r, -EOPNOTSUPP);
                } else if ((unsigned char) *p >= 128)
                        return rx_fail(r, -EOPNOTSUPP);
                else
                        lo = *p++;
                if (*p == '-' && p[1] && p[1] != ']') {
                        p++;
                        if (*p == '\\') {
                                p++;
                                if ((hi = char_escape(&p)) < 0)
                                        return rx_fail(r, -EOPNOTSUPP);
                        } else if ((unsigned char) *p >= 128)
                                return rx_fail(r, -EOPNOTSUPP);
                        else
                                hi = *p++;
                        if (hi < lo)
                                return rx_fail(r, -EINVAL);
                        set_range(set, lo, hi);
                } else
                        set[lo] = true;
        }
        if (*p != ']')
                return rx_fail(r, -EINVAL);
        if (neg)
                for (int c = 0; c < 128; c++)
                        set[c] = c >= 32 && c < 127 && !set[c];
        return p + 1;
}

static const char *rx_alt(struct rx *r, const char *p, bool emit);

/* One atom (without its quantifier); generates it when emit. */
static const char *rx_atom(struct rx *r, const char *p, bool emit) {
        bool set[128] = { false };
        int k;

        if (++r->steps > RX_MAX_STEPS)
                return rx_fail(r, -E2BIG);
        switch (*p) {
        case '(':
                p++;
                if (*p == '?') {
                        p++;
                        if (*p == ':')
                                p++;
                        else if ((*p == 'P' && p[1] == '<') || (*p == '<' && p[1] != '=' && p[1] != '!')) {
                                const char *gt = strchr(p, '>');
                                if (!gt)
                                        return rx_fail(r, -EINVAL);
                                p = gt + 1;
                        } else if (*p && strchr("aiLmsux-", *p)) {
                                while (*p && strchr("aiLmsux-", *p))
                                        p++;
                                if (*p == ')')
                                        return p + 1; /* inline flags: no text */
                                if (*p != ':')
                                        return rx_fail(r, -EINVAL);
                                p++;
                        } else
                                return rx_fail(r, -EOPNOTSUPP); /* lookarounds, (?P=name) */
                }
                p = rx_alt(r, p, emit);
                if (!p)
                        return NULL;
                if (*p != ')')
                        return rx_fail(r, -EINVAL);
                return p + 1;
        case '[':
                p = rx_class(r, p + 1, set);
                if (p && emit && (k = pick(r, set)) < 0)
                        return rx_fail(r, k);
                return p;
        case '.':
                set_range(set, 'a', 'z');
                if (emit && (k = pick(r, set)) < 0)
                        return rx_fail(r, k);
                return p + 1;
        case '^':
        case '$':
                return p + 1;
        case '\\':
                p++;
                if (*p && strchr("AbBZz", *p))
                        return p + 1;
                if (class_escape(*p, set)) {
                        if (emit && (k = pick(r, set)) < 0)
                                return rx_fail(r, k);
                        return p + 1;
                }
                if ((k = char_escape(&p)) < 0)
                        return rx_fail(r, -EOPNOTSUPP); /* back-references, \u, \N */
                if (emit && (k = strbuf_addc(r->out, (char) k)) < 0)
                        return rx_fail(r, k);
                return p;
        case '*':
        case '+':
        case '?':
        case '\0':
                return rx_fail(r, -EINVAL);
        default: {
                size_t n = 1;
                while (((unsigned char) p[n] & 0xC0) == 0x80)
                        n++;
                if (emit && (k = strbuf_add(r->out, p, n)) < 0)
                        return rx_fail(r, k);
                return p + n;
        }
        }
}

static const char *parse_uint(const char *p, unsigned *ret) {
        unsigned v = 0;
        const char *s = p;
        while (*p >= '0' && *p <= '9' && v < 100000)
                v = v * 10 + (unsigned) (*p++ - '0');
        *ret = v;
        return p == s ? NULL : p;
}

/* A quantifier at p, or {1,1} when there is none. */
static const char *rx_quant(const char *p, unsigned *min, unsigned *max) {
        *min = *max = 1;
        if (*p == '*')
                *min = 0, *max = UINT_MAX, p++;
        else if (*p == '+')
                *max = UINT_MAX, p++;
        else if (*p == '?')
                *min = 0, p++;
        else if (*p == '{') {
                unsigned a = 0, b;
                const char *q = parse_uint(p + 1, &a);
                bool has_a = q != NULL;
                if (!q)
                        q = p + 1;
                if (*q == '}' && has_a) {
                        b = a;
                        q++;
                } else if (*q == ',') {
                        const char *q2 = parse_uint(q + 1, &b);
                        if (!q2) {
                                b = UINT_MAX;
                                q2 = q + 1;
                        }
                        if (*q2 != '}' || (!has_a && b == UINT_MAX))
                                return p; /* a literal '{' */
                        q = q2 + 1;
                } else
                        return p;
                if (b < a)
                        return p;
                *min = a, *max = b, p = q;
        } else
                return p;
        if (*p == '?' || *p == '+')
                p++;
        return p;
}

static const char *rx_seq(struct rx *r, const char *p, bool emit) {
        while (*p && *p != '|' && *p != ')') {
                const char *a = p;
                const char *e = rx_atom(r, p, false);
                unsigned mn, mx;
                if (!e)
                        return NULL;
                p = rx_quant(e, &mn, &mx);
                if (!emit)
                        continue;
                size_t reps = mn;
                if (mx > mn && r->extra > 0) {
                        size_t room = mx - mn > 64 ? 64 : mx - mn;
                        size_t take = room < r->extra ? room : r->extra;
                        reps += take;
                        r->extra -= take;
                }
                for (size_t i = 0; i < reps; i++)
                        if (!rx_atom(r, a, true))
                                return NULL;
        }
        return p;
}

static const char *rx_alt(struct rx *r, const char *p, bool emit) {
        const char *starts[64];
        size_t n = 0;
        const char *q = p;

        if (++r->depth > 64)
                return rx_fail(r, -EINVAL);
        for (;;) {
                if (n == ELEMENTSOF(starts))
                        return rx_fail(r, -EOPNOTSUPP);
                starts[n++] = q;
                q = rx_seq(r, q, false);
                if (!q)
                        return NULL;
                if (*q != '|')
                        break;
                q++;
        }
        if (emit && !rx_seq(r, starts[r->variant % n], true))
                return NULL;
        r->depth--;
        return q;
}

typedef bool (*sample_accept)(const char *s);

static int regex_sample(const char *pattern, unsigned variant, size_t min_len, size_t max_len,
                        sample_accept accept, char **ret) {
        struct strbuf out;
        if (strlen(pattern) > RX_MAX_PATTERN)
                return -EOPNOTSUPP;
        strbuf_init(&out, 4096);
        for (size_t extra = 0; extra <= 300; extra++) {
                struct rx r = { .variant = variant, .extra = extra, .out = &out };
                strbuf_reset(&out);
                const char *e = rx_alt(&r, pattern, true);
                if (!e) {
                        strbuf_free(&out);
                        return r.err ? r.err : -EINVAL;
                }
                if (*e != '\0') {
                        strbuf_free(&out);
                        return -EINVAL; /* an unbalanced ')' */
                }
                if (out.len >= min_len && out.len <= max_len &&
                    memchr(strbuf_str(&out), '\0', out.len) == NULL &&
                    (!accept || accept(strbuf_str(&out)))) {
                        *ret = strbuf_detach(&out, NULL);
                        return 0;
                }
                if (out.len > max_len || (extra > 0 && r.extra == extra))
                        break; /* more repetitions cannot help */
        }
        strbuf_free(&out);
        return -EINVAL;
}

int context_regex_sample(const char *pattern, unsigned variant, size_t min_len, size_t max_len,
                         char **ret) {
        return regex_sample(pattern, variant, min_len, max_len, NULL, ret);
}

static bool looks_like_email(const char *s) {
        const char *at = strchr(s, '@');
        if (!at || at == s || strchr(at + 1, '@') || strpbrk(s, " \t\"(),:;<>[\\]"))
                return false;
        const char *dot = strrchr(at + 1, '.');
        return dot && dot > at + 1 && dot[1] && !strstr(at, "..") && s[0] != '.' &&
               at[-1] != '.';
}

static bool looks_like_url(const char *s) {
        const char *host = strncmp(s, "https://", 8) == 0 ? s + 8
                         : strncmp(s, "http://", 7) == 0  ? s + 7
                                                          : NULL;
        return host && *host && *host != '/' && !strpbrk(s, " \t\"<>\\^`{|}");
}

/* ---- test samples ---- */

struct sample_spec {
        const struct field *f;
        bool has_min, has_max;
        double min, max;
        size_t min_len, max_len;
        const char *pattern;
        bool search;  /* pattern from a regex rule: re.search, not re.match */
        int date_dir; /* +1: must not be in the past, -1: not in the future */
};

static void sample_spec_init(const struct spec *s, const struct entity *e, const struct field *f,
                             struct sample_spec *ss) {
        *ss = (struct sample_spec) { .f = f, .has_min = f->has_min, .has_max = f->has_max,
                                     .min = f->min, .max = f->max, .pattern = f->pattern };
        ss->min_len = f->has_min_length ? (size_t) f->min_length : 0;
        switch (f->type) {
        case FT_STRING:
                ss->max_len = f->has_max_length ? (size_t) f->max_length : 255;
                break;
        case FT_EMAIL:
                ss->max_len = f->has_max_length ? (size_t) f->max_length : 320;
                break;
        case FT_URL:
                ss->max_len = f->has_max_length ? (size_t) f->max_length : 2048;
                break;
        default:
                ss->max_len = f->has_max_length ? (size_t) f->max_length : 1000;
        }
        if (ss->max_len > 1000)
                ss->max_len = 1000;
        for (size_t i = 0; i < s->n_rules; i++) {
                const struct rule *r = &s->rules[i];
                if (!streq_ptr(r->entity, e->name) || !streq_ptr(r->field, f->name))
                        continue;
                if (r->kind == RULE_RANGE) {
                        if (r->has_min && (!ss->has_min || r->min > ss->min))
                                ss->min = r->min, ss->has_min = true;
                        if (r->has_max && (!ss->has_max || r->max < ss->max))
                                ss->max = r->max, ss->has_max = true;
                } else if (r->kind == RULE_REGEX && !ss->pattern) {
                        ss->pattern = r->pattern;
                        ss->search = true;
                }
                else if (r->kind == RULE_NOT_IN_PAST)
                        ss->date_dir = 1;
                else if (r->kind == RULE_NOT_IN_FUTURE)
                        ss->date_dir = -1;
        }
}

static int integer_sample(const struct sample_spec *ss, unsigned v, long long *ret) {
        if ((ss->has_min && dabs(ss->min) > 1e15) || (ss->has_max && dabs(ss->max) > 1e15))
                return -EINVAL;
        long long lo = ss->has_min ? (long long) dceil(ss->min)
                     : ss->has_max && ss->max < 1 ? (long long) dfloor(ss->max)
                                                  : 1;
        long long hi = ss->has_max ? (long long) dfloor(ss->max) : lo + 1000;
        if (hi < lo)
                return -EINVAL;
        *ret = lo + (long long) v % (hi - lo + 1);
        return 0;
}

static double number_sample(const struct sample_spec *ss, unsigned v, bool cents) {
        double x;
        if (ss->has_min && ss->has_max)
                x = ss->min + (ss->max - ss->min) * (v + 1) / (N_VARIANTS + 1);
        else if (ss->has_min)
                x = ss->min + 1.5 + v;
        else if (ss->has_max)
                x = ss->max - 1.5 - v;
        else
                x = 1.5 + v;
        if (cents) {
                x = dfloor(x * 100 + 0.5) / 100;
                if (ss->has_min && x < ss->min)
                        x = dceil(ss->min * 100) / 100;
                if (ss->has_max && x > ss->max)
                        x = dfloor(ss->max * 100) / 100;
        }
        return x;
}

static char *pad_to(char *s, size_t min_len, char with) {
        size_t len = strlen(s);
        if (len >= min_len)
                return s;
        char *p = realloc(s, min_len + 1);
        if (!p) {
                free(s);
                return NULL;
        }
        memset(p + len, with, min_len - len);
        p[min_len] = '\0';
        return p;
}

/* The text of a string-like sample (before quoting), or NULL with *err. */
/* Whether text matches pattern at its start (re.match, as Pydantic applies field
 * patterns) or anywhere (re.search, as regex rules do), decided with POSIX extended
 * regular expressions: 1 or 0, or -1 when the pattern uses escapes whose meaning
 * differs between Python and POSIX. */
static int posix_matches(const char *pattern, const char *text, bool anywhere) {
        for (const char *p = pattern; *p; p++)
                if (*p == '\\' && p[1] && ((p[1] >= 'a' && p[1] <= 'z') || (p[1] >= 'A' && p[1] <= 'Z') ||
                                            (p[1] >= '0' && p[1] <= '9')))
                        return -1;
        regex_t re;
        regmatch_t m;
        if (regcomp(&re, pattern, REG_EXTENDED) != 0)
                return -1;
        int r = regexec(&re, text, 1, &m, 0) == 0 && (anywhere || m.rm_so == 0);
        regfree(&re);
        return r;
}

static bool start_anchored(const char *pattern) {
        return pattern[0] == '^' || strncmp(pattern, "\\A", 2) == 0;
}

static bool end_anchored(const char *pattern) {
        size_t n = strlen(pattern);
        return (n >= 1 && pattern[n - 1] == '$' && !(n >= 2 && pattern[n - 2] == '\\')) ||
               (n >= 2 && pattern[n - 2] == '\\' && (pattern[n - 1] == 'Z' || pattern[n - 1] == 'z'));
}

/* The sample of a string-like field as if it had no pattern. */
static char *plain_text_sample(const struct sample_spec *ss, unsigned v) {
        const struct field *f = ss->f;
        char *s = NULL;
        switch (f->type) {
        case FT_EMAIL:
                s = strf("%s%u@example.com", f->name, v + 1);
                if (s && strlen(s) > ss->max_len) {
                        free(s);
                        s = strf("u%u@x.io", v + 1);
                }
                if (s && strlen(s) < ss->min_len) {
                        _cleanup_free_ char *local = strf("%s%u", f->name, v + 1);
                        free(s);
                        s = local ? pad_to(TAKE_PTR(local), ss->min_len > 12 ? ss->min_len - 12 : 1, 'x') : NULL;
                        if (s) {
                                char *t = strf("%s@example.com", s);
                                free(s);
                                s = t;
                        }
                }
                return s;
        case FT_URL:
                s = strf("https://example.com/%s/%u", f->name, v + 1);
                if (s && strlen(s) > ss->max_len) {
                        free(s);
                        s = strf("http://x.io/%u", v + 1);
                }
                return s ? pad_to(s, ss->min_len, 'x') : NULL;
        default: {
                _cleanup_free_ char *w = words_of(f->name);
                s = w ? strf("%s %u", w, v + 1) : NULL;
                if (s && strlen(s) > ss->max_len) {
                        free(s);
                        s = strf("%c%u", 'a' + (int) (v % 26), v + 1);
                        if (s && strlen(s) > ss->max_len)
                                s[ss->max_len] = '\0';
                }
                return s ? pad_to(s, ss->min_len, 'x') : NULL;
        }
        }
}

static bool length_ok(const struct sample_spec *ss, const char *s) {
        size_t n = strlen(s);
        return n >= ss->min_len && n <= ss->max_len;
}

/* The text of a string-like sample (before quoting), or NULL with *err. With a
 * pattern: the plain sample when it provably matches, else one derived from the
 * pattern (for URLs, a pattern open at its end gets a host appended). */
static char *text_sample(const struct sample_spec *ss, unsigned v, int *err) {
        const struct field *f = ss->f;
        sample_accept acc = f->type == FT_EMAIL ? looks_like_email
                          : f->type == FT_URL   ? looks_like_url
                                                : NULL;
        char *s = plain_text_sample(ss, v);
        *err = 0;
        if (!s) {
                *err = -ENOMEM;
                return NULL;
        }
        if (ss->pattern && !(posix_matches(ss->pattern, s, ss->search) == 1 && length_ok(ss, s))) {
                free(s);
                s = NULL;
                *err = regex_sample(ss->pattern, v, ss->min_len, ss->max_len, acc, &s);
                /* a URL around what the pattern asks for, where the pattern allows it */
                if (*err == -EINVAL && f->type == FT_URL) {
                        _cleanup_free_ char *mid = NULL;
                        bool open_start = ss->search && !start_anchored(ss->pattern);
                        bool open_end = !end_anchored(ss->pattern);
                        if ((open_start || open_end) &&
                            regex_sample(ss->pattern, v, 0, ss->max_len, NULL, &mid) >= 0) {
                                s = open_start ? strf("https://example.com/%s", mid)
                                               : strf("%sexample.com/%u", mid, v + 1);
                                *err = !s ? -ENOMEM : looks_like_url(s) && length_ok(ss, s) ? 0 : -EINVAL;
                        }
                }
                if (*err < 0) {
                        free(s);
                        return NULL;
                }
        }
        if (!length_ok(ss, s) || (acc && !acc(s))) {
                free(s);
                *err = -EINVAL;
                return NULL;
        }
        return s;
}

/* A valid value of variant v for a field that is not a foreign key: as a Python
 * expression of JSON data (typed = false: dates and decimals as strings) or of the
 * value the service stores (typed = true). NULL with *err when none can be derived. */
static char *sample_value(const struct sample_spec *ss, unsigned v, bool typed, int *err) {
        const struct field *f = ss->f;
        long long i;
        double x;

        *err = 0;
        switch (f->type) {
        case FT_STRING:
        case FT_TEXT:
        case FT_EMAIL:
        case FT_URL: {
                _cleanup_free_ char *t = text_sample(ss, v, err);
                return t ? py_str(t) : NULL;
        }
        case FT_UUID:
                return strf("\"00000000-0000-4000-8000-%012u\"", v + 1);
        case FT_INTEGER:
                if ((*err = integer_sample(ss, v, &i)) < 0)
                        return NULL;
                return strf("%lld", i);
        case FT_FLOAT:
                x = number_sample(ss, v, false);
                return num_str(x);
        case FT_DECIMAL:
                x = number_sample(ss, v, true);
                return typed ? strf("Decimal(\"%.2f\")", x) : strf("\"%.2f\"", x);
        case FT_BOOLEAN:
                return strdup(v % 2 ? "False" : "True");
        case FT_DATE: {
                unsigned y = ss->date_dir > 0 ? 2999 : ss->date_dir < 0 ? 2001 : 2030;
                unsigned mo = ss->date_dir > 0 ? 12 : ss->date_dir < 0 ? 1 : 6, d = v % 28 + 1;
                return typed ? strf("dt.date(%u, %u, %u)", y, mo, d)
                             : strf("\"%04u-%02u-%02u\"", y, mo, d);
        }
        case FT_DATETIME: {
                unsigned y = ss->date_dir > 0 ? 2999 : ss->date_dir < 0 ? 2001 : 2030;
                unsigned mo = ss->date_dir > 0 ? 12 : ss->date_dir < 0 ? 1 : 6, d = v % 28 + 1;
                return typed ? strf("dt.datetime(%u, %u, %u, 10, 30)", y, mo, d)
                             : strf("\"%04u-%02u-%02uT10:30:00\"", y, mo, d);
        }
        case FT_ENUM:
                return py_str(f->values[v % f->n_values]);
        case FT_JSON:
                return strf("{\"key\": \"value %u\", \"count\": %u}", v + 1, v + 1);
        default:
                *err = -EINVAL;
                return NULL;
        }
}

/* A JSON value Pydantic must refuse for the field. */
static const char *invalid_value(const struct field *f) {
        switch (f->type) {
        case FT_STRING:
        case FT_TEXT:
                return "[\"not\", \"a\", \"string\"]";
        case FT_INTEGER:
        case FT_FOREIGN_KEY:
        case FT_FLOAT:
        case FT_DECIMAL:
                return "\"not a number\"";
        case FT_BOOLEAN:
                return "\"not a boolean\"";
        case FT_DATE:
                return "\"not a date\"";
        case FT_DATETIME:
                return "\"not a datetime\"";
        case FT_EMAIL:
                return "\"not an email address\"";
        case FT_URL:
                return "\"not a url\"";
        case FT_UUID:
                return "\"not-a-uuid\"";
        case FT_ENUM:
                return "\"__not_one_of_the_values__\"";
        case FT_JSON:
                return "\"not an object\"";
        default:
                return "None";
        }
}

/* ---- relationships ---- */

struct relinfo {
        const struct entity *e, *t;
        const struct relationship *r;
        const struct relationship *back; /* the paired relationship on t */
        const struct field *fk;          /* the foreign key it follows (not many_to_many) */
        bool fk_on_self;                 /* fk is a field of e */
        /* many_to_many */
        char *assoc;
        bool assoc_owner;
        char *left_col, *right_col;      /* owner side, other side */
        const struct entity *owner;
};

static void relinfo_clear(struct relinfo *ri) {
        free(ri->assoc);
        free(ri->left_col);
        free(ri->right_col);
        *ri = (struct relinfo) { .e = NULL };
}

static const struct relationship *find_back(const struct entity *e, const struct relationship *r,
                                            const struct entity *t) {
        for (size_t i = 0; i < t->n_rels; i++) {
                const struct relationship *o = &t->rels[i];
                if (o == r)
                        continue;
                if (r->back_populates ? streq_ptr(o->name, r->back_populates)
                                      : (streq_ptr(o->back_populates, r->name) &&
                                         streq_ptr(o->target, e->name)))
                        return o;
        }
        return NULL;
}

static bool fk_named(const struct field *f, const char *hint) {
        size_t n = hint ? strlen(hint) : 0;
        return f && hint && strncmp(f->name, hint, n) == 0 && streq(f->name + n, "_id");
}

/* The foreign key of holder that points at target, preferring "<hint>_id". */
static const struct field *find_fk(const struct entity *holder, const char *target,
                                   const char *hint) {
        const struct field *first = NULL;
        for (size_t i = 0; i < holder->n_fields; i++) {
                const struct field *f = &holder->fields[i];
                if (f->type != FT_FOREIGN_KEY || !streq_ptr(f->target, target))
                        continue;
                if (fk_named(f, hint))
                        return f;
                if (!first)
                        first = f;
        }
        return first;
}

static int relinfo_init(const struct spec *s, const struct entity *e, const struct relationship *r,
                        struct relinfo *ri) {
        const struct entity *t = spec_find_entity(s, r->target);
        *ri = (struct relinfo) { .e = e, .t = t, .r = r };
        if (!t)
                return -EINVAL;
        ri->back = find_back(e, r, t);
        const char *bname = ri->back ? ri->back->name : NULL;

        switch (r->kind) {
        case RK_MANY_TO_ONE:
                ri->fk = find_fk(e, t->name, r->name);
                ri->fk_on_self = true;
                break;
        case RK_ONE_TO_MANY:
                ri->fk = find_fk(t, e->name, bname);
                break;
        case RK_ONE_TO_ONE: {
                const struct field *mine = find_fk(e, t->name, r->name);
                const struct field *theirs = find_fk(t, e->name, bname);
                bool child;
                if (!mine || !theirs)
                        child = mine != NULL;
                else if (e == t)
                        child = fk_named(mine, r->name) ||
                                (!fk_named(mine, bname) && (!ri->back || r < ri->back));
                else if (fk_named(mine, r->name) != fk_named(theirs, bname))
                        child = fk_named(mine, r->name);
                else
                        child = strcmp(e->name, t->name) < 0;
                ri->fk = child ? mine : theirs;
                ri->fk_on_self = child;
                break;
        }
        case RK_MANY_TO_MANY: {
                const struct entity *oe = e;
                const struct relationship *orl = r;
                if (ri->back) {
                        _cleanup_free_ char *a = strf("%s.%s", e->name, r->name);
                        _cleanup_free_ char *b = strf("%s.%s", t->name, ri->back->name);
                        if (!a || !b)
                                return -ENOMEM;
                        if (strcmp(b, a) < 0)
                                oe = t, orl = ri->back;
                }
                const struct entity *other = oe == e ? t : e;
                ri->owner = oe;
                ri->assoc_owner = orl == r;
                ri->assoc = strf("%s_%s", oe->table, orl->name);
                ri->left_col = strf("%s_id", oe->snake);
                ri->right_col = e == t ? strf("related_%s_id", oe->snake) : strf("%s_id", other->snake);
                if (!ri->assoc || !ri->left_col || !ri->right_col)
                        return -ENOMEM;
                break;
        }
        default:
                return -EINVAL;
        }
        if (r->kind != RK_MANY_TO_MANY && !ri->fk)
                return -EINVAL;
        return 0;
}

/* The arguments of orm.relationship() for one side. */
static char *relationship_args(const struct relinfo *ri) {
        _cleanup_free_ char *tc = class_name_of(ri->t), *ec = class_name_of(ri->e);
        struct strbuf sb;
        int r;

        if (!tc || !ec)
                return NULL;
        strbuf_init(&sb, 0);
        r = strbuf_addf(&sb, "\"%s\"", tc);
        if (r >= 0 && ri->back)
                r = strbuf_addf(&sb, ", back_populates=\"%s\"", ri->back->name);
        if (r >= 0 && ri->r->kind == RK_MANY_TO_MANY) {
                r = strbuf_addf(&sb, ", secondary=\"%s\"", ri->assoc);
                if (r >= 0 && ri->e == ri->t) {
                        const char *mine = ri->assoc_owner ? ri->left_col : ri->right_col;
                        const char *theirs = ri->assoc_owner ? ri->right_col : ri->left_col;
                        r = strbuf_addf(&sb,
                                        ", primaryjoin=\"%s.id == %s.c.%s\", secondaryjoin=\"%s.id == %s.c.%s\"",
                                        ec, ri->assoc, mine, ec, ri->assoc, theirs);
                }
        } else if (r >= 0) {
                _cleanup_free_ char *fk_attr = context_py_ident(ri->fk->name);
                const struct entity *holder = ri->fk_on_self ? ri->e : ri->t;
                _cleanup_free_ char *hc = class_name_of(holder);
                if (!fk_attr || !hc)
                        r = -ENOMEM;
                if (r >= 0 && ri->r->kind == RK_ONE_TO_ONE && !ri->fk_on_self)
                        r = strbuf_adds(&sb, ", uselist=False");
                if (r >= 0)
                        r = strbuf_addf(&sb, ", foreign_keys=\"[%s.%s]\"", hc, fk_attr);
                if (r >= 0 && ri->fk_on_self && ri->e == ri->t)
                        r = strbuf_addf(&sb, ", remote_side=\"%s.id\"", ec);
                if (r >= 0 && !ri->fk_on_self)
                        r = strbuf_adds(&sb, ri->fk->required
                                                     ? ", cascade=\"all, delete-orphan\", passive_deletes=True"
                                                     : ", passive_deletes=True");
        }
        if (r < 0) {
                strbuf_free(&sb);
                return NULL;
        }
        return strbuf_detach(&sb, NULL);
}

/* ---- fields ---- */

static bool field_conflicts(const struct spec *s, const struct entity *e, const struct field *f) {
        if (f->unique)
                return true;
        for (size_t i = 0; i < s->n_rules; i++)
                if (s->rules[i].kind == RULE_UNIQUE && streq_ptr(s->rules[i].entity, e->name) &&
                    streq_ptr(s->rules[i].field, f->name))
                        return true;
        return false;
}

static bool field_has_rule(const struct spec *s, const struct entity *e, const struct field *f,
                           enum rule_kind kind) {
        for (size_t i = 0; i < s->n_rules; i++)
                if (s->rules[i].kind == kind && streq_ptr(s->rules[i].entity, e->name) &&
                    streq_ptr(s->rules[i].field, f->name))
                        return true;
        return false;
}

static const char *sa_base_type(const struct field *f, char *buf, size_t size) {
        switch (f->type) {
        case FT_STRING:
                snprintf(buf, size, "sa.String(%lld)", f->has_max_length ? f->max_length : 255);
                return buf;
        case FT_EMAIL:
                snprintf(buf, size, "sa.String(%lld)", f->has_max_length ? f->max_length : 320);
                return buf;
        case FT_URL:
                snprintf(buf, size, "sa.String(%lld)", f->has_max_length ? f->max_length : 2048);
                return buf;
        case FT_TEXT:
                return "sa.Text()";
        case FT_INTEGER:
        case FT_FOREIGN_KEY:
                return "sa.Integer()";
        case FT_FLOAT:
                return "sa.Float()";
        case FT_DECIMAL:
                return "sa.Numeric(12, 2)";
        case FT_BOOLEAN:
                return "sa.Boolean()";
        case FT_DATE:
                return "sa.Date()";
        case FT_DATETIME:
                return "sa.DateTime()";
        case FT_UUID:
                return "sa.String(36)";
        case FT_JSON:
                return "sa.JSON()";
        default:
                return NULL;
        }
}

/* sa.Enum("a", "b", name="table_field", native_enum=False), or the plain type. */
static char *sa_type(const struct entity *e, const struct field *f) {
        char buf[64];
        if (f->type != FT_ENUM) {
                const char *t = sa_base_type(f, buf, sizeof(buf));
                return t ? strdup(t) : NULL;
        }
        struct strbuf sb;
        int r;
        strbuf_init(&sb, 0);
        r = strbuf_adds(&sb, "sa.Enum(");
        for (size_t i = 0; i < f->n_values && r >= 0; i++)
                r = strbuf_addf(&sb, "%s\"%s\"", i ? ", " : "", f->values[i]);
        if (r >= 0)
                r = strbuf_addf(&sb, ", name=\"%s_%s\", native_enum=False)", e->table, f->name);
        if (r < 0) {
                strbuf_free(&sb);
                return NULL;
        }
        return strbuf_detach(&sb, NULL);
}

static const char *py_type_of(enum field_type t) {
        switch (t) {
        case FT_STRING:
        case FT_TEXT:
                return "str";
        case FT_INTEGER:
        case FT_FOREIGN_KEY:
                return "int";
        case FT_FLOAT:
                return "float";
        case FT_DECIMAL:
                return "Decimal";
        case FT_BOOLEAN:
                return "bool";
        case FT_DATE:
                return "dt.date";
        case FT_DATETIME:
                return "dt.datetime";
        case FT_EMAIL:
                return "EmailStr";
        case FT_URL:
                return "AnyUrl";
        case FT_UUID:
                return "UUID";
        case FT_JSON:
                return "Dict[str, Any]";
        default:
                return "str";
        }
}

/* The default as a Python expression, for the model (schema = false) or a Pydantic
 * schema; NULL with *err = 0 when the field has none. */
static char *default_expr(const struct field *f, bool schema, int *err) {
        const struct node *d = f->default_value;
        bool b;
        *err = 0;
        if (!d || node_is_null(d))
                return NULL;
        char *s = NULL;
        switch (f->type) {
        case FT_INTEGER:
        case FT_FOREIGN_KEY:
        case FT_FLOAT:
                s = strdup(d->value);
                break;
        case FT_DECIMAL:
                s = strf("Decimal(\"%s\")", d->value);
                break;
        case FT_BOOLEAN:
                s = strdup(node_as_bool(d, &b) == 0 && b ? "True" : "False");
                break;
        case FT_DATE:
        case FT_DATETIME: {
                _cleanup_free_ char *q = py_str(d->value);
                s = q ? strf("dt.%s.fromisoformat(%s)", f->type == FT_DATE ? "date" : "datetime", q)
                      : NULL;
                break;
        }
        case FT_UUID: {
                _cleanup_free_ char *q = py_str(d->value);
                s = q ? (schema ? strf("UUID(%s)", q) : strdup(q)) : NULL;
                break;
        }
        case FT_JSON: {
                struct diags dg = DIAGS_INIT;
                _cleanup_node_ struct node *parsed = NULL;
                struct strbuf sb;
                strbuf_init(&sb, 0);
                if (doc_parse_json(d->value, strlen(d->value), "default", &parsed, &dg) < 0)
                        parsed = node_new_string(d->value);
                diags_clear(&dg);
                if (parsed && add_py_literal(&sb, parsed) >= 0)
                        s = strf("lambda: %s", strbuf_str(&sb));
                strbuf_free(&sb);
                break;
        }
        default:
                s = py_str(d->value);
        }
        if (!s)
                *err = -ENOMEM;
        return s;
}

struct field_parts {
        char *attr;
        char *alias_kw; /* ", alias=\"name\"" or "" */
        char *enum_alias;
        char *py_type;
        char *read_type;
};

static void field_parts_clear(struct field_parts *p) {
        free(p->attr);
        free(p->alias_kw);
        free(p->enum_alias);
        free(p->py_type);
        free(p->read_type);
}

static int field_parts_init(const struct entity *e, const struct field *f, struct field_parts *p) {
        *p = (struct field_parts) { .attr = context_py_ident(f->name) };
        if (!p->attr)
                return -ENOMEM;
        bool aliased = !streq(p->attr, f->name);
        p->alias_kw = aliased ? strf(", alias=\"%s\"", f->name) : strdup("");
        if (!p->alias_kw)
                return -ENOMEM;
        if (f->type == FT_ENUM) {
                _cleanup_free_ char *cls = class_name_of(e), *fp = pascal_of(f->name);
                if (!cls || !fp)
                        return -ENOMEM;
                p->enum_alias = strf("%s%s", cls, fp);
                if (p->enum_alias && (streq(fp, "Create") || streq(fp, "Update") || streq(fp, "Read"))) {
                        free(p->enum_alias);
                        p->enum_alias = strf("%s%sValue", cls, fp);
                }
                if (!p->enum_alias)
                        return -ENOMEM;
                p->py_type = strdup(p->enum_alias);
                p->read_type = strdup(p->enum_alias);
        } else {
                p->py_type = strdup(py_type_of(f->type));
                p->read_type = strdup(f->type == FT_EMAIL || f->type == FT_URL ? "str"
                                                                                : py_type_of(f->type));
        }
        return p->py_type && p->read_type ? 0 : -ENOMEM;
}

/* Field() keyword constraints Pydantic enforces for this type (", ge=1, le=5"). */
static int add_constraints(struct strbuf *sb, const struct field *f) {
        if (f->type == FT_STRING || f->type == FT_TEXT) {
                if (f->has_min_length)
                        TRY(strbuf_addf(sb, ", min_length=%lld", f->min_length));
                if (f->has_max_length || f->type == FT_STRING)
                        TRY(strbuf_addf(sb, ", max_length=%lld", f->has_max_length ? f->max_length : 255));
                if (f->pattern) {
                        TRY(strbuf_adds(sb, ", regex="));
                        TRY(add_py_str(sb, f->pattern));
                }
        }
        if (f->type == FT_INTEGER || f->type == FT_FLOAT || f->type == FT_DECIMAL) {
                _cleanup_free_ char *mn = f->has_min ? num_str(f->min) : NULL;
                _cleanup_free_ char *mx = f->has_max ? num_str(f->max) : NULL;
                if ((f->has_min && !mn) || (f->has_max && !mx))
                        return -ENOMEM;
                if (mn)
                        TRY(strbuf_addf(sb, ", ge=%s", mn));
                if (mx)
                        TRY(strbuf_addf(sb, ", le=%s", mx));
                if (f->type == FT_DECIMAL)
                        TRY(strbuf_adds(sb, ", max_digits=12, decimal_places=2"));
        }
        return 0;
}

/* Checks for constraints Field() cannot apply to EmailStr/AnyUrl: [{condition, message}]
 * on a variable "text". */
static int text_checks(const struct field *f, struct node **ret) {
        _cleanup_node_ struct node *seq = node_new_seq();
        if (!seq)
                return -ENOMEM;
        if (f->type == FT_EMAIL || f->type == FT_URL) {
                for (int k = 0; k < 3; k++) {
                        _cleanup_node_ struct node *m = node_new_map();
                        _cleanup_free_ char *pat = f->pattern ? py_str(f->pattern) : NULL;
                        if (!m || (f->pattern && !pat))
                                return -ENOMEM;
                        if (k == 0 && f->has_min_length) {
                                TRY(put_strf(m, "condition", "len(text) < %lld", f->min_length));
                                TRY(put_strf(m, "message", "ensure this value has at least %lld characters",
                                             f->min_length));
                        } else if (k == 1 && f->has_max_length) {
                                TRY(put_strf(m, "condition", "len(text) > %lld", f->max_length));
                                TRY(put_strf(m, "message", "ensure this value has at most %lld characters",
                                             f->max_length));
                        } else if (k == 2 && pat) {
                                TRY(put_strf(m, "condition", "not re.match(%s, text)", pat));
                                TRY(put_strf(m, "message", "string does not match regex '%s'", f->pattern));
                        } else
                                continue;
                        TRY(node_seq_append(seq, TAKE_PTR(m)));
                }
        }
        *ret = TAKE_PTR(seq);
        return 0;
}

static const char *const type_flags[_FT_MAX] = {
        "is_string", "is_text", "is_integer", "is_float", "is_decimal", "is_boolean", "is_date",
        "is_datetime", "is_email", "is_url", "is_uuid", "is_enum", "is_fk", "is_json",
};

/* Python expression of a valid JSON value for the field in a test payload; variant
 * picks among distinct values. Foreign keys create their target with its factory. */
static char *payload_value(const struct spec *s, const struct entity *e, const struct field *f,
                           unsigned v, bool typed, int *err) {
        *err = 0;
        if (f->type == FT_FOREIGN_KEY) {
                const struct entity *t = spec_find_entity(s, f->target);
                if (!f->required || !t)
                        return strdup("None");
                return strf("make_%s(db).id", t->snake);
        }
        struct sample_spec ss;
        sample_spec_init(s, e, f, &ss);
        return sample_value(&ss, v, typed, err);
}

/* For fields that must be unique: the distinct samples, as a sequence of literals. */
static int variants_node(const struct spec *s, const struct entity *e, const struct field *f,
                         struct node **ret) {
        _cleanup_node_ struct node *seq = node_new_seq();
        if (!seq)
                return -ENOMEM;
        for (unsigned v = 0; v < N_VARIANTS; v++) {
                int err;
                _cleanup_free_ char *x = payload_value(s, e, f, v, false, &err);
                if (!x)
                        return err < 0 ? err : -EINVAL;
                bool dup = false;
                for (size_t i = 0; i < seq->n && !dup; i++)
                        dup = streq(seq->items[i]->value, x);
                if (!dup)
                        TRY(append_str(seq, x));
        }
        *ret = TAKE_PTR(seq);
        return 0;
}

/* How many distinct samples a field has (0 when it has none). */
static int count_variants(const struct spec *s, const struct entity *e, const struct field *f,
                          size_t *ret) {
        _cleanup_node_ struct node *v = NULL;
        int r = variants_node(s, e, f, &v);
        if (r == -ENOMEM)
                return r;
        *ret = r < 0 ? 0 : v->n;
        return 0;
}

static char *doc_type(const struct field *f) {
        switch (f->type) {
        case FT_STRING:
                return strf("string(%lld)", f->has_max_length ? f->max_length : 255);
        case FT_ENUM: {
                struct strbuf sb;
                int r;
                strbuf_init(&sb, 0);
                r = strbuf_adds(&sb, "enum (");
                for (size_t i = 0; i < f->n_values && r >= 0; i++)
                        r = strbuf_addf(&sb, "%s%s", i ? ", " : "", f->values[i]);
                if (r >= 0)
                        r = strbuf_addc(&sb, ')');
                if (r < 0) {
                        strbuf_free(&sb);
                        return NULL;
                }
                return strbuf_detach(&sb, NULL);
        }
        case FT_FOREIGN_KEY:
                return strf("foreign_key to %s", f->target);
        default:
                return strdup(field_type_name(f->type));
        }
}

/* Appends ", " and a formatted part to a comma-separated list; errors stick in *r. */
static void add_part(struct strbuf *sb, int *r, const char *fmt, ...) _printf_(3, 4);
static void add_part(struct strbuf *sb, int *r, const char *fmt, ...) {
        va_list ap;
        if (*r < 0)
                return;
        if (sb->len > 0 && (*r = strbuf_adds(sb, ", ")) < 0)
                return;
        va_start(ap, fmt);
        *r = strbuf_vaddf(sb, fmt, ap);
        va_end(ap);
}

static char *constraints_doc(const struct spec *s, const struct entity *e, const struct field *f) {
        struct strbuf sb;
        int r = 0;
        strbuf_init(&sb, 0);
        if (f->required)
                add_part(&sb, &r, "required");
        if (field_conflicts(s, e, f))
                add_part(&sb, &r, "unique");
        if (f->index)
                add_part(&sb, &r, "indexed");
        if (f->has_min_length)
                add_part(&sb, &r, "at least %lld characters", f->min_length);
        if (f->has_max_length)
                add_part(&sb, &r, "at most %lld characters", f->max_length);
        if (f->has_min)
                add_part(&sb, &r, "minimum %g", f->min);
        if (f->has_max)
                add_part(&sb, &r, "maximum %g", f->max);
        if (f->pattern)
                add_part(&sb, &r, "matches `%s`", f->pattern);
        if (f->default_value && f->default_value->value)
                add_part(&sb, &r, "default `%s`", f->default_value->value);
        if (r >= 0 && sb.len == 0)
                r = strbuf_adds(&sb, "optional");
        if (r < 0) {
                strbuf_free(&sb);
                return NULL;
        }
        return strbuf_detach(&sb, NULL);
}

static int field_fill(const struct spec *s, const struct entity *e, const struct field *f,
                      const struct field_parts *p, struct node *m) {
        const struct entity *t = f->type == FT_FOREIGN_KEY ? spec_find_entity(s, f->target) : NULL;
        bool aliased = !streq(p->attr, f->name);
        bool unique_index = f->unique && f->index;
        int err;

        TRY(put_str(m, "name", f->name));
        TRY(put_str(m, "attr", p->attr));
        TRY(put_bool(m, "aliased", aliased));
        TRY(put_str(m, "alias_kw", p->alias_kw));
        TRY(put_str(m, "type", field_type_name(f->type)));
        for (int k = 0; k < _FT_MAX; k++)
                TRY(put_bool(m, type_flags[k], (int) f->type == k));
        TRY(put_bool(m, "required", f->required));
        TRY(put_bool(m, "optional", !f->required));
        TRY(put_bool(m, "unique", f->unique));
        TRY(put_bool(m, "index", f->index));
        TRY(put_bool(m, "conflict", field_conflicts(s, e, f)));
        TRY(put_bool(m, "comparable", f->type == FT_STRING || f->type == FT_TEXT ||
                                              f->type == FT_INTEGER || f->type == FT_BOOLEAN ||
                                              f->type == FT_ENUM));
        TRY(put_str(m, "nullable", f->required ? "False" : "True"));
        {
                _cleanup_free_ char *d = one_line(f->description);
                _cleanup_free_ char *w = words_of(f->name);
                if (!d || !w)
                        return -ENOMEM;
                TRY(put_str(m, "description", d));
                if (*d)
                        TRY(put_str(m, "doc", d));
                else
                        TRY(put_strf(m, "doc", "The %s of the %s.", w, e->name));
        }

        /* SQLAlchemy */
        _cleanup_free_ char *st = sa_type(e, f);
        _cleanup_free_ char *mdef = default_expr(f, false, &err);
        if (!st || err < 0)
                return -ENOMEM;
        _cleanup_free_ char *fkarg = t ? strf(", sa.ForeignKey(\"%s.id\", ondelete=\"%s\")", t->table,
                                              f->required ? "CASCADE" : "SET NULL")
                                       : strdup("");
        _cleanup_free_ char *qname = aliased ? strf("\"%s\", ", f->name) : strdup("");
        if (!fkarg || !qname)
                return -ENOMEM;
        TRY(put_str(m, "sa_type", st));
        TRY(put_strf(m, "column_def", "sa.Column(%s%s%s, nullable=%s%s%s%s%s)", qname, st, fkarg,
                     f->required ? "False" : "True", f->unique ? ", unique=True" : "",
                     f->index ? ", index=True" : "", mdef ? ", default=" : "", mdef ? mdef : ""));
        TRY(put_strf(m, "migration_column", "sa.Column(\"%s\", %s%s, nullable=%s%s)", f->name, st,
                     fkarg, f->required ? "False" : "True",
                     f->unique && !unique_index ? ", unique=True" : ""));
        TRY(put_strf(m, "index_name", "ix_%s_%s", e->table, f->name));
        TRY(put_bool(m, "unique_index", unique_index));
        TRY(put_bool(m, "has_default", mdef != NULL));
        TRY(put_str(m, "model_default", mdef));
        TRY(put_str(m, "default_doc", f->default_value ? f->default_value->value : NULL));

        /* Pydantic */
        _cleanup_free_ char *sdef = default_expr(f, true, &err);
        if (err < 0)
                return err;
        struct strbuf cons;
        strbuf_init(&cons, 0);
        int r = add_constraints(&cons, f);
        _cleanup_free_ char *cs = r < 0 ? NULL : strbuf_detach(&cons, NULL);
        strbuf_free(&cons);
        if (!cs)
                return -ENOMEM;
        TRY(put_str(m, "py_type", p->py_type));
        TRY(put_str(m, "enum_alias", p->enum_alias));
        if (f->required)
                TRY(put_str(m, "create_type", p->py_type));
        else
                TRY(put_strf(m, "create_type", "Optional[%s]", p->py_type));
        if (sdef && f->type == FT_JSON)
                TRY(put_strf(m, "create_field", "Field(default_factory=%s%s%s)", sdef, p->alias_kw, cs));
        else
                TRY(put_strf(m, "create_field", "Field(%s%s%s)",
                             sdef ? sdef : f->required ? "..." : "None", p->alias_kw, cs));
        TRY(put_strf(m, "update_type", "Optional[%s]", p->py_type));
        TRY(put_strf(m, "update_field", "Field(None%s%s)", p->alias_kw, cs));
        if (f->required) {
                TRY(put_str(m, "read_type", p->read_type));
                if (aliased)
                        TRY(put_strf(m, "read_field", " = Field(...%s)", p->alias_kw));
                else
                        TRY(put_str(m, "read_field", ""));
        } else {
                TRY(put_strf(m, "read_type", "Optional[%s]", p->read_type));
                if (aliased)
                        TRY(put_strf(m, "read_field", " = Field(None%s)", p->alias_kw));
                else
                        TRY(put_str(m, "read_field", " = None"));
        }
        struct node *checks = NULL;
        TRY(text_checks(f, &checks));
        TRY(put_bool(m, "has_checks", checks->n > 0));
        TRY(put(m, "checks", checks));

        /* enums and foreign keys */
        _cleanup_node_ struct node *values = node_new_seq();
        if (!values)
                return -ENOMEM;
        for (size_t i = 0; i < f->n_values; i++) {
                _cleanup_node_ struct node *v = node_new_map();
                if (!v)
                        return -ENOMEM;
                TRY(put_str(v, "value", f->values[i]));
                TRY(node_seq_append(values, TAKE_PTR(v)));
        }
        TRY(mark_last(values));
        TRY(put(m, "values", TAKE_PTR(values)));
        if (t) {
                _cleanup_free_ char *tc = class_name_of(t);
                if (!tc)
                        return -ENOMEM;
                TRY(put_str(m, "fk_entity", t->name));
                TRY(put_str(m, "fk_class", tc));
                TRY(put_str(m, "fk_table", t->table));
                TRY(put_str(m, "fk_snake", t->snake));
                TRY(put_str(m, "ondelete", f->required ? "CASCADE" : "SET NULL"));
        } else {
                TRY(put_str(m, "fk_entity", NULL));
                TRY(put_str(m, "fk_class", NULL));
                TRY(put_str(m, "fk_table", NULL));
                TRY(put_str(m, "fk_snake", NULL));
                TRY(put_str(m, "ondelete", NULL));
        }
        _cleanup_free_ char *dt = doc_type(f), *cd = constraints_doc(s, e, f);
        if (!dt || !cd)
                return -ENOMEM;
        TRY(put_str(m, "doc_type", dt));
        TRY(put_str(m, "constraints_doc", cd));

        /* test data */
        _cleanup_free_ char *s0 = payload_value(s, e, f, 0, false, &err);
        _cleanup_free_ char *s1 = s0 ? payload_value(s, e, f, 1, false, &err) : NULL;
        _cleanup_free_ char *st0 = s1 ? payload_value(s, e, f, 0, true, &err) : NULL;
        if (!s0 && err == -ENOMEM)
                return err;
        _cleanup_node_ struct node *variants = NULL;
        if (st0 && field_conflicts(s, e, f) && f->type != FT_FOREIGN_KEY &&
            (err = variants_node(s, e, f, &variants)) == -ENOMEM)
                return err;
        bool varies = variants && variants->n > 1;
        _cleanup_free_ char *fu = upper(f->name), *eu = upper(e->snake);
        if (!fu || !eu)
                return -ENOMEM;
        TRY(put_str(m, "sample", s0 ? s0 : "None"));
        TRY(put_str(m, "sample_alt", s1 ? s1 : "None"));
        TRY(put_str(m, "sample_typed", st0 ? st0 : "None"));
        TRY(put_strf(m, "variants_const", "_%s_%s_VALUES", eu, fu));
        if (varies)
                TRY(put_strf(m, "payload_expr", "_%s_%s_VALUES[n %% %zu]", eu, fu, variants->n));
        else
                TRY(put_str(m, "payload_expr", s0 ? s0 : "None"));
        TRY(put_bool(m, "varies", varies));
        TRY(put(m, "variants", variants && varies ? TAKE_PTR(variants) : node_new_seq()));
        TRY(put_bool(m, "alt_differs", s0 && s1 && !streq(s0, s1)));
        TRY(put_str(m, "invalid", invalid_value(f)));
        return 0;
}

static int field_ctx(const struct spec *s, const struct entity *e, const struct field *f,
                     struct node **ret) {
        _cleanup_node_ struct node *m = node_new_map();
        struct field_parts p = { .attr = NULL };
        if (!m)
                return -ENOMEM;
        int r = field_parts_init(e, f, &p);
        if (r >= 0)
                r = field_fill(s, e, f, &p, m);
        field_parts_clear(&p);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(m);
        return 0;
}

/* ---- relationships, as context ---- */

static const char *const rel_flags[_RK_MAX] = {
        "is_one_to_many", "is_many_to_one", "is_one_to_one", "is_many_to_many",
};

static bool rel_is_collection(const struct relationship *r) {
        return r->kind == RK_ONE_TO_MANY || r->kind == RK_MANY_TO_MANY;
}

static int rel_fill(const struct relinfo *ri, struct node *m) {
        const struct relationship *r = ri->r;
        _cleanup_free_ char *attr = context_py_ident(r->name);
        _cleanup_free_ char *tc = class_name_of(ri->t);
        _cleanup_free_ char *args = relationship_args(ri);
        _cleanup_free_ char *back_attr = ri->back ? context_py_ident(ri->back->name) : NULL;
        _cleanup_free_ char *fk_attr = ri->fk ? context_py_ident(ri->fk->name) : NULL;
        if (!attr || !tc || !args || (ri->back && !back_attr) || (ri->fk && !fk_attr))
                return -ENOMEM;

        TRY(put_str(m, "name", r->name));
        TRY(put_str(m, "attr", attr));
        TRY(put_str(m, "kind", rel_kind_name(r->kind)));
        for (int k = 0; k < _RK_MAX; k++)
                TRY(put_bool(m, rel_flags[k], (int) r->kind == k));
        TRY(put_str(m, "target", ri->t->name));
        TRY(put_str(m, "target_class", tc));
        TRY(put_str(m, "target_snake", ri->t->snake));
        TRY(put_str(m, "target_table", ri->t->table));
        TRY(put_bool(m, "self_referential", ri->e == ri->t));
        TRY(put_str(m, "args", args));
        TRY(put_bool(m, "collection", rel_is_collection(r)));
        TRY(put_bool(m, "has_back", ri->back != NULL));
        TRY(put_str(m, "back", ri->back ? ri->back->name : NULL));
        TRY(put_str(m, "back_attr", back_attr));
        TRY(put_bool(m, "back_collection", ri->back && rel_is_collection(ri->back)));
        TRY(put_str(m, "secondary", ri->assoc));
        TRY(put_str(m, "fk", ri->fk ? ri->fk->name : NULL));
        TRY(put_str(m, "fk_attr", fk_attr));
        TRY(put_str(m, "fk_holder", ri->fk ? (ri->fk_on_self ? ri->e : ri->t)->name : NULL));
        TRY(put_strf(m, "make_self", "make_%s", ri->e->snake));
        TRY(put_strf(m, "make_other", "make_%s", ri->t->snake));
        TRY(put_bool(m, "via_fk_on_self", r->kind != RK_MANY_TO_MANY && ri->fk_on_self));
        TRY(put_bool(m, "via_fk_on_other", r->kind != RK_MANY_TO_MANY && !ri->fk_on_self));
        TRY(put_bool(m, "via_secondary", r->kind == RK_MANY_TO_MANY));
        if (ri->back)
                TRY(put_strf(m, "doc", "The %s (%s to %s, paired with %s.%s).", r->name,
                             rel_kind_name(r->kind), ri->t->name, ri->t->name, ri->back->name));
        else
                TRY(put_strf(m, "doc", "The %s (%s to %s).", r->name, rel_kind_name(r->kind),
                             ri->t->name));
        return 0;
}

static int rel_ctx(const struct spec *s, const struct entity *e, const struct relationship *r,
                   struct node **ret) {
        struct relinfo ri;
        _cleanup_node_ struct node *m = node_new_map();
        if (!m)
                return -ENOMEM;
        int k = relinfo_init(s, e, r, &ri);
        if (k >= 0)
                k = rel_fill(&ri, m);
        relinfo_clear(&ri);
        if (k < 0)
                return k;
        *ret = TAKE_PTR(m);
        return 0;
}

/* The association table a many_to_many relationship owns, as context. */
static int assoc_ctx(const struct relinfo *ri, struct node **ret) {
        const struct entity *other = ri->owner == ri->e ? ri->t : ri->e;
        _cleanup_node_ struct node *m = node_new_map();
        if (!m)
                return -ENOMEM;
        TRY(put_str(m, "name", ri->assoc));
        TRY(put_str(m, "left_table", ri->owner->table));
        TRY(put_str(m, "left_column", ri->left_col));
        TRY(put_str(m, "right_table", other->table));
        TRY(put_str(m, "right_column", ri->right_col));
        TRY(put_strf(m, "doc", "Links %s to %s for %s.%s.", ri->owner->name, other->name,
                     ri->e->name, ri->r->name));
        *ret = TAKE_PTR(m);
        return 0;
}

/* ---- rules ---- */

static const char *const rule_flags[_RULE_MAX] = {
        "is_unique", "is_exists", "is_not_in_past", "is_not_in_future", "is_range", "is_regex",
        "is_transitions", "is_custom",
};

/* check_<field>_<kind>, numbered when an entity has two such rules. */
static char *rule_func(const struct spec *s, const struct rule *r) {
        unsigned nth = 0, total = 0;
        for (size_t i = 0; i < s->n_rules; i++) {
                const struct rule *o = &s->rules[i];
                if (o->kind != r->kind || !streq_ptr(o->entity, r->entity) ||
                    !streq_ptr(o->field, r->field))
                        continue;
                total++;
                if (o < r)
                        nth++;
        }
        if (total > 1)
                return strf("check_%s_%s_%u", r->field, rule_kind_name(r->kind), nth + 1);
        return strf("check_%s_%s", r->field, rule_kind_name(r->kind));
}

/* A value of the field's type as a Python expression, for range tests. */
static char *range_value(const struct field *f, double x) {
        if (f->type == FT_DECIMAL) {
                _cleanup_free_ char *n = num_str(x);
                return n ? strf("Decimal(\"%s\")", n) : NULL;
        }
        return num_str(x);
}

static int rule_tests(const struct spec *s, const struct entity *e, const struct rule *r,
                      const struct field *f, const char *attr, struct node *m) {
        _cleanup_free_ char *rej = NULL, *acc = NULL, *rej_cur = NULL, *acc_cur = NULL;
        _cleanup_free_ char *cls = class_name_of(e);
        bool existing = false;
        if (!cls)
                return -ENOMEM;
        switch (r->kind) {
        case RULE_UNIQUE:
                existing = true;
                rej = strf("existing.%s", attr);
                acc = strf("existing.%s", attr);
                acc_cur = strdup("existing");
                break;
        case RULE_EXISTS: {
                const struct entity *t = spec_find_entity(s, f->target);
                rej = strdup(MISSING_ID);
                acc = t ? strf("make_%s(db_session).id", t->snake) : NULL;
                break;
        }
        case RULE_NOT_IN_PAST:
        case RULE_NOT_IN_FUTURE: {
                const char *past = f->type == FT_DATE ? "dt.date(2000, 1, 1)" : "dt.datetime(2000, 1, 1, 0, 0)";
                const char *future = f->type == FT_DATE ? "dt.date(2999, 12, 31)"
                                                        : "dt.datetime(2999, 12, 31, 0, 0)";
                bool np = r->kind == RULE_NOT_IN_PAST;
                rej = strdup(np ? past : future);
                acc = strdup(np ? future : past);
                break;
        }
        case RULE_RANGE: {
                bool integer = f->type == FT_INTEGER;
                if (r->has_min) {
                        double a = integer ? dceil(r->min) : r->min;
                        rej = range_value(f, integer ? a - 1 : r->min - 1);
                        acc = range_value(f, a);
                } else {
                        double a = integer ? dfloor(r->max) : r->max;
                        rej = range_value(f, integer ? a + 1 : r->max + 1);
                        acc = range_value(f, a);
                }
                break;
        }
        case RULE_REGEX: {
                _cleanup_free_ char *pat = py_str(r->pattern), *smp = NULL;
                int k = regex_sample(r->pattern, 0, 0, 1000, NULL, &smp);
                if (k == -ENOMEM || !pat)
                        return -ENOMEM;
                rej = strf("not_matching(%s)", pat);
                acc = k >= 0 ? py_str(smp) : strdup("None");
                break;
        }
        case RULE_TRANSITIONS: {
                const char *rf = NULL, *rt = NULL, *af = NULL, *at = NULL;
                for (size_t i = 0; i < f->n_values && (!rf || !af); i++) {
                        const char *from = f->values[i];
                        const struct transition *tr = NULL;
                        for (size_t j = 0; j < r->n_transitions; j++)
                                if (streq_ptr(r->transitions[j].from, from))
                                        tr = &r->transitions[j];
                        for (size_t j = 0; j < f->n_values; j++) {
                                const char *to = f->values[j];
                                bool allowed = false;
                                for (size_t k = 0; tr && k < tr->n_to; k++)
                                        allowed = allowed || streq(tr->to[k], to);
                                if (streq(to, from))
                                        continue;
                                if (allowed && !af)
                                        af = from, at = to;
                                if (!allowed && !rf)
                                        rf = from, rt = to;
                        }
                }
                if (!af)
                        af = at = f->values[0]; /* staying put is always allowed */
                if (!rf)
                        rf = f->values[0], rt = "__not_a_state__";
                rej = strf("\"%s\"", rt);
                acc = strf("\"%s\"", at);
                rej_cur = strf("%s(%s=\"%s\")", cls, attr, rf);
                acc_cur = strf("%s(%s=\"%s\")", cls, attr, af);
                if (!rej_cur || !acc_cur)
                        return -ENOMEM;
                break;
        }
        default:
                return 0;
        }
        if (!rej || !acc)
                return -ENOMEM;
        TRY(put_bool(m, "needs_existing", existing));
        TRY(put_strf(m, "rejected_data", "{\"%s\": %s}", attr, rej));
        TRY(put_strf(m, "accepted_data", "{\"%s\": %s}", attr, acc));
        TRY(put_str(m, "rejected_current", rej_cur ? rej_cur : "None"));
        TRY(put_str(m, "accepted_current", acc_cur ? acc_cur : "None"));
        return 0;
}

static int rule_fill(const struct spec *s, const struct rule *r, struct node *m) {
        const struct entity *e = spec_find_entity(s, r->entity);
        const struct field *f = e ? entity_find_field(e, r->field) : NULL;
        if (!e || !f)
                return -EINVAL;
        _cleanup_free_ char *attr = context_py_ident(f->name), *func = rule_func(s, r);
        _cleanup_free_ char *cls = class_name_of(e);
        _cleanup_free_ char *cname = func ? upper(func + strlen("check")) : NULL;
        _cleanup_free_ char *msg = one_line(r->message);
        if (!attr || !func || !cls || !cname || !msg)
                return -ENOMEM;

        TRY(put_str(m, "entity_name", e->name));
        TRY(put_str(m, "class_name", cls));
        TRY(put_str(m, "snake", e->snake));
        TRY(put_str(m, "kind", rule_kind_name(r->kind)));
        for (int k = 0; k < _RULE_MAX; k++)
                TRY(put_bool(m, rule_flags[k], (int) r->kind == k));
        TRY(put_str(m, "field", f->name));
        TRY(put_str(m, "attr", attr));
        TRY(put_str(m, "message", r->message));
        TRY(put_str(m, "message_line", msg));
        TRY(put_str(m, "func", func));
        TRY(put_str(m, "const_name", cname));
        TRY(put_str(m, "exception", r->kind == RULE_UNIQUE ? "ConflictError" : "ValidationFailed"));
        TRY(put_bool(m, "is_date_field", f->type == FT_DATE));
        TRY(put_bool(m, "is_datetime_field", f->type == FT_DATETIME));
        TRY(put_str(m, "pattern", r->pattern));

        /* exists */
        const struct entity *t = r->kind == RULE_EXISTS ? spec_find_entity(s, f->target) : NULL;
        _cleanup_free_ char *tc = t ? class_name_of(t) : NULL;
        if (t && !tc)
                return -ENOMEM;
        TRY(put_str(m, "target_class", tc));
        TRY(put_str(m, "target_snake", t ? t->snake : NULL));

        /* range */
        _cleanup_free_ char *mn = r->has_min ? num_str(r->min) : NULL;
        _cleanup_free_ char *mx = r->has_max ? num_str(r->max) : NULL;
        TRY(put_bool(m, "has_min", r->has_min));
        TRY(put_bool(m, "has_max", r->has_max));
        TRY(put_str(m, "min", mn));
        TRY(put_str(m, "max", mx));
        if (r->kind == RULE_RANGE) {
                if (mn && mx)
                        TRY(put_strf(m, "condition", "value < %s or value > %s", mn, mx));
                else
                        TRY(put_strf(m, "condition", "value %s %s", mn ? "<" : ">", mn ? mn : mx));
        } else
                TRY(put_str(m, "condition", NULL));

        /* transitions */
        _cleanup_node_ struct node *trs = node_new_seq();
        if (!trs)
                return -ENOMEM;
        for (size_t i = 0; i < r->n_transitions; i++) {
                const struct transition *tr = &r->transitions[i];
                _cleanup_node_ struct node *tm = node_new_map();
                struct strbuf sb;
                int k;
                if (!tm)
                        return -ENOMEM;
                strbuf_init(&sb, 0);
                k = strbuf_addc(&sb, '(');
                for (size_t j = 0; j < tr->n_to && k >= 0; j++)
                        k = strbuf_addf(&sb, "%s\"%s\"", j ? ", " : "", tr->to[j]);
                if (k >= 0)
                        k = strbuf_adds(&sb, tr->n_to == 1 ? ",)" : ")");
                if (k >= 0)
                        k = put_str(tm, "to_tuple", strbuf_str(&sb));
                strbuf_free(&sb);
                TRY(k);
                TRY(put_str(tm, "from", tr->from));
                TRY(node_seq_append(trs, TAKE_PTR(tm)));
        }
        TRY(put(m, "transitions", TAKE_PTR(trs)));
        return rule_tests(s, e, r, f, attr, m);
}

static int rule_ctx(const struct spec *s, const struct rule *r, struct node **ret) {
        _cleanup_node_ struct node *m = node_new_map();
        if (!m)
                return -ENOMEM;
        TRY(rule_fill(s, r, m));
        *ret = TAKE_PTR(m);
        return 0;
}

/* ---- endpoints ---- */

static const char *const op_flags[_OP_MAX] = {
        "is_list", "is_create", "is_get", "is_update", "is_delete", "is_custom",
};

static const char *query_type(const struct field *f, const struct field_parts *p) {
        switch (f->type) {
        case FT_EMAIL:
        case FT_URL:
                return "str";
        case FT_ENUM:
                return p->enum_alias;
        default:
                return py_type_of(f->type);
        }
}

static int filter_ctx(const struct spec *s, const struct entity *e, const struct field *f,
                      struct node **ret) {
        static const char *const taken[] = { "db", "limit", "offset", "filters", NULL };
        struct field_parts p = { .attr = NULL };
        _cleanup_node_ struct node *m = node_new_map();
        _cleanup_free_ char *param = NULL, *w = words_of(f->name);
        int r;

        if (!m || !w || field_parts_init(e, f, &p) < 0) {
                field_parts_clear(&p);
                return -ENOMEM;
        }
        param = in_list(taken, p.attr) ? strf("%s_filter", p.attr) : strdup(p.attr);
        const struct entity *t = f->type == FT_FOREIGN_KEY ? spec_find_entity(s, f->target) : NULL;
        r = param ? 0 : -ENOMEM;
        if (r >= 0)
                r = put_str(m, "name", f->name);
        if (r >= 0)
                r = put_str(m, "attr", p.attr);
        if (r >= 0)
                r = put_str(m, "param", param);
        if (r >= 0)
                r = put_str(m, "type", field_type_name(f->type));
        if (r >= 0)
                r = put_strf(m, "decl", "%s: Optional[%s] = Query(None%s%s%s, description=\"Only rows whose %s equals this value.\")",
                             param, query_type(f, &p), streq(param, f->name) ? "" : ", alias=\"",
                             streq(param, f->name) ? "" : f->name,
                             streq(param, f->name) ? "" : "\"", w);
        if (r >= 0)
                r = f->type == FT_UUID ? put_strf(m, "value", "str(%s) if %s is not None else None", param, param)
                                       : put_str(m, "value", param);
        if (r >= 0)
                r = put_bool(m, "fk_optional", t && !f->required);
        if (r >= 0)
                r = put_strf(m, "make_target", "make_%s", t ? t->snake : "");
        if (r >= 0)
                r = put_bool(m, "is_date", f->type == FT_DATE || f->type == FT_DATETIME);
        /* a second row the filter must leave out, when the field can differ */
        if (r >= 0) {
                _cleanup_free_ char *other = NULL;
                if (t || field_conflicts(s, e, f))
                        other = strf("make_%s(db_session)", e->snake);
                else {
                        int err;
                        _cleanup_free_ char *a = payload_value(s, e, f, 0, false, &err);
                        _cleanup_free_ char *b = a ? payload_value(s, e, f, 1, false, &err) : NULL;
                        if (a && b && !streq(a, b))
                                other = strf("make_%s(db_session, **{\"%s\": %s})", e->snake, f->name, b);
                        else if (!a && err == -ENOMEM)
                                r = err;
                }
                if (r >= 0)
                        r = put_str(m, "other_make", other ? other : "");
        }
        field_parts_clear(&p);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(m);
        return 0;
}

static int endpoint_fill(const struct spec *s, const struct entity *e, const struct endpoint *ep,
                         struct node *m) {
        _cleanup_free_ char *cls = class_name_of(e), *words = title_words(e);
        _cleanup_free_ char *desc = one_line(ep->description);
        if (!cls || !words || !desc)
                return -ENOMEM;
        const char *op = op_kind_name(ep->op);
        bool with_id = ep->op == OP_GET || ep->op == OP_UPDATE || ep->op == OP_DELETE;
        static const char *const summaries[] = { "List ", "Create a ", "Get a ", "Update a ",
                                                 "Delete a ", "" };
        static const int codes[] = { 200, 201, 200, 200, 204, 200 };

        TRY(put_str(m, "entity_name", e->name));
        TRY(put_str(m, "class_name", cls));
        TRY(put_str(m, "snake", e->snake));
        TRY(put_str(m, "table", e->table));
        TRY(put_str(m, "operation", ep->op == OP_CUSTOM ? ep->name : op));
        for (int k = 0; k < _OP_MAX; k++)
                TRY(put_bool(m, op_flags[k], (int) ep->op == k));
        TRY(put_str(m, "method", ep->method));
        {
                _cleanup_free_ char *lower = strdup(ep->method ? ep->method : "get");
                for (char *q = lower; q && *q; q++)
                        *q = (char) (*q >= 'A' && *q <= 'Z' ? *q - 'A' + 'a' : *q);
                if (!lower)
                        return -ENOMEM;
                TRY(put_str(m, "method_lower", lower));
        }
        TRY(put_str(m, "path", ep->path));
        if (ep->op == OP_LIST) {
                TRY(put_strf(m, "handler", "list_%s", e->table));
                TRY(put_strf(m, "service_fn", "list_%s", e->table));
        } else {
                TRY(put_strf(m, "handler", "%s_%s", ep->op == OP_CUSTOM ? ep->name : op, e->snake));
                TRY(put_strf(m, "service_fn", "%s_%s", op, e->snake));
        }
        if (ep->op == OP_LIST) {
                _cleanup_free_ char *tw = words_of(e->table);
                if (!tw)
                        return -ENOMEM;
                TRY(put_strf(m, "summary", "%s%s", summaries[ep->op], tw));
        } else
                TRY(put_strf(m, "summary", "%s%s", summaries[ep->op < _OP_MAX ? ep->op : OP_CUSTOM],
                             ep->op == OP_CUSTOM ? ep->name : words));
        TRY(put_str(m, "description", desc));
        TRY(put_int(m, "status_code", codes[ep->op < _OP_MAX ? ep->op : OP_CUSTOM]));
        TRY(put_bool(m, "with_id", with_id));

        /* f"{API}/tasks/{item_id}" with the path's {id} */
        struct strbuf sb;
        int r;
        strbuf_init(&sb, 0);
        r = strbuf_adds(&sb, "f\"{API}");
        for (const char *q = ep->path ? ep->path : ""; *q && r >= 0; q++) {
                if (*q == '{') {
                        const char *end = strchr(q, '}');
                        if (end) {
                                r = strbuf_adds(&sb, "{item_id}");
                                q = end;
                                continue;
                        }
                }
                r = strbuf_addc(&sb, *q);
        }
        if (r >= 0)
                r = strbuf_addc(&sb, '"');
        if (r >= 0)
                r = put_str(m, "url_expr", strbuf_str(&sb));
        strbuf_free(&sb);
        TRY(r);

        _cleanup_node_ struct node *filters = node_new_seq();
        if (!filters)
                return -ENOMEM;
        for (size_t i = 0; i < ep->n_filters; i++) {
                const struct field *f = entity_find_field(e, ep->filters[i]);
                struct node *fc = NULL;
                if (!f)
                        continue;
                TRY(filter_ctx(s, e, f, &fc));
                TRY(node_seq_append(filters, fc));
        }
        TRY(mark_last(filters));
        TRY(put_bool(m, "has_filters", filters->n > 0));
        TRY(put(m, "filters", TAKE_PTR(filters)));
        return 0;
}

/* The imports of one route fragment. */
static int route_imports(const struct spec *s, const struct entity *e, const struct endpoint *ep,
                         bool first, struct imports *im) {
        _cleanup_free_ char *cls = class_name_of(e);
        _cleanup_free_ char *schemas = strf("src.api.schemas.%s", e->snake);
        _cleanup_free_ char *svc = strf("from src.services import %s as %s_service", e->snake, e->snake);
        _cleanup_free_ char *read = strf("%sRead", cls), *create = strf("%sCreate", cls);
        _cleanup_free_ char *update = strf("%sUpdate", cls);
        if (!cls || !schemas || !svc || !read || !create || !update)
                return -ENOMEM;

        if (first)
                TRY(imp_from(im, IMP_THIRD, "fastapi", "APIRouter"));
        TRY(imp_from(im, IMP_THIRD, "fastapi", "Depends"));
        TRY(imp_from(im, IMP_THIRD, "sqlalchemy.orm", "Session"));
        TRY(imp_from(im, IMP_LOCAL, "src.database", "get_db"));
        TRY(imp_from(im, IMP_LOCAL, "src.errors", "DomainError"));
        TRY(imp_from(im, IMP_LOCAL, "src.errors", "http_error"));
        TRY(imp_plain(im, IMP_LOCAL, svc));
        switch (ep->op) {
        case OP_LIST:
                TRY(imp_from(im, IMP_STDLIB, "typing", "List"));
                TRY(imp_from(im, IMP_THIRD, "fastapi", "Query"));
                TRY(imp_from(im, IMP_LOCAL, schemas, read));
                if (ep->n_filters > 0) {
                        TRY(imp_from(im, IMP_STDLIB, "typing", "Any"));
                        TRY(imp_from(im, IMP_STDLIB, "typing", "Dict"));
                        TRY(imp_from(im, IMP_STDLIB, "typing", "Optional"));
                }
                for (size_t i = 0; i < ep->n_filters; i++) {
                        const struct field *f = entity_find_field(e, ep->filters[i]);
                        if (!f)
                                continue;
                        if (f->type == FT_DATE || f->type == FT_DATETIME)
                                TRY(imp_plain(im, IMP_STDLIB, "import datetime as dt"));
                        else if (f->type == FT_DECIMAL)
                                TRY(imp_from(im, IMP_STDLIB, "decimal", "Decimal"));
                        else if (f->type == FT_UUID)
                                TRY(imp_from(im, IMP_STDLIB, "uuid", "UUID"));
                        else if (f->type == FT_ENUM) {
                                struct field_parts p = { .attr = NULL };
                                int r = field_parts_init(e, f, &p);
                                if (r >= 0)
                                        r = imp_from(im, IMP_LOCAL, schemas, p.enum_alias);
                                field_parts_clear(&p);
                                TRY(r);
                        }
                }
                break;
        case OP_CREATE:
                TRY(imp_from(im, IMP_LOCAL, schemas, create));
                TRY(imp_from(im, IMP_LOCAL, schemas, read));
                break;
        case OP_GET:
                TRY(imp_from(im, IMP_THIRD, "fastapi", "Path"));
                TRY(imp_from(im, IMP_LOCAL, schemas, read));
                break;
        case OP_UPDATE:
                TRY(imp_from(im, IMP_THIRD, "fastapi", "Path"));
                TRY(imp_from(im, IMP_LOCAL, schemas, update));
                TRY(imp_from(im, IMP_LOCAL, schemas, read));
                break;
        case OP_DELETE:
                TRY(imp_from(im, IMP_THIRD, "fastapi", "Path"));
                TRY(imp_from(im, IMP_THIRD, "fastapi", "Response"));
                break;
        default:
                break;
        }
        (void) s;
        return 0;
}

static int endpoint_ctx(const struct spec *s, const struct endpoint *ep, bool with_imports,
                        bool first, struct node **ret) {
        const struct entity *e = spec_find_entity(s, ep->entity);
        _cleanup_node_ struct node *m = node_new_map();
        if (!e)
                return -EINVAL;
        if (!m)
                return -ENOMEM;
        TRY(endpoint_fill(s, e, ep, m));
        if (with_imports) {
                struct imports im = { .n = 0 };
                int r = route_imports(s, e, ep, first, &im);
                if (r < 0) {
                        imports_clear(&im);
                        return r;
                }
                TRY(put_imports(m, "imports", &im));
        }
        *ret = TAKE_PTR(m);
        return 0;
}

/* ---- entities ---- */

static bool entity_has_type(const struct entity *e, enum field_type t) {
        for (size_t i = 0; i < e->n_fields; i++)
                if (e->fields[i].type == t)
                        return true;
        return false;
}

static bool entity_has_default_of(const struct entity *e, enum field_type t) {
        for (size_t i = 0; i < e->n_fields; i++)
                if (e->fields[i].type == t && e->fields[i].default_value &&
                    !node_is_null(e->fields[i].default_value))
                        return true;
        return false;
}

static bool entity_has_rule(const struct spec *s, const struct entity *e, enum rule_kind k) {
        for (size_t i = 0; i < s->n_rules; i++)
                if (streq_ptr(s->rules[i].entity, e->name) && (s->rules[i].kind == k || k == _RULE_MAX))
                        return true;
        return false;
}

static bool entity_has_op(const struct spec *s, const struct entity *e, enum op_kind op) {
        for (size_t i = 0; i < s->n_endpoints; i++)
                if (streq_ptr(s->endpoints[i].entity, e->name) && s->endpoints[i].op == op)
                        return true;
        return false;
}

static int model_imports(const struct entity *e, struct imports *im) {
        TRY(imp_plain(im, IMP_THIRD, "import sqlalchemy as sa"));
        if (e->n_rels > 0)
                TRY(imp_from(im, IMP_THIRD, "sqlalchemy", "orm"));
        if (entity_has_default_of(e, FT_DATE) || entity_has_default_of(e, FT_DATETIME))
                TRY(imp_plain(im, IMP_STDLIB, "import datetime as dt"));
        if (entity_has_default_of(e, FT_DECIMAL))
                TRY(imp_from(im, IMP_STDLIB, "decimal", "Decimal"));
        return imp_from(im, IMP_LOCAL, "src.database", "Base");
}

static int schema_imports(const struct entity *e, struct imports *im) {
        _cleanup_free_ char *cls = class_name_of(e), *mm = strf("src.models.%s", e->snake);
        bool checks = false, pattern_checks = false;
        if (!cls || !mm)
                return -ENOMEM;
        TRY(imp_from(im, IMP_LOCAL, mm, cls));
        for (size_t i = 0; i < e->n_fields; i++) {
                const struct field *f = &e->fields[i];
                if ((f->type == FT_EMAIL || f->type == FT_URL) &&
                    (f->has_min_length || f->has_max_length || f->pattern)) {
                        checks = true;
                        pattern_checks = pattern_checks || f->pattern;
                }
        }
        TRY(imp_plain(im, IMP_STDLIB, "import datetime as dt"));
        TRY(imp_from(im, IMP_STDLIB, "typing", "Optional"));
        if (entity_has_type(e, FT_JSON)) {
                TRY(imp_from(im, IMP_STDLIB, "typing", "Any"));
                TRY(imp_from(im, IMP_STDLIB, "typing", "Dict"));
        }
        if (entity_has_type(e, FT_ENUM))
                TRY(imp_from(im, IMP_STDLIB, "typing", "Literal"));
        if (entity_has_type(e, FT_DECIMAL))
                TRY(imp_from(im, IMP_STDLIB, "decimal", "Decimal"));
        if (entity_has_type(e, FT_UUID))
                TRY(imp_from(im, IMP_STDLIB, "uuid", "UUID"));
        if (pattern_checks)
                TRY(imp_plain(im, IMP_STDLIB, "import re"));
        TRY(imp_from(im, IMP_THIRD, "pydantic", "BaseModel"));
        TRY(imp_from(im, IMP_THIRD, "pydantic", "Field"));
        if (entity_has_type(e, FT_EMAIL))
                TRY(imp_from(im, IMP_THIRD, "pydantic", "EmailStr"));
        if (entity_has_type(e, FT_URL))
                TRY(imp_from(im, IMP_THIRD, "pydantic", "AnyUrl"));
        if (checks)
                TRY(imp_from(im, IMP_THIRD, "pydantic", "validator"));
        return 0;
}

static int rules_imports(const struct spec *s, const struct entity *e, struct imports *im) {
        _cleanup_free_ char *cls = class_name_of(e), *mod = strf("src.models.%s", e->snake);
        if (!cls || !mod)
                return -ENOMEM;
        TRY(imp_from(im, IMP_STDLIB, "typing", "Any"));
        TRY(imp_from(im, IMP_STDLIB, "typing", "Dict"));
        TRY(imp_from(im, IMP_STDLIB, "typing", "Optional"));
        TRY(imp_from(im, IMP_THIRD, "sqlalchemy.orm", "Session"));
        TRY(imp_from(im, IMP_LOCAL, mod, cls));
        for (size_t i = 0; i < s->n_rules; i++) {
                const struct rule *r = &s->rules[i];
                if (!streq_ptr(r->entity, e->name) || r->kind == RULE_CUSTOM)
                        continue;
                TRY(imp_from(im, IMP_LOCAL, "src.errors",
                             r->kind == RULE_UNIQUE ? "ConflictError" : "ValidationFailed"));
                if (r->kind == RULE_TRANSITIONS)
                        TRY(imp_from(im, IMP_STDLIB, "typing", "Tuple"));
                else if (r->kind == RULE_REGEX)
                        TRY(imp_plain(im, IMP_STDLIB, "import re"));
                else if (r->kind == RULE_NOT_IN_PAST || r->kind == RULE_NOT_IN_FUTURE)
                        TRY(imp_plain(im, IMP_STDLIB, "import datetime as dt"));
                else if (r->kind == RULE_EXISTS) {
                        const struct field *f = entity_find_field(e, r->field);
                        const struct entity *t = f ? spec_find_entity(s, f->target) : NULL;
                        if (!t)
                                continue;
                        _cleanup_free_ char *tc = class_name_of(t), *tm = strf("src.models.%s", t->snake);
                        if (!tc || !tm)
                                return -ENOMEM;
                        TRY(imp_from(im, IMP_LOCAL, tm, tc));
                }
        }
        return 0;
}

static int service_imports(const struct entity *e, struct imports *im) {
        _cleanup_free_ char *cls = class_name_of(e);
        _cleanup_free_ char *sm = strf("src.api.schemas.%s", e->snake);
        _cleanup_free_ char *mm = strf("src.models.%s", e->snake);
        _cleanup_free_ char *vm = strf("src.validations.%s", e->snake);
        _cleanup_free_ char *vf = strf("validate_%s", e->snake);
        _cleanup_free_ char *cc = strf("%sCreate", cls ? cls : ""), *cu = strf("%sUpdate", cls ? cls : "");
        if (!cls || !sm || !mm || !vm || !vf || !cc || !cu)
                return -ENOMEM;
        static const char *const typing[] = { "Any", "Dict", "List", "Optional", "Tuple" };
        for (size_t i = 0; i < ELEMENTSOF(typing); i++)
                TRY(imp_from(im, IMP_STDLIB, "typing", typing[i]));
        TRY(imp_from(im, IMP_THIRD, "sqlalchemy.exc", "IntegrityError"));
        TRY(imp_from(im, IMP_THIRD, "sqlalchemy.orm", "Session"));
        TRY(imp_from(im, IMP_LOCAL, sm, cc));
        TRY(imp_from(im, IMP_LOCAL, sm, cu));
        TRY(imp_from(im, IMP_LOCAL, "src.errors", "ConflictError"));
        TRY(imp_from(im, IMP_LOCAL, "src.errors", "NotFoundError"));
        TRY(imp_from(im, IMP_LOCAL, "src.errors", "ValidationFailed"));
        TRY(imp_from(im, IMP_LOCAL, mm, cls));
        return imp_from(im, IMP_LOCAL, vm, vf);
}

static bool has_conflict_field(const struct spec *s, const struct entity *e) {
        for (size_t i = 0; i < e->n_fields; i++)
                if (field_conflicts(s, e, &e->fields[i]))
                        return true;
        return false;
}

static bool field_in_transitions(const struct spec *s, const struct entity *e, const struct field *f) {
        return field_has_rule(s, e, f, RULE_TRANSITIONS);
}

/* The field an update test changes: a plain one whose second sample differs. */
static const struct field *update_field(const struct spec *s, const struct entity *e) {
        const struct field *best = NULL;
        for (size_t i = 0; i < e->n_fields; i++) {
                const struct field *f = &e->fields[i];
                if (f->type == FT_FOREIGN_KEY || f->type == FT_JSON || field_conflicts(s, e, f) ||
                    field_in_transitions(s, e, f))
                        continue;
                int err;
                _cleanup_free_ char *a = payload_value(s, e, f, 0, false, &err);
                _cleanup_free_ char *b = a ? payload_value(s, e, f, 1, false, &err) : NULL;
                if (!a || !b || streq(a, b))
                        continue;
                bool comparable = f->type == FT_STRING || f->type == FT_TEXT ||
                                  f->type == FT_INTEGER || f->type == FT_BOOLEAN || f->type == FT_ENUM;
                if (comparable)
                        return f;
                if (!best)
                        best = f;
        }
        return best;
}

static int test_imports(const struct spec *s, const struct entity *e, struct imports *im) {
        _cleanup_free_ char *cls = class_name_of(e), *mm = strf("src.models.%s", e->snake);
        _cleanup_free_ char *mk = strf("make_%s", e->snake), *pl = strf("%s_payload", e->snake);
        if (!cls || !mm || !mk || !pl)
                return -ENOMEM;
        TRY(imp_from(im, IMP_THIRD, "fastapi.testclient", "TestClient"));
        TRY(imp_from(im, IMP_THIRD, "sqlalchemy.orm", "Session"));
        TRY(imp_from(im, IMP_LOCAL, "tests.conftest", "API"));
        TRY(imp_from(im, IMP_LOCAL, "tests.conftest", mk));
        if (entity_has_op(s, e, OP_CREATE))
                TRY(imp_from(im, IMP_LOCAL, "tests.conftest", pl));
        if (has_conflict_field(s, e) && (entity_has_op(s, e, OP_CREATE) || entity_has_op(s, e, OP_UPDATE)))
                TRY(imp_from(im, IMP_THIRD, "fastapi.encoders", "jsonable_encoder"));
        if (entity_has_op(s, e, OP_DELETE))
                TRY(imp_from(im, IMP_LOCAL, mm, cls));
        for (size_t i = 0; i < s->n_endpoints; i++) {
                const struct endpoint *ep = &s->endpoints[i];
                if (!streq_ptr(ep->entity, e->name) || ep->op != OP_LIST)
                        continue;
                if (ep->n_filters > 0)
                        TRY(imp_from(im, IMP_LOCAL, "tests.conftest", "query_value"));
                for (size_t j = 0; j < ep->n_filters; j++) {
                        const struct field *f = entity_find_field(e, ep->filters[j]);
                        const struct entity *t = f && f->type == FT_FOREIGN_KEY && !f->required
                                                         ? spec_find_entity(s, f->target)
                                                         : NULL;
                        if (t) {
                                _cleanup_free_ char *tm = strf("make_%s", t->snake);
                                if (!tm)
                                        return -ENOMEM;
                                TRY(imp_from(im, IMP_LOCAL, "tests.conftest", tm));
                        }
                }
        }
        return 0;
}

static int with_imports(struct node *m, const char *key, int r, struct imports *im) {
        if (r < 0) {
                imports_clear(im);
                return r;
        }
        return put_imports(m, key, im);
}

static int entity_fill(const struct spec *s, const struct entity *e, struct node *m) {
        _cleanup_free_ char *cls = class_name_of(e), *words = title_words(e);
        _cleanup_free_ char *desc = one_line(e->description);
        struct imports im = { .n = 0 };
        if (!cls || !words || !desc)
                return -ENOMEM;

        TRY(put_str(m, "name", e->name));
        TRY(put_str(m, "class_name", cls));
        TRY(put_str(m, "snake", e->snake));
        TRY(put_str(m, "table", e->table));
        TRY(put_str(m, "title", words));
        TRY(put_str(m, "description", desc));
        if (*desc)
                TRY(put_str(m, "doc", desc));
        else
                TRY(put_strf(m, "doc", "A %s record.", words));
        TRY(put_strf(m, "make", "make_%s", e->snake));
        TRY(put_strf(m, "payload_fn", "%s_payload", e->snake));
        {
                _cleanup_free_ char *u = upper(e->snake);
                if (!u)
                        return -ENOMEM;
                TRY(put_strf(m, "counter", "_%s_COUNTER", u));
        }
        TRY(put_strf(m, "list_fn", "list_%s", e->table));
        TRY(put_strf(m, "get_fn", "get_%s", e->snake));
        TRY(put_strf(m, "create_fn", "create_%s", e->snake));
        TRY(put_strf(m, "update_fn", "update_%s", e->snake));
        TRY(put_strf(m, "delete_fn", "delete_%s", e->snake));
        TRY(put_strf(m, "validate_fn", "validate_%s", e->snake));
        TRY(put_strf(m, "service_alias", "%s_service", e->snake));
        TRY(put_strf(m, "rules_alias", "%s_rules", e->snake));
        TRY(put_strf(m, "schemas_alias", "%s_schemas", e->snake));

        /* fields */
        _cleanup_node_ struct node *fields = node_new_seq(), *required = node_new_seq();
        _cleanup_node_ struct node *enums = node_new_seq(), *checked = node_new_seq();
        _cleanup_node_ struct node *payload = node_new_seq(), *variant_fields = node_new_seq();
        struct strbuf as_text;
        size_t n_text = 0;
        bool varies = false;
        if (!fields || !required || !enums || !checked || !payload || !variant_fields)
                return -ENOMEM;
        strbuf_init(&as_text, 0);
        int r = strbuf_addc(&as_text, '(');
        for (size_t i = 0; i < e->n_fields && r >= 0; i++) {
                const struct field *f = &e->fields[i];
                struct node *fc = NULL;
                if ((r = field_ctx(s, e, f, &fc)) < 0)
                        break;
                const char *attr = node_get(fc, "attr")->value;
                bool c = false;
                if (f->type == FT_UUID || f->type == FT_URL)
                        r = strbuf_addf(&as_text, "%s\"%s\"", n_text++ ? ", " : "", attr);
                if (r >= 0 && f->required)
                        r = node_seq_append(required, node_dup(fc));
                if (r >= 0 && f->type == FT_ENUM)
                        r = node_seq_append(enums, node_dup(fc));
                if (r >= 0 && node_as_bool(node_get(fc, "has_checks"), &c) == 0 && c)
                        r = node_seq_append(checked, node_dup(fc));
                if (r >= 0 && node_as_bool(node_get(fc, "varies"), &c) == 0 && c) {
                        varies = true;
                        r = node_seq_append(variant_fields, node_dup(fc));
                }
                if (r >= 0) {
                        _cleanup_node_ struct node *pe = node_new_map();
                        r = pe ? put_str(pe, "key", f->name) : -ENOMEM;
                        if (r >= 0)
                                r = put_str(pe, "value", node_get(fc, "payload_expr")->value);
                        if (r >= 0)
                                r = node_seq_append(payload, TAKE_PTR(pe));
                }
                if (r >= 0)
                        r = node_seq_append(fields, fc);
                else
                        node_free(fc);
        }
        if (r >= 0)
                r = strbuf_adds(&as_text, n_text == 1 ? ",)" : ")");
        if (r >= 0)
                r = put_str(m, "as_text", strbuf_str(&as_text));
        strbuf_free(&as_text);
        TRY(r);
        TRY(mark_last(fields));
        TRY(mark_last(required));
        TRY(mark_last(payload));
        TRY(put_bool(m, "has_required", required->n > 0));
        TRY(put_bool(m, "has_enums", enums->n > 0));
        TRY(put_bool(m, "has_checks", checked->n > 0));
        TRY(put_bool(m, "varies", varies));
        TRY(put(m, "fields", TAKE_PTR(fields)));
        TRY(put(m, "required_fields", TAKE_PTR(required)));
        TRY(put(m, "enum_fields", TAKE_PTR(enums)));
        TRY(put(m, "checked_fields", TAKE_PTR(checked)));
        TRY(put(m, "payload", TAKE_PTR(payload)));
        TRY(put(m, "variant_fields", TAKE_PTR(variant_fields)));

        /* the fields the generated endpoint tests use */
        const struct field *inv = e->n_fields ? &e->fields[0] : NULL;
        _cleanup_node_ struct node *invalid = node_new_map();
        if (!invalid || !inv)
                return -ENOMEM;
        TRY(put_str(invalid, "key", inv->name));
        TRY(put_str(invalid, "value", invalid_value(inv)));
        TRY(put(m, "invalid", TAKE_PTR(invalid)));
        const struct field *uf = update_field(s, e);
        if (uf) {
                int err;
                _cleanup_node_ struct node *u = node_new_map();
                _cleanup_free_ char *alt = payload_value(s, e, uf, 1, false, &err);
                if (!u || !alt)
                        return -ENOMEM;
                bool comparable = uf->type == FT_STRING || uf->type == FT_TEXT ||
                                  uf->type == FT_INTEGER || uf->type == FT_BOOLEAN || uf->type == FT_ENUM;
                TRY(put_str(u, "key", uf->name));
                TRY(put_str(u, "value", alt));
                TRY(put_bool(u, "comparable", comparable));
                TRY(put(m, "update_sample", TAKE_PTR(u)));
        } else
                TRY(put(m, "update_sample", node_new_null()));
        _cleanup_node_ struct node *conflicts = node_new_seq();
        if (!conflicts)
                return -ENOMEM;
        for (size_t i = 0; i < e->n_fields; i++) {
                const struct field *f = &e->fields[i];
                if (!field_conflicts(s, e, f))
                        continue;
                _cleanup_node_ struct node *cm = node_new_map();
                _cleanup_free_ char *attr = context_py_ident(f->name);
                if (!cm || !attr)
                        return -ENOMEM;
                TRY(put_str(cm, "name", f->name));
                TRY(put_str(cm, "attr", attr));
                TRY(node_seq_append(conflicts, TAKE_PTR(cm)));
        }
        TRY(put_bool(m, "has_conflicts", conflicts->n > 0));
        TRY(put(m, "conflict_fields", TAKE_PTR(conflicts)));

        /* relationships and the association tables this model defines */
        _cleanup_node_ struct node *rels = node_new_seq(), *assocs = node_new_seq();
        if (!rels || !assocs)
                return -ENOMEM;
        for (size_t i = 0; i < e->n_rels; i++) {
                struct node *rc = NULL;
                struct relinfo ri;
                TRY(rel_ctx(s, e, &e->rels[i], &rc));
                TRY(node_seq_append(rels, rc));
                r = relinfo_init(s, e, &e->rels[i], &ri);
                if (r >= 0 && ri.r->kind == RK_MANY_TO_MANY && ri.assoc_owner) {
                        struct node *ac = NULL;
                        r = assoc_ctx(&ri, &ac);
                        if (r >= 0)
                                r = node_seq_append(assocs, ac);
                }
                relinfo_clear(&ri);
                TRY(r);
        }
        TRY(put_bool(m, "has_relationships", rels->n > 0));
        TRY(put(m, "relationships", TAKE_PTR(rels)));
        TRY(put_bool(m, "has_association_tables", assocs->n > 0));
        TRY(put(m, "association_tables", TAKE_PTR(assocs)));

        /* rules */
        _cleanup_node_ struct node *rules = node_new_seq();
        if (!rules)
                return -ENOMEM;
        for (size_t i = 0; i < s->n_rules; i++) {
                struct node *rc = NULL;
                if (!streq_ptr(s->rules[i].entity, e->name) || s->rules[i].kind == RULE_CUSTOM)
                        continue;
                TRY(rule_ctx(s, &s->rules[i], &rc));
                TRY(node_seq_append(rules, rc));
        }
        TRY(put_bool(m, "has_rules", rules->n > 0));
        TRY(put(m, "rules", TAKE_PTR(rules)));
        TRY(put_bool(m, "has_regex_rules", entity_has_rule(s, e, RULE_REGEX)));
        TRY(put_bool(m, "has_date_rules", entity_has_rule(s, e, RULE_NOT_IN_PAST) ||
                                                  entity_has_rule(s, e, RULE_NOT_IN_FUTURE)));
        TRY(put_bool(m, "has_transitions", entity_has_rule(s, e, RULE_TRANSITIONS)));

        /* endpoints */
        _cleanup_node_ struct node *eps = node_new_seq();
        if (!eps)
                return -ENOMEM;
        for (size_t i = 0; i < s->n_endpoints; i++) {
                struct node *ec = NULL;
                if (!streq_ptr(s->endpoints[i].entity, e->name) || s->endpoints[i].op == OP_CUSTOM)
                        continue;
                TRY(endpoint_ctx(s, &s->endpoints[i], false, false, &ec));
                TRY(node_seq_append(eps, ec));
        }
        TRY(put_bool(m, "has_endpoints", eps->n > 0));
        TRY(put(m, "endpoints", TAKE_PTR(eps)));

        TRY(with_imports(m, "model_imports", model_imports(e, &im), &im));
        TRY(with_imports(m, "schema_imports", schema_imports(e, &im), &im));
        TRY(with_imports(m, "rules_imports", rules_imports(s, e, &im), &im));
        TRY(with_imports(m, "service_imports", service_imports(e, &im), &im));
        TRY(with_imports(m, "test_imports", test_imports(s, e, &im), &im));
        return 0;
}

static int entity_ctx(const struct spec *s, const struct entity *e, struct node **ret) {
        _cleanup_node_ struct node *m = node_new_map();
        if (!m)
                return -ENOMEM;
        TRY(entity_fill(s, e, m));
        *ret = TAKE_PTR(m);
        return 0;
}

/* ---- the project ---- */

/* Entity indexes with every foreign key's target before the entity that holds it;
 * entities on a cycle keep their spec order at the end. */
static int fk_order(const struct spec *s, size_t *order) {
        _cleanup_free_ bool *done = calloc(s->n_entities + 1, sizeof(bool));
        size_t n = 0;
        if (!done)
                return -ENOMEM;
        for (bool progress = true; progress;) {
                progress = false;
                for (size_t i = 0; i < s->n_entities; i++) {
                        const struct entity *e = &s->entities[i];
                        bool ready = !done[i];
                        for (size_t j = 0; ready && j < e->n_fields; j++) {
                                const struct field *f = &e->fields[j];
                                const struct entity *t = f->type == FT_FOREIGN_KEY ? spec_find_entity(s, f->target) : NULL;
                                if (t && t != e && !done[t - s->entities])
                                        ready = false;
                        }
                        if (ready) {
                                done[i] = true;
                                order[n++] = i;
                                progress = true;
                                break;
                        }
                }
        }
        for (size_t i = 0; i < s->n_entities; i++)
                if (!done[i])
                        order[n++] = i;
        return 0;
}

static int conftest_imports(const struct spec *s, struct imports *im) {
        bool varies = false;
        TRY(imp_from(im, IMP_STDLIB, "typing", "Any"));
        TRY(imp_from(im, IMP_STDLIB, "typing", "Dict"));
        TRY(imp_from(im, IMP_STDLIB, "typing", "Iterator"));
        TRY(imp_plain(im, IMP_THIRD, "import pytest"));
        TRY(imp_from(im, IMP_THIRD, "fastapi.testclient", "TestClient"));
        TRY(imp_from(im, IMP_THIRD, "sqlalchemy", "create_engine"));
        TRY(imp_from(im, IMP_THIRD, "sqlalchemy.orm", "Session"));
        TRY(imp_from(im, IMP_THIRD, "sqlalchemy.orm", "sessionmaker"));
        TRY(imp_from(im, IMP_LOCAL, "src.config", "settings"));
        TRY(imp_from(im, IMP_LOCAL, "src.database", "get_db"));
        TRY(imp_from(im, IMP_LOCAL, "src.main", "create_app"));
        TRY(imp_from(im, IMP_LOCAL, "src.models", "Base"));
        for (size_t i = 0; i < s->n_entities; i++) {
                const struct entity *e = &s->entities[i];
                _cleanup_free_ char *cls = class_name_of(e), *mm = strf("src.models.%s", e->snake);
                _cleanup_free_ char *sc = strf("from src.api.schemas import %s as %s_schemas", e->snake, e->snake);
                _cleanup_free_ char *sv = strf("from src.services import %s as %s_service", e->snake, e->snake);
                if (!cls || !mm || !sc || !sv)
                        return -ENOMEM;
                TRY(imp_from(im, IMP_LOCAL, mm, cls));
                TRY(imp_plain(im, IMP_LOCAL, sc));
                TRY(imp_plain(im, IMP_LOCAL, sv));
                for (size_t j = 0; j < e->n_fields && !varies; j++) {
                        const struct field *f = &e->fields[j];
                        size_t distinct = 0;
                        if (!field_conflicts(s, e, f) || f->type == FT_FOREIGN_KEY)
                                continue;
                        TRY(count_variants(s, e, f, &distinct));
                        varies = distinct > 1;
                }
        }
        if (varies)
                TRY(imp_plain(im, IMP_STDLIB, "import itertools"));
        return 0;
}

static int test_models_imports(const struct spec *s, struct imports *im) {
        TRY(imp_from(im, IMP_THIRD, "sqlalchemy.orm", "Session"));
        for (size_t i = 0; i < s->n_entities; i++) {
                const struct entity *e = &s->entities[i];
                _cleanup_free_ char *cls = class_name_of(e), *mm = strf("src.models.%s", e->snake);
                _cleanup_free_ char *mk = strf("make_%s", e->snake);
                if (!cls || !mm || !mk)
                        return -ENOMEM;
                TRY(imp_from(im, IMP_LOCAL, mm, cls));
                TRY(imp_from(im, IMP_LOCAL, "tests.conftest", mk));
        }
        return 0;
}

static int test_rules_imports(const struct spec *s, struct imports *im) {
        TRY(imp_from(im, IMP_THIRD, "sqlalchemy.orm", "Session"));
        for (size_t i = 0; i < s->n_entities; i++) {
                const struct entity *e = &s->entities[i];
                _cleanup_free_ char *line = strf("from src.validations import %s as %s_rules", e->snake, e->snake);
                _cleanup_free_ char *mk = strf("make_%s", e->snake);
                if (!line || !mk)
                        return -ENOMEM;
                TRY(imp_plain(im, IMP_LOCAL, line));
                TRY(imp_from(im, IMP_LOCAL, "tests.conftest", mk));
        }
        for (size_t i = 0; i < s->n_rules; i++) {
                const struct rule *r = &s->rules[i];
                const struct entity *e = spec_find_entity(s, r->entity);
                const struct field *f = e ? entity_find_field(e, r->field) : NULL;
                if (!f || r->kind == RULE_CUSTOM)
                        continue;
                TRY(imp_plain(im, IMP_THIRD, "import pytest"));
                TRY(imp_from(im, IMP_LOCAL, "src.errors",
                             r->kind == RULE_UNIQUE ? "ConflictError" : "ValidationFailed"));
                if (r->kind == RULE_NOT_IN_PAST || r->kind == RULE_NOT_IN_FUTURE)
                        TRY(imp_plain(im, IMP_STDLIB, "import datetime as dt"));
                else if (r->kind == RULE_RANGE && f->type == FT_DECIMAL)
                        TRY(imp_from(im, IMP_STDLIB, "decimal", "Decimal"));
                else if (r->kind == RULE_REGEX) {
                        TRY(imp_plain(im, IMP_STDLIB, "import re"));
                        TRY(imp_from(im, IMP_STDLIB, "typing", "Optional"));
                } else if (r->kind == RULE_TRANSITIONS) {
                        _cleanup_free_ char *cls = class_name_of(e), *mm = strf("src.models.%s", e->snake);
                        if (!cls || !mm)
                                return -ENOMEM;
                        TRY(imp_from(im, IMP_LOCAL, mm, cls));
                }
        }
        return 0;
}

static bool dag_has_route_for(const struct dag *dag, const struct entity *e) {
        for (size_t i = 0; dag && i < dag->n_atoms; i++)
                if (dag->atoms[i].kind == AK_ROUTE && streq_ptr(dag->atoms[i].entity, e->name))
                        return true;
        return false;
}

static int project_ctx(const struct spec *s, struct node **ret) {
        _cleanup_node_ struct node *m = node_new_map();
        _cleanup_free_ char *title = NULL, *desc = NULL, *ini = NULL;
        if (!m)
                return -ENOMEM;
        if (s->title)
                title = one_line(s->title);
        else {
                title = strdup(s->name);
                if (title && title[0] >= 'a' && title[0] <= 'z')
                        title[0] = (char) (title[0] - 'a' + 'A');
        }
        desc = s->description ? one_line(s->description)
                              : strf("%s, a FastAPI service generated by codegend.", title ? title : "");
        struct strbuf sb;
        strbuf_init(&sb, 0);
        int r = 0;
        for (const char *p = s->database_url; *p && r >= 0; p++)
                r = *p == '%' ? strbuf_adds(&sb, "%%") : strbuf_addc(&sb, *p);
        ini = r >= 0 ? strbuf_detach(&sb, NULL) : NULL;
        strbuf_free(&sb);
        if (!title || !desc || !ini)
                return -ENOMEM;

        _cleanup_free_ char *tq = json_str(title), *dq = json_str(desc);
        _cleanup_free_ char *uq = json_str(s->database_url), *aq = json_str(s->api_prefix);
        if (!tq || !dq || !uq || !aq)
                return -ENOMEM;
        TRY(put_str(m, "name", s->name));
        TRY(put_str(m, "title", title));
        TRY(put_str(m, "description", desc));
        TRY(put_str(m, "api_prefix", s->api_prefix));
        TRY(put_str(m, "database_url", s->database_url));
        TRY(put_str(m, "title_quoted", tq));
        TRY(put_str(m, "description_quoted", dq));
        TRY(put_str(m, "database_url_quoted", uq));
        TRY(put_str(m, "api_prefix_quoted", aq));
        TRY(put_str(m, "database_url_ini", ini));
        TRY(put_bool(m, "is_sqlite", strncmp(s->database_url, "sqlite", 6) == 0));
        TRY(put_str(m, "version", "0.1.0"));
        *ret = TAKE_PTR(m);
        return 0;
}

int context_new(const struct spec *spec, const struct dag *dag, struct node **ret) {
        _cleanup_node_ struct node *root = node_new_map();
        _cleanup_node_ struct node *ents = node_new_seq(), *ordered = node_new_seq();
        _cleanup_node_ struct node *reversed = node_new_seq(), *assocs = node_new_seq();
        _cleanup_node_ struct node *eps = node_new_seq(), *rules = node_new_seq();
        _cleanup_node_ struct node *routes = node_new_seq();
        _cleanup_free_ size_t *order = calloc(spec->n_entities + 1, sizeof(size_t));
        struct node *project = NULL;
        struct imports im = { .n = 0 };

        if (!root || !ents || !ordered || !reversed || !assocs || !eps || !rules || !routes || !order)
                return -ENOMEM;
        TRY(project_ctx(spec, &project));
        TRY(put(root, "project", project));

        for (size_t i = 0; i < spec->n_entities; i++) {
                struct node *ec = NULL;
                TRY(entity_ctx(spec, &spec->entities[i], &ec));
                TRY(node_seq_append(ents, ec));
                const struct node *owned = node_get(ec, "association_tables");
                for (size_t j = 0; owned && j < owned->n; j++)
                        TRY(node_seq_append(assocs, node_dup(owned->items[j])));
                const struct entity *e = &spec->entities[i];
                if (dag ? dag_has_route_for(dag, e) : node_get(ec, "endpoints")->n > 0) {
                        _cleanup_node_ struct node *rm = node_new_map();
                        if (!rm)
                                return -ENOMEM;
                        TRY(put_str(rm, "table", e->table));
                        TRY(put_str(rm, "snake", e->snake));
                        TRY(put_strf(rm, "router", "%s_router", e->table));
                        TRY(put_str(rm, "entity", e->name));
                        TRY(node_seq_append(routes, TAKE_PTR(rm)));
                }
        }
        TRY(fk_order(spec, order));
        for (size_t i = 0; i < spec->n_entities; i++) {
                TRY(node_seq_append(ordered, node_dup(ents->items[order[i]])));
                TRY(node_seq_append(reversed, node_dup(ents->items[order[spec->n_entities - 1 - i]])));
        }
        for (size_t i = 0; i < spec->n_endpoints; i++) {
                struct node *ec = NULL;
                if (spec->endpoints[i].op == OP_CUSTOM)
                        continue;
                TRY(endpoint_ctx(spec, &spec->endpoints[i], false, false, &ec));
                TRY(node_seq_append(eps, ec));
        }
        for (size_t i = 0; i < spec->n_rules; i++) {
                struct node *rc = NULL;
                if (spec->rules[i].kind == RULE_CUSTOM)
                        continue;
                TRY(rule_ctx(spec, &spec->rules[i], &rc));
                TRY(node_seq_append(rules, rc));
        }
        TRY(mark_last(ents));
        TRY(mark_last(routes));
        TRY(put_int(root, "n_entities", (long long) ents->n));
        TRY(put_int(root, "n_endpoints", (long long) eps->n));
        TRY(put_int(root, "n_rules", (long long) rules->n));
        TRY(put_bool(root, "has_endpoints", eps->n > 0));
        TRY(put_bool(root, "has_rules", rules->n > 0));
        bool regex_rules = false;
        for (size_t i = 0; i < spec->n_rules; i++)
                regex_rules = regex_rules || spec->rules[i].kind == RULE_REGEX;
        TRY(put_bool(root, "has_regex_rules", regex_rules));
        TRY(put_bool(root, "has_association_tables", assocs->n > 0));
        TRY(put_bool(root, "has_routes", routes->n > 0));
        TRY(put(root, "entities", TAKE_PTR(ents)));
        TRY(put(root, "tables_in_order", TAKE_PTR(ordered)));
        TRY(put(root, "tables_in_reverse_order", TAKE_PTR(reversed)));
        TRY(put(root, "association_tables", TAKE_PTR(assocs)));
        TRY(put(root, "endpoints", TAKE_PTR(eps)));
        TRY(put(root, "rules", TAKE_PTR(rules)));
        TRY(put(root, "route_modules", TAKE_PTR(routes)));
        TRY(with_imports(root, "conftest_imports", conftest_imports(spec, &im), &im));
        TRY(with_imports(root, "test_models_imports", test_models_imports(spec, &im), &im));
        TRY(with_imports(root, "test_rules_imports", test_rules_imports(spec, &im), &im));
        *ret = TAKE_PTR(root);
        return 0;
}

size_t context_route_endpoints(const struct spec *spec, const struct atom *atom,
                               const struct endpoint **ret, size_t max) {
        size_t n = 0;
        for (size_t i = 0; i < spec->n_endpoints; i++) {
                const struct endpoint *ep = &spec->endpoints[i];
                const char *op = ep->op == OP_CUSTOM ? ep->name : op_kind_name(ep->op);
                if (!streq_ptr(ep->entity, atom->entity) || !streq_ptr(op, atom->operation))
                        continue;
                if (n < max)
                        ret[n] = ep;
                n++;
        }
        return n;
}

int context_for_atom(const struct spec *spec, const struct dag *dag, const struct atom *atom,
                     struct node **ret) {
        _cleanup_node_ struct node *root = NULL;
        _cleanup_node_ struct node *a = node_new_map();
        _cleanup_free_ char *desc = one_line(atom->description);
        if (!a || !desc)
                return -ENOMEM;
        TRY(context_new(spec, dag, &root));

        TRY(put_str(a, "id", atom->id));
        TRY(put_str(a, "kind", atom_kind_name(atom->kind)));
        TRY(put_str(a, "target", atom->target));
        TRY(put_str(a, "entity", atom->entity));
        TRY(put_str(a, "operation", atom->operation));
        TRY(put_str(a, "description", desc));
        TRY(put_int(a, "wave", atom->wave));
        TRY(put_int(a, "fragment_index", atom->fragment_index));
        TRY(put_int(a, "fragment_count", atom->fragment_count));
        TRY(put_bool(a, "first_fragment", atom->fragment_index == 0));
        TRY(put_bool(a, "last_fragment", atom->fragment_index + 1 >= atom->fragment_count));
        TRY(put(root, "atom", TAKE_PTR(a)));

        const struct entity *e = atom->entity ? spec_find_entity(spec, atom->entity) : NULL;
        if (e) {
                const struct node *ents = node_get(root, "entities");
                TRY(put(root, "entity", node_dup(ents->items[e - spec->entities])));
        } else
                TRY(put(root, "entity", node_new_null()));

        _cleanup_node_ struct node *eps = node_new_seq();
        if (!eps)
                return -ENOMEM;
        if (atom->kind == AK_ROUTE && e) {
                const struct endpoint *found[8];
                size_t n = context_route_endpoints(spec, atom, found, ELEMENTSOF(found));
                for (size_t i = 0; i < n && i < ELEMENTSOF(found); i++) {
                        struct node *ec = NULL;
                        TRY(endpoint_ctx(spec, found[i], true, atom->fragment_index == 0 && i == 0, &ec));
                        TRY(node_seq_append(eps, ec));
                }
        }
        TRY(put(root, "route_endpoints", TAKE_PTR(eps)));
        *ret = TAKE_PTR(root);
        return 0;
}

/* ---- what the generated code cannot express ---- */

static int check_sample(const struct spec *s, const struct entity *e, size_t ei, size_t fi,
                        const char *file, struct diags *d) {
        const struct field *f = &e->fields[fi];
        int err = 0;
        _cleanup_free_ char *path = strf("entities[%zu].fields[%zu]", ei, fi);
        if (!path)
                return -ENOMEM;
        if (f->type == FT_FOREIGN_KEY)
                return 0;
        for (unsigned v = 0; v < 2; v++) {
                _cleanup_free_ char *x = payload_value(s, e, f, v, false, &err);
                if (err == -ENOMEM)
                        return err;
                if (!x) {
                        struct sample_spec ss;
                        sample_spec_init(s, e, f, &ss);
                        if (ss.pattern)
                                return diags_add(d, file, f->pos.line, f->pos.column, path,
                                                 "cannot derive a test value for field '%s' of '%s' from pattern '%s'%s",
                                                 f->name, e->name, ss.pattern,
                                                 err == -EOPNOTSUPP ? " (lookarounds and back-references are not supported)"
                                                                    : " within its length limits");
                        return diags_add(d, file, f->pos.line, f->pos.column, path,
                                         "cannot derive a test value for field '%s' of '%s': its limits and rules leave no valid value",
                                         f->name, e->name);
                }
        }
        if (field_conflicts(s, e, f)) {
                size_t distinct = 0;
                TRY(count_variants(s, e, f, &distinct));
                if (distinct < 2)
                        return diags_add(d, file, f->pos.line, f->pos.column, path,
                                         "unique field '%s' of '%s' admits only one value, so no second row could be stored",
                                         f->name, e->name);
        }
        return 0;
}

/* Describes a cycle of required foreign keys through e, if there is one. */
static bool required_fk_cycle(const struct spec *s, const struct entity *start,
                              const struct entity *e, unsigned depth, struct strbuf *path) {
        if (depth > s->n_entities)
                return false;
        for (size_t i = 0; i < e->n_fields; i++) {
                const struct field *f = &e->fields[i];
                const struct entity *t = f->type == FT_FOREIGN_KEY && f->required ? spec_find_entity(s, f->target) : NULL;
                if (!t)
                        continue;
                size_t len = path->len;
                if (strbuf_addf(path, " -> %s", t->name) < 0)
                        return false;
                if (t == start || required_fk_cycle(s, start, t, depth + 1, path))
                        return true;
                path->len = len;
                path->buf[len] = '\0';
        }
        return false;
}

int context_check(const struct spec *s, const char *file, struct diags *d) {
        size_t before = d->n + d->dropped;

        for (size_t i = 0; i < s->n_entities; i++) {
                const struct entity *e = &s->entities[i];
                _cleanup_free_ char *path = strf("entities[%zu]", i);
                if (!path)
                        return -ENOMEM;
                if (is_py_keyword(e->snake))
                        TRY(diags_add(d, file, e->pos.line, e->pos.column, path,
                                      "entity '%s' gives the module name '%s', a Python keyword: rename the entity",
                                      e->name, e->snake));
                for (size_t j = 0; j < e->n_fields; j++)
                        TRY(check_sample(s, e, i, j, file, d));
                struct strbuf cyc;
                strbuf_init(&cyc, 4096);
                bool found = strbuf_adds(&cyc, e->name) >= 0 && required_fk_cycle(s, e, e, 0, &cyc);
                int r = found ? diags_add(d, file, e->pos.line, e->pos.column, path,
                                          "required foreign keys form a cycle (%s): no row of '%s' could ever be stored",
                                          strbuf_str(&cyc), e->name)
                              : 0;
                strbuf_free(&cyc);
                TRY(r);
                for (size_t j = 0; j < e->n_rels; j++) {
                        struct relinfo ri;
                        _cleanup_free_ char *rp = strf("entities[%zu].relationships[%zu]", i, j);
                        if (!rp)
                                return -ENOMEM;
                        r = relinfo_init(s, e, &e->rels[j], &ri);
                        if (r == -EINVAL)
                                r = diags_add(d, file, e->rels[j].pos.line, e->rels[j].pos.column, rp,
                                              "relationship '%s' of '%s' has no foreign key to follow",
                                              e->rels[j].name, e->name);
                        else if (r >= 0 && ri.assoc && spec_find_entity(s, ri.assoc) == NULL) {
                                for (size_t k = 0; k < s->n_entities && r >= 0; k++)
                                        if (streq_ptr(s->entities[k].table, ri.assoc))
                                                r = diags_add(d, file, e->rels[j].pos.line, e->rels[j].pos.column, rp,
                                                              "the association table '%s' of relationship '%s' is also the table of entity '%s'",
                                                              ri.assoc, e->rels[j].name, s->entities[k].name);
                        }
                        relinfo_clear(&ri);
                        TRY(r);
                }
        }
        for (size_t i = 0; i < s->n_endpoints; i++) {
                const struct endpoint *ep = &s->endpoints[i];
                const struct entity *e = spec_find_entity(s, ep->entity);
                for (size_t j = 0; e && j < ep->n_filters; j++) {
                        const struct field *f = entity_find_field(e, ep->filters[j]);
                        if (!f || f->type != FT_JSON)
                                continue;
                        _cleanup_free_ char *fp = strf("endpoints[%zu].filters[%zu]", i, j);
                        if (!fp)
                                return -ENOMEM;
                        TRY(diags_add(d, file, ep->pos.line, ep->pos.column, fp,
                                      "cannot filter on json field '%s': a query parameter holds a single value",
                                      f->name));
                }
        }
        for (size_t i = 0; i < s->n_rules; i++) {
                const struct rule *r = &s->rules[i];
                _cleanup_free_ char *smp = NULL;
                if (r->kind != RULE_REGEX || !r->pattern)
                        continue;
                int k = regex_sample(r->pattern, 0, 0, 1000, NULL, &smp);
                if (k == -ENOMEM)
                        return k;
                if (k < 0) {
                        _cleanup_free_ char *rp = strf("validations[%zu]", i);
                        if (!rp)
                                return -ENOMEM;
                        TRY(diags_add(d, file, r->pos.line, r->pos.column, rp,
                                      "cannot derive a test value from pattern '%s'%s", r->pattern,
                                      k == -EOPNOTSUPP ? " (lookarounds and back-references are not supported)" : ""));
                }
        }
        return d->n + d->dropped > before ? -EINVAL : 0;
}
