/* test-spec.c - spec validation: the reference spec's values, a JSON twin, a second spec
 * with the rarer features, and one diagnostic (message, line:column, path) per error class. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check-main.h"
#include "format/doc.h"
#include "shared/fs.h"
#include "shared/macro.h"
#include "format/spec.h"

static const char *diags_text(const struct diags *d) {
        static char buf[16384];
        FILE *f = fmemopen(buf, sizeof(buf), "w");
        if (!f)
                return "";
        diags_print(d, f);
        fclose(f);
        return buf;
}

/* exact message, or a prefix when prefix is set */
static bool has_diag(const struct diags *d, unsigned line, unsigned column, const char *path,
                     const char *message, bool prefix) {
        for (size_t i = 0; i < d->n; i++) {
                const struct diag *g = &d->v[i];
                bool msg = prefix ? strncmp(g->message, message, strlen(message)) == 0
                                  : streq(g->message, message);
                if (g->line == line && g->column == column && msg && streq_ptr(g->path, path) &&
                    streq_ptr(g->file, "t.yaml"))
                        return true;
        }
        return false;
}

static struct spec *load_spec(const char *rel, struct diags *d) {
        _cleanup_free_ char *path = path_join(test_srcdir(), rel);
        _cleanup_node_ struct node *n = NULL;
        struct spec *s = NULL;
        ck_assert_msg(doc_load(path, rel, 1 << 20, &n, d) == 0, "%s", diags_text(d));
        ck_assert_msg(spec_from_node(n, rel, &s, d) == 0, "%s", diags_text(d));
        ck_assert_uint_eq(d->n, 0);
        return s;
}

static int parse(const char *text, struct spec **ret, struct diags *d) {
        _cleanup_node_ struct node *n = NULL;
        int r = doc_parse_yaml(text, strlen(text), "t.yaml", &n, d);
        ck_assert_msg(r == 0, "%s", diags_text(d));
        return spec_from_node(n, "t.yaml", ret, d);
}

START_TEST(test_reference_values) {
        struct diags d = DIAGS_INIT;
        _cleanup_spec_ struct spec *s = load_spec("spool-example/taskmanager/spec.yaml", &d);

        ck_assert_int_eq(s->format, 1);
        ck_assert_str_eq(s->name, "taskmanager");
        ck_assert_str_eq(s->title, "Task Manager API");
        ck_assert_str_eq(s->description, "Users own tasks; tasks move through a simple workflow.");
        ck_assert_str_eq(s->api_prefix, "/api");
        ck_assert_str_eq(s->database_url, "sqlite:///./app.db");
        ck_assert_uint_eq(s->n_entities, 2);
        ck_assert(!spec_needs_custom(s));

        const struct entity *u = spec_find_entity(s, "User");
        ck_assert_ptr_eq(u, &s->entities[0]);
        ck_assert_str_eq(u->snake, "user");
        ck_assert_str_eq(u->table, "users");
        ck_assert_str_eq(u->description, "A person who can own tasks.");
        ck_assert_uint_eq(u->pos.line, 11);
        ck_assert_uint_eq(u->pos.column, 5);
        ck_assert_uint_eq(u->n_fields, 5);
        const struct field *f = entity_find_field(u, "email");
        ck_assert_int_eq(f->type, FT_EMAIL);
        ck_assert(f->required && f->unique && !f->index);
        ck_assert_uint_eq(f->pos.line, 15);
        f = entity_find_field(u, "full_name");
        ck_assert(f->has_min_length && f->has_max_length && !f->has_min);
        ck_assert_int_eq(f->min_length, 1);
        ck_assert_int_eq(f->max_length, 120);
        f = entity_find_field(u, "age");
        ck_assert_int_eq(f->type, FT_INTEGER);
        ck_assert(f->has_min && f->has_max && !f->required);
        ck_assert_double_eq(f->min, 13);
        ck_assert_double_eq(f->max, 130);
        ck_assert_ptr_null(f->default_value);
        f = entity_find_field(u, "is_active");
        ck_assert_int_eq(f->type, FT_BOOLEAN);
        ck_assert_str_eq(f->default_value->value, "true");
        ck_assert(!f->default_value->quoted);
        f = entity_find_field(u, "role");
        ck_assert_int_eq(f->type, FT_ENUM);
        ck_assert_uint_eq(f->n_values, 2);
        ck_assert_str_eq(f->values[0], "admin");
        ck_assert_str_eq(f->values[1], "member");
        ck_assert_str_eq(f->default_value->value, "member");
        ck_assert_uint_eq(u->n_rels, 1);
        ck_assert_str_eq(u->rels[0].name, "tasks");
        ck_assert_int_eq(u->rels[0].kind, RK_ONE_TO_MANY);
        ck_assert_str_eq(u->rels[0].target, "Task");
        ck_assert_str_eq(u->rels[0].back_populates, "owner");

        const struct entity *t = spec_find_entity(s, "Task");
        ck_assert_str_eq(t->table, "tasks");
        ck_assert_uint_eq(t->n_fields, 6);
        ck_assert_int_eq(entity_find_field(t, "description")->type, FT_TEXT);
        f = entity_find_field(t, "status");
        ck_assert_uint_eq(f->n_values, 3);
        ck_assert_str_eq(f->values[1], "in_progress");
        ck_assert_str_eq(entity_find_field(t, "priority")->default_value->value, "3");
        ck_assert_int_eq(entity_find_field(t, "due_date")->type, FT_DATE);
        f = entity_find_field(t, "owner_id");
        ck_assert_int_eq(f->type, FT_FOREIGN_KEY);
        ck_assert_str_eq(f->target, "User");
        ck_assert(f->required);
        ck_assert_ptr_null(entity_find_field(t, "nope"));
        ck_assert_ptr_null(spec_find_entity(s, "Nope"));
        ck_assert_int_eq(t->rels[0].kind, RK_MANY_TO_ONE);

        ck_assert_uint_eq(s->n_endpoints, 10);
        static const char *const methods[] = { "GET", "POST", "GET", "PATCH", "DELETE" };
        for (size_t i = 0; i < 10; i++) {
                const struct endpoint *ep = &s->endpoints[i];
                ck_assert_str_eq(ep->entity, i < 5 ? "User" : "Task");
                ck_assert_int_eq(ep->op, (enum op_kind) (i % 5));
                ck_assert_str_eq(ep->method, methods[i % 5]);
                ck_assert_uint_eq(ep->pos.line, 37 + i);
        }
        ck_assert_str_eq(s->endpoints[2].path, "/users/{id}");
        ck_assert_str_eq(s->endpoints[5].path, "/tasks");
        ck_assert_uint_eq(s->endpoints[5].n_filters, 2);
        ck_assert_str_eq(s->endpoints[5].filters[0], "status");
        ck_assert_str_eq(s->endpoints[5].filters[1], "owner_id");
        ck_assert_uint_eq(s->endpoints[0].n_filters, 0);

        ck_assert_uint_eq(s->n_rules, 4);
        ck_assert_int_eq(s->rules[0].kind, RULE_UNIQUE);
        ck_assert_str_eq(s->rules[0].field, "email");
        ck_assert_str_eq(s->rules[0].message, "email already registered");
        ck_assert_int_eq(s->rules[1].kind, RULE_NOT_IN_PAST);
        const struct rule *r = &s->rules[2];
        ck_assert_int_eq(r->kind, RULE_TRANSITIONS);
        ck_assert_str_eq(r->entity, "Task");
        ck_assert_uint_eq(r->n_transitions, 3);
        ck_assert_str_eq(r->transitions[0].from, "todo");
        ck_assert_uint_eq(r->transitions[0].n_to, 1);
        ck_assert_str_eq(r->transitions[0].to[0], "in_progress");
        ck_assert_uint_eq(r->transitions[1].n_to, 2);
        ck_assert_str_eq(r->transitions[1].to[1], "done");
        ck_assert_str_eq(r->transitions[2].from, "done");
        ck_assert_uint_eq(r->transitions[2].n_to, 0);
        ck_assert_int_eq(s->rules[3].kind, RULE_EXISTS);
        ck_assert_uint_eq(s->rules[3].pos.line, 56);
        diags_clear(&d);
}
END_TEST

