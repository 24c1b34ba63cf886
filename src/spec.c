/* spec.c - validates a parsed spec document (job-format.md section 2) into struct spec.
 *
 * Interface (spec.h): spec_from_node(), spec_free(), lookups, the enum names, and the
 * naming helpers snake_case() and plural() that the planner and generators share.
 *
 * spec_from_node() reports every problem it finds, not just the first, each as a
 * diagnostic with the file, the position of the offending node (of the key, for unknown
 * keys) and a path such as "entities[1].fields[2].type" (indices 0-based). Every name
 * that ends up in generated Python (entities, tables, fields, relationships, enum values,
 * custom operations) is checked against its pattern, a length limit and Python's
 * keywords; endpoint paths are limited to a safe character set.
 *
 * Defaults beyond job-format.md: an endpoint's method defaults to GET (list, get), POST
 * (create), PATCH (update) or DELETE (delete), and its path to "/<table>" (list, create)
 * or "/<table>/{id}" (get, update, delete); custom endpoints must give both. A
 * foreign_key field's default, when given, is an integer; integer defaults are kept in
 * canonical form ("+007" is stored as "7").
 *
 * Patterns (field.pattern, regex rules) are checked with POSIX regcomp(REG_EXTENDED),
 * so they must be valid POSIX extended regular expressions; the generated code applies
 * them with Python's re, which accepts every ERE used the usual way.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <regex.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/macro.h"
#include "spec.h"

#define IDENT_MAX 64

static const char *const field_type_names[_FT_MAX] = {
        "string", "text", "integer", "float", "decimal", "boolean", "date",
        "datetime", "email", "url", "uuid", "enum", "foreign_key", "json",
};
static const char *const rel_kind_names[_RK_MAX] = {
        "one_to_many", "many_to_one", "one_to_one", "many_to_many",
};
static const char *const op_kind_names[_OP_MAX] = {
        "list", "create", "get", "update", "delete", "custom",
};
static const char *const rule_kind_names[_RULE_MAX] = {
        "unique", "exists", "not_in_past", "not_in_future", "range", "regex",
        "transitions", "custom",
};
static const char *const methods[] = { "GET", "POST", "PUT", "PATCH", "DELETE" };

static const char *const python_keywords[] = {
        "False", "None", "True", "and", "as", "assert", "async", "await", "break",
        "class", "continue", "def", "del", "elif", "else", "except", "finally", "for",
        "from", "global", "if", "import", "in", "is", "lambda", "nonlocal", "not", "or",
        "pass", "raise", "return", "try", "while", "with", "yield",
};

static const char *name_of(const char *const *names, size_t n, unsigned i) {
        return i < n ? names[i] : "?";
}

const char *field_type_name(enum field_type t) {
        return name_of(field_type_names, _FT_MAX, t);
}
const char *rel_kind_name(enum rel_kind k) {
        return name_of(rel_kind_names, _RK_MAX, k);
}
const char *op_kind_name(enum op_kind k) {
        return name_of(op_kind_names, _OP_MAX, k);
}
const char *rule_kind_name(enum rule_kind k) {
        return name_of(rule_kind_names, _RULE_MAX, k);
}

/* Index of s in names (NULL entries, left by a failed allocation, never match), or -1. */
static int lookup(const char *const *names, size_t n, const char *s) {
        for (size_t i = 0; i < n; i++)
                if (names[i] && streq(names[i], s))
                        return (int) i;
        return -1;
}

/* ---- naming ---- */

char *snake_case(const char *pascal) {
        size_t len = strlen(pascal);
        char *out = malloc(len * 2 + 1), *p = out;
        if (!out)
                return NULL;
        for (size_t i = 0; i < len; i++) {
                unsigned char ch = (unsigned char) pascal[i];
                if (isupper(ch) && i > 0) {
                        unsigned char prev = (unsigned char) pascal[i - 1];
                        unsigned char next = (unsigned char) pascal[i + 1];
                        if (islower(prev) || isdigit(prev) || (isupper(prev) && islower(next)))
                                *p++ = '_';
                }
                *p++ = (char) tolower(ch);
        }
        *p = '\0';
        return out;
}

char *plural(const char *snake) {
        size_t len = strlen(snake);
        char *out;
        if (len >= 2 && snake[len - 1] == 'y' && !strchr("aeiou", snake[len - 2])) {
                if (asprintf(&out, "%.*sies", (int) (len - 1), snake) < 0)
                        return NULL;
        } else if (len >= 1 && (strchr("sxz", snake[len - 1]) ||
                                (len >= 2 && snake[len - 1] == 'h' && strchr("cs", snake[len - 2])))) {
                if (asprintf(&out, "%ses", snake) < 0)
                        return NULL;
        } else if (asprintf(&out, "%ss", snake) < 0)
                return NULL;
        return out;
}

static bool is_snake(const char *s) {
        if (!(*s >= 'a' && *s <= 'z'))
                return false;
        return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") == strlen(s);
}

static bool is_pascal(const char *s) {
        if (!(*s >= 'A' && *s <= 'Z'))
                return false;
        for (; *s; s++)
                if (!isascii((unsigned char) *s) || !isalnum((unsigned char) *s))
                        return false;
        return true;
}

static bool is_identifier(const char *s) {
        if (!(isascii((unsigned char) *s) && (isalpha((unsigned char) *s) || *s == '_')))
                return false;
        for (; *s; s++)
                if (!isascii((unsigned char) *s) || !(isalnum((unsigned char) *s) || *s == '_'))
                        return false;
        return true;
}

/* Optimal string alignment distance, capped: lengths past IDENT_MAX count as far. */
static size_t edit_distance(const char *a, const char *b) {
        size_t la = strlen(a), lb = strlen(b);
        size_t d[IDENT_MAX + 1][IDENT_MAX + 1];
        if (la > IDENT_MAX || lb > IDENT_MAX)
                return SIZE_MAX;
        for (size_t i = 0; i <= la; i++)
                d[i][0] = i;
        for (size_t j = 0; j <= lb; j++)
                d[0][j] = j;
        for (size_t i = 1; i <= la; i++)
                for (size_t j = 1; j <= lb; j++) {
                        size_t cost = a[i - 1] != b[j - 1];
                        size_t v = d[i - 1][j - 1] + cost;
                        if (d[i - 1][j] + 1 < v)
                                v = d[i - 1][j] + 1;
                        if (d[i][j - 1] + 1 < v)
                                v = d[i][j - 1] + 1;
                        if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                            d[i - 2][j - 2] + 1 < v)
                                v = d[i - 2][j - 2] + 1;
                        d[i][j] = v;
                }
        return d[la][lb];
}

const char *spec_suggest(const char *word, const char *const *cands, size_t n) {
        const char *best = NULL;
        size_t best_d = 3;
        for (size_t i = 0; i < n; i++) {
                if (!cands[i])
                        continue;
                size_t dist = edit_distance(word, cands[i]);
                if (dist < best_d && dist < strlen(cands[i])) {
                        best = cands[i];
                        best_d = dist;
                }
        }
        return best;
}

/* ---- the validation context ---- */

struct vctx {
        const char *file;
        struct diags *d;
        size_t errors;
        bool oom;
        /* entity names in document order (NULL where invalid), for reference checks */
        const char **entity_names;
        size_t n_entity_names;
};

static char *pkey(struct vctx *c, const char *base, const char *key) {
        char *p;
        if (asprintf(&p, "%s%s%s", base, *base && key ? "." : "", key ? key : "") < 0) {
                c->oom = true;
                return NULL;
        }
        return p;
}

static char *pidx(struct vctx *c, const char *base, size_t i) {
        char *p;
        if (asprintf(&p, "%s[%zu]", base, i) < 0) {
                c->oom = true;
                return NULL;
        }
        return p;
}

/* One diagnostic at node's position with path base.key (base alone when key is NULL). */
_printf_(5, 6) static void verr(struct vctx *c, const struct node *at, const char *base,
                                const char *key, const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL, *path = NULL;
        va_list ap;
        int k;

        c->errors++;
        va_start(ap, fmt);
        k = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (k < 0 || !(path = pkey(c, base ? base : "", key))) {
                c->oom = true;
                return;
        }
        if (diags_add(c->d, c->file, at ? at->line : 0, at ? at->column : 0, path, "%s", msg) < 0)
                c->oom = true;
}

