/* context-layout.c - the generated project's layout, read from the DAG's targets.
 *
 * Interface: context_layout_init()/context_layout_clear() (context-internal.h) and
 * context_layout_check() (context.h). Every Python module the generated code imports is
 * the module of the atom that writes it: an atom's target `app/models/user.py` is the
 * module `app.models.user`, `pkg/__init__.py` the package `pkg`. Roles follow the kind
 * and the entity of the atom, never a fixed path: the config atom's module is the
 * settings module, the database atom's the database module, the model atom of an entity
 * its model module, and so on. Atoms without an entity whose kind has several files are
 * told apart by their file name: an `app` atom named like `*error*.py` is the errors
 * module, the other `app` atom the application; `conftest.py` is the test conftest;
 * `env.py` and `alembic.ini` the migration environment.
 * context_layout_check() reports, against the DAG, what the layout cannot give a working
 * project: a module a generated file needs that no atom writes, a directory of modules
 * without its package atom, targets that are not importable module names, modules that
 * cannot be shared, and two route atoms claiming one endpoint. Nothing here logs.
 */
#include "config.h"

#include <fnmatch.h>
#include <string.h>

#include "context-internal.h"

static const char *base_name(const char *path) {
        const char *slash = strrchr(path, '/');
        return slash ? slash + 1 : path;
}

/* The directory of path ("" for the project root), or NULL on ENOMEM. */
static char *dir_name(const char *path) {
        const char *slash = strrchr(path, '/');
        return slash ? strndup(path, (size_t) (slash - path)) : strdup("");
}

static bool ends_with(const char *s, const char *suffix) {
        size_t a = strlen(s), b = strlen(suffix);
        return a >= b && streq(s + a - b, suffix);
}