static void assert_strv_equal(char **a, size_t na, char **b, size_t nb) {
        ck_assert_uint_eq(na, nb);
        for (size_t i = 0; i < na; i++)
                ck_assert_str_eq(a[i], b[i]);
}

/* Everything but positions (JSON keeps none for values in struct spec's sense). */
static void assert_spec_equal(const struct spec *a, const struct spec *b) {
        ck_assert_int_eq(a->format, b->format);
        ck_assert_pstr_eq(a->name, b->name);
        ck_assert_pstr_eq(a->title, b->title);
        ck_assert_pstr_eq(a->description, b->description);
        ck_assert_pstr_eq(a->api_prefix, b->api_prefix);
        ck_assert_pstr_eq(a->database_url, b->database_url);
        ck_assert_uint_eq(a->n_entities, b->n_entities);
        for (size_t i = 0; i < a->n_entities; i++) {
                const struct entity *x = &a->entities[i], *y = &b->entities[i];
                ck_assert_pstr_eq(x->name, y->name);
                ck_assert_pstr_eq(x->snake, y->snake);
                ck_assert_pstr_eq(x->table, y->table);
                ck_assert_pstr_eq(x->description, y->description);
                ck_assert_uint_eq(x->n_fields, y->n_fields);
                for (size_t j = 0; j < x->n_fields; j++) {
                        const struct field *f = &x->fields[j], *g = &y->fields[j];
                        ck_assert_pstr_eq(f->name, g->name);
                        ck_assert_int_eq(f->type, g->type);
                        ck_assert(f->required == g->required && f->unique == g->unique &&
                                  f->index == g->index);
                        ck_assert(!f->default_value == !g->default_value);
                        if (f->default_value)
                                ck_assert_str_eq(f->default_value->value, g->default_value->value);
                        ck_assert(f->has_min_length == g->has_min_length &&
                                  f->has_max_length == g->has_max_length &&
                                  f->has_min == g->has_min && f->has_max == g->has_max);
                        ck_assert_int_eq(f->min_length, g->min_length);
                        ck_assert_int_eq(f->max_length, g->max_length);
                        ck_assert_double_eq(f->min, g->min);
                        ck_assert_double_eq(f->max, g->max);
                        ck_assert_pstr_eq(f->pattern, g->pattern);
                        assert_strv_equal(f->values, f->n_values, g->values, g->n_values);
                        ck_assert_pstr_eq(f->target, g->target);
                        ck_assert_pstr_eq(f->description, g->description);
                }
                ck_assert_uint_eq(x->n_rels, y->n_rels);
                for (size_t j = 0; j < x->n_rels; j++) {
                        ck_assert_pstr_eq(x->rels[j].name, y->rels[j].name);
                        ck_assert_int_eq(x->rels[j].kind, y->rels[j].kind);
                        ck_assert_pstr_eq(x->rels[j].target, y->rels[j].target);
                        ck_assert_pstr_eq(x->rels[j].back_populates, y->rels[j].back_populates);
                }
        }
        ck_assert_uint_eq(a->n_endpoints, b->n_endpoints);
        for (size_t i = 0; i < a->n_endpoints; i++) {
                const struct endpoint *x = &a->endpoints[i], *y = &b->endpoints[i];
                ck_assert_pstr_eq(x->entity, y->entity);
                ck_assert_int_eq(x->op, y->op);
                ck_assert_pstr_eq(x->name, y->name);
                ck_assert_pstr_eq(x->method, y->method);
                ck_assert_pstr_eq(x->path, y->path);
                assert_strv_equal(x->filters, x->n_filters, y->filters, y->n_filters);
                ck_assert_pstr_eq(x->description, y->description);
        }
        ck_assert_uint_eq(a->n_rules, b->n_rules);
        for (size_t i = 0; i < a->n_rules; i++) {
                const struct rule *x = &a->rules[i], *y = &b->rules[i];
                ck_assert_pstr_eq(x->entity, y->entity);
                ck_assert_int_eq(x->kind, y->kind);
                ck_assert_pstr_eq(x->field, y->field);
                ck_assert_pstr_eq(x->message, y->message);
                ck_assert(x->has_min == y->has_min && x->has_max == y->has_max);
                ck_assert_pstr_eq(x->pattern, y->pattern);
                ck_assert_uint_eq(x->n_transitions, y->n_transitions);
                for (size_t j = 0; j < x->n_transitions; j++) {
                        ck_assert_pstr_eq(x->transitions[j].from, y->transitions[j].from);
                        assert_strv_equal(x->transitions[j].to, x->transitions[j].n_to,
                                          y->transitions[j].to, y->transitions[j].n_to);
                }
                ck_assert_pstr_eq(x->description, y->description);
        }
}

START_TEST(test_json_equivalent) {
        struct diags d = DIAGS_INIT;
        _cleanup_spec_ struct spec *y = load_spec("spool-example/taskmanager/spec.yaml", &d);
        _cleanup_spec_ struct spec *j = load_spec("tests/data/specs/taskmanager-equivalent.json", &d);
        assert_spec_equal(y, j);
        /* the JSON scanner gives positions too */
        ck_assert_uint_eq(j->entities[1].pos.line, 59);
        ck_assert_uint_eq(j->entities[1].pos.column, 5);
        diags_clear(&d);
}
END_TEST