static char *vdup(struct vctx *c, const char *s) {
        if (!s)
                return NULL;
        char *p = strdup(s);
        if (!p)
                c->oom = true;
        return p;
}

static void check_keys(struct vctx *c, const struct node *map, const char *path,
                       const char *const *known, size_t n_known) {
        for (size_t i = 0; i < map->n; i++) {
                const struct node *k = map->keys[i];
                if (strncmp(k->value, "x-", 2) == 0 || lookup(known, n_known, k->value) >= 0)
                        continue;
                const char *s = spec_suggest(k->value, known, n_known);
                verr(c, k, path, k->value, "unknown key '%s'%s%s%s", k->value,
                     s ? "; did you mean '" : "", s ? s : "", s ? "'?" : "");
        }
}

/* The value of key, or NULL when absent or null. */
static const struct node *get(const struct node *map, const char *key) {
        const struct node *v = node_get(map, key);
        return node_is_null(v) ? NULL : v;
}

static const struct node *need(struct vctx *c, const struct node *map, const char *path,
                               const char *key, const char *why) {
        const struct node *v = get(map, key);
        if (v)
                return v;
        const struct node *present = node_get(map, key);
        if (present)
                verr(c, present, path, key, "'%s' must not be empty%s", key, why);
        else
                verr(c, map, path, key, "missing required key '%s'%s", key, why);
        return NULL;
}

static const char *as_str(struct vctx *c, const struct node *v, const char *path, const char *key) {
        if (!v)
                return NULL;
        if (!node_is_string(v)) {
                verr(c, v, path, key, "'%s' must be a string (found %s)", key, node_kind_name(v));
                return NULL;
        }
        return v->value;
}

static const char *opt_str(struct vctx *c, const struct node *map, const char *path,
                           const char *key) {
        return as_str(c, get(map, key), path, key);
}

static const char *req_str(struct vctx *c, const struct node *map, const char *path,
                           const char *key) {
        return as_str(c, need(c, map, path, key, ""), path, key);
}

static void opt_bool(struct vctx *c, const struct node *map, const char *path, const char *key,
                     bool *ret) {
        const struct node *v = get(map, key);
        if (v && node_as_bool(v, ret) < 0)
                verr(c, v, path, key, "'%s' must be true or false (found %s)", key,
                     node_kind_name(v));
}

/* A non-empty sequence, or NULL after a diagnostic (none when absent and optional). */
static const struct node *get_seq(struct vctx *c, const struct node *map, const char *path,
                                  const char *key, bool required) {
        const struct node *v = required ? need(c, map, path, key, "") : get(map, key);
        if (!v)
                return NULL;
        if (v->kind != NODE_SEQ) {
                verr(c, v, path, key, "'%s' must be a sequence (found %s)", key, node_kind_name(v));
                return NULL;
        }
        if (required && v->n == 0) {
                verr(c, v, path, key, "'%s' must not be empty", key);
                return NULL;
        }
        return v;
}

/* ID_FIELD: snake_case, and a Python keyword is allowed: field names become columns and
 * JSON keys as written, and the backend renames the Python attribute ("class" -> class_). */
enum ident_style { ID_SNAKE, ID_PASCAL, ID_ENUM, ID_FIELD };

/* Checks a name that becomes a Python identifier; what is e.g. "field name". */
static bool check_ident(struct vctx *c, const struct node *at, const char *path, const char *key,
                        const char *what, const char *s, enum ident_style style) {
        static const char *const patterns[] = {
                "[a-z][a-z0-9_]*", "[A-Z][A-Za-z0-9]*", "[A-Za-z_][A-Za-z0-9_]*", "[a-z][a-z0-9_]*",
        };
        bool ok = style == ID_SNAKE || style == ID_FIELD ? is_snake(s)
                  : style == ID_PASCAL                   ? is_pascal(s)
                                                         : is_identifier(s);
        if (!ok) {
                verr(c, at, path, key, "invalid %s '%s': must match %s", what, s, patterns[style]);
                return false;
        }
        if (strlen(s) > IDENT_MAX) {
                verr(c, at, path, key, "%s '%.20s...' is longer than %d characters", what, s,
                     IDENT_MAX);
                return false;
        }
        if (style != ID_FIELD && lookup(python_keywords, ELEMENTSOF(python_keywords), s) >= 0) {
                verr(c, at, path, key, "%s '%s' is a Python keyword", what, s);
                return false;
        }
        return true;
}

static bool entity_known(const struct vctx *c, const char *name) {
        for (size_t i = 0; i < c->n_entity_names; i++)
                if (c->entity_names[i] && streq(c->entity_names[i], name))
                        return true;
        return false;
}

/* Reports an unknown entity name; returns whether it is known. */
static bool check_entity_ref(struct vctx *c, const struct node *at, const char *path,
                             const char *key, const char *name) {
        if (entity_known(c, name))
                return true;
        const char *s = spec_suggest(name, c->entity_names, c->n_entity_names);
        verr(c, at, path, key, "unknown entity '%s'%s%s%s", name, s ? "; did you mean '" : "",
             s ? s : "", s ? "'?" : "");
        return false;
}

static bool check_regex(struct vctx *c, const struct node *at, const char *path, const char *key,
                        const char *pattern) {
        regex_t re;
        int r = regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB);
        if (r != 0) {
                char buf[256];
                regerror(r, &re, buf, sizeof(buf));
                buf[0] = (char) tolower((unsigned char) buf[0]);
                verr(c, at, path, key, "invalid pattern '%s': %s", pattern, buf);
                return false;
        }
        regfree(&re);
        return true;
}

static bool type_is_stringlike(enum field_type t) {
        return t == FT_STRING || t == FT_TEXT || t == FT_EMAIL || t == FT_URL;
}

static bool type_is_numeric(enum field_type t) {
        return t == FT_INTEGER || t == FT_FLOAT || t == FT_DECIMAL;
}

/* ---- ISO dates for defaults ---- */

static bool parse_digits(const char **s, int n, int *ret) {
        int v = 0;
        for (int i = 0; i < n; i++) {
                if (!isdigit((unsigned char) (*s)[i]))
                        return false;
                v = v * 10 + ((*s)[i] - '0');
        }
        *s += n;
        *ret = v;
        return true;
}

/* YYYY-MM-DD with a real day of the month; *s is moved past it. */
static bool parse_iso_date(const char **s) {
        static const int days[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
        int y, m, d;
        if (!parse_digits(s, 4, &y) || *(*s)++ != '-' || !parse_digits(s, 2, &m) ||
            *(*s)++ != '-' || !parse_digits(s, 2, &d))
                return false;
        if (m < 1 || m > 12 || d < 1 || d > days[m - 1])
                return false;
        return !(m == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)));
}

static bool is_iso_date(const char *s) {
        return parse_iso_date(&s) && *s == '\0';
}

/* YYYY-MM-DD[T ]HH:MM[:SS[.frac]][Z|+HH:MM|-HH:MM] */
static bool is_iso_datetime(const char *s) {
        int h, mi, sec, zh, zm;
        if (!parse_iso_date(&s) || (*s != 'T' && *s != ' '))
                return false;
        s++;
        if (!parse_digits(&s, 2, &h) || *s++ != ':' || !parse_digits(&s, 2, &mi) || h > 23 ||
            mi > 59)
                return false;
        if (*s == ':') {
                s++;
                if (!parse_digits(&s, 2, &sec) || sec > 60)
                        return false;
                if (*s == '.') {
                        s++;
                        if (!isdigit((unsigned char) *s))
                                return false;
                        while (isdigit((unsigned char) *s))
                                s++;
                }
        }
        if (*s == 'Z')
                s++;
        else if (*s == '+' || *s == '-') {
                s++;
                if (!parse_digits(&s, 2, &zh) || *s++ != ':' || !parse_digits(&s, 2, &zm) ||
                    zh > 23 || zm > 59)
                        return false;
        }
        return *s == '\0';
}

