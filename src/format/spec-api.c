/* spec-api.c - validates the endpoints and the validation rules of a spec.
 *
 * Interface: spec_parse_endpoint(), spec_check_endpoint_duplicates() and spec_parse_rule()
 * (spec-internal.h), called by spec_from_node() after the entities. Endpoints: entity,
 * operation, method and path with their defaults (see spec.c), paths limited to
 * [A-Za-z0-9/_.{}-] with {id} where the operation needs it, filters naming fields of the
 * entity, and no two endpoints with the same method and path or the same operation on one
 * entity. Rules: entity, field and the keys each kind needs (min/max, a POSIX pattern, the
 * allowed transitions between enum values), and a field of a type the rule applies to.
 * Diagnostics through verr() (see spec.c); nothing is returned.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec-internal.h"

/* ---- endpoints ---- */

static const char *const methods[] = { "GET", "POST", "PUT", "PATCH", "DELETE" };

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

void spec_parse_endpoint(struct vctx *c, const struct spec *s, const struct node *n,
                         const char *path, struct endpoint *ep) {
        static const char *const default_method[] = { "GET", "POST", "GET", "PATCH", "DELETE" };
        const struct entity *e = NULL;
        const struct node *v;
        const char *str;

        ep->op = _OP_MAX; /* until known */
        ep->pos = (struct src_pos) { n->line, n->column };
        if (!spec_check_map(c, n, path, "endpoint", endpoint_keys, ELEMENTSOF(endpoint_keys)))
                return;
        if ((str = req_str(c, n, path, "entity")) &&
            spec_check_entity_ref(c, get(n, "entity"), path, "entity", str)) {
                ep->entity = spec_vdup(c, str);
                e = spec_find_entity(s, str);
        }
        if ((str = req_str(c, n, path, "operation"))) {
                int k = lookup(spec_op_kind_names, _OP_MAX, str);
                if (k < 0)
                        verr(c, get(n, "operation"), path, "operation",
                             "unknown operation '%s' (valid operations: list, create, get, update, delete, custom)",
                             str);
                else
                        ep->op = (enum op_kind) k;
        }
        ep->description = spec_vdup(c, opt_str(c, n, path, "description"));

        if (ep->op == OP_CUSTOM) {
                if ((str = req_str(c, n, path, "name")) &&
                    spec_check_ident(c, get(n, "name"), path, "name", "operation name", str,
                                     ID_SNAKE))
                        ep->name = spec_vdup(c, str);
                spec_need(c, n, path, "description", " (custom operations need it)");
        } else if ((v = get(n, "name")) && ep->op < _OP_MAX)
                verr(c, v, path, "name", "'name' is only allowed for custom endpoints");

        if ((str = ep->op == OP_CUSTOM ? req_str(c, n, path, "method")
                                      : opt_str(c, n, path, "method"))) {
                _cleanup_free_ char *up = spec_vdup(c, str);
                for (char *q = up; q && *q; q++)
                        *q = (char) toupper((unsigned char) *q);
                if (up && lookup(methods, ELEMENTSOF(methods), up) < 0)
                        verr(c, get(n, "method"), path, "method",
                             "unknown method '%s' (valid methods: GET, POST, PUT, PATCH, DELETE)", str);
                else
                        ep->method = TAKE_PTR(up);
        } else if (!get(n, "method") && ep->op < OP_CUSTOM)
                ep->method = spec_vdup(c, default_method[ep->op]);

        if ((str = ep->op == OP_CUSTOM ? req_str(c, n, path, "path")
                                      : opt_str(c, n, path, "path"))) {
                if (ep->op < _OP_MAX) {
                        size_t before = c->errors;
                        check_path(c, get(n, "path"), path, str, ep->op);
                        if (c->errors == before)
                                ep->path = spec_vdup(c, str);
                }
        } else if (!get(n, "path") && ep->op < OP_CUSTOM && e && e->table) {
                bool with_id = ep->op == OP_GET || ep->op == OP_UPDATE || ep->op == OP_DELETE;
                if (asprintf(&ep->path, "/%s%s", e->table, with_id ? "/{id}" : "") < 0) {
                        ep->path = NULL;
                        c->oom = true;
                }
        }

        if ((v = get(n, "filters"))) {
                _cleanup_free_ char *fp = spec_pkey(c, path, "filters");
                if (ep->op < _OP_MAX && ep->op != OP_LIST)
                        verr(c, v, path, "filters", "'filters' is only allowed for list endpoints");
                else if (v->kind != NODE_SEQ)
                        verr(c, v, path, "filters", "'filters' must be a sequence (found %s)",
                             node_kind_name(v));
                else if (fp && v->n > 0 && !(ep->filters = calloc(v->n, sizeof(char *))))
                        c->oom = true;
                for (size_t i = 0; ep->filters && i < v->n; i++) {
                        const struct node *item = v->items[i];
                        _cleanup_free_ char *ip = spec_pidx(c, fp, i);
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
                                ep->filters[ep->n_filters++] = spec_vdup(c, item->value);
                }
        }
}