START_TEST(test_second_spec) {
        struct diags d = DIAGS_INIT;
        _cleanup_spec_ struct spec *s = load_spec("tests/data/specs/library-m2m-custom.yaml", &d);
        ck_assert(spec_needs_custom(s));
        ck_assert_uint_eq(s->n_entities, 4);
        const struct entity *ap = spec_find_entity(s, "AuthorProfile");
        ck_assert_str_eq(ap->snake, "author_profile");
        ck_assert_str_eq(ap->table, "author_profiles");
        ck_assert_str_eq(spec_find_entity(s, "Category")->table, "categories");
        const struct entity *a = spec_find_entity(s, "Author");
        ck_assert_int_eq(a->rels[0].kind, RK_MANY_TO_MANY);
        ck_assert_int_eq(a->rels[1].kind, RK_ONE_TO_ONE);
        ck_assert_str_eq(entity_find_field(a, "name")->pattern, "^[A-Z].*$");
        ck_assert_str_eq(entity_find_field(a, "born")->default_value->value, "1900-01-01");
        const struct entity *b = spec_find_entity(s, "Book");
        ck_assert_int_eq(entity_find_field(b, "price")->type, FT_DECIMAL);
        ck_assert_str_eq(entity_find_field(b, "price")->default_value->value, "9.99");
        ck_assert_int_eq(entity_find_field(b, "ref")->type, FT_UUID);
        ck_assert_int_eq(entity_find_field(b, "meta")->type, FT_JSON);
        ck_assert(entity_find_field(b, "isbn")->index);
        ck_assert_str_eq(entity_find_field(spec_find_entity(s, "Category"), "parent_id")->target,
                         "Category");

        /* defaults for method and path; methods upper-cased */
        ck_assert_str_eq(s->endpoints[0].method, "GET");
        ck_assert_str_eq(s->endpoints[0].path, "/books");
        ck_assert_str_eq(s->endpoints[1].method, "POST");
        ck_assert_str_eq(s->endpoints[1].path, "/books");
        ck_assert_str_eq(s->endpoints[2].method, "GET");
        ck_assert_str_eq(s->endpoints[2].path, "/books/{id}");
        const struct endpoint *c = &s->endpoints[3];
        ck_assert_int_eq(c->op, OP_CUSTOM);
        ck_assert_str_eq(c->name, "retire");
        ck_assert_str_eq(c->method, "POST");
        ck_assert_str_eq(c->path, "/books/{id}/retire");
        ck_assert_str_eq(c->description, "Mark a book as retired and remove it from its shelf.");
        ck_assert_str_eq(s->endpoints[4].path, "/writers");
        ck_assert_str_eq(s->endpoints[5].method, "DELETE");
        ck_assert_str_eq(s->endpoints[5].path, "/categories/{id}");

        ck_assert(s->rules[0].has_min && s->rules[0].has_max);
        ck_assert_double_eq(s->rules[0].max, 1000);
        ck_assert_str_eq(s->rules[1].pattern, "^[0-9-]+$");
        ck_assert_uint_eq(s->rules[3].n_transitions, 3);
        ck_assert_uint_eq(s->rules[3].transitions[2].n_to, 0);
        ck_assert_int_eq(s->rules[4].kind, RULE_CUSTOM);
        ck_assert_ptr_null(s->rules[4].field);
        ck_assert_str_eq(s->rules[4].description, "A category holds at most 500 books.");
        diags_clear(&d);
}
END_TEST

START_TEST(test_several_errors_reported) {
        struct diags d = DIAGS_INIT;
        _cleanup_node_ struct node *n = NULL;
        struct spec *s = NULL;
        _cleanup_free_ char *path = path_join(test_srcdir(), "tests/data/specs/errors-several.yaml");
        ck_assert_int_eq(doc_load(path, "t.yaml", 1 << 20, &n, &d), 0);
        ck_assert_int_eq(spec_from_node(n, "t.yaml", &s, &d), -EINVAL);
        ck_assert_ptr_null(s);
        ck_assert_msg(d.n == 6, "%s", diags_text(&d));
        ck_assert(has_diag(&d, 5, 5, "entities[0].feilds", "unknown key 'feilds'; did you mean 'fields'?", false));
        ck_assert(has_diag(&d, 7, 29, "entities[0].fields[0].type", "unknown field type 'strng'; did you mean 'string'?", true));
        ck_assert(has_diag(&d, 8, 52, "entities[0].fields[1].max", "min 10 is greater than max 1", false));
        ck_assert(has_diag(&d, 11, 55, "entities[1].fields[0].target", "unknown entity 'Prodcut'; did you mean 'Product'?", false));
        ck_assert(has_diag(&d, 13, 45, "endpoints[0].path", "'get' endpoint path '/products' needs an {id} parameter", false));
        ck_assert(has_diag(&d, 15, 42, "validations[0].field", "unknown field 'total' on entity 'Order'", false));
        diags_clear(&d);
}
END_TEST

struct error_case {
        const char *text;
        unsigned line, column;
        const char *path;
        const char *message;
        bool prefix;
};

static void run_cases(const char *head, const struct error_case *cases, size_t n) {
        for (size_t i = 0; i < n; i++) {
                struct diags d = DIAGS_INIT;
                struct spec *s = NULL;
                _cleanup_free_ char *text = NULL;
                ck_assert_int_ge(asprintf(&text, "%s%s", head, cases[i].text), 0);
                int r = parse(text, &s, &d);
                ck_assert_msg(r == -EINVAL, "case %zu: %d\n%s", i, r, text);
                ck_assert_ptr_null(s);
                ck_assert_msg(has_diag(&d, cases[i].line, cases[i].column, cases[i].path,
                                       cases[i].message, cases[i].prefix),
                              "case %zu: want %u:%u %s: %s\n%s---\n%s", i, cases[i].line,
                              cases[i].column, cases[i].path, cases[i].message, text,
                              diags_text(&d));
                diags_clear(&d);
        }
}

#define HEAD "format: 1\nname: t\n"
#define ONE_ENTITY "entities:\n  - name: User\n    fields:\n      - {name: email, type: email}\n"