static bool is_uuid(const char *s) {
        static const int groups[] = { 8, 4, 4, 4, 12 };
        for (size_t g = 0; g < ELEMENTSOF(groups); g++) {
                if (g > 0 && *s++ != '-')
                        return false;
                for (int i = 0; i < groups[g]; i++, s++)
                        if (!isxdigit((unsigned char) *s))
                                return false;
        }
        return *s == '\0';
}

static size_t utf8_length(const char *s) {
        size_t n = 0;
        for (; *s; s++)
                if (((unsigned char) *s & 0xC0) != 0x80)
                        n++;
        return n;
}

/* ---- fields ---- */

static const char *const field_keys[] = {
        "name", "type", "required", "unique", "index", "default", "min_length", "max_length",
        "min", "max", "pattern", "values", "target", "description",
};

static void parse_values(struct vctx *c, const struct node *v, const char *path, struct field *f) {
        if (v->kind != NODE_SEQ || v->n == 0) {
                verr(c, v, path, "values", "'values' must be a non-empty sequence (found %s)",
                     v->kind == NODE_SEQ ? "an empty one" : node_kind_name(v));
                return;
        }
        _cleanup_free_ char *vpath = pkey(c, path, "values");
        if (!vpath || !(f->values = calloc(v->n, sizeof(char *)))) {
                c->oom = true;
                return;
        }
        for (size_t i = 0; i < v->n; i++) {
                const struct node *item = v->items[i];
                _cleanup_free_ char *ipath = pidx(c, vpath, i);
                if (!node_is_string(item)) {
                        verr(c, item, ipath, NULL, "enum value must be a string (found %s)",
                             node_kind_name(item));
                        continue;
                }
                if (!check_ident(c, item, ipath, NULL, "enum value", item->value, ID_ENUM))
                        continue;
                if (lookup((const char *const *) f->values, f->n_values, item->value) >= 0) {
                        verr(c, item, ipath, NULL, "duplicate enum value '%s'", item->value);
                        continue;
                }
                f->values[f->n_values++] = vdup(c, item->value);
        }
}

static void check_default(struct vctx *c, const struct node *v, const char *path,
                          const struct field *f) {
        const char *name = f->name ? f->name : "?";
        long long i;
        double x;
        bool b;

        if (v->kind != NODE_SCALAR) {
                verr(c, v, path, "default", "'default' must be a scalar (found %s)",
                     node_kind_name(v));
                return;
        }
        switch (f->type) {
        case FT_INTEGER:
        case FT_FOREIGN_KEY:
                if (node_as_int(v, &i) < 0)
                        verr(c, v, path, "default", "default for %s field '%s' must be an integer (found %s)",
                             field_type_name(f->type), name, node_kind_name(v));
                else if ((f->has_min && (double) i < f->min) || (f->has_max && (double) i > f->max))
                        verr(c, v, path, "default", "default %s is outside min/max", v->value);
                return;
        case FT_FLOAT:
        case FT_DECIMAL:
                if (node_as_double(v, &x) < 0)
                        verr(c, v, path, "default", "default for %s field '%s' must be a number (found %s)",
                             field_type_name(f->type), name, node_kind_name(v));
                else if ((f->has_min && x < f->min) || (f->has_max && x > f->max))
                        verr(c, v, path, "default", "default %s is outside min/max", v->value);
                return;
        case FT_BOOLEAN:
                if (node_as_bool(v, &b) < 0)
                        verr(c, v, path, "default", "default for boolean field '%s' must be true or false (found %s)",
                             name, node_kind_name(v));
                return;
        default:
                break;
        }
        if (!node_is_string(v)) {
                verr(c, v, path, "default", "default for %s field '%s' must be a string (found %s)",
                     field_type_name(f->type), name, node_kind_name(v));
                return;
        }
        const char *s = v->value;
        if (f->type == FT_DATE && !is_iso_date(s))
                verr(c, v, path, "default", "default '%s' is not an ISO date (YYYY-MM-DD)", s);
        else if (f->type == FT_DATETIME && !is_iso_datetime(s))
                verr(c, v, path, "default",
                     "default '%s' is not an ISO datetime (YYYY-MM-DDTHH:MM[:SS][Z|+HH:MM])", s);
        else if (f->type == FT_UUID && !is_uuid(s))
                verr(c, v, path, "default", "default '%s' is not a UUID", s);
        else if (f->type == FT_ENUM && f->values) {
                if (lookup((const char *const *) f->values, f->n_values, s) < 0)
                        verr(c, v, path, "default", "default '%s' is not one of the enum values", s);
        } else if (type_is_stringlike(f->type)) {
                size_t len = utf8_length(s);
                if ((f->has_min_length && (long long) len < f->min_length) ||
                    (f->has_max_length && (long long) len > f->max_length))
                        verr(c, v, path, "default",
                             "default '%s' is outside min_length/max_length", s);
        }
}

static void parse_field(struct vctx *c, const struct node *n, const char *path, struct field *f) {
        static const char *const implicit[] = { "id", "created_at", "updated_at" };
        const struct node *v;
        const char *s;
        bool type_ok = false;

        f->type = _FT_MAX; /* until known */
        f->pos = (struct src_pos) { n->line, n->column };
        if (n->kind != NODE_MAP) {
                verr(c, n, path, NULL, "field must be a mapping (found %s)", node_kind_name(n));
                return;
        }
        check_keys(c, n, path, field_keys, ELEMENTSOF(field_keys));

        if ((s = req_str(c, n, path, "name"))) {
                v = get(n, "name");
                if (lookup(implicit, ELEMENTSOF(implicit), s) >= 0)
                        verr(c, v, path, "name",
                             "field name '%s' is reserved: every entity has id, created_at and updated_at",
                             s);
                else if (check_ident(c, v, path, "name", "field name", s, ID_FIELD))
                        f->name = vdup(c, s);
        }
        if ((s = req_str(c, n, path, "type"))) {
                int t = lookup(field_type_names, _FT_MAX, s);
                if (t < 0) {
                        const char *sg = spec_suggest(s, field_type_names, _FT_MAX);
                        verr(c, get(n, "type"), path, "type",
                             "unknown field type '%s'%s%s%s (valid types: string, text, integer, float, decimal, boolean, date, datetime, email, url, uuid, enum, foreign_key, json)",
                             s, sg ? "; did you mean '" : "", sg ? sg : "", sg ? "'?" : "");
                } else {
                        f->type = (enum field_type) t;
                        type_ok = true;
                }
        }
        opt_bool(c, n, path, "required", &f->required);
        opt_bool(c, n, path, "unique", &f->unique);
        opt_bool(c, n, path, "index", &f->index);
        f->description = vdup(c, opt_str(c, n, path, "description"));

        /* type-specific keys: checked only when the type is known */
        static const struct {
                const char *key;
                bool (*allowed)(enum field_type t);
                const char *types;
        } restricted[] = {
                { "min_length", type_is_stringlike, "string, text, email and url" },
                { "max_length", type_is_stringlike, "string, text, email and url" },
                { "pattern", type_is_stringlike, "string, text, email and url" },
                { "min", type_is_numeric, "integer, float and decimal" },
                { "max", type_is_numeric, "integer, float and decimal" },
        };
        for (size_t i = 0; type_ok && i < ELEMENTSOF(restricted); i++)
                if ((v = get(n, restricted[i].key)) && !restricted[i].allowed(f->type))
                        verr(c, v, path, restricted[i].key, "'%s' is only allowed for %s fields",
                             restricted[i].key, restricted[i].types);
        if (!type_ok)
                return;

        if (type_is_stringlike(f->type)) {
                static const char *const lk[] = { "min_length", "max_length" };
                for (size_t i = 0; i < 2; i++) {
                        long long x;
                        if (!(v = get(n, lk[i])))
                                continue;
                        if (node_as_int(v, &x) < 0) {
                                verr(c, v, path, lk[i], "'%s' must be a non-negative integer (found %s)",
                                     lk[i], node_kind_name(v));
                                continue;
                        }
                        if (x < 0) {
                                verr(c, v, path, lk[i], "'%s' must not be negative", lk[i]);
                                continue;
                        }
                        *(i ? &f->max_length : &f->min_length) = x;
                        *(i ? &f->has_max_length : &f->has_min_length) = true;
                }
                if (f->has_min_length && f->has_max_length && f->min_length > f->max_length)
                        verr(c, get(n, "max_length"), path, "max_length",
                             "min_length %lld is greater than max_length %lld", f->min_length,
                             f->max_length);
                if ((s = opt_str(c, n, path, "pattern")) &&
                    check_regex(c, get(n, "pattern"), path, "pattern", s))
                        f->pattern = vdup(c, s);
        }
        if (type_is_numeric(f->type)) {
                static const char *const mk[] = { "min", "max" };
                for (size_t i = 0; i < 2; i++) {
                        double x;
                        if (!(v = get(n, mk[i])))
                                continue;
                        if (node_as_double(v, &x) < 0) {
                                verr(c, v, path, mk[i], "'%s' must be a number (found %s)", mk[i],
                                     node_kind_name(v));
                                continue;
                        }
                        *(i ? &f->max : &f->min) = x;
                        *(i ? &f->has_max : &f->has_min) = true;
                }
                if (f->has_min && f->has_max && f->min > f->max)
                        verr(c, get(n, "max"), path, "max", "min %g is greater than max %g", f->min,
                             f->max);
        }

        v = get(n, "values");
        if (f->type == FT_ENUM) {
                if ((v = need(c, n, path, "values", " (enum fields need it)")))
                        parse_values(c, v, path, f);
        } else if (v)
                verr(c, v, path, "values", "'values' is only allowed for enum fields");

        v = get(n, "target");
        if (f->type == FT_FOREIGN_KEY) {
                if ((s = as_str(c, need(c, n, path, "target", " (foreign_key fields need it)"),
                                path, "target")) &&
                    check_entity_ref(c, get(n, "target"), path, "target", s))
                        f->target = vdup(c, s);
        } else if (v)
                verr(c, v, path, "target", "'target' is only allowed for foreign_key fields");

        if ((v = get(n, "default"))) {
                long long x;
                check_default(c, v, path, f);
                /* integers in canonical form: YAML reads "007" or "+7" as 7, Python
                 * code generated from the text would not */
                if ((f->type == FT_INTEGER || f->type == FT_FOREIGN_KEY) && node_as_int(v, &x) == 0) {
                        if ((f->default_value = node_new_int(x))) {
                                f->default_value->line = v->line;
                                f->default_value->column = v->column;
                        }
                } else
                        f->default_value = node_dup(v);
                if (!f->default_value)
                        c->oom = true;
        }
}

