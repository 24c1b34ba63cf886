/* context-entity.c - one entity as template context.
 *
 * Interface: context_entity_ctx() (context-internal.h). An entity's names (class, module,
 * table, the functions and aliases of its generated modules), its fields in the groups
 * templates iterate (required, enums, checked, varying), the payload and update samples of
 * its tests, its relationships and the association tables it owns, its rules, its
 * endpoints, and the import lists of its model, schema, rules, service and test modules.
 * No diagnostics: 0 or a negative errno from the parts (-ENOMEM, -EINVAL).
 */
#include "config.h"

#include <string.h>

#include "context-internal.h"

/* ---- entities ---- */

static bool entity_has_type(const struct entity *e, enum field_type t) {
        for (size_t i = 0; i < e->n_fields; i++)
                if (e->fields[i].type == t)
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

static int model_imports(const struct layout *L, const struct entity *e, struct imports *im) {
        TRY(context_imp_plain(im, IMP_THIRD, "import sqlalchemy as sa"));
        if (e->n_rels > 0)
                TRY(context_imp_from(im, IMP_THIRD, "sqlalchemy", "orm"));
        TRY(context_imp_from(im, IMP_THIRD, "sqlalchemy.orm", "Mapped"));
        TRY(context_imp_from(im, IMP_THIRD, "sqlalchemy.orm", "mapped_column"));
        /* created_at and updated_at are dt.datetime */
        TRY(context_imp_plain(im, IMP_STDLIB, "import datetime as dt"));
        /* module-qualified names only, so the class may have any entity name */
        if (entity_has_type(e, FT_DECIMAL))
                TRY(context_imp_plain(im, IMP_STDLIB, "import decimal"));
        if (entity_has_type(e, FT_JSON))
                TRY(context_imp_from(im, IMP_STDLIB, "typing", "Any"));
        return context_imp_module(im, L->module[ROLE_DATABASE], "database");
}

static int schema_imports(const struct spec *s, const struct layout *L, const struct entity *e,
                          struct imports *im) {
        _cleanup_free_ char *cls = context_class_name_of(e);
        const char *mm = context_layout_emodule(L, EROLE_MODEL, s, e);
        bool checks = false, pattern_checks = false, not_null = false;
        if (!cls)
                return -ENOMEM;
        TRY(context_imp_local(im, mm, cls));
        for (size_t i = 0; i < e->n_fields; i++) {
                const struct field *f = &e->fields[i];
                if ((f->type == FT_EMAIL || f->type == FT_URL) &&
                    (f->has_min_length || f->has_max_length || f->pattern)) {
                        checks = true;
                        pattern_checks = pattern_checks || f->pattern;
                }
                if (f->type == FT_DECIMAL && (f->has_min || f->has_max))
                        checks = true;
                if (context_field_not_null(f))
                        not_null = true;
        }
        TRY(context_imp_plain(im, IMP_STDLIB, "import datetime as dt"));
        if (not_null || entity_has_type(e, FT_JSON))
                TRY(context_imp_from(im, IMP_STDLIB, "typing", "Any"));
        TRY(context_imp_from(im, IMP_STDLIB, "typing", "Optional"));
        if (entity_has_type(e, FT_JSON)) {
                TRY(context_imp_from(im, IMP_STDLIB, "typing", "Any"));
                TRY(context_imp_from(im, IMP_STDLIB, "typing", "Dict"));
        }
        if (entity_has_type(e, FT_ENUM)) {
                TRY(context_imp_from(im, IMP_STDLIB, "typing", "Literal"));
                TRY(context_imp_plain(im, IMP_STDLIB, "import enum"));
        }
        if (entity_has_type(e, FT_DECIMAL))
                TRY(context_imp_from(im, IMP_STDLIB, "decimal", "Decimal"));
        if (entity_has_type(e, FT_UUID))
                TRY(context_imp_from(im, IMP_STDLIB, "uuid", "UUID"));
        if (pattern_checks)
                TRY(context_imp_plain(im, IMP_STDLIB, "import re"));
        TRY(context_imp_from(im, IMP_THIRD, "pydantic", "BaseModel"));
        TRY(context_imp_from(im, IMP_THIRD, "pydantic", "ConfigDict"));
        TRY(context_imp_from(im, IMP_THIRD, "pydantic", "Field"));
        if (entity_has_type(e, FT_EMAIL))
                TRY(context_imp_from(im, IMP_THIRD, "pydantic", "EmailStr"));
        if (entity_has_type(e, FT_URL))
                TRY(context_imp_from(im, IMP_THIRD, "pydantic", "AnyUrl"));
        if (checks || not_null)
                TRY(context_imp_from(im, IMP_THIRD, "pydantic", "field_validator"));
        return 0;
}

static int rules_imports(const struct spec *s, const struct layout *L, const struct entity *e,
                         struct imports *im) {
        _cleanup_free_ char *cls = context_class_name_of(e);
        const char *mod = context_layout_emodule(L, EROLE_MODEL, s, e);
        if (!cls)
                return -ENOMEM;
        TRY(context_imp_from(im, IMP_STDLIB, "typing", "Any"));
        TRY(context_imp_from(im, IMP_STDLIB, "typing", "Dict"));
        TRY(context_imp_from(im, IMP_STDLIB, "typing", "Optional"));
        TRY(context_imp_from(im, IMP_THIRD, "sqlalchemy.orm", "Session"));
        TRY(context_imp_local(im, mod, cls));
        for (size_t i = 0; i < s->n_rules; i++) {
                const struct rule *r = &s->rules[i];
                if (!streq_ptr(r->entity, e->name) || r->kind == RULE_CUSTOM)
                        continue;
                TRY(context_imp_local(im, L->module[ROLE_ERRORS],
                                      r->kind == RULE_UNIQUE ? "ConflictError" : "ValidationFailed"));
                if (r->kind == RULE_TRANSITIONS)
                        TRY(context_imp_from(im, IMP_STDLIB, "typing", "Tuple"));
                else if (r->kind == RULE_REGEX)
                        TRY(context_imp_plain(im, IMP_STDLIB, "import re"));
                else if (r->kind == RULE_UNIQUE) {
                        const struct field *f = entity_find_field(e, r->field);
                        if (f && f->type == FT_EMAIL) /* compared whatever the case */
                                TRY(context_imp_from(im, IMP_THIRD, "sqlalchemy", "func"));
                }
                else if (r->kind == RULE_NOT_IN_PAST || r->kind == RULE_NOT_IN_FUTURE)
                        TRY(context_imp_plain(im, IMP_STDLIB, "import datetime as dt"));
                else if (r->kind == RULE_RANGE) {
                        const struct field *f = entity_find_field(e, r->field);
                        if (f && f->type == FT_DECIMAL) /* bounds are Decimal("...") */
                                TRY(context_imp_from(im, IMP_STDLIB, "decimal", "Decimal"));
                } else if (r->kind == RULE_EXISTS) {
                        const struct field *f = entity_find_field(e, r->field);
                        const struct entity *t = f ? spec_find_entity(s, f->target) : NULL;
                        if (!t)
                                continue;
                        _cleanup_free_ char *tc = context_class_name_of(t);
                        if (!tc)
                                return -ENOMEM;
                        TRY(context_imp_local(im, context_layout_emodule(L, EROLE_MODEL, s, t), tc));
                }
        }
        return 0;
}

static int service_imports(const struct spec *s, const struct layout *L, const struct entity *e,
                           struct imports *im) {
        _cleanup_free_ char *cls = context_class_name_of(e);
        const char *sm = context_layout_emodule(L, EROLE_SCHEMA, s, e);
        const char *mm = context_layout_emodule(L, EROLE_MODEL, s, e);
        const char *vm = context_layout_emodule(L, EROLE_VALIDATION, s, e);
        const char *em = L->module[ROLE_ERRORS];
        _cleanup_free_ char *vf = strf("validate_%s", e->snake);
        _cleanup_free_ char *cc = strf("%sCreate", cls ? cls : ""), *cu = strf("%sUpdate", cls ? cls : "");
        if (!cls || !vf || !cc || !cu)
                return -ENOMEM;
        static const char *const typing[] = { "Any", "Dict", "List", "Optional", "Tuple" };
        for (size_t i = 0; i < ELEMENTSOF(typing); i++)
                TRY(context_imp_from(im, IMP_STDLIB, "typing", typing[i]));
        TRY(context_imp_from(im, IMP_THIRD, "sqlalchemy.exc", "IntegrityError"));
        TRY(context_imp_from(im, IMP_THIRD, "sqlalchemy.orm", "Session"));
        TRY(context_imp_local(im, sm, cc));
        TRY(context_imp_local(im, sm, cu));
        TRY(context_imp_local(im, em, "NotFoundError"));
        TRY(context_imp_local(im, em, "ValidationFailed"));
        TRY(context_imp_local(im, em, "integrity_error"));
        TRY(context_imp_local(im, mm, cls));
        return context_imp_local(im, vm, vf);
}

static bool has_conflict_field(const struct spec *s, const struct entity *e) {
        for (size_t i = 0; i < e->n_fields; i++)
                if (context_field_conflicts(s, e, &e->fields[i]))
                        return true;
        return false;
}

static bool field_in_transitions(const struct spec *s, const struct entity *e, const struct field *f) {
        return context_field_has_rule(s, e, f, RULE_TRANSITIONS);
}

/* The field an update test changes: a plain one whose second sample differs. */
static const struct field *update_field(const struct spec *s, const struct entity *e) {
        const struct field *best = NULL;
        for (size_t i = 0; i < e->n_fields; i++) {
                const struct field *f = &e->fields[i];
                if (f->type == FT_FOREIGN_KEY || f->type == FT_JSON ||
                    context_field_conflicts(s, e, f) || field_in_transitions(s, e, f))
                        continue;
                int err;
                _cleanup_free_ char *a = context_payload_value(s, e, f, 0, false, &err);
                _cleanup_free_ char *b = a ? context_payload_value(s, e, f, 1, false, &err) : NULL;
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

static int test_imports(const struct spec *s, const struct layout *L, const struct entity *e,
                        struct imports *im) {
        _cleanup_free_ char *cls = context_class_name_of(e);
        const char *mm = context_layout_emodule(L, EROLE_MODEL, s, e), *ct = L->module[ROLE_CONFTEST];
        _cleanup_free_ char *mk = strf("make_%s", e->snake), *pl = context_payload_fn_of(e);
        if (!cls || !mk || !pl)
                return -ENOMEM;
        TRY(context_imp_from(im, IMP_THIRD, "fastapi.testclient", "TestClient"));
        TRY(context_imp_from(im, IMP_THIRD, "sqlalchemy.orm", "Session"));
        TRY(context_imp_local(im, ct, "API"));
        /* make_x() stores the rows every test but a create test without conflicts needs */
        bool any_op = false;
        for (size_t i = 0; i < s->n_endpoints; i++)
                any_op = any_op || streq_ptr(s->endpoints[i].entity, e->name);
        if (!any_op || entity_has_op(s, e, OP_LIST) || entity_has_op(s, e, OP_GET) ||
            entity_has_op(s, e, OP_UPDATE) || entity_has_op(s, e, OP_DELETE) ||
            (entity_has_op(s, e, OP_CREATE) && has_conflict_field(s, e)))
                TRY(context_imp_local(im, ct, mk));
        if (entity_has_op(s, e, OP_CREATE))
                TRY(context_imp_local(im, ct, pl));
        if (has_conflict_field(s, e) && (entity_has_op(s, e, OP_CREATE) || entity_has_op(s, e, OP_UPDATE))) {
                TRY(context_imp_from(im, IMP_THIRD, "fastapi.encoders", "jsonable_encoder"));
                /* the conflict tests give an optional unique foreign key a target */
                for (size_t i = 0; i < e->n_fields; i++) {
                        const struct field *f = &e->fields[i];
                        const struct entity *t = f->type == FT_FOREIGN_KEY && !f->required &&
                                                                 context_field_conflicts(s, e, f)
                                                         ? spec_find_entity(s, f->target)
                                                         : NULL;
                        _cleanup_free_ char *tm = t ? strf("make_%s", t->snake) : NULL;
                        if (t && !tm)
                                return -ENOMEM;
                        if (tm)
                                TRY(context_imp_local(im, ct, tm));
                }
        }
        if (entity_has_op(s, e, OP_DELETE))
                TRY(context_imp_local(im, mm, cls));
        /* every endpoint's 500 test and the race tests patch the services (monkeypatch) */
        bool any_std = false;
        for (size_t i = 0; i < s->n_endpoints; i++)
                any_std = any_std || (streq_ptr(s->endpoints[i].entity, e->name) &&
                                      s->endpoints[i].op != OP_CUSTOM);
        if (any_std)
                TRY(context_imp_plain(im, IMP_THIRD, "import pytest"));
        /* the rule tests through the API: the target of an exists rule, stored dates */
        bool writes = entity_has_op(s, e, OP_CREATE) || entity_has_op(s, e, OP_UPDATE);
        for (size_t i = 0; i < s->n_rules && writes; i++) {
                const struct rule *r = &s->rules[i];
                const struct field *f = streq_ptr(r->entity, e->name) ? entity_find_field(e, r->field) : NULL;
                if (!f)
                        continue;
                if (r->kind == RULE_EXISTS) {
                        const struct entity *t = spec_find_entity(s, f->target);
                        _cleanup_free_ char *tm = t ? strf("make_%s", t->snake) : NULL;
                        if (t && !tm)
                                return -ENOMEM;
                        if (tm)
                                TRY(context_imp_local(im, ct, tm));
                } else if ((r->kind == RULE_NOT_IN_PAST || r->kind == RULE_NOT_IN_FUTURE) &&
                           (f->type == FT_DATE || f->type == FT_DATETIME) && entity_has_op(s, e, OP_UPDATE))
                        TRY(context_imp_plain(im, IMP_STDLIB, "import datetime as dt"));
                const char *rf, *ra, *rb;
                if (r->kind == RULE_TRANSITIONS && entity_has_op(s, e, OP_UPDATE) &&
                    context_transitions_race(f, r, &rf, &ra, &rb)) {
                        /* the concurrent updates: threads, a session per request, a slow rule */
                        _cleanup_free_ char *svc = strf("%s_service", e->snake);
                        if (!svc)
                                return -ENOMEM;
                        TRY(context_imp_plain(im, IMP_STDLIB, "import time"));
                        TRY(context_imp_from(im, IMP_STDLIB, "concurrent.futures", "ThreadPoolExecutor"));
                        TRY(context_imp_from(im, IMP_STDLIB, "typing", "Iterator"));
                        TRY(context_imp_local(im, L->module[ROLE_DATABASE], "get_db"));
                        TRY(context_imp_module(im, context_layout_emodule(L, EROLE_SERVICE, s, e), svc));
                        TRY(context_imp_local(im, mm, cls));
                }
        }
        for (size_t i = 0; i < s->n_endpoints; i++) {
                const struct endpoint *ep = &s->endpoints[i];
                if (!streq_ptr(ep->entity, e->name) || ep->op != OP_LIST)
                        continue;
                if (ep->n_filters > 0)
                        TRY(context_imp_local(im, ct, "query_value"));
                for (size_t j = 0; j < ep->n_filters; j++) {
                        const struct field *f = entity_find_field(e, ep->filters[j]);
                        const struct entity *t = f && f->type == FT_FOREIGN_KEY && !f->required
                                                         ? spec_find_entity(s, f->target)
                                                         : NULL;
                        if (t) {
                                _cleanup_free_ char *tm = strf("make_%s", t->snake);
                                if (!tm)
                                        return -ENOMEM;
                                TRY(context_imp_local(im, ct, tm));
                        }
                }
        }
        return 0;
}

static bool field_flag(const struct node *fc, const char *key) {
        bool b = false;
        const struct node *v = node_get(fc, key);
        return v && node_as_bool(v, &b) == 0 && b;
}

/* The initial migration's code for the table: op.create_table() with every column and
 * named constraint, and op.create_index() for its indexes, laid out as black does. The
 * names are the ones the models' naming convention gives (database.py.tmpl), so that
 * `alembic check` finds no difference and later batch migrations find them. */
static int migration_fill(const struct entity *e, const struct node *fields, struct node *m) {
        struct strbuf sb;
        int r;
        _cleanup_free_ char *pk = context_db_name("pk_%s", e->table);
        if (!pk)
                return -ENOMEM;
        strbuf_init(&sb, 0);
        r = strbuf_addf(&sb, "op.create_table(\"%s\", sa.Column(\"id\", sa.Integer(), nullable=False)", e->table);
        for (size_t i = 0; i < fields->n && r >= 0; i++)
                r = strbuf_addf(&sb, ", %s", node_get(fields->items[i], "migration_column")->value);
        if (r >= 0)
                r = strbuf_adds(&sb, ", sa.Column(\"created_at\", sa.DateTime(), server_default=sa.func.now(), nullable=False)"
                                     ", sa.Column(\"updated_at\", sa.DateTime(), server_default=sa.func.now(), nullable=False)");
        if (r >= 0)
                r = strbuf_addf(&sb, ", sa.PrimaryKeyConstraint(\"id\", name=op.f(\"%s\"))", pk);
        for (size_t i = 0; i < fields->n && r >= 0; i++) {
                const struct node *fc = fields->items[i];
                if (field_flag(fc, "unique_constraint"))
                        r = strbuf_addf(&sb, ", sa.UniqueConstraint(\"%s\", name=op.f(\"%s\"))",
                                        node_get(fc, "name")->value, node_get(fc, "unique_name")->value);
        }
        if (r >= 0)
                r = strbuf_addc(&sb, ')');
        _cleanup_free_ char *code = r >= 0 ? strbuf_detach(&sb, NULL) : NULL;
        strbuf_free(&sb);
        TRY(put_black_stmt(m, "migration_table", 4, "", code));
        _cleanup_node_ struct node *indexes = node_new_seq();
        if (!indexes)
                return -ENOMEM;
        for (size_t i = 0; i < fields->n; i++) {
                const struct node *fc = fields->items[i];
                if (field_flag(fc, "db_index")) {
                        _cleanup_free_ char *c = strf("op.create_index(op.f(\"%s\"), \"%s\", [\"%s\"], unique=%s)",
                                                      node_get(fc, "index_name")->value, e->table,
                                                      node_get(fc, "name")->value,
                                                      field_flag(fc, "unique_index") ? "True" : "False");
                        _cleanup_free_ char *st = c ? context_black_stmt(4, "", c) : NULL;
                        if (!st)
                                return -ENOMEM;
                        TRY(append_str(indexes, st));
                }
                if (field_flag(fc, "ci_unique"))
                        TRY(append_str(indexes, node_get(fc, "ci_index_migration")->value));
        }
        return put(m, "migration_indexes", TAKE_PTR(indexes));
}

static int entity_fill(const struct spec *s, const struct layout *L, const struct entity *e,
                       struct node *m) {
        _cleanup_free_ char *cls = context_class_name_of(e), *words = context_title_words(e);
        _cleanup_free_ char *desc = context_one_line(e->description);
        struct imports im = { .n = 0 };
        if (!cls || !words || !desc)
                return -ENOMEM;

        _cleanup_free_ char *mcls = context_model_class_of(e);
        if (!mcls)
                return -ENOMEM;
        TRY(put_str(m, "name", e->name));
        TRY(put_str(m, "class_name", cls));
        TRY(put_str(m, "model_class", mcls));
        TRY(put_bool(m, "class_renamed", !streq(cls, mcls)));
        /* the test modules import the class: pytest would try to collect Test* classes */
        TRY(put_bool(m, "looks_like_test_class", strncmp(cls, "Test", 4) == 0 || strncmp(mcls, "Test", 4) == 0));
        TRY(put_str(m, "snake", e->snake));
        TRY(put_str(m, "table", e->table));
        TRY(put_str(m, "title", words));
        TRY(put_str(m, "description", desc));
        if (*desc)
                TRY(put_str(m, "doc", desc));
        else
                TRY(put_strf(m, "doc", "A %s record.", words));
        TRY(put_strf(m, "make", "make_%s", e->snake));
        _cleanup_free_ char *plfn = context_payload_fn_of(e);
        if (!plfn)
                return -ENOMEM;
        TRY(put_str(m, "payload_fn", plfn));
        {
                _cleanup_free_ char *u = context_upper(e->snake);
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
        {
                _cleanup_free_ char *vf = strf("validate_%s", e->snake);
                _cleanup_free_ char *ps = strf("db: Session, data: Dict[str, Any], current: Optional[%s] = None",
                                              cls);
                _cleanup_free_ char *def = vf && ps ? context_black_def(0, vf, ps, "None") : NULL;
                if (!def)
                        return -ENOMEM;
                TRY(put_str(m, "validate_def", def));
        }
        TRY(put_strf(m, "service_alias", "%s_service", e->snake));
        TRY(put_strf(m, "rules_alias", "%s_rules", e->snake));
        TRY(put_strf(m, "schemas_alias", "%s_schemas", e->snake));

        /* fields */
        _cleanup_node_ struct node *fields = node_new_seq(), *required = node_new_seq();
        _cleanup_node_ struct node *not_null = node_new_seq();
        bool needs_payload = false;
        _cleanup_node_ struct node *enums = node_new_seq(), *checked = node_new_seq();
        _cleanup_node_ struct node *payload = node_new_seq(), *variant_fields = node_new_seq();
        struct strbuf as_text;
        size_t n_text = 0;
        bool varies = false;
        if (!fields || !required || !not_null || !enums || !checked || !payload || !variant_fields)
                return -ENOMEM;
        strbuf_init(&as_text, 0);
        int r = strbuf_addc(&as_text, '(');
        for (size_t i = 0; i < e->n_fields && r >= 0; i++) {
                const struct field *f = &e->fields[i];
                struct node *fc = NULL;
                if ((r = context_field_ctx(s, e, f, &fc)) < 0)
                        break;
                const char *attr = node_get(fc, "attr")->value;
                bool c = false;
                if (f->type == FT_UUID || f->type == FT_URL)
                        r = strbuf_addf(&as_text, "%s\"%s\"", n_text++ ? ", " : "", attr);
                if (r >= 0 && f->required)
                        r = node_seq_append(required, node_dup(fc));
                if (r >= 0 && context_field_not_null(f))
                        r = node_seq_append(not_null, node_dup(fc));
                /* an empty create payload is refused only when a required field has no
                 * default to fall back on */
                if (f->required && !f->default_value)
                        needs_payload = true;
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
        TRY(mark_last(not_null));
        TRY(migration_fill(e, fields, m));
        if (not_null->n > 0) {
                struct strbuf dec;
                strbuf_init(&dec, 0);
                r = strbuf_adds(&dec, "field_validator(");
                for (size_t i = 0; i < not_null->n && r >= 0; i++) {
                        r = strbuf_adds(&dec, i ? ", " : "");
                        if (r >= 0)
                                r = context_add_py_str(&dec, node_get(not_null->items[i], "attr")->value);
                }
                if (r >= 0)
                        r = strbuf_addc(&dec, ')');
                _cleanup_free_ char *code = r >= 0 ? strbuf_detach(&dec, NULL) : NULL;
                strbuf_free(&dec);
                TRY(put_black_stmt(m, "not_null_decorator", 4, "@", code));
        }
        TRY(mark_last(payload));
        TRY(put_bool(m, "has_required", required->n > 0));
        TRY(put_bool(m, "empty_create_refused", needs_payload));
        TRY(put_bool(m, "has_enums", enums->n > 0));
        TRY(put_bool(m, "has_checks", checked->n > 0));
        TRY(put_bool(m, "varies", varies));
        TRY(put(m, "fields", TAKE_PTR(fields)));
        TRY(put(m, "required_fields", TAKE_PTR(required)));
        TRY(put_bool(m, "has_not_null", not_null->n > 0));
        TRY(put(m, "not_null_fields", TAKE_PTR(not_null)));
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
        TRY(put_str(invalid, "value", context_invalid_value(inv)));
        TRY(put(m, "invalid", TAKE_PTR(invalid)));
        const struct field *uf = update_field(s, e);
        if (uf) {
                int err;
                _cleanup_node_ struct node *u = node_new_map();
                _cleanup_free_ char *alt = context_payload_value(s, e, uf, 1, false, &err);
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
                if (!context_field_conflicts(s, e, f))
                        continue;
                _cleanup_node_ struct node *cm = node_new_map();
                _cleanup_free_ char *attr = context_member_attr(e, f->name);
                if (!cm || !attr)
                        return -ENOMEM;
                TRY(put_str(cm, "name", f->name));
                TRY(put_str(cm, "attr", attr));
                /* payloads leave optional foreign keys empty (no factory cycles), and empty
                 * values never clash: the existing row gets a target of its own */
                const struct entity *t = f->type == FT_FOREIGN_KEY && !f->required
                                                 ? spec_find_entity(s, f->target) : NULL;
                _cleanup_free_ char *ov = t ? strf(", **{\"%s\": make_%s(db_session).id}", f->name, t->snake)
                                            : strdup("");
                if (!ov)
                        return -ENOMEM;
                TRY(put_str(cm, "existing_overrides", ov));
                /* the database refuses a taken value too (a race past the rule): the body
                 * has the rule's message, or the errors module's */
                const char *rule_msg = NULL;
                for (size_t j = 0; j < s->n_rules && !rule_msg; j++)
                        if (s->rules[j].kind == RULE_UNIQUE && streq_ptr(s->rules[j].entity, e->name) &&
                            streq_ptr(s->rules[j].field, f->name))
                                rule_msg = s->rules[j].message;
                TRY(put_bool(cm, "db_unique", f->unique));
                if (rule_msg)
                        TRY(put_str(cm, "taken_message", rule_msg));
                else
                        TRY(put_strf(cm, "taken_message", "%s is already taken", f->name));
                {
                        /* as a Python string literal in black's quotes */
                        _cleanup_free_ char *dflt = rule_msg ? NULL : strf("%s is already taken", f->name);
                        _cleanup_free_ char *py = rule_msg || dflt ? context_py_str(rule_msg ? rule_msg : dflt) : NULL;
                        if (!py)
                                return -ENOMEM;
                        TRY(put_str(cm, "taken_message_py", py));
                }
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
                TRY(context_rel_ctx(s, e, &e->rels[i], &rc));
                TRY(node_seq_append(rels, rc));
                r = context_relinfo_init(s, e, &e->rels[i], &ri);
                if (r >= 0 && ri.r->kind == RK_MANY_TO_MANY && ri.assoc_owner) {
                        struct node *ac = NULL;
                        r = context_assoc_ctx(&ri, &ac);
                        if (r >= 0)
                                r = node_seq_append(assocs, ac);
                }
                context_relinfo_clear(&ri);
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
                TRY(context_rule_ctx(s, &s->rules[i], &rc));
                TRY(node_seq_append(rules, rc));
        }
        TRY(mark_last(rules));
        TRY(put_bool(m, "has_rules", rules->n > 0));
        TRY(put(m, "rules", TAKE_PTR(rules)));
        TRY(put_bool(m, "has_regex_rules", entity_has_rule(s, e, RULE_REGEX)));
        TRY(put_bool(m, "has_date_rules", entity_has_rule(s, e, RULE_NOT_IN_PAST) ||
                                                  entity_has_rule(s, e, RULE_NOT_IN_FUTURE)));
        TRY(put_bool(m, "has_transitions", entity_has_rule(s, e, RULE_TRANSITIONS)));
        TRY(put_bool(m, "has_unique_rules", entity_has_rule(s, e, RULE_UNIQUE)));

        /* endpoints */
        _cleanup_node_ struct node *eps = node_new_seq();
        if (!eps)
                return -ENOMEM;
        for (size_t i = 0; i < s->n_endpoints; i++) {
                struct node *ec = NULL;
                if (!streq_ptr(s->endpoints[i].entity, e->name) || s->endpoints[i].op == OP_CUSTOM)
                        continue;
                TRY(context_endpoint_ctx(s, L, &s->endpoints[i], false, false, &ec));
                TRY(node_seq_append(eps, ec));
        }
        TRY(put_bool(m, "has_endpoints", eps->n > 0));
        TRY(put(m, "endpoints", TAKE_PTR(eps)));

        TRY(put_bool(m, "defines_now_like", L->now_like_owner[e - s->entities]));
        static const char *const module_keys[_ENTITY_ROLE_MAX] = {
                [EROLE_MODEL] = "model_module", [EROLE_SCHEMA] = "schema_module",
                [EROLE_VALIDATION] = "validation_module", [EROLE_SERVICE] = "service_module",
        };
        for (int i = 0; i < _ENTITY_ROLE_MAX; i++) {
                const char *mod = context_layout_emodule(L, (enum entity_role) i, s, e);
                const char *path = L->epath[i][e - s->entities];
                _cleanup_free_ char *pk = strf("%.*spath", (int) (strlen(module_keys[i]) - strlen("module")),
                                               module_keys[i]);
                if (!pk)
                        return -ENOMEM;
                TRY(put_str(m, module_keys[i], mod ? mod : ""));
                TRY(put_str(m, pk, path ? path : ""));
        }
        {
                /* the API test that lets a taken value race past the rules (column 4) */
                const char *smod = context_layout_emodule(L, EROLE_SERVICE, s, e);
                _cleanup_free_ char *target = strf("%s.validate_%s", smod ? smod : "", e->snake);
                _cleanup_free_ char *py = target ? context_py_str(target) : NULL;
                _cleanup_free_ char *call = py ? strf("monkeypatch.setattr(%s, lambda *args: None)", py) : NULL;
                TRY(put_black_stmt(m, "skip_validation_stmt", 4, "", call));
        }
        TRY(context_with_imports(m, "model_imports", model_imports(L, e, &im), &im));
        TRY(context_with_imports(m, "schema_imports", schema_imports(s, L, e, &im), &im));
        TRY(context_with_imports(m, "rules_imports", rules_imports(s, L, e, &im), &im));
        TRY(context_with_imports(m, "service_imports", service_imports(s, L, e, &im), &im));
        TRY(context_with_imports(m, "test_imports", test_imports(s, L, e, &im), &im));
        return 0;
}

int context_entity_ctx(const struct spec *s, const struct layout *L, const struct entity *e,
                       struct node **ret) {
        _cleanup_node_ struct node *m = node_new_map();
        if (!m)
                return -ENOMEM;
        TRY(entity_fill(s, L, e, m));
        *ret = TAKE_PTR(m);
        return 0;
}