START_TEST(test_root_errors) {
        static const struct error_case cases[] = {
                { "- a\n", 1, 1, "", "the spec must be a mapping (found sequence)", false },
                { HEAD "titel: x\n" ONE_ENTITY, 3, 1, "titel", "unknown key 'titel'; did you mean 'title'?", false },
                { HEAD "zzz: 1\n" ONE_ENTITY, 3, 1, "zzz", "unknown key 'zzz'", false },
                { "name: t\n" ONE_ENTITY, 1, 1, "format", "missing required key 'format'", false },
                { "format: 2\nname: t\n" ONE_ENTITY, 1, 9, "format", "unsupported format 2 (this version reads format 1)", false },
                { "format: \"1\"\nname: t\n" ONE_ENTITY, 1, 9, "format", "'format' must be an integer (found string)", false },
                { "format: 1\nname: Bad-Name\n" ONE_ENTITY, 2, 7, "name", "invalid name 'Bad-Name': must match [a-z][a-z0-9_]*", false },
                { "format: 1\n" ONE_ENTITY, 1, 1, "name", "missing required key 'name'", false },
                { "format: 1\nname:\n" ONE_ENTITY, 2, 6, "name", "'name' must not be empty", false },
                { HEAD "title: [a]\n" ONE_ENTITY, 3, 8, "title", "'title' must be a string (found sequence)", false },
                { HEAD "config: {api_prefix: api}\n" ONE_ENTITY, 3, 22, "config.api_prefix", "api_prefix 'api' must start with '/' and not end with '/'", false },
                { HEAD "config: {api_prefix: /api/}\n" ONE_ENTITY, 3, 22, "config.api_prefix", "api_prefix '/api/' must start with '/' and not end with '/'", false },
                { HEAD "config: {db_url: x}\n" ONE_ENTITY, 3, 10, "config.db_url", "unknown key 'db_url'", false },
                { HEAD "config: 5\n" ONE_ENTITY, 3, 9, "config", "'config' must be a mapping (found number)", false },
                { HEAD "config: {auth: jtw}\n" ONE_ENTITY, 3, 16, "config.auth", "unknown auth 'jtw'; did you mean 'jwt'? (valid: none, api_key, jwt)", false },
                { HEAD "config:\n  auth: oauth2\n" ONE_ENTITY, 4, 9, "config.auth", "unknown auth 'oauth2' (valid: none, api_key, jwt)", false },
                { HEAD "config: {auth: [jwt]}\n" ONE_ENTITY, 3, 16, "config.auth", "'auth' must be a string (found sequence)", false },
                { HEAD "config: {auth: jwt, auth_reads: yes please}\n" ONE_ENTITY, 3, 33, "config.auth_reads", "'auth_reads' must be true or false (found string)", false },
                { HEAD "config: {auth_reads: true}\n" ONE_ENTITY, 3, 22, "config.auth_reads", "auth_reads: true needs config.auth api_key or jwt (auth is none)", false },
                { HEAD "config: {auth: none, auth_reads: true}\n" ONE_ENTITY, 3, 34, "config.auth_reads", "auth_reads: true needs config.auth api_key or jwt (auth is none)", false },
                { HEAD, 1, 1, "entities", "missing required key 'entities'", false },
                { HEAD "entities: []\n", 3, 11, "entities", "'entities' must not be empty", false },
                { HEAD "entities: {a: 1}\n", 3, 11, "entities", "'entities' must be a sequence (found mapping)", false },
                { HEAD ONE_ENTITY "endpoints: 3\n", 7, 12, "endpoints", "'endpoints' must be a sequence (found number)", false },
        };
        run_cases("", cases, ELEMENTSOF(cases));
}
END_TEST

START_TEST(test_entity_errors) {
        static const struct error_case cases[] = {
                { "  - name: user\n    fields:\n      - {name: a, type: text}\n", 4, 11, "entities[0].name", "invalid entity name 'user': must match [A-Z][A-Za-z0-9]*", false },
                { "  - name: None\n    fields:\n      - {name: a, type: text}\n", 4, 11, "entities[0].name", "entity name 'None' is a Python keyword", false },
                { "  - name: User\n", 4, 5, "entities[0].fields", "missing required key 'fields'", false },
                { "  - name: User\n    fields: []\n", 5, 13, "entities[0].fields", "'fields' must not be empty", false },
                { "  - name: User\n    feilds: []\n    fields: [{name: a, type: text}]\n", 5, 5, "entities[0].feilds", "unknown key 'feilds'; did you mean 'fields'?", false },
                { "  - name: User\n    fields: [{name: a, type: text}]\n  - name: User\n    fields: [{name: a, type: text}]\n", 6, 11, "entities[1].name", "duplicate entity name 'User'", false },
                { "  - name: User\n    table: people\n    fields: [{name: a, type: text}]\n  - name: Person\n    table: people\n    fields: [{name: a, type: text}]\n", 8, 12, "entities[1].table", "entities 'User' and 'Person' share the table 'people'", false },
                { "  - name: Box\n    fields: [{name: a, type: text}]\n  - name: Other\n    table: boxes\n    fields: [{name: a, type: text}]\n", 7, 12, "entities[1].table", "entities 'Box' and 'Other' share the table 'boxes'", false },
                { "  - name: HTTPServer\n    fields: [{name: a, type: text}]\n  - name: HttpServer\n    table: other\n    fields: [{name: a, type: text}]\n", 6, 11, "entities[1].name", "entities 'HTTPServer' and 'HttpServer' have the same snake_case name 'http_server'", false },
                { "  - name: User\n    table: Users\n    fields: [{name: a, type: text}]\n", 5, 12, "entities[0].table", "invalid table name 'Users': must match [a-z][a-z0-9_]*", false },
                { "  - 5\n", 4, 5, "entities[0]", "entity must be a mapping (found number)", false },
        };
        run_cases(HEAD "entities:\n", cases, ELEMENTSOF(cases));
}
END_TEST

#define F "entities[0].fields[0]"
#define F1 "entities[0].fields[1]"