/* ---- relationships ---- */

static const char *const rel_keys[] = { "name", "kind", "target", "back_populates" };

static void parse_rel(struct vctx *c, const struct node *n, const char *path,
                      struct relationship *r) {
        const char *s;

        r->kind = _RK_MAX; /* until known */
        r->pos = (struct src_pos) { n->line, n->column };
        if (n->kind != NODE_MAP) {
                verr(c, n, path, NULL, "relationship must be a mapping (found %s)",
                     node_kind_name(n));
                return;
        }
        check_keys(c, n, path, rel_keys, ELEMENTSOF(rel_keys));
        if ((s = req_str(c, n, path, "name")) &&
            check_ident(c, get(n, "name"), path, "name", "relationship name", s, ID_SNAKE))
                r->name = vdup(c, s);
        if ((s = req_str(c, n, path, "kind"))) {
                int k = lookup(rel_kind_names, _RK_MAX, s);
                if (k < 0)
                        verr(c, get(n, "kind"), path, "kind",
                             "unknown relationship kind '%s' (valid kinds: one_to_many, many_to_one, one_to_one, many_to_many)",
                             s);
                else
                        r->kind = (enum rel_kind) k;
        }
        if ((s = req_str(c, n, path, "target")) &&
            check_entity_ref(c, get(n, "target"), path, "target", s))
                r->target = vdup(c, s);
        r->back_populates = vdup(c, opt_str(c, n, path, "back_populates"));
}

/* ---- entities ---- */

static const char *const entity_keys[] = { "name", "table", "description", "fields",
                                           "relationships" };

static bool entity_has_fk_to(const struct entity *e, const char *target) {
        for (size_t i = 0; i < e->n_fields; i++)
                if (e->fields[i].type == FT_FOREIGN_KEY && streq_ptr(e->fields[i].target, target))
                        return true;
        return false;
}

static void parse_entity(struct vctx *c, const struct node *n, const char *path, struct entity *e) {
        const struct node *seq;
        const char *s;

        e->pos = (struct src_pos) { n->line, n->column };
        if (n->kind != NODE_MAP) {
                verr(c, n, path, NULL, "entity must be a mapping (found %s)", node_kind_name(n));
                return;
        }
        check_keys(c, n, path, entity_keys, ELEMENTSOF(entity_keys));
        if ((s = req_str(c, n, path, "name")) &&
            check_ident(c, get(n, "name"), path, "name", "entity name", s, ID_PASCAL)) {
                e->name = vdup(c, s);
                if (!(e->snake = snake_case(s)))
                        c->oom = true;
        }
        if ((s = opt_str(c, n, path, "table"))) {
                if (check_ident(c, get(n, "table"), path, "table", "table name", s, ID_SNAKE))
                        e->table = vdup(c, s);
        } else if (e->snake && !get(n, "table") && !(e->table = plural(e->snake)))
                c->oom = true;
        e->description = vdup(c, opt_str(c, n, path, "description"));

        _cleanup_free_ char *fpath = pkey(c, path, "fields");
        if ((seq = get_seq(c, n, path, "fields", true)) && fpath) {
                if (!(e->fields = calloc(seq->n, sizeof(struct field)))) {
                        c->oom = true;
                        return;
                }
                e->n_fields = seq->n;
                for (size_t i = 0; i < seq->n && !c->oom; i++) {
                        _cleanup_free_ char *p = pidx(c, fpath, i);
                        struct field *f = &e->fields[i];
                        parse_field(c, seq->items[i], p ? p : "", f);
                }
        }
        _cleanup_free_ char *rpath = pkey(c, path, "relationships");
        if ((seq = get_seq(c, n, path, "relationships", false)) && rpath && seq->n > 0) {
                if (!(e->rels = calloc(seq->n, sizeof(struct relationship)))) {
                        c->oom = true;
                        return;
                }
                e->n_rels = seq->n;
                for (size_t i = 0; i < seq->n && !c->oom; i++) {
                        _cleanup_free_ char *p = pidx(c, rpath, i);
                        parse_rel(c, seq->items[i], p ? p : "", &e->rels[i]);
                }
        }
}

/* Checks that need every entity: back_populates pairs and the foreign keys that
 * relationships rely on. */
