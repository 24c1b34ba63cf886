/* plan.c - plans the execution DAG for a bundle that brings none (job-format.md 3).
 *
 * Interface (dag.h): plan_from_spec(). It returns the same atoms, in the same order and
 * with the same dependencies, as the reference DAG (examples/taskmanager/dag.json) does
 * for the reference spec, generalised to any spec:
 *   config, database, src_pkg, errors, requirements;
 *   per entity model_<snake> (on database), then models_pkg (on every model);
 *   per entity schema_<snake> (on its model), then schemas_pkg;
 *   per entity validation_<snake> (on errors, its model and the models of the entities
 *   its foreign keys name, in field order), then validations_pkg;
 *   per entity service_<snake> (on its schema and validation), then services_pkg;
 *   per endpoint route_<snake>_<operation or custom name> writing
 *   src/api/routes/<table>.py (on its service and database), then routes_pkg;
 *   api_pkg, app, the migrations, the tests (test_<table> per entity), the docs and the
 *   infrastructure files, the Makefile last.
 * With config.auth, an atom auth (src/auth.py, kind app, on config) follows errors; the
 * routes of the endpoints that need credentials and app depend on it, and test_auth
 * (tests/test_auth.py) follows test_validations. The reference spec has no auth.
 * A package atom depends on every atom of its package. Waves are left to dag_check().
 * Should a spec's names make two ids or test files collide (a table called "models"
 * would write tests/test_models.py twice), the later one gets a suffix ("_2", "_api").
 * Returns 0, -ENOMEM, or -EINVAL for a spec that did not come from spec_from_node().
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dag.h"
#include "shared/macro.h"

#define NONE ((size_t) -1)

struct planner {
        struct dag *dag;
        size_t alloc;
        int r;
};

static bool target_taken(const struct dag *dag, const char *target) {
        for (size_t i = 0; i < dag->n_atoms; i++)
                if (streq(dag->atoms[i].target, target))
                        return true;
        return false;
}

_printf_(2, 3) static char *fmt(struct planner *p, const char *format, ...) {
        char *s = NULL;
        va_list ap;
        va_start(ap, format);
        if (vasprintf(&s, format, ap) < 0) {
                s = NULL;
                p->r = -ENOMEM;
        }
        va_end(ap);
        return s;
}

/* Adds an atom; an id that is taken gets a suffix "_2", "_3", ... */
static size_t add(struct planner *p, enum atom_kind kind, const char *entity,
                  const char *operation, const char *description, const char *id,
                  const char *target) {
        struct dag *dag = p->dag;
        if (p->r < 0 || !id || !target)
                return NONE;
        if (dag->n_atoms == p->alloc) {
                size_t na = p->alloc ? p->alloc * 2 : 64;
                struct atom *v = realloc(dag->atoms, na * sizeof(*v));
                if (!v) {
                        p->r = -ENOMEM;
                        return NONE;
                }
                dag->atoms = v;
                p->alloc = na;
        }
        struct atom *a = &dag->atoms[dag->n_atoms];
        *a = (struct atom) { .kind = kind };
        dag->n_atoms++;

        a->id = strdup(id);
        for (unsigned k = 2; a->id && dag_find_atom(dag, a->id) != a; k++) {
                free(a->id);
                if (asprintf(&a->id, "%s_%u", id, k) < 0)
                        a->id = NULL;
        }
        a->target = strdup(target);
        a->entity = strdup_or_null(entity);
        a->operation = strdup_or_null(operation);
        a->description = strdup_or_null(description);
        if (!a->id || !a->target || (entity && !a->entity) || (operation && !a->operation) ||
            (description && !a->description)) {
                p->r = -ENOMEM;
                return NONE;
        }
        return dag->n_atoms - 1;
}