START_TEST(test_field_errors) {
        static const struct error_case cases[] = {
                { "      - name: a\n        type: strng\n", 7, 15, F ".type", "unknown field type 'strng'; did you mean 'string'? (valid types: string, text, integer, float, decimal, boolean, date, datetime, email, url, uuid, enum, foreign_key, json)", false },
                { "      - name: a\n        type: blob\n", 7, 15, F ".type", "unknown field type 'blob' (valid types: string, text, integer, float, decimal, boolean, date, datetime, email, url, uuid, enum, foreign_key, json)", false },
                { "      - name: a\n", 6, 9, F ".type", "missing required key 'type'", false },
                { "      - name: id\n        type: integer\n", 6, 15, F ".name", "field name 'id' is reserved: every entity has id, created_at and updated_at", false },
                { "      - name: created_at\n        type: datetime\n", 6, 15, F ".name", "field name 'created_at' is reserved: every entity has id, created_at and updated_at", false },
                { "      - name: a\n        type: text\n      - name: a\n        type: text\n", 8, 15, F1 ".name", "duplicate field name 'a' in entity 'User'", false },
                { "      - name: Title\n        type: text\n", 6, 15, F ".name", "invalid field name 'Title': must match [a-z][a-z0-9_]*", false },
                /* 64 characters: PostgreSQL would cut the column's name */
                { "      - name: a123456789012345678901234567890123456789012345678901234567890123\n        type: text\n", 6, 15, F ".name", "field name 'a1234567890123456789...' is longer than 63 characters", false },
                { "      - name: n\n        type: integer\n        min_length: 1\n", 8, 21, F ".min_length", "'min_length' is only allowed for string, text, email and url fields", false },
                { "      - name: s\n        type: string\n        min_length: 5\n        max_length: 3\n", 9, 21, F ".max_length", "min_length 5 is greater than max_length 3", false },
                { "      - name: s\n        type: string\n        min_length: -1\n", 8, 21, F ".min_length", "'min_length' must not be negative", false },
                { "      - name: s\n        type: string\n        max_length: ten\n", 8, 21, F ".max_length", "'max_length' must be a non-negative integer (found string)", false },
                { "      - name: s\n        type: string\n        min: 1\n", 8, 14, F ".min", "'min' is only allowed for integer, float and decimal fields", false },
                { "      - name: n\n        type: float\n        min: 2.5\n        max: 1\n", 9, 14, F ".max", "min 2.5 is greater than max 1", false },
                { "      - name: n\n        type: float\n        min: low\n", 8, 14, F ".min", "'min' must be a number (found string)", false },
                { "      - name: s\n        type: string\n        pattern: \"[a-\"\n", 8, 18, F ".pattern", "invalid pattern '[a-': ", true },
                { "      - name: n\n        type: integer\n        pattern: \"^1$\"\n", 8, 18, F ".pattern", "'pattern' is only allowed for string, text, email and url fields", false },
                { "      - name: e\n        type: enum\n", 6, 9, F ".values", "missing required key 'values' (enum fields need it)", false },
                { "      - name: s\n        type: string\n        values: [a]\n", 8, 17, F ".values", "'values' is only allowed for enum fields", false },
                { "      - name: e\n        type: enum\n        values: [a, b, a]\n", 8, 24, F ".values[2]", "duplicate enum value 'a'", false },
                { "      - name: e\n        type: enum\n        values: [checked-in, Checked In]\n", 8, 30, F ".values[1]", "enum values 'checked-in' and 'Checked In' both get the member name CHECKED_IN in the generated code", false },
                { "      - name: e\n        type: enum\n        values: [a, \"\"]\n", 8, 21, F ".values[1]", "enum value must be a non-empty string of at most 255 bytes", false },
                { "      - name: e\n        type: enum\n        values: []\n", 8, 17, F ".values", "'values' must be a non-empty sequence (found an empty one)", false },
                { "      - name: n\n        type: integer\n        default: x\n", 8, 18, F ".default", "default for integer field 'n' must be an integer (found string)", false },
                { "      - name: b\n        type: boolean\n        default: \"yes\"\n", 8, 18, F ".default", "default for boolean field 'b' must be true or false (found string)", false },
                { "      - name: e\n        type: enum\n        values: [a, b]\n        default: c\n", 9, 18, F ".default", "default 'c' is not one of the enum values", false },
                { "      - name: d\n        type: date\n        default: \"2023-02-29\"\n", 8, 18, F ".default", "default '2023-02-29' is not an ISO date (YYYY-MM-DD)", false },
                { "      - name: d\n        type: datetime\n        default: \"2023-01-01 25:00\"\n", 8, 18, F ".default", "default '2023-01-01 25:00' is not an ISO datetime (YYYY-MM-DDTHH:MM[:SS][Z|+HH:MM])", false },
                { "      - name: u\n        type: uuid\n        default: not-a-uuid\n", 8, 18, F ".default", "default 'not-a-uuid' is not a UUID", false },
                { "      - name: s\n        type: string\n        default: 5\n", 8, 18, F ".default", "default for string field 's' must be a string (found number)", false },
                { "      - name: s\n        type: string\n        default: {a: 1}\n", 8, 18, F ".default", "'default' must be a scalar (found mapping)", false },
                { "      - name: s\n        type: string\n        max_length: 2\n        default: abc\n", 9, 18, F ".default", "default 'abc' is outside min_length/max_length", false },
                { "      - name: n\n        type: integer\n        max: 3\n        default: 4\n", 9, 18, F ".default", "default 4 is outside min/max", false },
                { "      - name: r\n        type: foreign_key\n", 6, 9, F ".target", "missing required key 'target' (foreign_key fields need it)", false },
                { "      - name: r\n        type: foreign_key\n        target: Usr\n", 8, 17, F ".target", "unknown entity 'Usr'; did you mean 'User'?", false },
                { "      - name: s\n        type: string\n        target: User\n", 8, 17, F ".target", "'target' is only allowed for foreign_key fields", false },
                { "      - name: s\n        type: string\n        required: maybe\n", 8, 19, F ".required", "'required' must be true or false (found string)", false },
                { "      - name: s\n        type: string\n        typo: 1\n", 8, 9, F ".typo", "unknown key 'typo'; did you mean 'type'?", false },
                { "      - just a string\n", 6, 9, F, "field must be a mapping (found string)", false },
        };
        run_cases(HEAD "entities:\n  - name: User\n    fields:\n", cases, ELEMENTSOF(cases));
}
END_TEST

#define R "entities[0].relationships[0]"
#define TEAM "  - name: Team\n    fields:\n      - {name: n, type: text}\n"