static void check_relationships(struct vctx *c, const struct spec *s, const struct node *ents) {
        static const enum rel_kind inverse[_RK_MAX] = {
                [RK_ONE_TO_MANY] = RK_MANY_TO_ONE, [RK_MANY_TO_ONE] = RK_ONE_TO_MANY,
                [RK_ONE_TO_ONE] = RK_ONE_TO_ONE, [RK_MANY_TO_MANY] = RK_MANY_TO_MANY,
        };
        for (size_t i = 0; i < s->n_entities && !c->oom; i++) {
                const struct entity *e = &s->entities[i];
                const struct node *rels = node_get(ents->items[i], "relationships");
                _cleanup_free_ char *epath = pidx(c, "entities", i);
                for (size_t j = 0; e->name && j < e->n_rels && epath; j++) {
                        const struct relationship *r = &e->rels[j];
                        const struct node *rn = rels->items[j];
                        const struct entity *t = r->target ? spec_find_entity(s, r->target) : NULL;
                        _cleanup_free_ char *p = pkey(c, epath, "relationships");
                        _cleanup_free_ char *rp = p ? pidx(c, p, j) : NULL;
                        if (!t || !r->name || !rp)
                                continue;
                        if (r->back_populates) {
                                const struct relationship *o = NULL;
                                for (size_t k = 0; k < t->n_rels; k++)
                                        if (streq_ptr(t->rels[k].name, r->back_populates))
                                                o = &t->rels[k];
                                const struct node *bp = get(rn, "back_populates");
                                if (!o)
                                        verr(c, bp, rp, "back_populates",
                                             "entity '%s' has no relationship '%s' to pair with '%s'",
                                             t->name, r->back_populates, r->name);
                                else if (!streq_ptr(o->target, e->name))
                                        verr(c, bp, rp, "back_populates",
                                             "relationship '%s.%s' targets '%s', not '%s'", t->name,
                                             o->name, o->target ? o->target : "?", e->name);
                                else if (o->back_populates && !streq(o->back_populates, r->name))
                                        verr(c, bp, rp, "back_populates",
                                             "relationship '%s.%s' back-populates '%s', not '%s'",
                                             t->name, o->name, o->back_populates, r->name);
                                else if (r->kind < _RK_MAX && o->kind < _RK_MAX &&
                                         o->kind != inverse[r->kind])
                                        verr(c, bp, rp, "back_populates",
                                             "'%s' (%s) cannot pair with '%s.%s' (%s)", r->name,
                                             rel_kind_name(r->kind), t->name, o->name,
                                             rel_kind_name(o->kind));
                        }
                        if (r->kind >= _RK_MAX)
                                continue;
                        const struct node *kn = get(rn, "kind");
                        switch (r->kind) {
                        case RK_MANY_TO_ONE:
                                if (!entity_has_fk_to(e, t->name))
                                        verr(c, kn, rp, "kind",
                                             "many_to_one relationship '%s' needs a foreign_key field on '%s' targeting '%s'",
                                             r->name, e->name, t->name);
                                break;
                        case RK_ONE_TO_MANY:
                                if (!entity_has_fk_to(t, e->name))
                                        verr(c, kn, rp, "kind",
                                             "one_to_many relationship '%s' needs a foreign_key field on '%s' targeting '%s'",
                                             r->name, t->name, e->name);
                                break;
                        case RK_ONE_TO_ONE:
                                if (!entity_has_fk_to(e, t->name) && !entity_has_fk_to(t, e->name))
                                        verr(c, kn, rp, "kind",
                                             "one_to_one relationship '%s' needs a foreign_key field on '%s' targeting '%s' or on '%s' targeting '%s'",
                                             r->name, e->name, t->name, t->name, e->name);
                                break;
                        default:
                                break;
                        }
                }
        }
}

/* ---- duplicates ---- */

struct dup {
        size_t i, first;
};

static int cmp_str_index(const void *a, const void *b, void *userdata) {
        const char *const *keys = userdata;
        size_t i = *(const size_t *) a, j = *(const size_t *) b;
        int r = strcmp(keys[i], keys[j]);
        return r ? r : (i < j ? -1 : i > j);
}

static int cmp_dup(const void *a, const void *b) {
        const struct dup *x = a, *y = b;
        return x->i < y->i ? -1 : x->i > y->i;
}

/* Every later occurrence of a repeated key (NULL keys skipped), in document order, with
 * the index of the first occurrence; sorting keeps large inputs O(n log n). */
static struct dup *find_duplicates(struct vctx *c, const char *const *keys, size_t n,
                                   size_t *ret_n) {
        _cleanup_free_ size_t *idx = calloc(n ? n : 1, sizeof(size_t));
        struct dup *dups = calloc(n ? n : 1, sizeof(struct dup));
        size_t m = 0, k = 0;

        *ret_n = 0;
        if (!idx || !dups) {
                free(dups);
                c->oom = true;
                return NULL;
        }
        for (size_t i = 0; i < n; i++)
                if (keys[i])
                        idx[m++] = i;
        qsort_r(idx, m, sizeof(size_t), cmp_str_index, (void *) keys);
        for (size_t i = 0, j; i < m; i = j)
                for (j = i + 1; j < m && streq(keys[idx[j]], keys[idx[i]]); j++)
                        dups[k++] = (struct dup) { idx[j], idx[i] };
        qsort(dups, k, sizeof(struct dup), cmp_dup);
        *ret_n = k;
        return dups;
}

static void check_entity_duplicates(struct vctx *c, struct spec *s, const struct node *ents,
                                    const struct node *fields_of[]) {
        _cleanup_free_ const char **keys = calloc(s->n_entities ? s->n_entities : 1, sizeof(char *));
        static const char *const what[] = { "name", "table", "name" };
        if (!keys) {
                c->oom = true;
                return;
        }
        for (int pass = 0; pass < 3; pass++) {
                for (size_t i = 0; i < s->n_entities; i++)
                        keys[i] = pass == 0 ? s->entities[i].name
                                : pass == 1 ? s->entities[i].table
                                            : s->entities[i].snake;
                size_t nd;
                _cleanup_free_ struct dup *dups = find_duplicates(c, keys, s->n_entities, &nd);
                for (size_t k = 0; k < nd; k++) {
                        const struct entity *e = &s->entities[dups[k].i];
                        const struct entity *f = &s->entities[dups[k].first];
                        _cleanup_free_ char *p = pidx(c, "entities", dups[k].i);
                        const struct node *at = get(ents->items[dups[k].i], what[pass]);
                        if (!at)
                                at = ents->items[dups[k].i];
                        if (pass == 0)
                                verr(c, at, p, "name", "duplicate entity name '%s'", e->name);
                        else if (pass == 1 && !streq_ptr(e->name, f->name))
                                verr(c, at, p, "table", "entities '%s' and '%s' share the table '%s'",
                                     f->name, e->name, e->table);
                        else if (pass == 2 && !streq(e->name, f->name) &&
                                 !streq_ptr(e->table, f->table))
                                verr(c, at, p, "name",
                                     "entities '%s' and '%s' have the same snake_case name '%s'",
                                     f->name, e->name, e->snake);
                }
        }
        for (size_t i = 0; i < s->n_entities && !c->oom; i++) {
                const struct entity *e = &s->entities[i];
                size_t n = e->n_fields + e->n_rels, nd;
                _cleanup_free_ const char **names = calloc(n ? n : 1, sizeof(char *));
                if (!names) {
                        c->oom = true;
                        return;
                }
                for (size_t k = 0; k < e->n_fields; k++)
                        names[k] = e->fields[k].name;
                for (size_t k = 0; k < e->n_rels; k++)
                        names[e->n_fields + k] = e->rels[k].name;
                _cleanup_free_ struct dup *dups = find_duplicates(c, names, n, &nd);
                _cleanup_free_ char *p = pidx(c, "entities", i);
                for (size_t k = 0; k < nd && p; k++) {
                        size_t j = dups[k].i;
                        bool field = j < e->n_fields;
                        const char *list = field ? "fields" : "relationships";
                        const struct node *seq = field ? fields_of[i] : get(ents->items[i], list);
                        size_t at = field ? j : j - e->n_fields;
                        _cleanup_free_ char *lp = pkey(c, p, list);
                        _cleanup_free_ char *ip = lp ? pidx(c, lp, at) : NULL;
                        verr(c, get(seq->items[at], "name"), ip, "name",
                             field ? "duplicate field name '%s' in entity '%s'"
                                   : "duplicate name '%s' in entity '%s' (relationship names must differ from field names and each other)",
                             names[j], e->name ? e->name : "?");
                }
        }
}

/* ---- endpoints ---- */

static const char *const endpoint_keys[] = { "entity", "operation", "name", "method",
                                             "path", "filters", "description" };

static void check_path(struct vctx *c, const struct node *at, const char *path, const char *p,
                       enum op_kind op) {
        size_t ids = 0;

        if (p[0] != '/') {
                verr(c, at, path, "path", "path '%s' must start with '/'", p);
                return;
        }
        for (const char *q = p; *q; q++)
                if (!isascii((unsigned char) *q) ||
                    !(isalnum((unsigned char) *q) || strchr("/_.-{}", *q))) {
                        verr(c, at, path, "path",
                             "path '%s' has a character outside [A-Za-z0-9/_.{}-]", p);
                        return;
                }
        if (strstr(p, "//") || (p[1] && p[strlen(p) - 1] == '/')) {
                verr(c, at, path, "path", "path '%s' has an empty segment", p);
                return;
        }
        for (const char *q = p; *q; q++) {
                if (*q == '}') {
                        verr(c, at, path, "path", "malformed parameter in path '%s'", p);
                        return;
                }
                if (*q != '{')
                        continue;
                const char *end = strchr(q, '}');
                if (!end || q[-1] != '/' || (end[1] && end[1] != '/') ||
                    memchr(q + 1, '{', (size_t) (end - q - 1))) {
                        verr(c, at, path, "path", "malformed parameter in path '%s'", p);
                        return;
                }
                if (end - q - 1 != 2 || strncmp(q + 1, "id", 2) != 0) {
                        verr(c, at, path, "path",
                             "unsupported parameter '%.*s' in path '%s' (only {id} is supported)",
                             (int) (end - q + 1), q, p);
                        return;
                }
                ids++;
                q = end;
        }
        if (ids > 1)
                verr(c, at, path, "path", "path '%s' has {id} more than once", p);
        else if (ids == 0 && (op == OP_GET || op == OP_UPDATE || op == OP_DELETE))
                verr(c, at, path, "path", "'%s' endpoint path '%s' needs an {id} parameter",
                     op_kind_name(op), p);
        else if (ids > 0 && (op == OP_LIST || op == OP_CREATE))
                verr(c, at, path, "path", "'%s' endpoint path '%s' must not have parameters",
                     op_kind_name(op), p);
}