static void dep(struct planner *p, size_t atom, size_t on) {
        if (p->r < 0 || atom == NONE || on == NONE)
                return;
        struct atom *a = &p->dag->atoms[atom];
        const char *id = p->dag->atoms[on].id;
        for (size_t i = 0; i < a->n_deps; i++)
                if (streq(a->depends_on[i], id))
                        return;
        char **v = realloc(a->depends_on, (a->n_deps + 1) * sizeof(char *));
        if (!v) {
                p->r = -ENOMEM;
                return;
        }
        a->depends_on = v;
        if (!(v[a->n_deps] = strdup(id))) {
                p->r = -ENOMEM;
                return;
        }
        a->n_deps++;
}

static void dep_all(struct planner *p, size_t atom, const size_t *on, size_t n) {
        for (size_t i = 0; i < n; i++)
                dep(p, atom, on[i]);
}

static size_t entity_index(const struct spec *spec, const char *name) {
        const struct entity *e = spec_find_entity(spec, name);
        return e ? (size_t) (e - spec->entities) : NONE;
}

/* One atom per entity of a layer: id PREFIX_<snake>, target DIR/<snake>.py; out[i] is entity
 * i's atom. */
static void add_layer(struct planner *p, const struct spec *spec, enum atom_kind kind,
                      const char *prefix, const char *dir, size_t *out) {
        for (size_t i = 0; i < spec->n_entities; i++) {
                const struct entity *e = &spec->entities[i];
                _cleanup_free_ char *id = fmt(p, "%s_%s", prefix, e->snake);
                _cleanup_free_ char *t = fmt(p, "%s/%s.py", dir, e->snake);
                out[i] = add(p, kind, e->name, NULL, NULL, id, t);
        }
}