START_TEST(test_relationship_errors) {
        static const struct error_case cases[] = {
                { "      - name: tasks\n        kind: one_to_lots\n        target: User\n", 9, 15, R ".kind", "unknown relationship kind 'one_to_lots' (valid kinds: one_to_many, many_to_one, one_to_one, many_to_many)", false },
                { "      - name: x\n        kind: many_to_many\n        target: Nobody\n", 10, 17, R ".target", "unknown entity 'Nobody'", false },
                { "      - name: a\n        kind: many_to_many\n        target: User\n", 8, 15, R ".name", "duplicate name 'a' in entity 'User' (relationship names must differ from field names and each other)", false },
                { "      - name: boss\n        kind: many_to_one\n        target: User\n", 9, 15, R ".kind", "many_to_one relationship 'boss' needs a foreign_key field on 'User' targeting 'User'", false },
                { "      - name: teams\n        kind: one_to_many\n        target: Team\n" TEAM, 9, 15, R ".kind", "one_to_many relationship 'teams' needs a foreign_key field on 'Team' targeting 'User'", false },
                { "      - name: profile\n        kind: one_to_one\n        target: Team\n" TEAM, 9, 15, R ".kind", "one_to_one relationship 'profile' needs a foreign_key field on 'User' targeting 'Team' or on 'Team' targeting 'User'", false },
                { "      - name: teams\n        kind: many_to_many\n        target: Team\n        back_populates: members\n" TEAM, 11, 25, R ".back_populates", "entity 'Team' has no relationship 'members' to pair with 'teams'", false },
                { "      - name: teams\n        kind: many_to_many\n        target: Team\n        back_populates: members\n" TEAM
                  "    relationships:\n      - {name: members, kind: many_to_many, target: User, back_populates: other}\n",
                  11, 25, R ".back_populates", "relationship 'Team.members' back-populates 'other', not 'teams'", false },
                { "      - name: teams\n        kind: many_to_many\n        target: Team\n        back_populates: members\n" TEAM
                  "    relationships:\n      - {name: members, kind: many_to_many, target: Team}\n",
                  11, 25, R ".back_populates", "relationship 'Team.members' targets 'Team', not 'User'", false },
                { "      - name: teams\n        kind: one_to_many\n        target: Team\n        back_populates: members\n"
                  "  - name: Team\n    fields:\n      - {name: user_id, type: foreign_key, target: User}\n"
                  "    relationships:\n      - {name: members, kind: one_to_many, target: User, back_populates: teams}\n",
                  11, 25, R ".back_populates", "'teams' (one_to_many) cannot pair with 'Team.members' (one_to_many)", false },
        };
        run_cases(HEAD "entities:\n  - name: User\n    fields:\n      - {name: a, type: text}\n    relationships:\n",
                  cases, ELEMENTSOF(cases));
}
END_TEST

#define BASE HEAD "entities:\n  - name: User\n    fields:\n" \
        "      - {name: email, type: email}\n" \
        "      - {name: age, type: integer}\n" \
        "      - {name: role, type: enum, values: [admin, member]}\n" \
        "      - {name: born, type: date}\n" \
        "      - {name: meta, type: json}\n" \
        "      - {name: team_id, type: foreign_key, target: Team}\n" \
        "  - name: Team\n    fields:\n      - {name: title, type: string}\n"
#define EP "endpoints[0]"

START_TEST(test_endpoint_errors) {
        static const struct error_case cases[] = {
                { "  - entity: Usr\n    operation: list\n", 16, 13, EP ".entity", "unknown entity 'Usr'; did you mean 'User'?", false },
                { "  - entity: User\n    operation: search\n", 17, 16, EP ".operation", "unknown operation 'search' (valid operations: list, create, get, update, delete, custom)", false },
                { "  - entity: User\n", 16, 5, EP ".operation", "missing required key 'operation'", false },
                { "  - entity: User\n    operation: list\n    method: FETCH\n", 18, 13, EP ".method", "unknown method 'FETCH' (valid methods: GET, POST, PUT, PATCH, DELETE)", false },
                { "  - entity: User\n    operation: list\n    path: users\n", 18, 11, EP ".path", "path 'users' must start with '/'", false },
                { "  - entity: User\n    operation: get\n    path: \"/users/{slug}\"\n", 18, 11, EP ".path", "unsupported parameter '{slug}' in path '/users/{slug}' (only {id} is supported)", false },
                { "  - entity: User\n    operation: get\n    path: /users\n", 18, 11, EP ".path", "'get' endpoint path '/users' needs an {id} parameter", false },
                { "  - entity: User\n    operation: delete\n    path: /users\n", 18, 11, EP ".path", "'delete' endpoint path '/users' needs an {id} parameter", false },
                { "  - entity: User\n    operation: list\n    path: \"/users/{id}\"\n", 18, 11, EP ".path", "'list' endpoint path '/users/{id}' must not have parameters", false },
                { "  - entity: User\n    operation: create\n    path: \"/users/{id}\"\n", 18, 11, EP ".path", "'create' endpoint path '/users/{id}' must not have parameters", false },
                { "  - entity: User\n    operation: list\n    path: /us ers\n", 18, 11, EP ".path", "path '/us ers' has a character outside [A-Za-z0-9/_.{}-]", false },
                { "  - entity: User\n    operation: list\n    path: \"/a\\\"b\"\n", 18, 11, EP ".path", "path '/a\"b' has a character outside [A-Za-z0-9/_.{}-]", false },
                { "  - entity: User\n    operation: get\n    path: \"/users/{id\"\n", 18, 11, EP ".path", "malformed parameter in path '/users/{id'", false },
                { "  - entity: User\n    operation: get\n    path: \"/users/x{id}\"\n", 18, 11, EP ".path", "malformed parameter in path '/users/x{id}'", false },
                { "  - entity: User\n    operation: get\n    path: \"/u/{id}/{id}\"\n", 18, 11, EP ".path", "path '/u/{id}/{id}' has {id} more than once", false },
                { "  - entity: User\n    operation: list\n    path: /a//b\n", 18, 11, EP ".path", "path '/a//b' has an empty segment", false },
                { "  - entity: User\n    operation: create\n    filters: [age]\n", 18, 14, EP ".filters", "'filters' is only allowed for list endpoints", false },
                { "  - entity: User\n    operation: list\n    filters: [age, nope]\n", 18, 20, EP ".filters[1]", "unknown filter field 'nope' on entity 'User'", false },
                { "  - entity: User\n    operation: list\n    filters: [age, age]\n", 18, 20, EP ".filters[1]", "duplicate filter 'age'", false },
                { "  - entity: User\n    operation: custom\n    method: POST\n    path: /users/x\n    description: d\n", 16, 5, EP ".name", "missing required key 'name'", false },
                { "  - entity: User\n    operation: custom\n    name: x\n    method: POST\n    path: /users/x\n", 16, 5, EP ".description", "missing required key 'description' (custom operations need it)", false },
                { "  - entity: User\n    operation: custom\n    name: x\n    path: /users/x\n    description: d\n", 16, 5, EP ".method", "missing required key 'method'", false },
                { "  - entity: User\n    operation: custom\n    name: Bad\n    method: POST\n    path: /users/x\n    description: d\n", 18, 11, EP ".name", "invalid operation name 'Bad': must match [a-z][a-z0-9_]*", false },
                { "  - entity: User\n    operation: list\n    name: all\n", 18, 11, EP ".name", "'name' is only allowed for custom endpoints", false },
                { "  - entity: User\n    operation: list\n  - entity: Team\n    operation: list\n    path: /users\n", 18, 5, "endpoints[1]", "duplicate endpoint 'GET /users' (also at line 16)", false },
                { "  - entity: User\n    operation: list\n  - entity: User\n    operation: list\n    path: /people\n", 18, 5, "endpoints[1]", "entity 'User' has more than one 'list' operation", false },
                { "  - entity: User\n    operation: custom\n    name: go\n    method: POST\n    path: /go\n    description: d\n"
                  "  - entity: User\n    operation: custom\n    name: go\n    method: POST\n    path: /go2\n    description: d\n",
                  22, 5, "endpoints[1]", "entity 'User' has more than one 'go' operation", false },
        };
        run_cases(BASE "endpoints:\n", cases, ELEMENTSOF(cases));
}
END_TEST