static void parse_endpoint(struct vctx *c, const struct spec *s, const struct node *n,
                           const char *path, struct endpoint *ep) {
        static const char *const default_method[] = { "GET", "POST", "GET", "PATCH", "DELETE" };
        const struct entity *e = NULL;
        const struct node *v;
        const char *str;

        ep->op = _OP_MAX; /* until known */
        ep->pos = (struct src_pos) { n->line, n->column };
        if (n->kind != NODE_MAP) {
                verr(c, n, path, NULL, "endpoint must be a mapping (found %s)", node_kind_name(n));
                return;
        }
        check_keys(c, n, path, endpoint_keys, ELEMENTSOF(endpoint_keys));
        if ((str = req_str(c, n, path, "entity")) &&
            check_entity_ref(c, get(n, "entity"), path, "entity", str)) {
                ep->entity = vdup(c, str);
                e = spec_find_entity(s, str);
        }
        if ((str = req_str(c, n, path, "operation"))) {
                int k = lookup(op_kind_names, _OP_MAX, str);
                if (k < 0)
                        verr(c, get(n, "operation"), path, "operation",
                             "unknown operation '%s' (valid operations: list, create, get, update, delete, custom)",
                             str);
                else
                        ep->op = (enum op_kind) k;
        }
        ep->description = vdup(c, opt_str(c, n, path, "description"));

        if (ep->op == OP_CUSTOM) {
                if ((str = req_str(c, n, path, "name")) &&
                    check_ident(c, get(n, "name"), path, "name", "operation name", str, ID_SNAKE))
                        ep->name = vdup(c, str);
                need(c, n, path, "description", " (custom operations need it)");
        } else if ((v = get(n, "name")) && ep->op < _OP_MAX)
                verr(c, v, path, "name", "'name' is only allowed for custom endpoints");

        if ((str = ep->op == OP_CUSTOM ? req_str(c, n, path, "method")
                                      : opt_str(c, n, path, "method"))) {
                _cleanup_free_ char *up = vdup(c, str);
                for (char *q = up; q && *q; q++)
                        *q = (char) toupper((unsigned char) *q);
                if (up && lookup(methods, ELEMENTSOF(methods), up) < 0)
                        verr(c, get(n, "method"), path, "method",
                             "unknown method '%s' (valid methods: GET, POST, PUT, PATCH, DELETE)", str);
                else
                        ep->method = TAKE_PTR(up);
        } else if (!get(n, "method") && ep->op < OP_CUSTOM)
                ep->method = vdup(c, default_method[ep->op]);

        if ((str = ep->op == OP_CUSTOM ? req_str(c, n, path, "path")
                                      : opt_str(c, n, path, "path"))) {
                if (ep->op < _OP_MAX) {
                        size_t before = c->errors;
                        check_path(c, get(n, "path"), path, str, ep->op);
                        if (c->errors == before)
                                ep->path = vdup(c, str);
                }
        } else if (!get(n, "path") && ep->op < OP_CUSTOM && e && e->table) {
                bool with_id = ep->op == OP_GET || ep->op == OP_UPDATE || ep->op == OP_DELETE;
                if (asprintf(&ep->path, "/%s%s", e->table, with_id ? "/{id}" : "") < 0) {
                        ep->path = NULL;
                        c->oom = true;
                }
        }

        if ((v = get(n, "filters"))) {
                _cleanup_free_ char *fp = pkey(c, path, "filters");
                if (ep->op < _OP_MAX && ep->op != OP_LIST)
                        verr(c, v, path, "filters", "'filters' is only allowed for list endpoints");
                else if (v->kind != NODE_SEQ)
                        verr(c, v, path, "filters", "'filters' must be a sequence (found %s)",
                             node_kind_name(v));
                else if (fp && v->n > 0 && !(ep->filters = calloc(v->n, sizeof(char *))))
                        c->oom = true;
                for (size_t i = 0; ep->filters && i < v->n; i++) {
                        const struct node *item = v->items[i];
                        _cleanup_free_ char *ip = pidx(c, fp, i);
                        if (!node_is_string(item))
                                verr(c, item, ip, NULL, "filter must be a field name (found %s)",
                                     node_kind_name(item));
                        else if (e && !entity_find_field(e, item->value))
                                verr(c, item, ip, NULL, "unknown filter field '%s' on entity '%s'",
                                     item->value, e->name);
                        else if (lookup((const char *const *) ep->filters, ep->n_filters,
                                        item->value) >= 0)
                                verr(c, item, ip, NULL, "duplicate filter '%s'", item->value);
                        else
                                ep->filters[ep->n_filters++] = vdup(c, item->value);
                }
        }
}

static void check_endpoint_duplicates(struct vctx *c, struct spec *s, const struct node *eps) {
        size_t n = s->n_endpoints;
        _cleanup_free_ char **keys = calloc(n ? n : 1, sizeof(char *));
        if (!keys) {
                c->oom = true;
                return;
        }
        for (int pass = 0; pass < 2; pass++) {
                for (size_t i = 0; i < n; i++) {
                        const struct endpoint *ep = &s->endpoints[i];
                        int r = 0;
                        keys[i] = NULL;
                        if (pass == 0 && ep->method && ep->path)
                                r = asprintf(&keys[i], "%s %s", ep->method, ep->path);
                        else if (pass == 1 && ep->entity && ep->op < _OP_MAX &&
                                 (ep->op != OP_CUSTOM || ep->name))
                                r = asprintf(&keys[i], "%s %s", ep->entity,
                                             ep->op == OP_CUSTOM ? ep->name : op_kind_name(ep->op));
                        if (r < 0) {
                                keys[i] = NULL;
                                c->oom = true;
                        }
                }
                size_t nd;
                _cleanup_free_ struct dup *dups = find_duplicates(c, (const char *const *) keys, n,
                                                                   &nd);
                for (size_t k = 0; k < nd; k++) {
                        const struct endpoint *ep = &s->endpoints[dups[k].i];
                        _cleanup_free_ char *p = pidx(c, "endpoints", dups[k].i);
                        if (pass == 0)
                                verr(c, eps->items[dups[k].i], p, NULL,
                                     "duplicate endpoint '%s' (also at line %u)", keys[dups[k].i],
                                     s->endpoints[dups[k].first].pos.line);
                        else
                                verr(c, eps->items[dups[k].i], p, NULL,
                                     "entity '%s' has more than one '%s' operation", ep->entity,
                                     ep->op == OP_CUSTOM ? ep->name : op_kind_name(ep->op));
                }
                for (size_t i = 0; i < n; i++)
                        free(keys[i]);
        }
}

/* ---- validation rules ---- */

static const char *const rule_keys[] = { "entity", "rule", "field", "message", "min", "max",
                                         "pattern", "allowed", "description" };
static const struct {
        const char *key;
        enum rule_kind kind;
} rule_specific[] = {
        { "min", RULE_RANGE }, { "max", RULE_RANGE }, { "pattern", RULE_REGEX },
        { "allowed", RULE_TRANSITIONS }, { "description", RULE_CUSTOM },
};