static int plan(struct planner *p, const struct spec *spec) {
        size_t ne = spec->n_entities, nr = spec->n_endpoints;
        _cleanup_free_ size_t *model = calloc(ne + 1, sizeof(size_t));
        _cleanup_free_ size_t *schema = calloc(ne + 1, sizeof(size_t));
        _cleanup_free_ size_t *validation = calloc(ne + 1, sizeof(size_t));
        _cleanup_free_ size_t *service = calloc(ne + 1, sizeof(size_t));
        _cleanup_free_ size_t *route = calloc(nr + 1, sizeof(size_t));
        size_t n_routes = 0;

        if (!model || !schema || !validation || !service || !route)
                return -ENOMEM;
        for (size_t i = 0; i < ne; i++)
                if (!spec->entities[i].name || !spec->entities[i].snake || !spec->entities[i].table)
                        return -EINVAL;

        size_t config = add(p, AK_CONFIG, NULL, NULL,
                            "Settings loaded from environment variables with defaults.", "config",
                            "src/config.py");
        size_t database = add(p, AK_DATABASE, NULL, NULL,
                              "Engine, session factory, declarative Base and get_db dependency.",
                              "database", "src/database.py");
        dep(p, database, config);
        add(p, AK_PACKAGE, NULL, NULL, NULL, "src_pkg", "src/__init__.py");
        size_t errors = add(p, AK_APP, NULL, NULL, "Domain exceptions and FastAPI exception handlers.",
                            "errors", "src/errors.py");
        size_t auth = NONE;
        if (spec->auth != AUTH_NONE) {
                auth = add(p, AK_APP, NULL, NULL,
                           spec->auth == AUTH_JWT ? "Bearer token (JWT) verification: the require_auth dependency."
                                                  : "API key check: the require_auth dependency.",
                           "auth", "src/auth.py");
                dep(p, auth, config);
        }
        size_t requirements = add(p, AK_INFRA, NULL, NULL, NULL, "requirements", "requirements.txt");

        add_layer(p, spec, AK_MODEL, "model", "src/models", model);
        for (size_t i = 0; i < ne; i++)
                dep(p, model[i], database);
        size_t models_pkg = add(p, AK_PACKAGE, NULL, NULL, NULL, "models_pkg", "src/models/__init__.py");
        dep_all(p, models_pkg, model, ne);

        add_layer(p, spec, AK_SCHEMA, "schema", "src/api/schemas", schema);
        for (size_t i = 0; i < ne; i++)
                dep(p, schema[i], model[i]);
        size_t schemas_pkg = add(p, AK_PACKAGE, NULL, NULL, NULL, "schemas_pkg",
                                 "src/api/schemas/__init__.py");
        dep_all(p, schemas_pkg, schema, ne);

        add_layer(p, spec, AK_VALIDATION, "validation", "src/validations", validation);
        for (size_t i = 0; i < ne; i++) {
                const struct entity *e = &spec->entities[i];
                dep(p, validation[i], errors);
                dep(p, validation[i], model[i]);
                for (size_t f = 0; f < e->n_fields; f++) {
                        if (e->fields[f].type != FT_FOREIGN_KEY)
                                continue;
                        size_t ti = entity_index(spec, e->fields[f].target);
                        if (ti == NONE)
                                return -EINVAL;
                        dep(p, validation[i], model[ti]);
                }
        }
        size_t validations_pkg = add(p, AK_PACKAGE, NULL, NULL, NULL, "validations_pkg",
                                     "src/validations/__init__.py");
        dep_all(p, validations_pkg, validation, ne);

        add_layer(p, spec, AK_SERVICE, "service", "src/services", service);
        for (size_t i = 0; i < ne; i++) {
                dep(p, service[i], schema[i]);
                dep(p, service[i], validation[i]);
        }
        size_t services_pkg = add(p, AK_PACKAGE, NULL, NULL, NULL, "services_pkg",
                                  "src/services/__init__.py");
        dep_all(p, services_pkg, service, ne);

        for (size_t k = 0; k < nr; k++) {
                const struct endpoint *ep = &spec->endpoints[k];
                size_t i = entity_index(spec, ep->entity);
                const char *op = ep->op == OP_CUSTOM ? ep->name : op_kind_name(ep->op);
                if (i == NONE || !op || ep->op >= _OP_MAX)
                        return -EINVAL;
                const struct entity *e = &spec->entities[i];
                _cleanup_free_ char *id = fmt(p, "route_%s_%s", e->snake, op);
                _cleanup_free_ char *t = fmt(p, "src/api/routes/%s.py", e->table);
                size_t a = add(p, AK_ROUTE, e->name, op, NULL, id, t);
                dep(p, a, service[i]);
                dep(p, a, database);
                if (spec_endpoint_needs_auth(spec, ep))
                        dep(p, a, auth);
                route[n_routes++] = a;
        }
        size_t routes_pkg = add(p, AK_PACKAGE, NULL, NULL, NULL, "routes_pkg",
                                "src/api/routes/__init__.py");
        dep_all(p, routes_pkg, route, n_routes);

        size_t api_pkg = add(p, AK_PACKAGE, NULL, NULL, NULL, "api_pkg", "src/api/__init__.py");
        dep(p, api_pkg, routes_pkg);
        dep(p, api_pkg, schemas_pkg);
        size_t app = add(p, AK_APP, NULL, NULL,
                         "FastAPI application: routers, exception handlers, startup table creation, /health.",
                         "app", "src/main.py");
        dep(p, app, routes_pkg);
        dep(p, app, database);
        dep(p, app, config);
        dep(p, app, errors);

        add(p, AK_MIGRATION, NULL, NULL, NULL, "alembic_ini", "migrations/alembic.ini");
        size_t alembic_env = add(p, AK_MIGRATION, NULL, NULL, NULL, "alembic_env", "migrations/env.py");
        dep(p, alembic_env, models_pkg);
        dep(p, alembic_env, database);
        size_t initial = add(p, AK_MIGRATION, NULL, NULL, NULL, "migration_initial",
                             "migrations/versions/001_initial.py");
        dep(p, initial, models_pkg);

        add(p, AK_PACKAGE, NULL, NULL, NULL, "tests_pkg", "tests/__init__.py");
        size_t conftest = add(p, AK_TEST, NULL, NULL, NULL, "test_conftest", "tests/conftest.py");
        dep(p, conftest, app);
        dep(p, conftest, database);
        size_t test_models = add(p, AK_TEST, NULL, NULL, NULL, "test_models", "tests/test_models.py");
        dep(p, test_models, models_pkg);
        dep(p, test_models, conftest);
        size_t test_validations = add(p, AK_TEST, NULL, NULL, NULL, "test_validations",
                                      "tests/test_validations.py");
        dep(p, test_validations, validations_pkg);
        dep(p, test_validations, conftest);
        if (auth != NONE) {
                size_t test_auth = add(p, AK_TEST, NULL, NULL, NULL, "test_auth", "tests/test_auth.py");
                dep(p, test_auth, app);
                dep(p, test_auth, conftest);
        }
        for (size_t i = 0; i < ne && p->r >= 0; i++) {
                const struct entity *e = &spec->entities[i];
                _cleanup_free_ char *id = fmt(p, "test_%s", e->table);
                _cleanup_free_ char *target = fmt(p, "tests/test_%s.py", e->table);
                if (target && target_taken(p->dag, target)) {
                        free(target);
                        target = fmt(p, "tests/test_%s_api.py", e->table);
                }
                size_t t = add(p, AK_TEST, e->name, NULL, NULL, id, target);
                dep(p, t, app);
                dep(p, t, conftest);
        }

        size_t docs_api = add(p, AK_DOC, NULL, NULL, NULL, "docs_api", "docs/API.md");
        dep(p, docs_api, routes_pkg);
        size_t docs_entities = add(p, AK_DOC, NULL, NULL, NULL, "docs_entities", "docs/ENTITIES.md");
        dep(p, docs_entities, models_pkg);
        size_t docs_arch = add(p, AK_DOC, NULL, NULL, NULL, "docs_architecture",
                               "docs/ARCHITECTURE.md");
        dep(p, docs_arch, app);

        size_t dockerfile = add(p, AK_INFRA, NULL, NULL, NULL, "dockerfile", "Dockerfile");
        dep(p, dockerfile, requirements);
        size_t compose = add(p, AK_INFRA, NULL, NULL, NULL, "compose", "docker-compose.yml");
        dep(p, compose, dockerfile);
        size_t pyproject = add(p, AK_CONFIG, NULL, NULL, "pytest, mypy and tool settings.", "pyproject",
                               "pyproject.toml");
        dep(p, pyproject, requirements);
        size_t env_example = add(p, AK_CONFIG, NULL, NULL, NULL, "env_example", ".env.example");
        dep(p, env_example, config);
        add(p, AK_INFRA, NULL, NULL, NULL, "gitignore", ".gitignore");
        size_t dockerignore = add(p, AK_INFRA, NULL, NULL, NULL, "dockerignore", ".dockerignore");
        dep(p, dockerignore, dockerfile);
        size_t readme = add(p, AK_DOC, NULL, NULL, NULL, "readme", "README.md");
        dep(p, readme, app);
        dep(p, readme, docs_api);
        size_t makefile = add(p, AK_INFRA, NULL, NULL, NULL, "makefile", "Makefile");
        dep(p, makefile, app);
        dep(p, makefile, pyproject);
        return p->r;
}

int plan_from_spec(const struct spec *spec, struct dag **ret) {
        struct planner p = { 0 };
        _cleanup_dag_ struct dag *dag = calloc(1, sizeof(*dag));

        if (!dag)
                return -ENOMEM;
        if (!spec->name)
                return -EINVAL;
        dag->format = 1;
        if (!(dag->name = strdup(spec->name)))
                return -ENOMEM;
        p.dag = dag;
        int r = plan(&p, spec);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(dag);
        return 0;
}