#define RU "validations[0]"

START_TEST(test_rule_errors) {
        static const struct error_case cases[] = {
                { "  - entity: Usr\n    rule: unique\n    field: email\n    message: m\n", 16, 13, RU ".entity", "unknown entity 'Usr'; did you mean 'User'?", false },
                { "  - entity: User\n    rule: uniq\n    field: email\n    message: m\n", 17, 11, RU ".rule", "unknown rule 'uniq' (valid rules: unique, exists, not_in_past, not_in_future, range, regex, transitions, custom)", false },
                { "  - entity: User\n    rule: unique\n    message: m\n", 16, 5, RU ".field", "missing required key 'field'", false },
                { "  - entity: User\n    rule: unique\n    field: emial\n    message: m\n", 18, 12, RU ".field", "unknown field 'emial' on entity 'User'; did you mean 'email'?", false },
                { "  - entity: User\n    rule: unique\n    field: email\n", 16, 5, RU ".message", "missing required key 'message'", false },
                { "  - entity: User\n    rule: range\n    field: age\n    message: m\n", 16, 5, RU, "range rule needs 'min' or 'max'", false },
                { "  - entity: User\n    rule: range\n    field: email\n    min: 1\n    message: m\n", 18, 12, RU ".field", "range rule needs an integer, float or decimal field; 'email' is email", false },
                { "  - entity: User\n    rule: range\n    field: age\n    min: 5\n    max: 1\n    message: m\n", 20, 10, RU ".max", "min 5 is greater than max 1", false },
                { "  - entity: User\n    rule: unique\n    field: email\n    min: 1\n    message: m\n", 19, 10, RU ".min", "'min' is only allowed for range rules", false },
                { "  - entity: User\n    rule: unique\n    field: email\n    allowed: {}\n    message: m\n", 19, 14, RU ".allowed", "'allowed' is only allowed for transitions rules", false },
                { "  - entity: User\n    rule: regex\n    field: email\n    pattern: \"(\"\n    message: m\n", 19, 14, RU ".pattern", "invalid pattern '(': ", true },
                { "  - entity: User\n    rule: regex\n    field: age\n    pattern: \"^1$\"\n    message: m\n", 18, 12, RU ".field", "regex rule needs a string, text, email or url field; 'age' is integer", false },
                { "  - entity: User\n    rule: regex\n    field: email\n    message: m\n", 16, 5, RU ".pattern", "missing required key 'pattern' (regex rules need it)", false },
                { "  - entity: User\n    rule: not_in_past\n    field: email\n    message: m\n", 18, 12, RU ".field", "not_in_past rule needs a date or datetime field; 'email' is email", false },
                { "  - entity: User\n    rule: not_in_future\n    field: age\n    message: m\n", 18, 12, RU ".field", "not_in_future rule needs a date or datetime field; 'age' is integer", false },
                { "  - entity: User\n    rule: exists\n    field: age\n    message: m\n", 18, 12, RU ".field", "exists rule needs a foreign_key field; 'age' is integer", false },
                { "  - entity: User\n    rule: unique\n    field: meta\n    message: m\n", 18, 12, RU ".field", "unique rule cannot apply to json field 'meta'", false },
                { "  - entity: User\n    rule: transitions\n    field: age\n    allowed: {}\n    message: m\n", 18, 12, RU ".field", "transitions rule needs an enum field; 'age' is integer", false },
                { "  - entity: User\n    rule: transitions\n    field: role\n    allowed: {admin: [member], member: [admin], boss: []}\n    message: m\n", 19, 49, RU ".allowed.boss", "unknown state 'boss': not a value of 'role'", false },
                { "  - entity: User\n    rule: transitions\n    field: role\n    allowed: {admin: [root], member: []}\n    message: m\n", 19, 23, RU ".allowed.admin[0]", "unknown state 'root': not a value of 'role'", false },
                { "  - entity: User\n    rule: transitions\n    field: role\n    allowed: {admin: [member]}\n    message: m\n", 19, 14, RU ".allowed", "state 'member' is missing from 'allowed'", false },
                { "  - entity: User\n    rule: transitions\n    field: role\n    allowed: [a]\n    message: m\n", 19, 14, RU ".allowed", "'allowed' must be a mapping (found sequence)", false },
                { "  - entity: User\n    rule: transitions\n    field: role\n    message: m\n", 16, 5, RU ".allowed", "missing required key 'allowed' (transitions rules need it)", false },
                { "  - entity: User\n    rule: custom\n    message: m\n", 16, 5, RU ".description", "missing required key 'description' (custom rules need it)", false },
                { "  - entity: User\n    rule: unique\n    field: email\n    message: m\n    description: d\n", 20, 18, RU ".description", "'description' is only allowed for custom rules", false },
                { "  - 7\n", 16, 5, RU, "validation rule must be a mapping (found number)", false },
        };
        run_cases(BASE "validations:\n", cases, ELEMENTSOF(cases));
}
END_TEST