static void parse_transitions(struct vctx *c, const struct node *n, const char *path,
                              const struct field *f, struct rule *r) {
        const struct node *a = need(c, n, path, "allowed", " (transitions rules need it)");
        if (!a)
                return;
        if (a->kind != NODE_MAP) {
                verr(c, a, path, "allowed", "'allowed' must be a mapping (found %s)", node_kind_name(a));
                return;
        }
        _cleanup_free_ char *ap = pkey(c, path, "allowed");
        if (!ap || (a->n > 0 && !(r->transitions = calloc(a->n, sizeof(struct transition))))) {
                c->oom = true;
                return;
        }
        const char *const *values = (const char *const *) f->values;
        for (size_t i = 0; i < a->n; i++) {
                const struct node *k = a->keys[i], *to = a->items[i];
                if (lookup(values, f->n_values, k->value) < 0) {
                        verr(c, k, ap, k->value, "unknown state '%s': not a value of '%s'",
                             k->value, f->name);
                        continue;
                }
                struct transition *t = &r->transitions[r->n_transitions++];
                t->from = vdup(c, k->value);
                if (node_is_null(to))
                        continue;
                if (to->kind != NODE_SEQ) {
                        verr(c, to, ap, k->value, "transitions from '%s' must be a sequence (found %s)",
                             k->value, node_kind_name(to));
                        continue;
                }
                if (to->n > 0 && !(t->to = calloc(to->n, sizeof(char *)))) {
                        c->oom = true;
                        return;
                }
                _cleanup_free_ char *kp = pkey(c, ap, k->value);
                for (size_t j = 0; j < to->n && kp; j++) {
                        const struct node *item = to->items[j];
                        _cleanup_free_ char *ip = pidx(c, kp, j);
                        if (!node_is_string(item) || lookup(values, f->n_values, item->value) < 0)
                                verr(c, item, ip, NULL, "unknown state '%s': not a value of '%s'",
                                     item->kind == NODE_SCALAR ? item->value : node_kind_name(item),
                                     f->name);
                        else
                                t->to[t->n_to++] = vdup(c, item->value);
                }
        }
        for (size_t i = 0; i < f->n_values; i++)
                if (node_key_index(a, f->values[i]) < 0)
                        verr(c, a, path, "allowed", "state '%s' is missing from 'allowed'",
                             f->values[i]);
}

static void parse_rule(struct vctx *c, const struct spec *s, const struct node *n,
                       const char *path, struct rule *r) {
        const struct entity *e = NULL;
        const struct field *f = NULL;
        const struct node *v;
        const char *str;

        r->kind = _RULE_MAX; /* until known */
        r->pos = (struct src_pos) { n->line, n->column };
        if (n->kind != NODE_MAP) {
                verr(c, n, path, NULL, "validation rule must be a mapping (found %s)",
                     node_kind_name(n));
                return;
        }
        check_keys(c, n, path, rule_keys, ELEMENTSOF(rule_keys));
        if ((str = req_str(c, n, path, "entity")) &&
            check_entity_ref(c, get(n, "entity"), path, "entity", str)) {
                r->entity = vdup(c, str);
                e = spec_find_entity(s, str);
        }
        if ((str = req_str(c, n, path, "rule"))) {
                int k = lookup(rule_kind_names, _RULE_MAX, str);
                if (k < 0)
                        verr(c, get(n, "rule"), path, "rule",
                             "unknown rule '%s' (valid rules: unique, exists, not_in_past, not_in_future, range, regex, transitions, custom)",
                             str);
                else
                        r->kind = (enum rule_kind) k;
        }
        r->message = vdup(c, req_str(c, n, path, "message"));
        if (r->kind == _RULE_MAX)
                return;

        str = r->kind == RULE_CUSTOM ? opt_str(c, n, path, "field") : req_str(c, n, path, "field");
        if (str && e && !(f = entity_find_field(e, str))) {
                _cleanup_free_ const char **names = calloc(e->n_fields + 1, sizeof(char *));
                for (size_t i = 0; names && i < e->n_fields; i++)
                        names[i] = e->fields[i].name;
                const char *sg = names ? spec_suggest(str, names, e->n_fields) : NULL;
                verr(c, get(n, "field"), path, "field", "unknown field '%s' on entity '%s'%s%s%s",
                     str, e->name, sg ? "; did you mean '" : "", sg ? sg : "", sg ? "'?" : "");
        } else if (str)
                r->field = vdup(c, str);
        if (f && f->type >= _FT_MAX)
                f = NULL; /* its own diagnostic was given */

        for (size_t i = 0; i < ELEMENTSOF(rule_specific); i++)
                if ((v = get(n, rule_specific[i].key)) && rule_specific[i].kind != r->kind)
                        verr(c, v, path, rule_specific[i].key, "'%s' is only allowed for %s rules",
                             rule_specific[i].key, rule_kind_name(rule_specific[i].kind));

        const struct node *fn = get(n, "field");
        const char *tn = f ? field_type_name(f->type) : NULL;
        switch (r->kind) {
        case RULE_RANGE: {
                static const char *const mk[] = { "min", "max" };
                for (size_t i = 0; i < 2; i++) {
                        double x;
                        if (!(v = get(n, mk[i])))
                                continue;
                        if (node_as_double(v, &x) < 0) {
                                verr(c, v, path, mk[i], "'%s' must be a number (found %s)", mk[i],
                                     node_kind_name(v));
                                continue;
                        }
                        *(i ? &r->max : &r->min) = x;
                        *(i ? &r->has_max : &r->has_min) = true;
                }
                if (!get(n, "min") && !get(n, "max"))
                        verr(c, n, path, NULL, "range rule needs 'min' or 'max'");
                if (r->has_min && r->has_max && r->min > r->max)
                        verr(c, get(n, "max"), path, "max", "min %g is greater than max %g", r->min,
                             r->max);
                if (f && !type_is_numeric(f->type))
                        verr(c, fn, path, "field",
                             "range rule needs an integer, float or decimal field; '%s' is %s",
                             f->name, tn);
                break;
        }
        case RULE_REGEX:
                if ((str = as_str(c, need(c, n, path, "pattern", " (regex rules need it)"), path,
                                  "pattern")) &&
                    check_regex(c, get(n, "pattern"), path, "pattern", str))
                        r->pattern = vdup(c, str);
                if (f && !type_is_stringlike(f->type))
                        verr(c, fn, path, "field",
                             "regex rule needs a string, text, email or url field; '%s' is %s",
                             f->name, tn);
                break;
        case RULE_NOT_IN_PAST:
        case RULE_NOT_IN_FUTURE:
                if (f && f->type != FT_DATE && f->type != FT_DATETIME)
                        verr(c, fn, path, "field", "%s rule needs a date or datetime field; '%s' is %s",
                             rule_kind_name(r->kind), f->name, tn);
                break;
        case RULE_EXISTS:
                if (f && f->type != FT_FOREIGN_KEY)
                        verr(c, fn, path, "field", "exists rule needs a foreign_key field; '%s' is %s",
                             f->name, tn);
                break;
        case RULE_UNIQUE:
                if (f && f->type == FT_JSON)
                        verr(c, fn, path, "field", "unique rule cannot apply to json field '%s'",
                             f->name);
                break;
        case RULE_TRANSITIONS:
                if (f && f->type != FT_ENUM)
                        verr(c, fn, path, "field", "transitions rule needs an enum field; '%s' is %s",
                             f->name, tn);
                else if (f && f->values)
                        parse_transitions(c, n, path, f, r);
                else if (!f)
                        need(c, n, path, "allowed", " (transitions rules need it)");
                break;
        case RULE_CUSTOM:
                r->description = vdup(c, as_str(c, need(c, n, path, "description",
                                                        " (custom rules need it)"),
                                                path, "description"));
                break;
        default:
                break;
        }
}

/* ---- the spec ---- */

static const char *const spec_keys[] = { "format", "name", "title", "description", "config",
                                         "entities", "endpoints", "validations" };
static const char *const config_keys[] = { "api_prefix", "database_url" };

