/* context-check.c - what a valid spec asks for that the generated code cannot express.
 *
 * Interface: context_check() (context.h), run before any file is generated. One diagnostic
 * per problem, at the spec node's position with its path: an entity whose module name is a
 * Python keyword, a field no test value can be derived for (its pattern, or limits and
 * rules that leave no value), a unique field with a single possible value, a cycle of
 * required foreign keys, a relationship without a foreign key to follow, an association
 * table that is also an entity's table, a filter on a json field or on a field named like
 * a pagination parameter (limit, offset), a regex rule no sample
 * can be derived from. Returns 0, -EINVAL (diagnostics added) or -ENOMEM.
 */
#include "config.h"

#include <string.h>

#include "context-internal.h"

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
                _cleanup_free_ char *x = context_payload_value(s, e, f, v, false, &err);
                if (err == -ENOMEM)
                        return err;
                if (!x) {
                        struct sample_spec ss;
                        context_sample_spec_init(s, e, f, &ss);
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
        if (context_field_conflicts(s, e, f)) {
                size_t distinct = 0;
                TRY(context_count_variants(s, e, f, &distinct));
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
                if (context_is_py_keyword(e->snake))
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
                        r = context_relinfo_init(s, e, &e->rels[j], &ri);
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
                        context_relinfo_clear(&ri);
                        TRY(r);
                }
        }
        for (size_t i = 0; i < s->n_endpoints; i++) {
                const struct endpoint *ep = &s->endpoints[i];
                const struct entity *e = spec_find_entity(s, ep->entity);
                for (size_t j = 0; e && j < ep->n_filters; j++) {
                        const struct field *f = entity_find_field(e, ep->filters[j]);
                        if (!f)
                                continue;
                        _cleanup_free_ char *fp = strf("endpoints[%zu].filters[%zu]", i, j);
                        if (!fp)
                                return -ENOMEM;
                        if (f->type == FT_JSON)
                                TRY(diags_add(d, file, ep->pos.line, ep->pos.column, fp,
                                              "cannot filter on json field '%s': a query parameter holds a single value",
                                              f->name));
                        else if (streq(f->name, "limit") || streq(f->name, "offset"))
                                TRY(diags_add(d, file, ep->pos.line, ep->pos.column, fp,
                                              "cannot filter on field '%s': the query parameter '%s' is the list's pagination",
                                              f->name, f->name));
                }
        }
        for (size_t i = 0; i < s->n_rules; i++) {
                const struct rule *r = &s->rules[i];
                _cleanup_free_ char *smp = NULL;
                if (r->kind != RULE_REGEX || !r->pattern)
                        continue;
                int k = context_regex_sample_filtered(r->pattern, 0, 0, 1000, NULL, NULL, &smp);
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
