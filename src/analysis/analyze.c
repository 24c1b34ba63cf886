/* analyze.c - measure a generated project: classification, LOC, syntax, quality, criteria.
 *
 * Interface: analyze.h; definitions: docs/metrics.md. Everything about Python syntax is
 * the pyast module's (pyast*.c: decoding, tokenizer checks, tree-sitter); this file only
 * classifies files, counts lines, sums files into the metrics map and walks directory
 * trees.
 * Diagnostics: none of its own; syntax errors are data (struct py_errors), failures are
 * negative errnos.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analyze.h"
#include "shared/fs.h"
#include "shared/macro.h"

/* ---- classification ---- */

static bool has_prefix(const char *s, const char *p) {
        return strncmp(s, p, strlen(p)) == 0;
}

static bool has_suffix_ci(const char *s, const char *suffix) {
        size_t l = strlen(s), k = strlen(suffix);
        return l >= k && strcasecmp(s + l - k, suffix) == 0;
}

static const char *basename_of(const char *path) {
        const char *s = strrchr(path, '/');
        return s ? s + 1 : path;
}

enum file_class file_class_of(const char *relpath) {
        static const char *const config_ext[] = { ".yml", ".yaml", ".toml", ".ini", ".cfg", ".txt" };
        const char *base = basename_of(relpath);
        if (streq(base, "alembic.ini") || (has_prefix(relpath, "migrations/") && has_suffix_ci(relpath, ".py")))
                return FILE_CLASS_MIGRATION;
        if (has_suffix_ci(relpath, ".py"))
                return FILE_CLASS_PYTHON;
        if (has_suffix_ci(relpath, ".md"))
                return FILE_CLASS_MARKDOWN;
        if (has_prefix(base, "Dockerfile") || has_prefix(base, ".env") || streq(base, ".gitignore") ||
            streq(base, ".dockerignore"))
                return FILE_CLASS_CONFIG;
        for (size_t i = 0; i < ELEMENTSOF(config_ext); i++)
                if (has_suffix_ci(base, config_ext[i]))
                        return FILE_CLASS_CONFIG;
        return FILE_CLASS_OTHER;
}

enum loc_category loc_category_of(const char *relpath) {
        static const struct {
                const char *prefix;
                enum loc_category cat;
        } table[] = {
                { "src/models/", LOC_MODELS },       { "src/api/routes/", LOC_ROUTES },
                { "src/api/schemas/", LOC_SCHEMAS }, { "src/validations/", LOC_VALIDATIONS },
                { "tests/", LOC_TESTS },             { "migrations/", LOC_MIGRATIONS },
        };
        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (has_prefix(relpath, table[i].prefix))
                        return table[i].cat;
        return streq(basename_of(relpath), "alembic.ini") ? LOC_MIGRATIONS : LOC_OTHER;
}

const char *file_class_name(enum file_class c) {
        static const char *const names[_FILE_CLASS_MAX] = { "python", "migration", "config", "markdown", "other" };
        return c < _FILE_CLASS_MAX ? names[c] : "other";
}

const char *loc_category_name(enum loc_category c) {
        static const char *const names[_LOC_CATEGORY_MAX] = {
                "models", "routes", "schemas", "validations", "tests", "migrations", "other",
        };
        return c < _LOC_CATEGORY_MAX ? names[c] : "other";
}

unsigned long count_loc(const char *data, size_t len) {
        unsigned long loc = 0;
        bool content = false;
        for (size_t i = 0; i < len; i++) {
                char c = data[i];
                if (c == '\n') {
                        loc += content;
                        content = false;
                } else if (!strchr(" \t\r\f\v", c) || c == '\0')
                        content = true;
        }
        return loc + content;
}

/* ---- one file ---- */

void file_metrics_clear(struct file_metrics *m) {
        free(m->relpath);
        py_errors_done(&m->errors);
        py_facts_clear(&m->facts);
        memset(m, 0, sizeof(*m));
}