static void parse_config(struct vctx *c, const struct node *root, struct spec *s) {
        const struct node *cfg = get(root, "config");
        const char *str;

        if (cfg && cfg->kind != NODE_MAP) {
                verr(c, cfg, "config", NULL, "'config' must be a mapping (found %s)",
                     node_kind_name(cfg));
                cfg = NULL;
        }
        if (cfg) {
                check_keys(c, cfg, "config", config_keys, ELEMENTSOF(config_keys));
                if ((str = opt_str(c, cfg, "config", "api_prefix"))) {
                        const struct node *v = get(cfg, "api_prefix");
                        if (str[0] != '/' || (str[1] && str[strlen(str) - 1] == '/') || !str[1])
                                verr(c, v, "config", "api_prefix",
                                     "api_prefix '%s' must start with '/' and not end with '/'", str);
                        else if (strspn(str, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/_.-") != strlen(str) ||
                                 strstr(str, "//"))
                                verr(c, v, "config", "api_prefix",
                                     "api_prefix '%s' has a character outside [A-Za-z0-9/_.-] or an empty segment",
                                     str);
                        else
                                s->api_prefix = vdup(c, str);
                }
                s->database_url = vdup(c, opt_str(c, cfg, "config", "database_url"));
        }
        if (!s->api_prefix)
                s->api_prefix = vdup(c, "/api");
        if (!s->database_url)
                s->database_url = vdup(c, "sqlite:///./app.db");
}

static void parse_entities(struct vctx *c, const struct node *root, struct spec *s) {
        const struct node *ents = get_seq(c, root, "", "entities", true);
        if (!ents)
                return;
        const char **names = calloc(ents->n, sizeof(char *)); /* owned by c */
        _cleanup_free_ const struct node **fields_of = calloc(ents->n, sizeof(struct node *));
        c->entity_names = names;
        if (!names || !fields_of || !(s->entities = calloc(ents->n, sizeof(struct entity)))) {
                c->oom = true;
                return;
        }
        /* names first, so that references to later entities resolve */
        for (size_t i = 0; i < ents->n; i++) {
                const struct node *nm = get(ents->items[i], "name");
                if (node_is_string(nm) && is_pascal(nm->value))
                        names[i] = nm->value;
                fields_of[i] = get(ents->items[i], "fields");
        }
        c->n_entity_names = ents->n;
        s->n_entities = ents->n;
        for (size_t i = 0; i < ents->n && !c->oom; i++) {
                _cleanup_free_ char *p = pidx(c, "entities", i);
                struct entity *e = &s->entities[i];
                parse_entity(c, ents->items[i], p ? p : "", e);
                if (e->table && !get(ents->items[i], "table"))
                        check_ident(c, get(ents->items[i], "name"), p, "name", "table name",
                                    e->table, ID_SNAKE);
        }
        if (!c->oom)
                check_entity_duplicates(c, s, ents, fields_of);
        if (!c->oom)
                check_relationships(c, s, ents);
}

static void validate_spec(struct vctx *c, const struct node *root, struct spec *s) {
        const struct node *v, *seq;
        const char *str;

        if (!root || root->kind != NODE_MAP) {
                verr(c, root, "", NULL, "the spec must be a mapping (found %s)", node_kind_name(root));
                return;
        }
        check_keys(c, root, "", spec_keys, ELEMENTSOF(spec_keys));
        if ((v = need(c, root, "", "format", ""))) {
                if (node_as_int(v, &s->format) < 0)
                        verr(c, v, "", "format", "'format' must be an integer (found %s)",
                             node_kind_name(v));
                else if (s->format != 1)
                        verr(c, v, "", "format", "unsupported format %lld (this version reads format 1)",
                             s->format);
        }
        if ((str = req_str(c, root, "", "name"))) {
                if (!is_snake(str))
                        verr(c, get(root, "name"), "", "name", "invalid name '%s': must match [a-z][a-z0-9_]*",
                             str);
                else if (strlen(str) > IDENT_MAX)
                        verr(c, get(root, "name"), "", "name", "name '%.20s...' is longer than %d characters",
                             str, IDENT_MAX);
                else
                        s->name = vdup(c, str);
        }
        s->title = vdup(c, opt_str(c, root, "", "title"));
        s->description = vdup(c, opt_str(c, root, "", "description"));
        parse_config(c, root, s);
        parse_entities(c, root, s);

        if (!c->oom && (seq = get_seq(c, root, "", "endpoints", false)) && seq->n > 0) {
                if (!(s->endpoints = calloc(seq->n, sizeof(struct endpoint)))) {
                        c->oom = true;
                        return;
                }
                s->n_endpoints = seq->n;
                for (size_t i = 0; i < seq->n && !c->oom; i++) {
                        _cleanup_free_ char *p = pidx(c, "endpoints", i);
                        parse_endpoint(c, s, seq->items[i], p ? p : "", &s->endpoints[i]);
                }
                if (!c->oom)
                        check_endpoint_duplicates(c, s, seq);
        }
        if (!c->oom && (seq = get_seq(c, root, "", "validations", false)) && seq->n > 0) {
                if (!(s->rules = calloc(seq->n, sizeof(struct rule)))) {
                        c->oom = true;
                        return;
                }
                s->n_rules = seq->n;
                for (size_t i = 0; i < seq->n && !c->oom; i++) {
                        _cleanup_free_ char *p = pidx(c, "validations", i);
                        parse_rule(c, s, seq->items[i], p ? p : "", &s->rules[i]);
                }
        }
}

int spec_from_node(const struct node *root, const char *file, struct spec **ret, struct diags *d) {
        struct vctx c = { .file = file, .d = d };
        _cleanup_spec_ struct spec *s = calloc(1, sizeof(*s));

        if (!s || (file && !(s->file = strdup(file))))
                return -ENOMEM;
        validate_spec(&c, root, s);
        free(c.entity_names);
        if (c.oom)
                return -ENOMEM;
        if (c.errors > 0)
                return -EINVAL;
        *ret = TAKE_PTR(s);
        return 0;
}

static void strv_free(char **v, size_t n) {
        for (size_t i = 0; v && i < n; i++)
                free(v[i]);
        free(v);
}

void spec_free(struct spec *s) {
        if (!s)
                return;
        free(s->file);
        for (size_t i = 0; i < s->n_entities; i++) {
                struct entity *e = &s->entities[i];
                for (size_t j = 0; j < e->n_fields; j++) {
                        struct field *f = &e->fields[j];
                        free(f->name);
                        node_free(f->default_value);
                        free(f->pattern);
                        strv_free(f->values, f->n_values);
                        free(f->target);
                        free(f->description);
                }
                free(e->fields);
                for (size_t j = 0; j < e->n_rels; j++) {
                        free(e->rels[j].name);
                        free(e->rels[j].target);
                        free(e->rels[j].back_populates);
                }
                free(e->rels);
                free(e->name);
                free(e->snake);
                free(e->table);
                free(e->description);
        }
        free(s->entities);
        for (size_t i = 0; i < s->n_endpoints; i++) {
                struct endpoint *ep = &s->endpoints[i];
                free(ep->entity);
                free(ep->name);
                free(ep->method);
                free(ep->path);
                strv_free(ep->filters, ep->n_filters);
                free(ep->description);
        }
        free(s->endpoints);
        for (size_t i = 0; i < s->n_rules; i++) {
                struct rule *r = &s->rules[i];
                free(r->entity);
                free(r->field);
                free(r->message);
                free(r->pattern);
                for (size_t j = 0; j < r->n_transitions; j++) {
                        free(r->transitions[j].from);
                        strv_free(r->transitions[j].to, r->transitions[j].n_to);
                }
                free(r->transitions);
                free(r->description);
        }
        free(s->rules);
        free(s->name);
        free(s->title);
        free(s->description);
        free(s->api_prefix);
        free(s->database_url);
        free(s);
}

const struct entity *spec_find_entity(const struct spec *s, const char *name) {
        for (size_t i = 0; s && name && i < s->n_entities; i++)
                if (streq_ptr(s->entities[i].name, name))
                        return &s->entities[i];
        return NULL;
}

const struct field *entity_find_field(const struct entity *e, const char *name) {
        for (size_t i = 0; e && name && i < e->n_fields; i++)
                if (streq_ptr(e->fields[i].name, name))
                        return &e->fields[i];
        return NULL;
}

bool spec_needs_custom(const struct spec *s) {
        for (size_t i = 0; i < s->n_endpoints; i++)
                if (s->endpoints[i].op == OP_CUSTOM)
                        return true;
        for (size_t i = 0; i < s->n_rules; i++)
                if (s->rules[i].kind == RULE_CUSTOM)
                        return true;
        return false;
}
