/* spec-entity.c - validates the entities of a spec, with their fields and relationships.
 *
 * Interface: spec_parse_entities() (spec-internal.h), called by spec_from_node(). Entity
 * names are collected first, so that references to later entities resolve. Per field: name,
 * type and the keys its type allows (lengths, pattern, min/max, enum values, foreign key
 * target), and a default that fits them (ISO dates and datetimes, UUIDs, enum values,
 * lengths and ranges); integer defaults are kept in canonical form. Then the checks that
 * need every entity: duplicate entity, table, snake_case, field and relationship names,
 * back_populates pairs and the foreign keys relationships rely on.
 * Diagnostics through verr() (see spec.c); nothing is returned.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "spec-internal.h"

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
        _cleanup_free_ char *vpath = spec_pkey(c, path, "values");
        if (!vpath || !(f->values = calloc(v->n, sizeof(char *)))) {
                c->oom = true;
                return;
        }
        for (size_t i = 0; i < v->n; i++) {
                const struct node *item = v->items[i];
                _cleanup_free_ char *ipath = spec_pidx(c, vpath, i);
                if (!node_is_string(item)) {
                        verr(c, item, ipath, NULL, "enum value must be a string (found %s)",
                             node_kind_name(item));
                        continue;
                }
                if (!*item->value || strlen(item->value) > ENUM_VALUE_MAX) {
                        verr(c, item, ipath, NULL, "enum value must be a non-empty string of at most %d bytes",
                             ENUM_VALUE_MAX);
                        continue;
                }
                if (lookup((const char *const *) f->values, f->n_values, item->value) >= 0) {
                        verr(c, item, ipath, NULL, "duplicate enum value '%s'", item->value);
                        continue;
                }
                /* the generated code names the values: two must not get one name */
                _cleanup_free_ char *member = spec_enum_member(item->value);
                if (!member) {
                        c->oom = true;
                        return;
                }
                bool clash = false;
                for (size_t j = 0; j < f->n_values && !clash; j++) {
                        _cleanup_free_ char *other = spec_enum_member(f->values[j]);
                        if (!other) {
                                c->oom = true;
                                return;
                        }
                        if (streq(other, member)) {
                                verr(c, item, ipath, NULL,
                                     "enum values '%s' and '%s' both get the member name %s in the generated code",
                                     f->values[j], item->value, member);
                                clash = true;
                        }
                }
                if (clash)
                        continue;
                f->values[f->n_values++] = spec_vdup(c, item->value);
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
        if (!spec_check_map(c, n, path, "field", field_keys, ELEMENTSOF(field_keys)))
                return;

        if ((s = req_str(c, n, path, "name"))) {
                v = get(n, "name");
                if (lookup(implicit, ELEMENTSOF(implicit), s) >= 0)
                        verr(c, v, path, "name",
                             "field name '%s' is reserved: every entity has id, created_at and updated_at",
                             s);
                else if (spec_check_ident(c, v, path, "name", "field name", s, ID_FIELD))
                        f->name = spec_vdup(c, s);
        }
        if ((s = req_str(c, n, path, "type"))) {
                int t = lookup(spec_field_type_names, _FT_MAX, s);
                if (t < 0) {
                        const char *sg = spec_suggest(s, spec_field_type_names, _FT_MAX);
                        verr(c, get(n, "type"), path, "type",
                             "unknown field type '%s'%s%s%s (valid types: string, text, integer, float, decimal, boolean, date, datetime, email, url, uuid, enum, foreign_key, json)",
                             s, sg ? "; did you mean '" : "", sg ? sg : "", sg ? "'?" : "");
                } else {
                        f->type = (enum field_type) t;
                        type_ok = true;
                }
        }
        spec_opt_bool(c, n, path, "required", &f->required);
        spec_opt_bool(c, n, path, "unique", &f->unique);
        spec_opt_bool(c, n, path, "index", &f->index);
        f->description = spec_vdup(c, opt_str(c, n, path, "description"));

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
                    spec_check_regex(c, get(n, "pattern"), path, "pattern", s))
                        f->pattern = spec_vdup(c, s);
        }
        if (type_is_numeric(f->type))
                spec_parse_min_max(c, n, path, &f->min, &f->has_min, &f->max, &f->has_max);

        v = get(n, "values");
        if (f->type == FT_ENUM) {
                if ((v = spec_need(c, n, path, "values", " (enum fields need it)")))
                        parse_values(c, v, path, f);
        } else if (v)
                verr(c, v, path, "values", "'values' is only allowed for enum fields");

        v = get(n, "target");
        if (f->type == FT_FOREIGN_KEY) {
                if ((s = spec_as_str(c,
                                     spec_need(c, n, path, "target",
                                               " (foreign_key fields need it)"),
                                     path, "target")) &&
                    spec_check_entity_ref(c, get(n, "target"), path, "target", s))
                        f->target = spec_vdup(c, s);
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
        if (!spec_check_map(c, n, path, "relationship", rel_keys, ELEMENTSOF(rel_keys)))
                return;
        if ((s = req_str(c, n, path, "name")) &&
            spec_check_ident(c, get(n, "name"), path, "name", "relationship name", s, ID_SNAKE))
                r->name = spec_vdup(c, s);
        if ((s = req_str(c, n, path, "kind"))) {
                int k = lookup(spec_rel_kind_names, _RK_MAX, s);
                if (k < 0)
                        verr(c, get(n, "kind"), path, "kind",
                             "unknown relationship kind '%s' (valid kinds: one_to_many, many_to_one, one_to_one, many_to_many)",
                             s);
                else
                        r->kind = (enum rel_kind) k;
        }
        if ((s = req_str(c, n, path, "target")) &&
            spec_check_entity_ref(c, get(n, "target"), path, "target", s))
                r->target = spec_vdup(c, s);
        r->back_populates = spec_vdup(c, opt_str(c, n, path, "back_populates"));
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
        if (!spec_check_map(c, n, path, "entity", entity_keys, ELEMENTSOF(entity_keys)))
                return;
        if ((s = req_str(c, n, path, "name")) &&
            spec_check_ident(c, get(n, "name"), path, "name", "entity name", s, ID_PASCAL)) {
                e->name = spec_vdup(c, s);
                if (!(e->snake = snake_case(s)))
                        c->oom = true;
        }
        if ((s = opt_str(c, n, path, "table"))) {
                if (spec_check_ident(c, get(n, "table"), path, "table", "table name", s, ID_SNAKE))
                        e->table = spec_vdup(c, s);
        } else if (e->snake && !get(n, "table") && !(e->table = plural(e->snake)))
                c->oom = true;
        e->description = spec_vdup(c, opt_str(c, n, path, "description"));

        _cleanup_free_ char *fpath = spec_pkey(c, path, "fields");
        if ((seq = spec_get_seq(c, n, path, "fields", true)) && fpath) {
                if (!(e->fields = calloc(seq->n, sizeof(struct field)))) {
                        c->oom = true;
                        return;
                }
                e->n_fields = seq->n;
                for (size_t i = 0; i < seq->n && !c->oom; i++) {
                        _cleanup_free_ char *p = spec_pidx(c, fpath, i);
                        struct field *f = &e->fields[i];
                        parse_field(c, seq->items[i], p ? p : "", f);
                }
        }
        _cleanup_free_ char *rpath = spec_pkey(c, path, "relationships");
        if ((seq = spec_get_seq(c, n, path, "relationships", false)) && rpath && seq->n > 0) {
                if (!(e->rels = calloc(seq->n, sizeof(struct relationship)))) {
                        c->oom = true;
                        return;
                }
                e->n_rels = seq->n;
                for (size_t i = 0; i < seq->n && !c->oom; i++) {
                        _cleanup_free_ char *p = spec_pidx(c, rpath, i);
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
                _cleanup_free_ char *epath = spec_pidx(c, "entities", i);
                for (size_t j = 0; e->name && j < e->n_rels && epath; j++) {
                        const struct relationship *r = &e->rels[j];
                        const struct node *rn = rels->items[j];
                        const struct entity *t = r->target ? spec_find_entity(s, r->target) : NULL;
                        _cleanup_free_ char *p = spec_pkey(c, epath, "relationships");
                        _cleanup_free_ char *rp = p ? spec_pidx(c, p, j) : NULL;
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
                _cleanup_free_ struct dup *dups = spec_find_duplicates(c, keys, s->n_entities, &nd);
                for (size_t k = 0; k < nd; k++) {
                        const struct entity *e = &s->entities[dups[k].i];
                        const struct entity *f = &s->entities[dups[k].first];
                        _cleanup_free_ char *p = spec_pidx(c, "entities", dups[k].i);
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
                _cleanup_free_ struct dup *dups = spec_find_duplicates(c, names, n, &nd);
                _cleanup_free_ char *p = spec_pidx(c, "entities", i);
                for (size_t k = 0; k < nd && p; k++) {
                        size_t j = dups[k].i;
                        bool field = j < e->n_fields;
                        const char *list = field ? "fields" : "relationships";
                        const struct node *seq = field ? fields_of[i] : get(ents->items[i], list);
                        size_t at = field ? j : j - e->n_fields;
                        _cleanup_free_ char *lp = spec_pkey(c, p, list);
                        _cleanup_free_ char *ip = lp ? spec_pidx(c, lp, at) : NULL;
                        verr(c, get(seq->items[at], "name"), ip, "name",
                             field ? "duplicate field name '%s' in entity '%s'"
                                   : "duplicate name '%s' in entity '%s' (relationship names must differ from field names and each other)",
                             names[j], e->name ? e->name : "?");
                }
        }
}

void spec_parse_entities(struct vctx *c, const struct node *root, struct spec *s) {
        const struct node *ents = spec_get_seq(c, root, "", "entities", true);
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
                if (node_is_string(nm) && spec_is_pascal(nm->value))
                        names[i] = nm->value;
                fields_of[i] = get(ents->items[i], "fields");
        }
        c->n_entity_names = ents->n;
        s->n_entities = ents->n;
        for (size_t i = 0; i < ents->n && !c->oom; i++) {
                _cleanup_free_ char *p = spec_pidx(c, "entities", i);
                struct entity *e = &s->entities[i];
                parse_entity(c, ents->items[i], p ? p : "", e);
                if (e->table && !get(ents->items[i], "table"))
                        spec_check_ident(c, get(ents->items[i], "name"), p, "name", "table name",
                                         e->table, ID_SNAKE);
        }
        if (!c->oom)
                check_entity_duplicates(c, s, ents, fields_of);
        if (!c->oom)
                check_relationships(c, s, ents);
}