int analyze_source(const char *relpath, const char *data, size_t len, struct file_metrics *ret) {
        return analyze_source_for(relpath, data, len, 0, ret);
}

int analyze_source_for(const char *relpath, const char *data, size_t len, unsigned minor,
                       struct file_metrics *ret) {
        struct file_metrics m = {
                .cls = file_class_of(relpath),
                .category = loc_category_of(relpath),
                .python = has_suffix_ci(relpath, ".py"),
        };

        if (!data)
                data = "", len = 0;
        py_errors_init(&m.errors);
        if (!(m.relpath = strdup(relpath)))
                return -ENOMEM;
        if (m.python) {
                int r = len > ANALYZE_FILE_MAX ? -EFBIG
                                               : pyast_check_source(data, len, minor, &m.errors, &m.facts);
                py_errors_done(&m.errors);
                if (r < 0) {
                        file_metrics_clear(&m);
                        return r;
                }
        } else
                m.binary = memchr(data, '\0', len) != NULL;
        m.loc = m.binary ? 0 : count_loc(data, len);
        *ret = m;
        return 0;
}

int analyze_errors_to_node(const struct file_metrics *m, struct node **ret) {
        _cleanup_node_ struct node *list = node_new_seq();
        if (!list)
                return -ENOMEM;
        for (size_t i = 0; i < m->errors.n; i++) {
                const struct py_error *pe = &m->errors.v[i];
                struct node *e = node_new_map();
                if (!e || node_seq_append(list, e) < 0)
                        return -ENOMEM;
                if (node_map_set_int(e, "line", pe->line) < 0 ||
                    node_map_set_int(e, "column", pe->column) < 0 ||
                    node_map_set_string(e, "message", pe->message) < 0 ||
                    node_map_set_string(e, "excerpt", pe->excerpt) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(list);
        return 0;
}

/* ---- many files ---- */

#define MAX_DISTINCT 10000 /* ORM classes and routes remembered for matching */

struct route_key {
        char method[8];
        char *path; /* normalized, see norm_path() */
};

struct totals {
        unsigned long files, by_class[_FILE_CLASS_MAX];
        unsigned long loc, loc_by[_LOC_CATEGORY_MAX];
        unsigned long errors, files_with_errors;
        unsigned long functions, annotated, doc_candidates, docstrings;
        unsigned long try_blocks, raises, http, exception_handlers;
        /* handling modules without a try, raise or HTTPException of their own: route
         * modules (a registered exception handler answers for them) and services */
        unsigned long handling_modules, handling_missing, handling_missing_routes;
        char **classes;
        size_t n_classes;
        struct route_key *routes;
        size_t n_routes;
};

static void totals_clear(struct totals *t) {
        for (size_t i = 0; i < t->n_classes; i++)
                free(t->classes[i]);
        free(t->classes);
        for (size_t i = 0; i < t->n_routes; i++)
                free(t->routes[i].path);
        free(t->routes);
}

/* "/users/{user_id}/" -> "/users/{}": leading slash, no trailing slash, parameters unnamed. */
static char *norm_path(const char *prefix, const char *path) {
        size_t pl = strlen(prefix), l = strlen(path);
        char *o = malloc(pl + l + 3), *p = o;
        if (!o)
                return NULL;
        *p++ = '/';
        for (int part = 0; part < 2; part++) {
                const char *s = part == 0 ? prefix : path;
                while (*s) {
                        if (*s == '/') {
                                if (p[-1] != '/')
                                        *p++ = '/';
                                s++;
                        } else if (*s == '{' && strchr(s, '}')) {
                                *p++ = '{';
                                *p++ = '}';
                                s = strchr(s, '}') + 1;
                        } else
                                *p++ = *s++;
                }
                if (part == 0 && p[-1] != '/')
                        *p++ = '/';
        }
        if (p - o > 1 && p[-1] == '/')
                p--;
        *p = '\0';
        return o;
}

static bool is_handling_module(const struct file_metrics *m) {
        return m->python && (m->category == LOC_ROUTES || has_prefix(m->relpath, "src/services/")) &&
               m->facts.functions > 0;
}

static int totals_add(struct totals *t, const struct file_metrics *m) {
        const struct py_facts *f = &m->facts;
        t->files++;
        t->by_class[m->cls < _FILE_CLASS_MAX ? m->cls : FILE_CLASS_OTHER]++;
        t->loc += m->loc;
        t->loc_by[m->category < _LOC_CATEGORY_MAX ? m->category : LOC_OTHER] += m->loc;
        if (!m->python)
                return 0;
        t->errors += m->errors.count;
        t->files_with_errors += m->errors.count > 0;
        t->functions += f->functions;
        t->annotated += f->annotated;
        t->doc_candidates += f->doc_candidates;
        t->docstrings += f->docstrings;
        t->try_blocks += f->try_blocks;
        t->raises += f->raises;
        t->http += f->http_exceptions;
        t->exception_handlers += f->exception_handlers;
        if (is_handling_module(m)) {
                bool none = f->try_blocks + f->raises + f->http_exceptions == 0;
                t->handling_modules++;
                if (m->category == LOC_ROUTES)
                        t->handling_missing_routes += none;
                else
                        t->handling_missing += none;
        }
        for (size_t i = 0; i < f->n_orm_classes && t->n_classes < MAX_DISTINCT; i++) {
                bool seen = false;
                for (size_t j = 0; j < t->n_classes && !seen; j++)
                        seen = streq(t->classes[j], f->orm_classes[i]);
                if (seen)
                        continue;
                char **nv = realloc(t->classes, (t->n_classes + 1) * sizeof(*nv));
                if (!nv)
                        return -ENOMEM;
                t->classes = nv;
                if (!(t->classes[t->n_classes] = strdup(f->orm_classes[i])))
                        return -ENOMEM;
                t->n_classes++;
        }
        for (size_t i = 0; i < f->n_routes && t->n_routes < MAX_DISTINCT; i++) {
                _cleanup_free_ char *p = norm_path("", f->routes[i].path);
                if (!p)
                        return -ENOMEM;
                bool seen = false;
                for (size_t j = 0; j < t->n_routes && !seen; j++)
                        seen = streq(t->routes[j].method, f->routes[i].method) && streq(t->routes[j].path, p);
                if (seen)
                        continue;
                struct route_key *nv = realloc(t->routes, (t->n_routes + 1) * sizeof(*nv));
                if (!nv)
                        return -ENOMEM;
                t->routes = nv;
                memcpy(t->routes[t->n_routes].method, f->routes[i].method, sizeof(nv->method));
                t->routes[t->n_routes].path = TAKE_PTR(p);
                t->n_routes++;
        }
        return 0;
}

static double round4(double v) {
        return round(v * 10000.0) / 10000.0;
}

static double ratio(unsigned long num, unsigned long den) {
        return den ? round4((double) num / (double) den) : 0.0;
}

/* A plain decimal with at most 4 places and at least one: 0.0, 0.95, 0.0031. */
static struct node *node_new_decimal(double v) {
        char buf[64];
        snprintf(buf, sizeof(buf), "%.4f", v);
        size_t l = strlen(buf);
        while (l > 0 && buf[l - 1] == '0' && buf[l - 2] != '.')
                buf[--l] = '\0';
        return node_new_scalar(buf, false);
}

static bool entity_found(const struct totals *t, const char *name) {
        for (size_t i = 0; i < t->n_classes; i++)
                if (streq(t->classes[i], name))
                        return true;
        return false;
}

static int endpoint_found(const struct totals *t, const struct spec *spec, const struct endpoint *ep,
                          bool *ret) {
        _cleanup_free_ char *plain = norm_path("", ep->path ? ep->path : "");
        _cleanup_free_ char *full = norm_path(spec->api_prefix ? spec->api_prefix : "", ep->path ? ep->path : "");
        if (!plain || !full)
                return -ENOMEM;
        *ret = false;
        for (size_t i = 0; i < t->n_routes && !*ret; i++)
                *ret = ep->method && strcasecmp(t->routes[i].method, ep->method) == 0 &&
                       (streq(t->routes[i].path, plain) || streq(t->routes[i].path, full));
        return 0;
}

/* {k1: v1, k2: v2}; takes ownership of both values, NULL on ENOMEM. */
static struct node *pair(const char *k1, struct node *v1, const char *k2, struct node *v2) {
        struct node *m = node_new_map();
        if (!m) {
                node_free(v1);
                node_free(v2);
                return NULL;
        }
        if (node_map_set(m, k1, v1) < 0) {
                node_free(v2);
                node_free(m);
                return NULL;
        }
        if (node_map_set(m, k2, v2) < 0) {
                node_free(m);
                return NULL;
        }
        return m;
}

static int totals_to_node(const struct totals *t, const struct spec *spec,
                          const struct analyze_thresholds *th, struct node **ret) {
        const struct analyze_thresholds def = ANALYZE_THRESHOLDS_DEFAULT;
        if (!th)
                th = &def;

        unsigned long ent_expected = 0, ent_found = 0, ep_expected = 0, ep_found = 0;
        if (spec) {
                ent_expected = spec->n_entities;
                for (size_t i = 0; i < spec->n_entities; i++)
                        ent_found += spec->entities[i].name && entity_found(t, spec->entities[i].name);
                ep_expected = spec->n_endpoints;
                for (size_t i = 0; i < spec->n_endpoints; i++) {
                        bool found;
                        int r = endpoint_found(t, spec, &spec->endpoints[i], &found);
                        if (r < 0)
                                return r;
                        ep_found += found;
                }
        } else {
                ent_found = t->n_classes;
                ep_found = t->n_routes;
        }
        double type_cov = ratio(t->annotated, t->functions);
        double doc_cov = ratio(t->docstrings, t->doc_candidates);
        double rate = ratio(t->errors, t->loc);
        bool handling = t->handling_modules > 0
                                ? t->handling_missing == 0 &&
                                          (t->handling_missing_routes == 0 || t->exception_handlers > 0)
                                : t->try_blocks + t->raises + t->http > 0;

        _cleanup_node_ struct node *root = node_new_map();
        if (!root)
                return -ENOMEM;

        struct node *by_class = node_new_map();
        if (node_map_set(root, "files", pair("total", node_new_int((long long) t->files), "by_type", by_class)) < 0)
                return -ENOMEM;
        for (int c = 0; c < _FILE_CLASS_MAX; c++)
                if (node_map_set_int(by_class, file_class_name(c), (long long) t->by_class[c]) < 0)
                        return -ENOMEM;

        struct node *by_cat = node_new_map();
        if (node_map_set(root, "loc", pair("total", node_new_int((long long) t->loc), "by_type", by_cat)) < 0)
                return -ENOMEM;
        for (int c = 0; c < _LOC_CATEGORY_MAX; c++)
                if (node_map_set_int(by_cat, loc_category_name(c), (long long) t->loc_by[c]) < 0)
                        return -ENOMEM;

        struct node *syntax = node_new_map();
        if (node_map_set(root, "syntax", syntax) < 0 ||
            node_map_set_int(syntax, "errors", (long long) t->errors) < 0 ||
            node_map_set_int(syntax, "files_with_errors", (long long) t->files_with_errors) < 0 ||
            node_map_set(syntax, "rate", node_new_decimal(rate)) < 0)
                return -ENOMEM;

        struct node *q = node_new_map(), *eh = node_new_map();
        if (node_map_set(root, "quality", q) < 0 ||
            node_map_set(q, "type_hint_coverage", node_new_decimal(type_cov)) < 0 ||
            node_map_set(q, "docstring_coverage", node_new_decimal(doc_cov)) < 0 ||
            node_map_set_int(q, "functions", (long long) t->functions) < 0 ||
            node_map_set(q, "error_handling", eh) < 0 ||
            node_map_set_int(eh, "try_blocks", (long long) t->try_blocks) < 0 ||
            node_map_set_int(eh, "raise_statements", (long long) t->raises) < 0 ||
            node_map_set_int(eh, "http_exceptions", (long long) t->http) < 0 ||
            node_map_set_int(eh, "exception_handlers", (long long) t->exception_handlers) < 0 ||
            node_map_set(q, "entities", pair("expected", node_new_int((long long) ent_expected),
                                             "found", node_new_int((long long) ent_found))) < 0 ||
            node_map_set(q, "endpoints", pair("expected", node_new_int((long long) ep_expected),
                                              "found", node_new_int((long long) ep_found))) < 0)
                return -ENOMEM;

        struct node *sc = node_new_map();
        if (node_map_set(root, "success_criteria", sc) < 0 ||
            node_map_set_bool(sc, "loc_at_least_1000", t->loc >= th->loc_min) < 0 ||
            node_map_set_bool(sc, "entities_and_endpoints", ent_found >= ent_expected && ep_found >= ep_expected) < 0 ||
            node_map_set_bool(sc, "type_hints", t->functions > 0 && type_cov >= th->type_hints_min) < 0 ||
            node_map_set_bool(sc, "docstrings", t->doc_candidates > 0 && doc_cov >= th->docstrings_min) < 0 ||
            node_map_set_bool(sc, "error_handling", handling) < 0 ||
            node_map_set_bool(sc, "syntax_clean", t->errors <= th->syntax_errors_max) < 0)
                return -ENOMEM;

        *ret = TAKE_PTR(root);
        return 0;
}

const char *analyze_python_version(unsigned python_minor, char buf[static 8]) {
        snprintf(buf, 8, "3.%u", (python_minor ? python_minor : PY_MINOR_DEFAULT) % 100);
        return buf;
}

int analyze_parse_python_version(const char *text, unsigned *ret_minor) {
        if (!text || strncmp(text, "3.", 2) != 0 || text[2] < '0' || text[2] > '9' || strlen(text) > 4)
                return -EINVAL;
        char *end;
        unsigned long m = strtoul(text + 2, &end, 10);
        if (*end || m < PY_MINOR_MIN || m > PY_MINOR_MAX)
                return -EINVAL;
        *ret_minor = (unsigned) m;
        return 0;
}

int analyze_thresholds_to_node(const struct analyze_thresholds *th, struct node **ret) {
        char ver[8];
        _cleanup_node_ struct node *n = node_new_map();
        if (!n || node_map_set_int(n, "loc_min", (long long) th->loc_min) < 0 ||
            node_map_set(n, "type_hints_min", node_new_decimal(th->type_hints_min)) < 0 ||
            node_map_set(n, "docstrings_min", node_new_decimal(th->docstrings_min)) < 0 ||
            node_map_set_int(n, "syntax_errors_max", (long long) th->syntax_errors_max) < 0 ||
            node_map_set_string(n, "python_version", analyze_python_version(th->python_minor, ver)) < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(n);
        return 0;
}

int analyze_project(const struct file_metrics *files, size_t n, const struct spec *spec,
                    const struct analyze_thresholds *th, struct node **ret) {
        struct totals t = { 0 };
        int r = 0;
        for (size_t i = 0; i < n && r == 0; i++)
                r = totals_add(&t, &files[i]);
        if (r == 0)
                r = totals_to_node(&t, spec, th, ret);
        totals_clear(&t);
        return r;
}

/* ---- a directory tree ---- */

/* Caches, virtual environments and the daemon's own records are not the project. */
static bool skipped_dir(const char *name) {
        static const char *const names[] = {
                ".git", ".hg", ".svn", ".codegen", "__pycache__", ".venv", "venv",
                "node_modules", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".tox",
        };
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (streq(name, names[i]))
                        return true;
        return false;
}

struct tree_walk {
        struct analyze_files *f;
        struct analyze_limits lim;
        unsigned python_minor;
};

static int tree_file(struct tree_walk *tw, int dfd, const char *name, const char *rel,
                     const struct stat *st) {
        struct analyze_files *f = tw->f;
        if (f->n >= tw->lim.max_files)
                return -E2BIG;
        bool py = has_suffix_ci(rel, ".py");
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        if ((unsigned long long) st->st_size > tw->lim.max_file_size) {
                if (py)
                        return -EFBIG;
                /* counted, not read: no LOC */
        } else if (st->st_size > 0) {
                _cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
                if (fd < 0)
                        return -errno;
                int r = read_fd_bounded(fd, tw->lim.max_file_size, &data, &len);
                if (r == -E2BIG && py) /* grew meanwhile */
                        return -EFBIG;
                if (r < 0 && r != -E2BIG)
                        return r;
        }
        if (f->n == f->alloc) {
                size_t na = f->alloc ? f->alloc * 2 : 64;
                struct file_metrics *nv = reallocarray(f->v, na, sizeof(*nv));
                if (!nv)
                        return -ENOMEM;
                f->v = nv;
                f->alloc = na;
        }
        int r = analyze_source_for(rel, data ? data : "", len, tw->python_minor, &f->v[f->n]);
        if (r < 0)
                return r;
        f->n++;
        return 0;
}

/* Regular files are analysed; directories other than caches are walked into. */
static int tree_entry(const struct fs_entry *e, void *userdata) {
        if (S_ISDIR(e->st->st_mode))
                return skipped_dir(e->name) ? 0 : FS_WALK_DESCEND;
        if (!S_ISREG(e->st->st_mode))
                return 0;
        return tree_file(userdata, e->dfd, e->name, e->rel, e->st);
}

static int by_path(const void *a, const void *b) {
        return strcmp(((const struct file_metrics *) a)->relpath,
                      ((const struct file_metrics *) b)->relpath);
}

void analyze_files_clear(struct analyze_files *f) {
        for (size_t i = 0; i < f->n; i++)
                file_metrics_clear(&f->v[i]);
        free(f->v);
        free(f->failed);
        *f = (struct analyze_files) { 0 };
}

int analyze_tree_files(const char *root, const struct analyze_limits *lim, unsigned python_minor,
                       struct analyze_files *f) {
        const struct analyze_limits def = ANALYZE_LIMITS_DEFAULT;
        *f = (struct analyze_files) { 0 };
        int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        struct tree_walk tw = { .f = f, .lim = lim ? *lim : def, .python_minor = python_minor };
        if (tw.lim.max_files > def.max_files)
                tw.lim.max_files = def.max_files;
        if (tw.lim.max_file_size > def.max_file_size)
                tw.lim.max_file_size = def.max_file_size;
        int r = fs_walk(fd, ANALYZE_TREE_MAX_DEPTH, tree_entry, &tw, &f->failed);
        (void) close(fd);
        if (r == 0 && f->n > 1)
                qsort(f->v, f->n, sizeof(*f->v), by_path);
        return r;
}

int analyze_tree_limited(const char *root, const struct spec *spec, const struct analyze_thresholds *th,
                         const struct analyze_limits *lim, struct node **ret) {
        struct analyze_files f;
        int r = analyze_tree_files(root, lim, th ? th->python_minor : 0, &f);
        if (r == 0)
                r = analyze_project(f.v, f.n, spec, th, ret);
        analyze_files_clear(&f);
        return r;
}

int analyze_tree(const char *root, const struct spec *spec, const struct analyze_thresholds *th,
                 struct node **ret) {
        return analyze_tree_limited(root, spec, th, NULL, ret);
}
