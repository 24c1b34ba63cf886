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
 * This file builds the project's part and the whole tree (context_new(),
 * context_for_atom()); the other parts are built in context-*.c, which share
 * context-internal.h.
 * Diagnostics: context_check() adds one per thing the generated code cannot express;
 * builders return 0 or -ENOMEM. This module never logs.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "context-internal.h"

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
        TRY(context_imp_from(im, IMP_STDLIB, "typing", "Any"));
        TRY(context_imp_from(im, IMP_STDLIB, "typing", "Dict"));
        TRY(context_imp_from(im, IMP_STDLIB, "typing", "Iterator"));
        TRY(context_imp_plain(im, IMP_THIRD, "import pytest"));
        TRY(context_imp_from(im, IMP_THIRD, "fastapi.testclient", "TestClient"));
        TRY(context_imp_from(im, IMP_THIRD, "sqlalchemy", "create_engine"));
        TRY(context_imp_from(im, IMP_THIRD, "sqlalchemy.orm", "Session"));
        TRY(context_imp_from(im, IMP_THIRD, "sqlalchemy.orm", "sessionmaker"));
        TRY(context_imp_from(im, IMP_LOCAL, "src.config", "settings"));
        TRY(context_imp_from(im, IMP_LOCAL, "src.database", "get_db"));
        TRY(context_imp_from(im, IMP_LOCAL, "src.main", "create_app"));
        TRY(context_imp_from(im, IMP_LOCAL, "src.models", "Base"));
        for (size_t i = 0; i < s->n_entities; i++) {
                const struct entity *e = &s->entities[i];
                _cleanup_free_ char *cls = context_class_name_of(e);
                _cleanup_free_ char *mm = strf("src.models.%s", e->snake);
                _cleanup_free_ char *sc = strf("from src.api.schemas import %s as %s_schemas", e->snake, e->snake);
                _cleanup_free_ char *sv = strf("from src.services import %s as %s_service", e->snake, e->snake);
                if (!cls || !mm || !sc || !sv)
                        return -ENOMEM;
                TRY(context_imp_from(im, IMP_LOCAL, mm, cls));
                TRY(context_imp_plain(im, IMP_LOCAL, sc));
                TRY(context_imp_plain(im, IMP_LOCAL, sv));
                for (size_t j = 0; j < e->n_fields && !varies; j++) {
                        const struct field *f = &e->fields[j];
                        size_t distinct = 0;
                        if (!context_field_conflicts(s, e, f) || f->type == FT_FOREIGN_KEY)
                                continue;
                        TRY(context_count_variants(s, e, f, &distinct));
                        varies = distinct > 1;
                }
        }
        if (varies)
                TRY(context_imp_plain(im, IMP_STDLIB, "import itertools"));
        return 0;
}

static int test_models_imports(const struct spec *s, struct imports *im) {
        TRY(context_imp_from(im, IMP_THIRD, "sqlalchemy.orm", "Session"));
        for (size_t i = 0; i < s->n_entities; i++) {
                const struct entity *e = &s->entities[i];
                _cleanup_free_ char *cls = context_class_name_of(e);
                _cleanup_free_ char *mm = strf("src.models.%s", e->snake);
                _cleanup_free_ char *mk = strf("make_%s", e->snake);
                if (!cls || !mm || !mk)
                        return -ENOMEM;
                TRY(context_imp_from(im, IMP_LOCAL, mm, cls));
                TRY(context_imp_from(im, IMP_LOCAL, "tests.conftest", mk));
        }
        return 0;
}

static int test_rules_imports(const struct spec *s, struct imports *im) {
        TRY(context_imp_from(im, IMP_THIRD, "sqlalchemy.orm", "Session"));
        for (size_t i = 0; i < s->n_entities; i++) {
                const struct entity *e = &s->entities[i];
                _cleanup_free_ char *line = strf("from src.validations import %s as %s_rules", e->snake, e->snake);
                _cleanup_free_ char *mk = strf("make_%s", e->snake);
                if (!line || !mk)
                        return -ENOMEM;
                TRY(context_imp_plain(im, IMP_LOCAL, line));
                TRY(context_imp_from(im, IMP_LOCAL, "tests.conftest", mk));
        }
        for (size_t i = 0; i < s->n_rules; i++) {
                const struct rule *r = &s->rules[i];
                const struct entity *e = spec_find_entity(s, r->entity);
                const struct field *f = e ? entity_find_field(e, r->field) : NULL;
                if (!f || r->kind == RULE_CUSTOM)
                        continue;
                TRY(context_imp_plain(im, IMP_THIRD, "import pytest"));
                TRY(context_imp_from(im, IMP_LOCAL, "src.errors",
                                     r->kind == RULE_UNIQUE ? "ConflictError"
                                                            : "ValidationFailed"));
                if (r->kind == RULE_NOT_IN_PAST || r->kind == RULE_NOT_IN_FUTURE)
                        TRY(context_imp_plain(im, IMP_STDLIB, "import datetime as dt"));
                else if (r->kind == RULE_RANGE && f->type == FT_DECIMAL)
                        TRY(context_imp_from(im, IMP_STDLIB, "decimal", "Decimal"));
                else if (r->kind == RULE_REGEX) {
                        TRY(context_imp_plain(im, IMP_STDLIB, "import re"));
                        TRY(context_imp_from(im, IMP_STDLIB, "typing", "Optional"));
                } else if (r->kind == RULE_TRANSITIONS) {
                        _cleanup_free_ char *cls = context_class_name_of(e);
                        _cleanup_free_ char *mm = strf("src.models.%s", e->snake);
                        if (!cls || !mm)
                                return -ENOMEM;
                        TRY(context_imp_from(im, IMP_LOCAL, mm, cls));
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
                title = context_one_line(s->title);
        else {
                title = strdup(s->name);
                if (title && title[0] >= 'a' && title[0] <= 'z')
                        title[0] = (char) (title[0] - 'a' + 'A');
        }
        desc = s->description ? context_one_line(s->description)
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

        _cleanup_free_ char *tq = context_json_str(title), *dq = context_json_str(desc);
        _cleanup_free_ char *uq = context_json_str(s->database_url);
        _cleanup_free_ char *aq = context_json_str(s->api_prefix);
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
                TRY(context_entity_ctx(spec, &spec->entities[i], &ec));
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
                TRY(context_endpoint_ctx(spec, &spec->endpoints[i], false, false, &ec));
                TRY(node_seq_append(eps, ec));
        }
        for (size_t i = 0; i < spec->n_rules; i++) {
                struct node *rc = NULL;
                if (spec->rules[i].kind == RULE_CUSTOM)
                        continue;
                TRY(context_rule_ctx(spec, &spec->rules[i], &rc));
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
        TRY(context_with_imports(root, "conftest_imports", conftest_imports(spec, &im), &im));
        TRY(context_with_imports(root, "test_models_imports", test_models_imports(spec, &im), &im));
        TRY(context_with_imports(root, "test_rules_imports", test_rules_imports(spec, &im), &im));
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
        _cleanup_free_ char *desc = context_one_line(atom->description);
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
                        TRY(context_endpoint_ctx(spec, found[i], true,
                                                 atom->fragment_index == 0 && i == 0, &ec));
                        TRY(node_seq_append(eps, ec));
                }
        }
        TRY(put(root, "route_endpoints", TAKE_PTR(eps)));
        *ret = TAKE_PTR(root);
        return 0;
}
