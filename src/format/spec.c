/* spec.c - validates a parsed spec document (job-format.md section 2) into struct spec.
 *
 * Interface (spec.h): spec_from_node(), spec_free(), lookups, the enum names, and the
 * naming helpers snake_case() and plural() that the planner and generators share.
 * This file validates the document's root and config and holds the helpers the
 * validators share (spec-internal.h); entities are validated in spec-entity.c,
 * endpoints and rules in spec-api.c.
 *
 * spec_from_node() reports every problem it finds, not just the first, each as a
 * diagnostic with the file, the position of the offending node (of the key, for unknown
 * keys) and a path such as "entities[1].fields[2].type" (indices 0-based). Every name
 * that ends up in generated Python (entities, tables, fields, relationships, enum values,
 * custom operations) is checked against its pattern, a length limit and Python's
 * keywords; endpoint paths are limited to a safe character set.
 *
 * config.auth is none (the default), api_key or jwt; config.auth_reads (default false)
 * asks for credentials on reads too and is refused without an auth.
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

#include "spec-internal.h"

const char *const spec_field_type_names[_FT_MAX] = {
        "string", "text", "integer", "float", "decimal", "boolean", "date",
        "datetime", "email", "url", "uuid", "enum", "foreign_key", "json",
};
const char *const spec_rel_kind_names[_RK_MAX] = {
        "one_to_many", "many_to_one", "one_to_one", "many_to_many",
};
const char *const spec_op_kind_names[_OP_MAX] = {
        "list", "create", "get", "update", "delete", "custom",
};
const char *const spec_rule_kind_names[_RULE_MAX] = {
        "unique", "exists", "not_in_past", "not_in_future", "range", "regex",
        "transitions", "custom",
};
const char *const spec_auth_kind_names[_AUTH_MAX] = { "none", "api_key", "jwt" };

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
        return name_of(spec_field_type_names, _FT_MAX, t);
}
const char *rel_kind_name(enum rel_kind k) {
        return name_of(spec_rel_kind_names, _RK_MAX, k);
}
const char *op_kind_name(enum op_kind k) {
        return name_of(spec_op_kind_names, _OP_MAX, k);
}
const char *rule_kind_name(enum rule_kind k) {
        return name_of(spec_rule_kind_names, _RULE_MAX, k);
}
const char *auth_kind_name(enum auth_kind k) {
        return name_of(spec_auth_kind_names, _AUTH_MAX, k);
}

/* ---- naming ---- */

char *spec_enum_member(const char *value) {
        size_t len = strlen(value);
        char *out = malloc(len + strlen("VALUE_") + 1), *p = out;
        bool gap = false;
        if (!out)
                return NULL;
        for (const char *s = value; *s; s++) {
                char ch = *s;
                bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
                if (!alnum) {
                        gap = p > out;
                        continue;
                }
                if (p == out && ch >= '0' && ch <= '9')
                        p = stpcpy(p, "VALUE_");
                else if (gap)
                        *p++ = '_';
                gap = false;
                *p++ = ch >= 'a' && ch <= 'z' ? (char) (ch - 'a' + 'A') : ch;
        }
        if (p == out)
                p = stpcpy(p, "VALUE");
        *p = '\0';
        return out;
}

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

