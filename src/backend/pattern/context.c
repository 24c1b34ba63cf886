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

static int conftest_imports(const struct spec *s, const struct layout *L, struct imports *im) {
        bool varies = false;
        TRY(context_imp_from(im, IMP_STDLIB, "typing", "Any"));
        TRY(context_imp_from(im, IMP_STDLIB, "typing", "Dict"));
        TRY(context_imp_from(im, IMP_STDLIB, "typing", "Iterator"));
        TRY(context_imp_plain(im, IMP_THIRD, "import pytest"));
        TRY(context_imp_from(im, IMP_THIRD, "fastapi.testclient", "TestClient"));
        TRY(context_imp_plain(im, IMP_STDLIB, "import os"));
        TRY(context_imp_from(im, IMP_STDLIB, "typing", "Optional"));
        TRY(context_imp_from(im, IMP_THIRD, "sqlalchemy", "create_engine"));
        TRY(context_imp_from(im, IMP_THIRD, "sqlalchemy.engine", "Engine"));
        TRY(context_imp_from(im, IMP_THIRD, "sqlalchemy.orm", "Session"));
        TRY(context_imp_from(im, IMP_THIRD, "sqlalchemy.orm", "sessionmaker"));
        TRY(context_imp_local(im, L->module[ROLE_CONFIG], "settings"));
        TRY(context_imp_local(im, L->module[ROLE_DATABASE], "get_db"));
        TRY(context_imp_local(im, L->module[ROLE_DATABASE], "Base"));
        TRY(context_imp_local(im, L->module[ROLE_MAIN], "create_app"));
        if (s->auth != AUTH_NONE)
                TRY(context_imp_from(im, IMP_THIRD, "pydantic", "SecretStr"));
        if (s->auth == AUTH_API_KEY)
                TRY(context_imp_local(im, L->module[ROLE_AUTH], "API_KEY_HEADER"));
        if (s->auth == AUTH_JWT) {
                TRY(context_imp_plain(im, IMP_STDLIB, "import datetime as dt"));
                TRY(context_imp_plain(im, IMP_THIRD, "import jwt"));
        }
        for (size_t i = 0; i < s->n_entities; i++) {
                const struct entity *e = &s->entities[i];
                _cleanup_free_ char *cls = context_class_name_of(e);
                _cleanup_free_ char *sc = strf("%s_schemas", e->snake), *sv = strf("%s_service", e->snake);
                if (!cls || !sc || !sv)
                        return -ENOMEM;
                TRY(context_imp_local(im, context_layout_emodule(L, EROLE_MODEL, s, e), cls));
                TRY(context_imp_module(im, context_layout_emodule(L, EROLE_SCHEMA, s, e), sc));
                TRY(context_imp_module(im, context_layout_emodule(L, EROLE_SERVICE, s, e), sv));
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

static int test_models_imports(const struct spec *s, const struct layout *L, struct imports *im) {
        bool violations = false, data_error = false;
        for (size_t i = 0; i < s->n_entities; i++)
                for (size_t k = 0; k < s->entities[i].n_fields; k++)
                        context_field_db_violations(s, &s->entities[i], &s->entities[i].fields[k], &violations,
                                                    &data_error);
        if (violations) {
                TRY(context_imp_plain(im, IMP_THIRD, "import pytest"));
                TRY(context_imp_plain(im, IMP_THIRD, "import sqlalchemy as sa"));
                TRY(context_imp_from(im, IMP_THIRD, "sqlalchemy.exc", "IntegrityError"));
        }
        if (data_error)
                TRY(context_imp_from(im, IMP_THIRD, "sqlalchemy.exc", "DataError"));
        TRY(context_imp_from(im, IMP_THIRD, "sqlalchemy.orm", "Session"));
        /* entities with a transitions rule: their update locks the row (PostgreSQL) */
        for (size_t i = 0; i < s->n_entities; i++) {
                const struct entity *e = &s->entities[i];
                bool transitions = false;
                for (size_t k = 0; k < s->n_rules; k++)
                        if (s->rules[k].kind == RULE_TRANSITIONS && streq_ptr(s->rules[k].entity, e->name))
                                transitions = true;
                if (!transitions)
                        continue;
                _cleanup_free_ char *sc = strf("%s_schemas", e->snake), *sv = strf("%s_service", e->snake);
                if (!sc || !sv)
                        return -ENOMEM;
                TRY(context_imp_plain(im, IMP_THIRD, "import pytest"));
                TRY(context_imp_plain(im, IMP_THIRD, "import sqlalchemy as sa"));
                TRY(context_imp_from(im, IMP_THIRD, "sqlalchemy.exc", "OperationalError"));
                TRY(context_imp_module(im, context_layout_emodule(L, EROLE_SCHEMA, s, e), sc));
                TRY(context_imp_module(im, context_layout_emodule(L, EROLE_SERVICE, s, e), sv));
        }
        for (size_t i = 0; i < s->n_entities; i++) {
                const struct entity *e = &s->entities[i];
                _cleanup_free_ char *cls = context_class_name_of(e);
                _cleanup_free_ char *mk = strf("make_%s", e->snake);
                if (!cls || !mk)
                        return -ENOMEM;
                TRY(context_imp_local(im, context_layout_emodule(L, EROLE_MODEL, s, e), cls));
                TRY(context_imp_local(im, L->module[ROLE_CONFTEST], mk));
        }
        return 0;
}

static int test_rules_imports(const struct spec *s, const struct layout *L, struct imports *im) {
        TRY(context_imp_from(im, IMP_THIRD, "sqlalchemy.orm", "Session"));
        TRY(context_imp_from(im, IMP_THIRD, "fastapi.testclient", "TestClient"));
        TRY(context_imp_local(im, L->module[ROLE_MAIN], "create_app"));
        for (size_t i = 0; i < s->n_entities; i++) {
                const struct entity *e = &s->entities[i];
                _cleanup_free_ char *alias = strf("%s_rules", e->snake);
                _cleanup_free_ char *mk = strf("make_%s", e->snake);
                if (!alias || !mk)
                        return -ENOMEM;
                TRY(context_imp_module(im, context_layout_emodule(L, EROLE_VALIDATION, s, e), alias));
                TRY(context_imp_local(im, L->module[ROLE_CONFTEST], mk));
        }
        for (size_t i = 0; i < s->n_rules; i++) {
                const struct rule *r = &s->rules[i];
                const struct entity *e = spec_find_entity(s, r->entity);
                const struct field *f = e ? entity_find_field(e, r->field) : NULL;
                if (!f || r->kind == RULE_CUSTOM)
                        continue;
                TRY(context_imp_plain(im, IMP_THIRD, "import pytest"));
                TRY(context_imp_local(im, L->module[ROLE_ERRORS],
                                      r->kind == RULE_UNIQUE ? "ConflictError" : "ValidationFailed"));
                if (r->kind == RULE_NOT_IN_PAST || r->kind == RULE_NOT_IN_FUTURE)
                        TRY(context_imp_plain(im, IMP_STDLIB, "import datetime as dt"));
                else if (r->kind == RULE_RANGE && f->type == FT_DECIMAL)
                        TRY(context_imp_from(im, IMP_STDLIB, "decimal", "Decimal"));
                else if (r->kind == RULE_REGEX) {
                        TRY(context_imp_plain(im, IMP_STDLIB, "import re"));
                        TRY(context_imp_from(im, IMP_STDLIB, "typing", "Optional"));
                } else if (r->kind == RULE_TRANSITIONS) {
                        _cleanup_free_ char *cls = context_class_name_of(e);
                        if (!cls)
                                return -ENOMEM;
                        TRY(context_imp_local(im, context_layout_emodule(L, EROLE_MODEL, s, e), cls));
                }
        }
        return 0;
}

/* tests/test_auth.py (config.auth): the conftest's credentials, the auth module's scheme;
 * the settings and keys only for the tests of a protected endpoint, API for the URLs. */
static int test_auth_imports(const struct spec *s, const struct layout *L, struct imports *im) {
        const char *conftest = L->module[ROLE_CONFTEST], *auth = L->module[ROLE_AUTH];
        bool protected = false, urls = false;
        if (s->auth == AUTH_NONE)
                return 0;
        for (size_t i = 0; i < s->n_endpoints; i++)
                if (s->endpoints[i].op != OP_CUSTOM) {
                        urls = true;
                        protected = protected || spec_endpoint_needs_auth(s, &s->endpoints[i]);
                }
        TRY(context_imp_plain(im, IMP_THIRD, "import pytest"));
        TRY(context_imp_from(im, IMP_STDLIB, "typing", "Dict"));
        TRY(context_imp_from(im, IMP_STDLIB, "typing", "List"));
        TRY(context_imp_from(im, IMP_STDLIB, "typing", "Tuple"));
        TRY(context_imp_from(im, IMP_THIRD, "fastapi.testclient", "TestClient"));
        if (protected) {
                TRY(context_imp_from(im, IMP_THIRD, "pydantic", "SecretStr"));
                TRY(context_imp_local(im, L->module[ROLE_CONFIG], "settings"));
        }
        if (urls)
                TRY(context_imp_local(im, conftest, "API"));
        TRY(context_imp_local(im, conftest, "auth_headers"));
        TRY(context_imp_local(im, auth, "CHALLENGE"));
        if (s->auth == AUTH_API_KEY) {
                TRY(context_imp_local(im, conftest, "TEST_API_KEY"));
                TRY(context_imp_local(im, auth, "API_KEY_HEADER"));
                return 0;
        }
        TRY(context_imp_plain(im, IMP_STDLIB, "import datetime as dt"));
        TRY(context_imp_plain(im, IMP_THIRD, "import jwt"));
        TRY(context_imp_from(im, IMP_THIRD, "fastapi", "Request"));
        if (protected)
                TRY(context_imp_from(im, IMP_STDLIB, "typing", "Any"));
        TRY(context_imp_from(im, IMP_THIRD, "fastapi.security", "HTTPAuthorizationCredentials"));
        if (protected) {
                TRY(context_imp_from(im, IMP_THIRD, "cryptography.hazmat.primitives", "serialization"));
                TRY(context_imp_from(im, IMP_THIRD, "cryptography.hazmat.primitives.asymmetric", "ec"));
                TRY(context_imp_from(im, IMP_THIRD, "cryptography.hazmat.primitives.asymmetric", "rsa"));
        }
        TRY(context_imp_local(im, conftest, "sign_token"));
        TRY(context_imp_local(im, auth, "require_auth"));
        return 0;
}

/* The model classes, which the application and the migration environment import so that
 * every table is on Base.metadata. */
static int model_class_imports(const struct spec *s, const struct layout *L, struct imports *im) {
        for (size_t i = 0; i < s->n_entities; i++) {
                _cleanup_free_ char *cls = context_class_name_of(&s->entities[i]);
                if (!cls)
                        return -ENOMEM;
                TRY(context_imp_local(im, context_layout_emodule(L, EROLE_MODEL, s, &s->entities[i]), cls));
        }
        return 0;
}

/* The route module's alias in the application module: <name>_routes, or its whole dotted
 * path in snake_case when another route module has the same last name. */
static char *route_alias(const struct layout *L, const char *module) {
        const char *dot = strrchr(module, '.'), *last = dot ? dot + 1 : module;
        size_t same = 0;
        for (size_t i = 0; i < L->n_routes; i++) {
                const char *d = strrchr(L->routes[i], '.');
                same += streq(d ? d + 1 : L->routes[i], last);
        }
        char *a = strf("%s_routes", same > 1 ? module : last);
        for (char *p = a; p && *p; p++)
                if (*p == '.')
                        *p = '_';
        return a;
}

static int main_imports(const struct spec *s, const struct layout *L, struct imports *im) {
        TRY(context_imp_plain(im, IMP_STDLIB, "import logging"));
        TRY(context_imp_from(im, IMP_STDLIB, "collections.abc", "AsyncIterator"));
        TRY(context_imp_from(im, IMP_STDLIB, "contextlib", "asynccontextmanager"));
        TRY(context_imp_from(im, IMP_THIRD, "fastapi", "FastAPI"));
        TRY(context_imp_from(im, IMP_THIRD, "fastapi.middleware.cors", "CORSMiddleware"));
        TRY(context_imp_local(im, L->module[ROLE_CONFIG], "settings"));
        TRY(context_imp_local(im, L->module[ROLE_DATABASE], "engine"));
        TRY(context_imp_local(im, L->module[ROLE_ERRORS], "register_exception_handlers"));
        for (size_t i = 0; i < L->n_routes; i++) {
                _cleanup_free_ char *alias = route_alias(L, L->routes[i]);
                if (!alias)
                        return -ENOMEM;
                TRY(context_imp_module(im, L->routes[i], alias));
        }
        return model_class_imports(s, L, im);
}

static int env_imports(const struct spec *s, const struct layout *L, struct imports *im) {
        TRY(context_imp_from(im, IMP_STDLIB, "logging.config", "fileConfig"));
        TRY(context_imp_from(im, IMP_THIRD, "alembic", "context"));
        TRY(context_imp_from(im, IMP_THIRD, "sqlalchemy", "engine_from_config"));
        TRY(context_imp_from(im, IMP_THIRD, "sqlalchemy", "pool"));
        TRY(context_imp_local(im, L->module[ROLE_CONFIG], "settings"));
        TRY(context_imp_local(im, L->module[ROLE_DATABASE], "Base"));
        return model_class_imports(s, L, im);
}

/* The layout's keys: modules, paths and the commands that name them. */
static int layout_ctx(const struct spec *s, const struct layout *L, struct node **ret) {
        _cleanup_node_ struct node *m = node_new_map(), *routes = node_new_seq();
        _cleanup_node_ struct node *models = node_new_seq();
        if (!m || !routes || !models)
                return -ENOMEM;
        static const char *const keys[_ROLE_MAX] = {
                [ROLE_CONFIG] = "config", [ROLE_DATABASE] = "database", [ROLE_ERRORS] = "errors",
                [ROLE_MAIN] = "main", [ROLE_CONFTEST] = "conftest",
                [ROLE_MIGRATION_ENV] = "migration_env", [ROLE_ALEMBIC_INI] = "alembic_ini",
                [ROLE_AUTH] = "auth", [ROLE_MAKEFILE] = "makefile",
        };
        for (int r = 0; r < _ROLE_MAX; r++) {
                _cleanup_free_ char *pk = strf("%s_path", keys[r]), *mk = strf("%s_module", keys[r]);
                _cleanup_free_ char *dir = L->path[r] && strrchr(L->path[r], '/')
                                                   ? strndup(L->path[r], (size_t) (strrchr(L->path[r], '/') - L->path[r]))
                                                   : strdup(".");
                _cleanup_free_ char *dk = strf("%s_dir", keys[r]);
                if (!pk || !mk || !dir || !dk)
                        return -ENOMEM;
                TRY(put_str(m, pk, L->path[r] ? L->path[r] : ""));
                TRY(put_str(m, mk, L->module[r] ? L->module[r] : ""));
                TRY(put_str(m, dk, dir));
        }
        /* alembic.ini's prepend_sys_path: the project root, relative to alembic.ini */
        struct strbuf up;
        strbuf_init(&up, 0);
        int r = strbuf_adds(&up, "%(here)s");
        for (const char *p = L->path[ROLE_ALEMBIC_INI]; r >= 0 && p && *p; p++)
                if (*p == '/')
                        r = strbuf_adds(&up, "/..");
        _cleanup_free_ char *upstr = r >= 0 ? strbuf_detach(&up, NULL) : NULL;
        strbuf_free(&up);
        if (!upstr)
                return -ENOMEM;
        TRY(put_str(m, "root_from_alembic_ini", upstr));
        /* script_location: the environment's directory, relative to alembic.ini's */
        const char *ini = L->path[ROLE_ALEMBIC_INI], *env = L->path[ROLE_MIGRATION_ENV];
        const char *ini_slash = ini ? strrchr(ini, '/') : NULL, *env_slash = env ? strrchr(env, '/') : NULL;
        size_t ini_dir = ini_slash ? (size_t) (ini_slash - ini) : 0;
        size_t env_dir = env_slash ? (size_t) (env_slash - env) : 0;
        if (env && ini && env_dir >= ini_dir && strncmp(env, ini, ini_dir) == 0)
                TRY(put_strf(m, "env_from_alembic_ini", "%s%.*s", ini_dir == 0 && env_dir > 0 ? "/" : "",
                             (int) (env_dir - ini_dir), env + ini_dir));
        else
                TRY(put_str(m, "env_from_alembic_ini", ""));
        /* the top-level packages and modules, for mypy and the Dockerfile */
        _cleanup_free_ char *pkg = L->module[ROLE_MAIN] ? strdup(L->module[ROLE_MAIN]) : strdup("");
        if (!pkg)
                return -ENOMEM;
        bool is_pkg = strchr(pkg, '.') != NULL;
        if (strchr(pkg, '.'))
                *strchr(pkg, '.') = '\0';
        TRY(put_str(m, "package", pkg));
        TRY(put_strf(m, "mypy_target", "%s%s", pkg, is_pkg ? "" : ".py"));
        for (size_t i = 0; i < L->n_routes; i++) {
                _cleanup_node_ struct node *rm = node_new_map();
                _cleanup_free_ char *alias = route_alias(L, L->routes[i]);
                if (!rm || !alias)
                        return -ENOMEM;
                TRY(put_str(rm, "module", L->routes[i]));
                TRY(put_str(rm, "path", L->route_paths[i]));
                TRY(put_str(rm, "alias", alias));
                TRY(node_seq_append(routes, TAKE_PTR(rm)));
        }
        TRY(mark_last(routes));
        TRY(put(m, "route_modules", TAKE_PTR(routes)));
        for (size_t i = 0; i < s->n_entities; i++) {
                _cleanup_free_ char *cls = context_class_name_of(&s->entities[i]);
                if (!cls)
                        return -ENOMEM;
                TRY(append_str(models, cls));
        }
        TRY(put(m, "model_classes", TAKE_PTR(models)));
        *ret = TAKE_PTR(m);
        return 0;
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
        {
                _cleanup_free_ char *tpy = context_py_str(title);
                if (!tpy)
                        return -ENOMEM;
                TRY(put_str(m, "title_py", tpy));
        }
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
        TRY(put_str(m, "auth", auth_kind_name(s->auth)));
        TRY(put_bool(m, "has_auth", s->auth != AUTH_NONE));
        TRY(put_bool(m, "auth_api_key", s->auth == AUTH_API_KEY));
        TRY(put_bool(m, "auth_jwt", s->auth == AUTH_JWT));
        TRY(put_bool(m, "auth_reads", s->auth != AUTH_NONE && s->auth_reads));
        *ret = TAKE_PTR(m);
        return 0;
}

static int context_build(const struct spec *spec, const struct layout *L, struct node **ret) {
        _cleanup_node_ struct node *root = node_new_map();
        _cleanup_node_ struct node *ents = node_new_seq(), *ordered = node_new_seq();
        _cleanup_node_ struct node *reversed = node_new_seq(), *assocs = node_new_seq();
        _cleanup_node_ struct node *eps = node_new_seq(), *rules = node_new_seq();
        _cleanup_free_ size_t *order = calloc(spec->n_entities + 1, sizeof(size_t));
        struct node *project = NULL;
        struct imports im = { .n = 0 };

        if (!root || !ents || !ordered || !reversed || !assocs || !eps || !rules || !order)
                return -ENOMEM;
        TRY(project_ctx(spec, &project));
        TRY(put(root, "project", project));

        for (size_t i = 0; i < spec->n_entities; i++) {
                struct node *ec = NULL;
                TRY(context_entity_ctx(spec, L, &spec->entities[i], &ec));
                TRY(node_seq_append(ents, ec));
                const struct node *owned = node_get(ec, "association_tables");
                for (size_t j = 0; owned && j < owned->n; j++)
                        TRY(node_seq_append(assocs, node_dup(owned->items[j])));
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
                TRY(context_endpoint_ctx(spec, L, &spec->endpoints[i], false, false, &ec));
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
        TRY(put_bool(root, "has_routes", L->n_routes > 0));
        bool protected = false, public = false, pwrites = false, preads = false;
        for (size_t i = 0; i < spec->n_endpoints; i++) {
                const struct endpoint *ep = &spec->endpoints[i];
                if (ep->op == OP_CUSTOM)
                        continue;
                bool needs = spec_endpoint_needs_auth(spec, ep);
                bool reads = streq_ptr(ep->method, "GET") || streq_ptr(ep->method, "HEAD");
                protected = protected || needs;
                public = public || !needs;
                pwrites = pwrites || (needs && !reads);
                preads = preads || (needs && reads);
        }
        TRY(put_bool(root, "has_protected_endpoints", protected));
        TRY(put_bool(root, "has_protected_writes", pwrites));
        TRY(put_bool(root, "has_protected_reads", preads));
        TRY(put_bool(root, "has_public_endpoints", public && spec->auth != AUTH_NONE));
        TRY(put(root, "entities", TAKE_PTR(ents)));
        TRY(put(root, "tables_in_order", TAKE_PTR(ordered)));
        TRY(put(root, "tables_in_reverse_order", TAKE_PTR(reversed)));
        TRY(put(root, "association_tables", TAKE_PTR(assocs)));
        TRY(put(root, "endpoints", TAKE_PTR(eps)));
        TRY(put(root, "rules", TAKE_PTR(rules)));
        TRY(context_with_imports(root, "conftest_imports", conftest_imports(spec, L, &im), &im));
        TRY(context_with_imports(root, "test_models_imports", test_models_imports(spec, L, &im), &im));
        TRY(context_with_imports(root, "test_rules_imports", test_rules_imports(spec, L, &im), &im));
        TRY(context_with_imports(root, "test_auth_imports", test_auth_imports(spec, L, &im), &im));
        TRY(context_with_imports(root, "main_imports", main_imports(spec, L, &im), &im));
        TRY(context_with_imports(root, "env_imports", env_imports(spec, L, &im), &im));
        struct node *lc = NULL;
        TRY(layout_ctx(spec, L, &lc));
        TRY(put(root, "layout", lc));
        *ret = TAKE_PTR(root);
        return 0;
}

int context_new(const struct spec *spec, const struct dag *dag, struct node **ret) {
        struct layout L;
        int r = context_layout_init(spec, dag, &L);
        if (r < 0)
                return r;
        r = context_build(spec, &L, ret);
        context_layout_clear(&L);
        return r;
}

bool context_route_claims(const struct atom *atom, const struct endpoint *ep) {
        const char *op = ep->op == OP_CUSTOM ? ep->name : op_kind_name(ep->op);
        if (!streq_ptr(ep->entity, atom->entity))
                return false;
        return atom->operation ? streq_ptr(op, atom->operation) : ep->op != OP_CUSTOM;
}

size_t context_route_endpoints(const struct spec *spec, const struct atom *atom,
                               const struct endpoint **ret, size_t max) {
        size_t n = 0;
        for (size_t i = 0; i < spec->n_endpoints; i++) {
                const struct endpoint *ep = &spec->endpoints[i];
                if (!context_route_claims(atom, ep))
                        continue;
                if (n < max)
                        ret[n] = ep;
                n++;
        }
        return n;
}

/* Adds the atom's own keys to root: atom, entity (its item of job's entities),
 * route_endpoints and package. root may be job itself. */
static int atom_keys(const struct spec *spec, const struct dag *dag, const struct layout *L,
                     const struct node *job, const struct atom *atom, struct node *root) {
        _cleanup_node_ struct node *a = node_new_map();
        _cleanup_free_ char *desc = context_one_line(atom->description);
        if (!a || !desc)
                return -ENOMEM;

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
                const struct node *ents = node_get(job, "entities");
                TRY(put(root, "entity", node_dup(ents->items[e - spec->entities])));
        } else
                TRY(put(root, "entity", node_new_null()));

        _cleanup_node_ struct node *eps = node_new_seq();
        if (!eps)
                return -ENOMEM;
        if (atom->kind == AK_ROUTE && e) {
                /* one import list for the fragment, on its first endpoint */
                struct imports im = { .n = 0 };
                int r = 0;
                for (size_t i = 0; r >= 0 && i < spec->n_endpoints; i++) {
                        const struct endpoint *ep = &spec->endpoints[i];
                        struct node *ec = NULL;
                        if (!context_route_claims(atom, ep))
                                continue;
                        r = context_route_imports(spec, L, e, ep, atom->fragment_index == 0, &im);
                        if (r >= 0)
                                r = context_endpoint_ctx(spec, L, ep, false, false, &ec);
                        if (r >= 0)
                                r = node_seq_append(eps, ec) < 0 ? -ENOMEM : 0;
                        if (r >= 0 && eps->n > 1)
                                r = put(ec, "imports", node_new_seq());
                }
                if (r >= 0 && eps->n > 0)
                        r = context_put_imports(eps->items[0], "imports", &im);
                context_imports_clear(&im);
                TRY(r);
                TRY(mark_last(eps));
                for (size_t i = 0; i < eps->n; i++)
                        TRY(put_bool(eps->items[i], "opens_module", i == 0 && atom->fragment_index == 0));
        }
        TRY(put(root, "route_endpoints", TAKE_PTR(eps)));
        struct node *pkg = NULL;
        if (atom->kind == AK_PACKAGE)
                TRY(context_package_ctx(spec, dag, L, atom, &pkg));
        TRY(put(root, "package", pkg ? pkg : node_new_null()));
        return 0;
}

struct context_job {
        struct layout L;
        struct node *root;
        bool borrowed; /* the tables_in_* sequences borrow the entities' items */
};

int context_job_new(const struct spec *spec, const struct dag *dag, struct context_job **ret) {
        struct context_job *c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        int r = context_layout_init(spec, dag, &c->L);
        if (r < 0) {
                free(c);
                return r;
        }
        r = context_build(spec, &c->L, &c->root);
        if (r < 0) {
                context_job_free(c);
                return r;
        }
        /* tables_in_order and tables_in_reverse_order hold copies of the entities' contexts
         * (a third of the job's context each): here, kept for the job's life and inherited
         * by every worker, they point at the entities' own instead (the same maps but for
         * their `last`, which no template reads in them); context_job_free() drops them
         * before the entities */
        struct node *ents = (struct node *) node_get(c->root, "entities");
        struct node *tables[2] = { (struct node *) node_get(c->root, "tables_in_order"),
                                   (struct node *) node_get(c->root, "tables_in_reverse_order") };
        _cleanup_free_ size_t *order = calloc(spec->n_entities + 1, sizeof(size_t));
        if (!order || fk_order(spec, order) < 0) {
                context_job_free(c);
                return -ENOMEM;
        }
        for (size_t t = 0; t < 2; t++)
                for (size_t i = 0; i < tables[t]->n; i++) {
                        node_free(tables[t]->items[i]);
                        tables[t]->items[i] = ents->items[order[t == 0 ? i : spec->n_entities - 1 - i]];
                }
        c->borrowed = true;
        *ret = c;
        return 0;
}

void context_job_free(struct context_job *c) {
        if (!c)
                return;
        if (c->borrowed) {
                ((struct node *) node_get(c->root, "tables_in_order"))->n = 0;
                ((struct node *) node_get(c->root, "tables_in_reverse_order"))->n = 0;
        }
        node_free(c->root);
        context_layout_clear(&c->L);
        free(c);
}

const struct node *context_job_root(const struct context_job *c) {
        return c->root;
}

int context_atom_keys(const struct context_job *c, const struct spec *spec, const struct dag *dag,
                      const struct atom *atom, struct node **ret) {
        _cleanup_node_ struct node *m = node_new_map();
        if (!m)
                return -ENOMEM;
        TRY(atom_keys(spec, dag, &c->L, c->root, atom, m));
        *ret = TAKE_PTR(m);
        return 0;
}

int context_for_atom(const struct spec *spec, const struct dag *dag, const struct atom *atom,
                     struct node **ret) {
        _cleanup_node_ struct node *root = NULL;
        struct layout L;
        int r = context_layout_init(spec, dag, &L);
        if (r < 0)
                return r;
        r = context_build(spec, &L, &root);
        if (r >= 0)
                r = atom_keys(spec, dag, &L, root, atom, root);
        context_layout_clear(&L);
        if (r >= 0)
                *ret = TAKE_PTR(root);
        return r;
}