void spec_check_endpoint_duplicates(struct vctx *c, struct spec *s, const struct node *eps) {
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
                _cleanup_free_ struct dup *dups =
                        spec_find_duplicates(c, (const char *const *) keys, n, &nd);
                for (size_t k = 0; k < nd; k++) {
                        const struct endpoint *ep = &s->endpoints[dups[k].i];
                        _cleanup_free_ char *p = spec_pidx(c, "endpoints", dups[k].i);
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
        const struct node *a = spec_need(c, n, path, "allowed", " (transitions rules need it)");
        if (!a)
                return;
        if (a->kind != NODE_MAP) {
                verr(c, a, path, "allowed", "'allowed' must be a mapping (found %s)", node_kind_name(a));
                return;
        }
        _cleanup_free_ char *ap = spec_pkey(c, path, "allowed");
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
                t->from = spec_vdup(c, k->value);
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
                _cleanup_free_ char *kp = spec_pkey(c, ap, k->value);
                for (size_t j = 0; j < to->n && kp; j++) {
                        const struct node *item = to->items[j];
                        _cleanup_free_ char *ip = spec_pidx(c, kp, j);
                        if (!node_is_string(item) || lookup(values, f->n_values, item->value) < 0)
                                verr(c, item, ip, NULL, "unknown state '%s': not a value of '%s'",
                                     item->kind == NODE_SCALAR ? item->value : node_kind_name(item),
                                     f->name);
                        else
                                t->to[t->n_to++] = spec_vdup(c, item->value);
                }
        }
        for (size_t i = 0; i < f->n_values; i++)
                if (node_key_index(a, f->values[i]) < 0)
                        verr(c, a, path, "allowed", "state '%s' is missing from 'allowed'",
                             f->values[i]);
}

void spec_parse_rule(struct vctx *c, const struct spec *s, const struct node *n,
                     const char *path, struct rule *r) {
        const struct entity *e = NULL;
        const struct field *f = NULL;
        const struct node *v;
        const char *str;

        r->kind = _RULE_MAX; /* until known */
        r->pos = (struct src_pos) { n->line, n->column };
        if (!spec_check_map(c, n, path, "validation rule", rule_keys, ELEMENTSOF(rule_keys)))
                return;
        if ((str = req_str(c, n, path, "entity")) &&
            spec_check_entity_ref(c, get(n, "entity"), path, "entity", str)) {
                r->entity = spec_vdup(c, str);
                e = spec_find_entity(s, str);
        }
        if ((str = req_str(c, n, path, "rule"))) {
                int k = lookup(spec_rule_kind_names, _RULE_MAX, str);
                if (k < 0)
                        verr(c, get(n, "rule"), path, "rule",
                             "unknown rule '%s' (valid rules: unique, exists, not_in_past, not_in_future, range, regex, transitions, custom)",
                             str);
                else
                        r->kind = (enum rule_kind) k;
        }
        r->message = spec_vdup(c, req_str(c, n, path, "message"));
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
                r->field = spec_vdup(c, str);
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
                spec_parse_min_max(c, n, path, &r->min, &r->has_min, &r->max, &r->has_max);
                if (!get(n, "min") && !get(n, "max"))
                        verr(c, n, path, NULL, "range rule needs 'min' or 'max'");
                if (f && !type_is_numeric(f->type))
                        verr(c, fn, path, "field",
                             "range rule needs an integer, float or decimal field; '%s' is %s",
                             f->name, tn);
                break;
        }
        case RULE_REGEX:
                if ((str = spec_as_str(c,
                                       spec_need(c, n, path, "pattern", " (regex rules need it)"),
                                       path, "pattern")) &&
                    spec_check_regex(c, get(n, "pattern"), path, "pattern", str))
                        r->pattern = spec_vdup(c, str);
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
                        spec_need(c, n, path, "allowed", " (transitions rules need it)");
                break;
        case RULE_CUSTOM:
                r->description = spec_vdup(c, spec_as_str(c, spec_need(c, n, path, "description",
                                                                       " (custom rules need it)"),
                                                path, "description"));
                break;
        default:
                break;
        }
}