START_TEST(test_x_keys_and_valid_variants) {
        struct diags d = DIAGS_INIT;
        _cleanup_spec_ struct spec *s = NULL;
        const char *text = HEAD "x-top: 1\nconfig: {api_prefix: /v1/api, x-c: 2}\n"
                           "entities:\n  - name: TaskItem\n    x-e: {any: thing}\n    fields:\n"
                           "      - {name: s, type: string, x-f: [1]}\n"
                           "      - {name: when, type: datetime, default: \"2024-02-29T23:59:60.5+01:00\"}\n"
                           "      - {name: u, type: uuid, default: 123e4567-e89b-12d3-a456-426614174000}\n"
                           "      - {name: n, type: integer, default: +007}\n"
                           "endpoints:\n  - {entity: TaskItem, operation: update, method: put, x-ep: 1}\n"
                           "validations:\n  - {entity: TaskItem, rule: unique, field: s, message: m, x-r: 1}\n";
        ck_assert_msg(parse(text, &s, &d) == 0, "%s", diags_text(&d));
        ck_assert_str_eq(s->api_prefix, "/v1/api");
        ck_assert_str_eq(s->entities[0].table, "task_items");
        const struct field *n = entity_find_field(&s->entities[0], "n");
        ck_assert_str_eq(n->default_value->value, "7");
        ck_assert(!n->default_value->quoted);
        ck_assert_uint_eq(n->default_value->line, 12);
        ck_assert_str_eq(entity_find_field(&s->entities[0], "when")->default_value->value,
                         "2024-02-29T23:59:60.5+01:00");
        ck_assert_str_eq(s->endpoints[0].method, "PUT");
        ck_assert_str_eq(s->endpoints[0].path, "/task_items/{id}");
        ck_assert_str_eq(s->database_url, "sqlite:///./app.db");
        ck_assert_ptr_null(s->title);
        ck_assert_int_eq(s->auth, AUTH_NONE);
        ck_assert(!s->auth_reads);
        diags_clear(&d);
}
END_TEST

START_TEST(test_auth_config) {
        static const struct {
                const char *config;
                enum auth_kind auth;
                bool reads;
                const char *name;
        } cases[] = {
                { "config: {auth: none}\n", AUTH_NONE, false, "none" },
                { "config: {auth: api_key}\n", AUTH_API_KEY, false, "api_key" },
                { "config: {auth: jwt, auth_reads: false}\n", AUTH_JWT, false, "jwt" },
                { "config: {auth: jwt, auth_reads: true}\n", AUTH_JWT, true, "jwt" },
                { "config: {auth_reads: true, auth: api_key}\n", AUTH_API_KEY, true, "api_key" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct diags d = DIAGS_INIT;
                _cleanup_spec_ struct spec *s = NULL;
                _cleanup_free_ char *text = NULL;
                ck_assert_int_ge(asprintf(&text, HEAD "%s" ONE_ENTITY, cases[i].config), 0);
                ck_assert_msg(parse(text, &s, &d) == 0, "%s", diags_text(&d));
                ck_assert_int_eq(s->auth, cases[i].auth);
                ck_assert_int_eq(s->auth_reads, cases[i].reads);
                ck_assert_str_eq(auth_kind_name(s->auth), cases[i].name);
                diags_clear(&d);
        }
}
END_TEST

START_TEST(test_enum_members) {
        static const char *const cases[][2] = {
                { "checked-in", "CHECKED_IN" }, { "no show", "NO_SHOW" },
                { "front-desk", "FRONT_DESK" }, { "active", "ACTIVE" },
                { "InProgress", "INPROGRESS" }, { "1st", "VALUE_1ST" },
                { "--a--b--", "A_B" },          { "None", "NONE" },
                { "?!", "VALUE" },              { "caf\xc3\xa9 au lait", "CAF_AU_LAIT" },
                { "a.b/c", "A_B_C" },           { "x_y", "X_Y" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *m = spec_enum_member(cases[i][0]);
                ck_assert_str_eq(m, cases[i][1]);
        }

        /* values of any spelling are accepted and kept as written */
        struct diags d = DIAGS_INIT;
        struct spec *s = NULL;
        ck_assert_int_eq(parse(HEAD "entities:\n  - name: User\n    fields:\n      - name: state\n        type: enum\n"
                                   "        values: [checked-in, no show, \"front \\\"desk\\\"\", 2nd]\n"
                                   "        default: no show\n",
                              &s, &d), 0);
        const struct field *f = entity_find_field(&s->entities[0], "state");
        ck_assert_uint_eq(f->n_values, 4);
        ck_assert_str_eq(f->values[0], "checked-in");
        ck_assert_str_eq(f->values[1], "no show");
        ck_assert_str_eq(f->values[2], "front \"desk\"");
        spec_free(s);
        diags_clear(&d);
}
END_TEST

START_TEST(test_naming) {
        static const char *const cases[][3] = {
                { "User", "user", "users" },       { "TaskItem", "task_item", "task_items" },
                { "HTTPServer", "http_server", "http_servers" },
                { "Category", "category", "categories" }, { "Day", "day", "days" },
                { "Box", "box", "boxes" },         { "Status", "status", "statuses" },
                { "Batch", "batch", "batches" },   { "Wish", "wish", "wishes" },
                { "Quiz", "quiz", "quizes" },      { "Task2Item", "task2_item", "task2_items" },
                { "ABC", "abc", "abcs" },          { "Key", "key", "keys" },
                { "APIKey", "api_key", "api_keys" }, { "Month", "month", "months" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *s = snake_case(cases[i][0]);
                _cleanup_free_ char *p = plural(s);
                ck_assert_str_eq(s, cases[i][1]);
                ck_assert_str_eq(p, cases[i][2]);
        }
        static const char *const cands[] = { "fields", "name", NULL, "relationships" };
        ck_assert_str_eq(spec_suggest("feilds", cands, 4), "fields");
        ck_assert_str_eq(spec_suggest("nme", cands, 4), "name");
        ck_assert_str_eq(spec_suggest("relationship", cands, 4), "relationships");
        ck_assert_ptr_null(spec_suggest("zzz", cands, 4));
        ck_assert_str_eq(field_type_name(FT_FOREIGN_KEY), "foreign_key");
        ck_assert_str_eq(rel_kind_name(RK_MANY_TO_MANY), "many_to_many");
        ck_assert_str_eq(op_kind_name(OP_CUSTOM), "custom");
        ck_assert_str_eq(rule_kind_name(RULE_NOT_IN_FUTURE), "not_in_future");
}
END_TEST

Suite *make_suite(void) {
        Suite *s = suite_create("spec");
        TCase *tc = tcase_create("spec");
        tcase_add_test(tc, test_reference_values);
        tcase_add_test(tc, test_json_equivalent);
        tcase_add_test(tc, test_second_spec);
        tcase_add_test(tc, test_several_errors_reported);
        tcase_add_test(tc, test_root_errors);
        tcase_add_test(tc, test_auth_config);
        tcase_add_test(tc, test_entity_errors);
        tcase_add_test(tc, test_field_errors);
        tcase_add_test(tc, test_relationship_errors);
        tcase_add_test(tc, test_endpoint_errors);
        tcase_add_test(tc, test_rule_errors);
        tcase_add_test(tc, test_x_keys_and_valid_variants);
        tcase_add_test(tc, test_naming);
        tcase_add_test(tc, test_enum_members);
        suite_add_tcase(s, tc);
        return s;
}