bool spec_is_pascal(const char *s) {
        if (!(*s >= 'A' && *s <= 'Z'))
                return false;
        for (; *s; s++)
                if (!isascii((unsigned char) *s) || !isalnum((unsigned char) *s))
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

char *spec_pkey(struct vctx *c, const char *base, const char *key) {
        char *p;
        if (asprintf(&p, "%s%s%s", base, *base && key ? "." : "", key ? key : "") < 0) {
                c->oom = true;
                return NULL;
        }
        return p;
}

char *spec_pidx(struct vctx *c, const char *base, size_t i) {
        char *p;
        if (asprintf(&p, "%s[%zu]", base, i) < 0) {
                c->oom = true;
                return NULL;
        }
        return p;
}

char *spec_vdup(struct vctx *c, const char *s) {
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

bool spec_check_map(struct vctx *c, const struct node *n, const char *path, const char *what,
                    const char *const *known, size_t n_known) {
        if (!n || n->kind != NODE_MAP) {
                verr(c, n, path, NULL, "%s must be a mapping (found %s)", what, node_kind_name(n));
                return false;
        }
        check_keys(c, n, path, known, n_known);
        return true;
}

const struct node *spec_need(struct vctx *c, const struct node *map, const char *path,
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

const char *spec_as_str(struct vctx *c, const struct node *v, const char *path, const char *key) {
        if (!v)
                return NULL;
        if (!node_is_string(v)) {
                verr(c, v, path, key, "'%s' must be a string (found %s)", key, node_kind_name(v));
                return NULL;
        }
        return v->value;
}

void spec_opt_bool(struct vctx *c, const struct node *map, const char *path, const char *key,
                   bool *ret) {
        const struct node *v = get(map, key);
        if (v && node_as_bool(v, ret) < 0)
                verr(c, v, path, key, "'%s' must be true or false (found %s)", key,
                     node_kind_name(v));
}

/* A non-empty sequence, or NULL after a diagnostic (none when absent and optional). */
void spec_parse_min_max(struct vctx *c, const struct node *map, const char *path,
                        double *min, bool *has_min, double *max, bool *has_max) {
        static const char *const mk[] = { "min", "max" };
        const struct node *v;

        for (size_t i = 0; i < 2; i++) {
                double x;
                if (!(v = get(map, mk[i])))
                        continue;
                if (node_as_double(v, &x) < 0) {
                        verr(c, v, path, mk[i], "'%s' must be a number (found %s)", mk[i],
                             node_kind_name(v));
                        continue;
                }
                *(i ? max : min) = x;
                *(i ? has_max : has_min) = true;
        }
        if (*has_min && *has_max && *min > *max)
                verr(c, get(map, "max"), path, "max", "min %g is greater than max %g", *min, *max);
}

const struct node *spec_get_seq(struct vctx *c, const struct node *map, const char *path,
                                const char *key, bool required) {
        const struct node *v = required ? spec_need(c, map, path, key, "") : get(map, key);
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

/* Checks a name that becomes a Python identifier; what is e.g. "field name". */
bool spec_check_ident(struct vctx *c, const struct node *at, const char *path, const char *key,
                      const char *what, const char *s, enum ident_style style) {
        static const char *const patterns[] = {
                "[a-z][a-z0-9_]*", "[A-Z][A-Za-z0-9]*", "[a-z][a-z0-9_]*",
        };
        bool ok = style == ID_PASCAL ? spec_is_pascal(s) : is_snake(s);
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
bool spec_check_entity_ref(struct vctx *c, const struct node *at, const char *path,
                           const char *key, const char *name) {
        if (entity_known(c, name))
                return true;
        const char *s = spec_suggest(name, c->entity_names, c->n_entity_names);
        verr(c, at, path, key, "unknown entity '%s'%s%s%s", name, s ? "; did you mean '" : "",
             s ? s : "", s ? "'?" : "");
        return false;
}

bool spec_check_regex(struct vctx *c, const struct node *at, const char *path, const char *key,
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

/* ---- duplicates ---- */

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

struct dup *spec_find_duplicates(struct vctx *c, const char *const *keys, size_t n,
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

/* ---- the spec ---- */

static const char *const spec_keys[] = { "format", "name", "title", "description", "config",
                                         "entities", "endpoints", "validations" };
static const char *const config_keys[] = { "api_prefix", "database_url", "auth", "auth_reads" };

static void parse_config(struct vctx *c, const struct node *root, struct spec *s) {
        const struct node *cfg = get(root, "config");
        const char *str;

        if (cfg && spec_check_map(c, cfg, "config", "'config'", config_keys,
                                  ELEMENTSOF(config_keys))) {
                if ((str = opt_str(c, cfg, "config", "api_prefix"))) {
                        const struct node *v = get(cfg, "api_prefix");
                        if (streq(str, "/") || !str[0])
                                s->api_prefix = spec_vdup(c, ""); /* the API at the root */
                        else if (str[0] != '/' || str[strlen(str) - 1] == '/')
                                verr(c, v, "config", "api_prefix",
                                     "api_prefix '%s' must start with '/' and not end with '/'", str);
                        else if (strspn(str, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/_.-") != strlen(str) ||
                                 strstr(str, "//"))
                                verr(c, v, "config", "api_prefix",
                                     "api_prefix '%s' has a character outside [A-Za-z0-9/_.-] or an empty segment",
                                     str);
                        else
                                s->api_prefix = spec_vdup(c, str);
                }
                s->database_url = spec_vdup(c, opt_str(c, cfg, "config", "database_url"));
                if ((str = opt_str(c, cfg, "config", "auth"))) {
                        int k = lookup(spec_auth_kind_names, _AUTH_MAX, str);
                        const char *sg = spec_suggest(str, spec_auth_kind_names, _AUTH_MAX);
                        if (k < 0)
                                verr(c, get(cfg, "auth"), "config", "auth",
                                     "unknown auth '%s'%s%s%s (valid: none, api_key, jwt)", str,
                                     sg ? "; did you mean '" : "", sg ? sg : "", sg ? "'?" : "");
                        else
                                s->auth = (enum auth_kind) k;
                }
                spec_opt_bool(c, cfg, "config", "auth_reads", &s->auth_reads);
                if (s->auth_reads && s->auth == AUTH_NONE)
                        verr(c, get(cfg, "auth_reads"), "config", "auth_reads",
                             "auth_reads: true needs config.auth api_key or jwt (auth is none)");
        }
        if (!s->api_prefix)
                s->api_prefix = spec_vdup(c, "/api");
        if (!s->database_url)
                s->database_url = spec_vdup(c, "sqlite:///./app.db");
}

static void validate_spec(struct vctx *c, const struct node *root, struct spec *s) {
        const struct node *v, *seq;
        const char *str;

        if (!spec_check_map(c, root, "", "the spec", spec_keys, ELEMENTSOF(spec_keys)))
                return;
        if ((v = spec_need(c, root, "", "format", ""))) {
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
                        s->name = spec_vdup(c, str);
        }
        s->title = spec_vdup(c, opt_str(c, root, "", "title"));
        s->description = spec_vdup(c, opt_str(c, root, "", "description"));
        parse_config(c, root, s);
        spec_parse_entities(c, root, s);

        if (!c->oom && (seq = spec_get_seq(c, root, "", "endpoints", false)) && seq->n > 0) {
                if (!(s->endpoints = calloc(seq->n, sizeof(struct endpoint)))) {
                        c->oom = true;
                        return;
                }
                s->n_endpoints = seq->n;
                for (size_t i = 0; i < seq->n && !c->oom; i++) {
                        _cleanup_free_ char *p = spec_pidx(c, "endpoints", i);
                        spec_parse_endpoint(c, s, seq->items[i], p ? p : "", &s->endpoints[i]);
                }
                if (!c->oom)
                        spec_check_endpoint_duplicates(c, s, seq);
        }
        if (!c->oom && (seq = spec_get_seq(c, root, "", "validations", false)) && seq->n > 0) {
                if (!(s->rules = calloc(seq->n, sizeof(struct rule)))) {
                        c->oom = true;
                        return;
                }
                s->n_rules = seq->n;
                for (size_t i = 0; i < seq->n && !c->oom; i++) {
                        _cleanup_free_ char *p = spec_pidx(c, "validations", i);
                        spec_parse_rule(c, s, seq->items[i], p ? p : "", &s->rules[i]);
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

bool spec_endpoint_needs_auth(const struct spec *s, const struct endpoint *ep) {
        if (s->auth == AUTH_NONE)
                return false;
        return s->auth_reads || !(streq_ptr(ep->method, "GET") || streq_ptr(ep->method, "HEAD"));
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