static bool is_ident(const char *s, size_t n) {
        if (n == 0 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_'))
                return false;
        for (size_t i = 1; i < n; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
                      (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
                        return false;
        _cleanup_free_ char *w = strndup(s, n);
        return w && !context_is_py_keyword(w);
}

/* The dotted module of a Python target; NULL (errno EINVAL) when the target is not a .py
 * file or, when strict, not an importable module name; or ENOMEM. */
static char *module_name(const char *target, bool strict) {
        if (!ends_with(target, ".py")) {
                errno = EINVAL;
                return NULL;
        }
        char *m = strndup(target, strlen(target) - 3);
        if (!m)
                return NULL;
        if (streq(m, "__init__") || ends_with(m, "/__init__"))
                m[strlen(m) - (streq(m, "__init__") ? 8 : 9)] = '\0';
        for (char *p = m, *seg = m;; p++) {
                if (*p == '/' || *p == '\0') {
                        if (strict && !is_ident(seg, (size_t) (p - seg))) {
                                free(m);
                                errno = EINVAL;
                                return NULL;
                        }
                        if (*p == '\0')
                                break;
                        *p = '.';
                        seg = p + 1;
                }
        }
        return m;
}

static char *module_of(const char *target) {
        return module_name(target, true);
}

static bool is_errors_app(const struct atom *a) {
        return a->kind == AK_APP && fnmatch("*error*.py", base_name(a->target), 0) == 0;
}

/* The authentication module (config.auth api_key or jwt): an app atom like *auth*.py. */
static bool is_auth_app(const struct atom *a) {
        return a->kind == AK_APP && !is_errors_app(a) && fnmatch("*auth*.py", base_name(a->target), 0) == 0;
}

/* The authentication tests: a test atom like *auth*.py. */
static bool is_auth_test(const struct atom *a) {
        return a->kind == AK_TEST && !a->entity && fnmatch("*auth*.py", base_name(a->target), 0) == 0;
}

static bool is_conftest(const struct atom *a) {
        return a->kind == AK_TEST && streq(base_name(a->target), "conftest.py");
}

/* The entity-less atom of a role, by kind and (for app, test, migration) file name. */
static bool has_role(const struct atom *a, enum layout_role role) {
        switch (role) {
        case ROLE_CONFIG:
                return a->kind == AK_CONFIG && ends_with(a->target, ".py");
        case ROLE_DATABASE:
                return a->kind == AK_DATABASE && ends_with(a->target, ".py");
        case ROLE_ERRORS:
                return is_errors_app(a);
        case ROLE_MAIN:
                return a->kind == AK_APP && !is_errors_app(a) && !is_auth_app(a) && ends_with(a->target, ".py");
        case ROLE_AUTH:
                return is_auth_app(a);
        case ROLE_MAKEFILE:
                return a->kind == AK_INFRA && streq(base_name(a->target), "Makefile");
        case ROLE_CONFTEST:
                return is_conftest(a);
        case ROLE_MIGRATION_ENV:
                return a->kind == AK_MIGRATION && streq(base_name(a->target), "env.py");
        case ROLE_ALEMBIC_INI:
                return a->kind == AK_MIGRATION && streq(base_name(a->target), "alembic.ini");
        default:
                return false;
        }
}

static const enum atom_kind entity_role_kind[_ENTITY_ROLE_MAX] = {
        [EROLE_MODEL] = AK_MODEL, [EROLE_SCHEMA] = AK_SCHEMA, [EROLE_VALIDATION] = AK_VALIDATION,
        [EROLE_SERVICE] = AK_SERVICE,
};

void context_layout_clear(struct layout *L) {
        for (size_t i = 0; i < _ROLE_MAX; i++)
                free(L->path[i]);
        for (size_t i = 0; i < _ROLE_MAX; i++)
                free(L->module[i]);
        for (size_t r = 0; r < _ENTITY_ROLE_MAX; r++) {
                for (size_t i = 0; L->emodule[r] && i < L->n_entities; i++)
                        free(L->emodule[r][i]);
                for (size_t i = 0; L->epath[r] && i < L->n_entities; i++)
                        free(L->epath[r][i]);
                free(L->emodule[r]);
                free(L->epath[r]);
        }
        for (size_t i = 0; i < L->n_routes; i++) {
                free(L->routes[i]);
                free(L->route_paths[i]);
        }
        free(L->routes);
        free(L->route_paths);
        free(L->now_like_owner);
        *L = (struct layout) { .n_entities = 0 };
}

static int add_route_module(struct layout *L, const char *m, const char *path) {
        for (size_t i = 0; i < L->n_routes; i++)
                if (streq(L->routes[i], m))
                        return 0;
        char **nv = realloc(L->routes, (L->n_routes + 1) * sizeof(char *));
        if (!nv)
                return -ENOMEM;
        L->routes = nv;
        nv = realloc(L->route_paths, (L->n_routes + 1) * sizeof(char *));
        if (!nv)
                return -ENOMEM;
        L->route_paths = nv;
        L->routes[L->n_routes] = strdup(m);
        L->route_paths[L->n_routes] = strdup(path);
        L->n_routes++;
        return L->routes[L->n_routes - 1] && L->route_paths[L->n_routes - 1] ? 0 : -ENOMEM;
}

int context_layout_init(const struct spec *s, const struct dag *dag, struct layout *L) {
        *L = (struct layout) { .n_entities = s->n_entities };
        for (size_t r = 0; r < _ENTITY_ROLE_MAX; r++)
                if (!(L->emodule[r] = calloc(s->n_entities + 1, sizeof(char *))) ||
                    !(L->epath[r] = calloc(s->n_entities + 1, sizeof(char *))))
                        goto nomem;
        if (!(L->now_like_owner = calloc(s->n_entities + 1, sizeof(bool))))
                goto nomem;
        for (size_t k = 0; dag && k < dag->n_atoms; k++) {
                const struct atom *a = &dag->atoms[dag->order ? dag->order[k] : k];
                const struct entity *e = a->entity ? spec_find_entity(s, a->entity) : NULL;
                /* a target that is no module name is reported once, by the check */
                _cleanup_free_ char *m = module_name(a->target, false);
                if (!m && errno == ENOMEM)
                        goto nomem;
                for (int role = 0; role < _ROLE_MAX; role++)
                        if (!e && !L->path[role] && has_role(a, (enum layout_role) role)) {
                                if (!(L->path[role] = strdup(a->target)))
                                        goto nomem;
                                if (m && !(L->module[role] = strdup(m)))
                                        goto nomem;
                        }
                if (!e || !m)
                        continue;
                size_t ei = (size_t) (e - s->entities);
                if (a->kind == AK_ROUTE) {
                        if (add_route_module(L, m, a->target) < 0)
                                goto nomem;
                        continue;
                }
                for (int r = 0; r < _ENTITY_ROLE_MAX; r++)
                        if (entity_role_kind[r] == a->kind && !L->emodule[r][ei] &&
                            (!(L->emodule[r][ei] = strdup(m)) || !(L->epath[r][ei] = strdup(a->target))))
                                goto nomem;
        }
        /* helpers a validation module defines once, in its first entity that needs them */
        for (size_t i = 0; i < s->n_entities; i++) {
                const char *vm = L->emodule[EROLE_VALIDATION][i];
                bool dates = false, taken = false;
                for (size_t j = 0; j < s->n_rules; j++)
                        dates = dates || (streq_ptr(s->rules[j].entity, s->entities[i].name) &&
                                          (s->rules[j].kind == RULE_NOT_IN_PAST ||
                                           s->rules[j].kind == RULE_NOT_IN_FUTURE));
                for (size_t j = 0; j < i && vm && dates; j++)
                        taken = taken || (L->now_like_owner[j] &&
                                          streq_ptr(L->emodule[EROLE_VALIDATION][j], vm));
                L->now_like_owner[i] = dates && !taken;
        }
        return 0;
nomem:
        context_layout_clear(L);
        return -ENOMEM;
}

const char *context_layout_emodule(const struct layout *L, enum entity_role r,
                                   const struct spec *s, const struct entity *e) {
        return L->emodule[r][e - s->entities];
}

/* `from a.b import c as alias`, or `import c as alias` for a top-level module. */
int context_imp_module(struct imports *im, const char *module, const char *alias) {
        if (!module)
                return 0;
        const char *dot = strrchr(module, '.');
        _cleanup_free_ char *line = NULL;
        if (!dot)
                line = streq(module, alias) ? strf("import %s", module)
                                            : strf("import %s as %s", module, alias);
        else if (streq(dot + 1, alias))
                line = strf("from %.*s import %s", (int) (dot - module), module, dot + 1);
        else
                line = strf("from %.*s import %s as %s", (int) (dot - module), module, dot + 1, alias);
        if (!line)
                return -ENOMEM;
        return context_imp_plain(im, IMP_LOCAL, line);
}

int context_imp_local(struct imports *im, const char *module, const char *name) {
        return module ? context_imp_from(im, IMP_LOCAL, module, name) : 0;
}

/* ---- validation ---- */

static const char *const role_what[_ROLE_MAX] = {
        [ROLE_CONFIG] = "a config atom writing the settings module (a .py target)",
        [ROLE_DATABASE] = "a database atom writing the database module (a .py target)",
        [ROLE_ERRORS] = "an app atom writing the errors module (a target named *error*.py)",
        [ROLE_MAIN] = "an app atom writing the application module (a .py target)",
        [ROLE_CONFTEST] = "a test atom writing the test fixtures (a target named conftest.py)",
        [ROLE_MIGRATION_ENV] = "a migration atom writing the Alembic environment (env.py)",
        [ROLE_ALEMBIC_INI] = "a migration atom writing alembic.ini",
        [ROLE_AUTH] = "an app atom writing the authentication module (a target named *auth*.py)",
        [ROLE_MAKEFILE] = "an infra atom writing the Makefile",
};

static const char *const erole_name[_ENTITY_ROLE_MAX] = {
        [EROLE_MODEL] = "model", [EROLE_SCHEMA] = "schema", [EROLE_VALIDATION] = "validation",
        [EROLE_SERVICE] = "service",
};

struct checker {
        const struct spec *s;
        const struct dag *dag;
        const struct layout *L;
        const char *file;
        struct diags *d;
};

static int at(struct checker *c, const struct atom *a, const char *fmt, ...) _printf_(3, 4);
static int at(struct checker *c, const struct atom *a, const char *fmt, ...) {
        char path[64];
        va_list ap;
        _cleanup_free_ char *msg = NULL;
        snprintf(path, sizeof(path), "atoms[%zu]", (size_t) (a - c->dag->atoms));
        va_start(ap, fmt);
        int n = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (n < 0)
                return -ENOMEM;
        return diags_add(c->d, c->file, a->pos.line, a->pos.column, path, "%s", msg);
}

static int need_role(struct checker *c, const struct atom *a, enum layout_role role) {
        if (c->L->path[role])
                return 0;
        return at(c, a, "atom '%s' needs %s, which the DAG does not have", a->id, role_what[role]);
}

static int need_erole(struct checker *c, const struct atom *a, enum entity_role r,
                      const struct entity *e) {
        if (context_layout_emodule(c->L, r, c->s, e))
                return 0;
        return at(c, a, "atom '%s' needs the %s module of '%s': add a %s atom with entity '%s'",
                  a->id, erole_name[r], e->name, erole_name[r], e->name);
}

static int need_all(struct checker *c, const struct atom *a, enum entity_role r) {
        for (size_t i = 0; i < c->s->n_entities; i++)
                TRY(need_erole(c, a, r, &c->s->entities[i]));
        return 0;
}

static bool entity_has_rules(const struct spec *s, const struct entity *e) {
        for (size_t i = 0; i < s->n_rules; i++)
                if (streq_ptr(s->rules[i].entity, e->name) && s->rules[i].kind != RULE_CUSTOM)
                        return true;
        return false;
}

/* What the file of atom a imports, by role. */
static int check_needs(struct checker *c, const struct atom *a, const struct entity *e) {
        const char *base = base_name(a->target);
        switch (a->kind) {
        case AK_DATABASE:
                return need_role(c, a, ROLE_CONFIG);
        case AK_MODEL:
                return need_role(c, a, ROLE_DATABASE);
        case AK_SCHEMA:
                return e ? need_erole(c, a, EROLE_MODEL, e) : 0;
        case AK_VALIDATION:
                TRY(need_role(c, a, ROLE_ERRORS));
                if (e) {
                        for (size_t i = 0; i < c->s->n_rules; i++) {
                                const struct rule *r = &c->s->rules[i];
                                const struct field *f = r->kind == RULE_EXISTS && streq_ptr(r->entity, e->name)
                                                                ? entity_find_field(e, r->field) : NULL;
                                const struct entity *t = f ? spec_find_entity(c->s, f->target) : NULL;
                                if (t)
                                        TRY(need_erole(c, a, EROLE_MODEL, t));
                        }
                        return need_erole(c, a, EROLE_MODEL, e);
                }
                return 0;
        case AK_SERVICE:
                TRY(need_role(c, a, ROLE_ERRORS));
                if (!e)
                        return 0;
                TRY(need_erole(c, a, EROLE_MODEL, e));
                TRY(need_erole(c, a, EROLE_SCHEMA, e));
                return need_erole(c, a, EROLE_VALIDATION, e);
        case AK_ROUTE:
                TRY(need_role(c, a, ROLE_DATABASE));
                TRY(need_role(c, a, ROLE_ERRORS));
                if (!e)
                        return 0;
                for (size_t i = 0; i < c->s->n_endpoints; i++)
                        if (context_route_claims(a, &c->s->endpoints[i]) &&
                            spec_endpoint_needs_auth(c->s, &c->s->endpoints[i])) {
                                TRY(need_role(c, a, ROLE_AUTH));
                                break;
                        }
                TRY(need_erole(c, a, EROLE_SCHEMA, e));
                return need_erole(c, a, EROLE_SERVICE, e);
        case AK_APP:
                if (is_errors_app(a))
                        return 0;
                if (is_auth_app(a))
                        return c->s->auth == AUTH_NONE
                                       ? at(c, a, "atom '%s' writes an authentication module, but the spec's config.auth is none: set it to api_key or jwt, or drop the atom",
                                            a->id)
                                       : need_role(c, a, ROLE_CONFIG);
                TRY(need_role(c, a, ROLE_CONFIG));
                TRY(need_role(c, a, ROLE_DATABASE));
                TRY(need_role(c, a, ROLE_ERRORS));
                return need_all(c, a, EROLE_MODEL);
        case AK_MIGRATION:
                if (streq(base, "env.py")) {
                        TRY(need_role(c, a, ROLE_CONFIG));
                        return need_all(c, a, EROLE_MODEL);
                }
                if (streq(base, "alembic.ini"))
                        return need_role(c, a, ROLE_MIGRATION_ENV);
                return 0;
        case AK_TEST:
                if (is_conftest(a)) {
                        if (c->s->auth != AUTH_NONE)
                                TRY(need_role(c, a, ROLE_AUTH));
                        TRY(need_role(c, a, ROLE_CONFIG));
                        TRY(need_role(c, a, ROLE_DATABASE));
                        TRY(need_role(c, a, ROLE_MAIN));
                        TRY(need_all(c, a, EROLE_MODEL));
                        TRY(need_all(c, a, EROLE_SCHEMA));
                        return need_all(c, a, EROLE_SERVICE);
                }
                if (is_auth_test(a) && c->s->auth == AUTH_NONE)
                        return at(c, a, "atom '%s' writes authentication tests, but the spec's config.auth is none: set it to api_key or jwt, or drop the atom",
                                  a->id);
                TRY(need_role(c, a, ROLE_CONFTEST));
                if (is_auth_test(a))
                        return need_role(c, a, ROLE_AUTH);
                if (!e && fnmatch("*model*", base, 0) == 0)
                        return need_all(c, a, EROLE_MODEL);
                for (size_t i = 0; !e && i < c->s->n_entities; i++)
                        if (entity_has_rules(c->s, &c->s->entities[i]))
                                TRY(need_erole(c, a, EROLE_VALIDATION, &c->s->entities[i]));
                return 0;
        case AK_DOC:
        case AK_INFRA:
                return ends_with(a->target, ".md") || streq(base, "Dockerfile") ||
                                       streq(base, "docker-compose.yml") || streq(base, "Makefile")
                               ? need_role(c, a, ROLE_MAIN)
                               : 0;
        default:
                return 0;
        }
}

static bool is_package_target(const struct dag *dag, const char *dir) {
        _cleanup_free_ char *init = strf("%s/__init__.py", dir);
        for (size_t i = 0; init && i < dag->n_atoms; i++)
                if (streq(dag->atoms[i].target, init))
                        return true;
        return false;
}

/* Every directory above a module (but the migration environment's) is a package. */
static int check_packages(struct checker *c, const struct atom *a) {
        _cleanup_free_ char *dir = dir_name(a->target);
        _cleanup_free_ char *mig = c->L->path[ROLE_MIGRATION_ENV] ? dir_name(c->L->path[ROLE_MIGRATION_ENV]) : NULL;
        if (!dir)
                return -ENOMEM;
        if (a->kind == AK_MIGRATION || (mig && *mig && strncmp(a->target, mig, strlen(mig)) == 0 &&
                                        a->target[strlen(mig)] == '/'))
                return 0;
        while (*dir) {
                if (!is_package_target(c->dag, dir))
                        return at(c, a, "atom '%s' writes a module in '%s', which is not a package: add a package atom with target '%s/__init__.py'",
                                  a->id, dir, dir);
                char *slash = strrchr(dir, '/');
                if (!slash)
                        break;
                *slash = '\0';
        }
        return 0;
}

static bool claims(const struct atom *a, const struct endpoint *ep) {
        if (!streq_ptr(a->entity, ep->entity) || ep->op == OP_CUSTOM)
                return false;
        return !a->operation || streq(a->operation, op_kind_name(ep->op));
}

static int check_routes(struct checker *c, const struct atom *a) {
        for (size_t i = 0; i < c->s->n_endpoints; i++) {
                const struct endpoint *ep = &c->s->endpoints[i];
                if (!claims(a, ep))
                        continue;
                for (const struct atom *o = c->dag->atoms; o < a; o++)
                        if (o->kind == AK_ROUTE && claims(o, ep))
                                return at(c, a, "route atom '%s' claims the endpoint %s %s of '%s' that atom '%s' already writes",
                                          a->id, op_kind_name(ep->op), ep->path ? ep->path : "", ep->entity, o->id);
        }
        return 0;
}

static bool is_layer(enum atom_kind k) {
        return k == AK_MODEL || k == AK_SCHEMA || k == AK_VALIDATION || k == AK_SERVICE || k == AK_ROUTE;
}

/* Kinds whose modules hold one entity each: their helpers have fixed names. A module
 * holds one layer: the layers import each other. */
static int check_sharing(struct checker *c, const struct atom *a) {
        for (const struct atom *o = c->dag->atoms; is_layer(a->kind) && o < a; o++)
                if (is_layer(o->kind) && o->kind != a->kind && streq(o->target, a->target))
                        return at(c, a, "%s atom '%s' shares the target '%s' with %s atom '%s': give each layer its own module",
                                  atom_kind_name(a->kind), a->id, a->target, atom_kind_name(o->kind), o->id);
        if (a->kind != AK_SERVICE && !(a->kind == AK_TEST && a->entity))
                return 0;
        for (const struct atom *o = c->dag->atoms; o < a; o++)
                if (o->kind == a->kind && streq(o->target, a->target) && o->entity &&
                    !streq_ptr(o->entity, a->entity))
                        return at(c, a, "%s atoms '%s' and '%s' share the target '%s': the bank writes one %s module per entity",
                                  atom_kind_name(a->kind), o->id, a->id, a->target, atom_kind_name(a->kind));
        return 0;
}

int context_layout_check(const struct spec *spec, const struct dag *dag, const char *file,
                         struct diags *d) {
        struct layout L;
        size_t before = d->n + d->dropped;
        int r = context_layout_init(spec, dag, &L);
        if (r < 0)
                return r;
        struct checker c = { .s = spec, .dag = dag, .L = &L, .file = file, .d = d };
        for (size_t i = 0; r >= 0 && i < dag->n_atoms; i++) {
                const struct atom *a = &dag->atoms[i];
                const struct entity *e = a->entity ? spec_find_entity(spec, a->entity) : NULL;
                bool python = ends_with(a->target, ".py");
                if (python && a->kind != AK_MIGRATION) {
                        _cleanup_free_ char *m = module_of(a->target);
                        if (!m && errno == ENOMEM)
                                r = -ENOMEM;
                        else if (!m)
                                r = at(&c, a, "atom '%s' writes '%s', which is not an importable module name (each part a Python identifier, not a keyword)",
                                       a->id, a->target);
                        else
                                r = check_packages(&c, a);
                }
                if (r >= 0 && !python && (a->kind == AK_MODEL || a->kind == AK_SCHEMA ||
                                          a->kind == AK_VALIDATION || a->kind == AK_SERVICE ||
                                          a->kind == AK_ROUTE || a->kind == AK_DATABASE ||
                                          (a->kind == AK_APP)))
                        r = at(&c, a, "%s atom '%s' must write a Python module (a target ending in .py), not '%s'",
                               atom_kind_name(a->kind), a->id, a->target);
                if (r >= 0)
                        r = check_needs(&c, a, e);
                if (r >= 0 && a->kind == AK_ROUTE)
                        r = check_routes(&c, a);
                if (r >= 0)
                        r = check_sharing(&c, a);
        }
        const char *ini = L.path[ROLE_ALEMBIC_INI], *env = L.path[ROLE_MIGRATION_ENV];
        if (r >= 0 && ini && env) {
                _cleanup_free_ char *idir = dir_name(ini), *edir = dir_name(env);
                if (!idir || !edir)
                        r = -ENOMEM;
                else if (*idir && !streq(idir, edir) &&
                         !(strncmp(edir, idir, strlen(idir)) == 0 && edir[strlen(idir)] == '/')) {
                        for (size_t i = 0; i < dag->n_atoms; i++)
                                if (streq(dag->atoms[i].target, ini))
                                        r = at(&c, &dag->atoms[i], "alembic.ini ('%s') must be in the directory of env.py ('%s') or above it",
                                               ini, env);
                }
        }
        for (int role = 0; r >= 0 && role < _ROLE_MAX; role++)
                for (size_t i = 0; r >= 0 && i < dag->n_atoms; i++) {
                        const struct atom *a = &dag->atoms[i];
                        if (!a->entity && has_role(a, (enum layout_role) role) &&
                            !streq(a->target, L.path[role]))
                                r = at(&c, a, "atom '%s' writes a second %s module ('%s'; the first is '%s')",
                                       a->id, atom_kind_name(a->kind), a->target, L.path[role]);
                }
        for (size_t i = 0; r >= 0 && i < dag->n_atoms; i++) {
                const struct atom *a = &dag->atoms[i];
                const struct entity *e = a->entity ? spec_find_entity(spec, a->entity) : NULL;
                for (int er = 0; r >= 0 && e && er < _ENTITY_ROLE_MAX; er++) {
                        const char *m = context_layout_emodule(&L, (enum entity_role) er, spec, e);
                        _cleanup_free_ char *mine = module_of(a->target);
                        if (entity_role_kind[er] == a->kind && m && mine && !streq(m, mine))
                                r = at(&c, a, "atom '%s' writes a second %s module of '%s' ('%s')",
                                       a->id, erole_name[er], e->name, a->target);
                }
        }
        context_layout_clear(&L);
        if (r < 0)
                return r;
        return d->n + d->dropped > before ? -EINVAL : 0;
}

/* ---- package atoms ---- */

/* Whether module is directly inside package (a.b.c in a.b; c in the root ""). */
static bool is_child(const char *module, const char *package) {
        const char *dot = strrchr(module, '.');
        if (!*package)
                return !dot;
        size_t n = strlen(package);
        return dot && (size_t) (dot - module) == n && strncmp(module, package, n) == 0;
}

/* The names a package re-exports: the classes of its modules when they all hold models
 * (or all schemas); other packages (mixed ones in particular, which their own modules
 * import from) re-export nothing, so that importing one module never imports the rest. */
static int package_exports(const struct spec *s, const struct dag *dag, const struct layout *L,
                           const char *pkg, struct node *reexports, struct node *all) {
        enum atom_kind kind = _AK_MAX;
        for (size_t i = 0; i < dag->n_atoms; i++) {
                const struct atom *a = &dag->atoms[i];
                _cleanup_free_ char *m = module_of(a->target);
                if (!m && errno == ENOMEM)
                        return -ENOMEM;
                if (!m || !is_child(m, pkg) || a->kind == AK_PACKAGE)
                        continue;
                if ((a->kind != AK_MODEL && a->kind != AK_SCHEMA) || (kind != _AK_MAX && kind != a->kind))
                        return 0;
                kind = a->kind;
        }
        if (kind == _AK_MAX)
                return 0;
        enum entity_role role = kind == AK_MODEL ? EROLE_MODEL : EROLE_SCHEMA;
        for (size_t i = 0; i < s->n_entities; i++) {
                const char *m = L->emodule[role][i];
                if (!m || !is_child(m, pkg))
                        continue;
                _cleanup_free_ char *cls = context_class_name_of(&s->entities[i]);
                if (!cls)
                        return -ENOMEM;
                _cleanup_node_ struct node *x = node_new_map();
                _cleanup_free_ char *names = role == EROLE_MODEL ? strdup(cls)
                                                                 : strf("%sCreate, %sRead, %sUpdate", cls, cls, cls);
                const char *dot = strrchr(m, '.');
                if (!x || !names)
                        return -ENOMEM;
                TRY(put_str(x, "module", dot ? dot + 1 : m));
                TRY(put_str(x, "names", names));
                TRY(node_seq_append(reexports, TAKE_PTR(x)));
                for (char *p = names, *tok; (tok = strsep(&p, ",")); )
                        TRY(append_str(all, tok + strspn(tok, " ")));
        }
        return 0;
}

int context_package_ctx(const struct spec *s, const struct dag *dag, const struct layout *L,
                        const struct atom *a, struct node **ret) {
        _cleanup_node_ struct node *m = node_new_map(), *re = node_new_seq(), *all = node_new_seq();
        _cleanup_free_ char *pkg = module_of(a->target);
        if (!m || !re || !all || (!pkg && errno == ENOMEM))
                return -ENOMEM;
        TRY(put_str(m, "module", pkg ? pkg : ""));
        TRY(put_bool(m, "top_level", pkg && !strchr(pkg, '.')));
        if (pkg)
                TRY(package_exports(s, dag, L, pkg, re, all));
        TRY(mark_last(re));
        TRY(put_bool(m, "has_reexports", re->n > 0));
        TRY(put(m, "reexports", TAKE_PTR(re)));
        TRY(put(m, "all", TAKE_PTR(all)));
        *ret = TAKE_PTR(m);
        return 0;
}
