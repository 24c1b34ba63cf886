/* backend-pattern.c - the embedded default backend: files from a bank of templates.
 *
 * Interface: `const struct backend backend_pattern` (backend.h). The bank is a directory
 * of template files plus patterns/index.yaml, which maps an atom to a template by what
 * the atom is: its kind, whether it has an entity and an operation, and for kinds with
 * several files of their own a glob on the target's file name (optionally the whole
 * target); template names may hold placeholders for the atom's entity and operation
 * ({entity}: snake_case name, {table}, {Entity}: the entity's name, {operation}). Where
 * a file goes is the DAG's business: the context (context*.c) derives every module path
 * from the targets. The bank is searched in options->patterns_dir first (a team's
 * overrides), then in options->datadir/patterns; index.yaml is the first one found, each
 * template (and partial, "{{>name}}" = name.tmpl) too. Templates whose name ends in
 * ".py.tmpl" escape values for Python strings.
 *
 * Diagnostics (check): an atom no pattern matches (with what the bank writes for its
 * kind), a pattern whose template is missing, a route atom with no endpoint behind it,
 * every custom endpoint or rule (the pattern backend cannot write code from prose), what
 * context_layout_check() finds in the DAG's layout and what context_check() finds in the
 * spec; a broken index.yaml is reported with its own file and position. generate()
 * reports failures in *ret_error. This module never logs.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "context.h"
#include "pattern.h"
#include "format/doc.h"
#include "shared/fs.h"
#include "shared/macro.h"
#include "backend/template.h"

#define MAX_TEMPLATE (1u << 20)
#define MAX_INDEX (1u << 20)
#define MAX_OUTPUT (16u << 20)

enum tristate { ANY, NO, YES };

struct pattern {
        enum atom_kind kind;
        enum tristate entity, operation; /* whether the atom must (not) have one */
        char *file;     /* glob on the target's file name, or NULL */
        char *target;   /* with placeholders, or NULL */
        char *template; /* with placeholders */
};

struct loader {
        char *dirs[2]; /* searched in order */
        size_t n_dirs;
};

struct bank {
        char *index_path;
        struct pattern *v;
        size_t n;
};

static void bank_clear(struct bank *b) {
        for (size_t i = 0; i < b->n; i++) {
                free(b->v[i].file);
                free(b->v[i].target);
                free(b->v[i].template);
        }
        free(b->v);
        free(b->index_path);
        *b = (struct bank) { .n = 0 };
}

static const char *const placeholders[] = { "{entity}", "{table}", "{Entity}", "{operation}" };

/* Replaces the placeholders of pat with the atom's values; NULL with *err = -ENOENT when
 * the atom lacks a value a placeholder needs. */
static char *expand(const char *pat, const struct spec *spec, const struct atom *a, int *err) {
        const struct entity *e = a->entity ? spec_find_entity(spec, a->entity) : NULL;
        const char *values[] = { e ? e->snake : NULL, e ? e->table : NULL, e ? e->name : NULL,
                                 a->operation };
        struct strbuf sb;
        *err = 0;
        strbuf_init(&sb, 4096);
        for (const char *p = pat; *p && *err >= 0;) {
                size_t k = 0;
                while (k < ELEMENTSOF(placeholders) &&
                       strncmp(p, placeholders[k], strlen(placeholders[k])) != 0)
                        k++;
                if (k < ELEMENTSOF(placeholders)) {
                        if (!values[k])
                                *err = -ENOENT;
                        else
                                *err = strbuf_adds(&sb, values[k]);
                        p += strlen(placeholders[k]);
                } else
                        *err = strbuf_addc(&sb, *p++);
        }
        if (*err < 0) {
                strbuf_free(&sb);
                return NULL;
        }
        return strbuf_detach(&sb, NULL);
}

/* Every '{' must open a known placeholder. */
static bool placeholders_known(const char *s) {
        for (const char *p = strchr(s, '{'); p; p = strchr(p + 1, '{')) {
                size_t k = 0;
                while (k < ELEMENTSOF(placeholders) &&
                       strncmp(p, placeholders[k], strlen(placeholders[k])) != 0)
                        k++;
                if (k == ELEMENTSOF(placeholders))
                        return false;
        }
        return true;
}

static int tristate_of(const struct node *n, enum tristate *ret) {
        if (!n) {
                *ret = ANY;
                return 0;
        }
        if (n->kind != NODE_SCALAR || n->quoted || (!streq(n->value, "true") && !streq(n->value, "false")))
                return -EINVAL;
        *ret = streq(n->value, "true") ? YES : NO;
        return 0;
}

static int bank_entry(struct bank *b, const struct node *item, size_t i, struct diags *d) {
        static const char *const keys[] = { "kind", "entity", "operation", "file", "target", "template" };
        const char *file = b->index_path;
        size_t before = d->n + d->dropped;
        char path[64];
        int r = 0;

        snprintf(path, sizeof(path), "patterns[%zu]", i);
        if (item->kind != NODE_MAP)
                return diags_add(d, file, item->line, item->column, path,
                                 "pattern must be a mapping (found %s)", node_kind_name(item));
        for (size_t k = 0; k < item->n && r >= 0; k++) {
                const struct node *key = item->keys[k];
                bool known = false;
                for (size_t j = 0; j < ELEMENTSOF(keys); j++)
                        known = known || streq(key->value, keys[j]);
                if (!known && strncmp(key->value, "x-", 2) != 0)
                        r = diags_add(d, file, key->line, key->column, path,
                                      "unknown key '%s' (known: kind, entity, operation, file, target, template)",
                                      key->value);
        }
        const struct node *kind = node_get(item, "kind"), *target = node_get(item, "target");
        const struct node *tmpl = node_get(item, "template"), *glob = node_get(item, "file");
        const struct node *ent = node_get(item, "entity"), *op = node_get(item, "operation");
        enum tristate te = ANY, to = ANY;
        int k = kind && node_is_string(kind) ? atom_kind_from_name(kind->value) : -EINVAL;
        if (r >= 0 && k < 0)
                r = diags_add(d, file, kind ? kind->line : item->line,
                              kind ? kind->column : item->column, path,
                              "pattern needs a 'kind' that is an atom kind");
        if (r >= 0 && tristate_of(ent, &te) < 0)
                r = diags_add(d, file, ent->line, ent->column, path, "'entity' must be true or false");
        if (r >= 0 && tristate_of(op, &to) < 0)
                r = diags_add(d, file, op->line, op->column, path, "'operation' must be true or false");
        if (r >= 0 && glob && (!node_is_string(glob) || strchr(glob->value, '/')))
                r = diags_add(d, file, glob->line, glob->column, path,
                              "'file' must be a file name pattern (a glob without '/')");
        if (r >= 0 && target && (!node_is_string(target) || !placeholders_known(target->value)))
                r = diags_add(d, file, target->line, target->column, path,
                              "'target' must be a path (placeholders: {entity}, {table}, {Entity}, {operation})");
        if (r >= 0 && (!node_is_string(tmpl) || !placeholders_known(tmpl->value) ||
                       strchr(tmpl->value, '/')))
                r = diags_add(d, file, tmpl ? tmpl->line : item->line,
                              tmpl ? tmpl->column : item->column, path,
                              "pattern needs a 'template': a file name of the bank");
        if (r < 0 || d->n + d->dropped > before || k < 0 || !node_is_string(tmpl))
                return r;
        struct pattern p = { .kind = (enum atom_kind) k, .entity = te, .operation = to,
                             .file = glob ? strdup(glob->value) : NULL,
                             .target = target ? strdup(target->value) : NULL,
                             .template = strdup(tmpl->value) };
        if ((glob && !p.file) || (target && !p.target) || !p.template) {
                free(p.file);
                free(p.target);
                free(p.template);
                return -ENOMEM;
        }
        b->v[b->n++] = p;
        return 0;
}

/* The directories searched for templates and index.yaml, in order. */
static int loader_init(const struct backend_options *o, struct loader *l) {
        *l = (struct loader) { .n_dirs = 0 };
        if (o->patterns_dir && !(l->dirs[l->n_dirs++] = strdup(o->patterns_dir)))
                return -ENOMEM;
        if (o->datadir && !(l->dirs[l->n_dirs++] = path_join(o->datadir, "patterns")))
                return -ENOMEM;
        return 0;
}

static void loader_clear(struct loader *l) {
        for (size_t i = 0; i < l->n_dirs; i++)
                free(l->dirs[i]);
        l->n_dirs = 0;
}

/* Finds and reads index.yaml; a broken or missing one adds diagnostics and gives -EINVAL. */
static int bank_load(const struct loader *l, struct bank *b, struct diags *d) {
        _cleanup_node_ struct node *root = NULL;
        size_t before = d->n + d->dropped;
        int r;

        *b = (struct bank) { .n = 0 };
        for (size_t i = 0; i < l->n_dirs && !b->index_path; i++) {
                _cleanup_free_ char *p = path_join(l->dirs[i], "index.yaml");
                if (!p)
                        return -ENOMEM;
                if (is_regular(p))
                        b->index_path = TAKE_PTR(p);
        }
        if (!b->index_path)
                return diags_add(d, "index.yaml", 0, 0, NULL, "no index.yaml in %s%s%s",
                                 l->n_dirs > 0 ? l->dirs[0] : "(no pattern directory)",
                                 l->n_dirs > 1 ? " or " : "", l->n_dirs > 1 ? l->dirs[1] : "")
                               < 0 ? -ENOMEM : -EINVAL;
        r = doc_load(b->index_path, b->index_path, MAX_INDEX, &root, d);
        if (r < 0)
                return r;
        const struct node *list = node_get(root, "patterns");
        if (!list || list->kind != NODE_SEQ)
                return diags_add(d, b->index_path, root ? root->line : 0, root ? root->column : 0,
                                 NULL, "index.yaml needs a 'patterns' sequence") < 0 ? -ENOMEM : -EINVAL;
        if (!(b->v = calloc(list->n + 1, sizeof(struct pattern))))
                return -ENOMEM;
        for (size_t i = 0; i < list->n; i++)
                if ((r = bank_entry(b, list->items[i], i, d)) < 0)
                        return r;
        return d->n + d->dropped > before ? -EINVAL : 0;
}

/* Reads a template file of the bank by its file name; -ENOENT when no directory has it. */
static int load_file(const struct loader *l, const char *name, char **ret, size_t *ret_len) {
        if (!path_is_safe(name) || strchr(name, '/'))
                return -ENOENT;
        for (size_t i = 0; i < l->n_dirs; i++) {
                _cleanup_free_ char *p = path_join(l->dirs[i], name);
                if (!p)
                        return -ENOMEM;
                int r = read_file_bounded(p, MAX_TEMPLATE, ret, ret_len);
                if (r != -ENOENT)
                        return r;
        }
        return -ENOENT;
}

/* template_loader for partials: {{>name}} is the file name.tmpl */
static int load_partial(void *userdata, const char *name, char **ret, size_t *ret_len) {
        _cleanup_free_ char *file = NULL;
        if (asprintf(&file, "%s.tmpl", name) < 0)
                return -ENOMEM;
        return load_file(userdata, file, ret, ret_len);
}

static const char *base_name(const char *path) {
        const char *slash = strrchr(path, '/');
        return slash ? slash + 1 : path;
}

static bool tristate_ok(enum tristate t, const char *value) {
        return t == ANY || (t == YES) == (value != NULL);
}

/* The pattern for an atom and its expanded template name; -ENOENT when none matches.
 * An entry matches an atom of its kind that has (or lacks) an entity and an operation
 * as the entry says, whose file name matches its `file` glob, whose target is its
 * `target` once filled in, and that can fill in the placeholders of its template. */
static int find_pattern(const struct bank *b, const struct spec *spec, const struct atom *a,
                        char **ret_template) {
        for (size_t i = 0; i < b->n; i++) {
                const struct pattern *p = &b->v[i];
                int err;
                if (p->kind != a->kind || !tristate_ok(p->entity, a->entity) ||
                    !tristate_ok(p->operation, a->operation))
                        continue;
                if (p->file && fnmatch(p->file, base_name(a->target), 0) != 0)
                        continue;
                if (p->target) {
                        _cleanup_free_ char *t = expand(p->target, spec, a, &err);
                        if (!t && err != -ENOENT)
                                return err;
                        if (!t || !streq(t, a->target))
                                continue;
                }
                char *tmpl = expand(p->template, spec, a, &err);
                if (!tmpl) {
                        if (err == -ENOENT)
                                continue;
                        return err;
                }
                *ret_template = tmpl;
                return 0;
        }
        return -ENOENT;
}

/* What the bank writes for atoms of a kind, for the hint of "no pattern for atom". */
static char *bank_hint(const struct bank *b, enum atom_kind kind) {
        struct strbuf sb;
        int r = 0;
        strbuf_init(&sb, 4096);
        for (size_t i = 0; i < b->n && r >= 0; i++) {
                const struct pattern *p = &b->v[i];
                if (p->kind != kind)
                        continue;
                r = strbuf_addf(&sb, "%s%s%s%s%s%s", sb.len ? "; " : "",
                                p->entity == YES ? "an entity" : p->entity == NO ? "no entity" : "any entity",
                                p->operation == YES ? " and an operation" : p->operation == NO ? " without operation" : "",
                                p->file ? ", a file named " : "", p->file ? p->file : "",
                                p->target ? ", the target " : "");
                if (r >= 0 && p->target)
                        r = strbuf_adds(&sb, p->target);
        }
        if (r >= 0 && sb.len == 0)
                r = strbuf_adds(&sb, "none");
        char *s = r >= 0 ? strbuf_detach(&sb, NULL) : NULL;
        strbuf_free(&sb);
        return s;
}

static bool is_custom_route(const struct spec *spec, const struct atom *a) {
        for (size_t i = 0; i < spec->n_endpoints; i++) {
                const struct endpoint *ep = &spec->endpoints[i];
                if (ep->op == OP_CUSTOM && streq_ptr(ep->entity, a->entity) &&
                    streq_ptr(ep->name, a->operation))
                        return true;
        }
        return false;
}

static bool entity_has_custom_rule(const struct spec *spec, const char *entity) {
        for (size_t i = 0; i < spec->n_rules; i++)
                if (spec->rules[i].kind == RULE_CUSTOM && streq_ptr(spec->rules[i].entity, entity))
                        return true;
        return false;
}

/* Who writes a under hybrid, with the bank b already read. */
static int atom_plan(const struct bank *b, const struct spec *spec, const struct atom *a, enum pattern_plan *ret) {
        _cleanup_free_ char *tmpl = NULL;
        int r = 0;
        if (a->kind == AK_ROUTE && a->entity && is_custom_route(spec, a))
                *ret = PATTERN_MODEL;
        else if ((r = find_pattern(b, spec, a, &tmpl)) == -ENOENT) {
                *ret = PATTERN_MODEL;
                r = 0;
        } else if (r >= 0)
                *ret = a->kind == AK_VALIDATION && entity_has_custom_rule(spec, a->entity)
                               ? PATTERN_DRAFT
                               : PATTERN_WRITES;
        return r;
}

/* atom_plan() of N atoms with the bank read once. */
static int atom_plans(const struct backend_options *o, const struct spec *spec, const struct atom *atoms, size_t n,
                      enum pattern_plan *ret) {
        struct bank b = { .n = 0 };
        struct loader l = { .n_dirs = 0 };
        struct diags d = DIAGS_INIT;
        int r = loader_init(o, &l);
        if (r >= 0)
                r = bank_load(&l, &b, &d);
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = atom_plan(&b, spec, &atoms[i], &ret[i]);
        loader_clear(&l);
        bank_clear(&b);
        diags_clear(&d);
        return r;
}

int pattern_atom_plans(const struct backend_options *o, const struct spec *spec, const struct dag *dag,
                       enum pattern_plan *ret) {
        return atom_plans(o, spec, dag->atoms, dag->n_atoms, ret);
}

int pattern_atom_plan(const struct backend_options *o, const struct spec *spec, const struct atom *a,
                      enum pattern_plan *ret) {
        return atom_plans(o, spec, a, 1, ret);
}

static int check_impl(const struct backend_options *o, const struct spec *spec, const struct dag *dag,
                      const char *dag_file, struct diags *d, bool hybrid) {
        struct bank b = { .n = 0 };
        struct loader l = { .n_dirs = 0 };
        size_t before = d->n + d->dropped;
        int r;

        r = loader_init(o, &l);
        if (r >= 0)
                r = bank_load(&l, &b, d);
        for (size_t i = 0; r >= 0 && i < dag->n_atoms; i++) {
                const struct atom *a = &dag->atoms[i];
                _cleanup_free_ char *tmpl = NULL, *src = NULL;
                char path[64];
                size_t len;

                snprintf(path, sizeof(path), "atoms[%zu]", i);
                if (a->kind == AK_ROUTE) {
                        const struct endpoint *ep;
                        if (a->entity && is_custom_route(spec, a))
                                continue; /* reported with its endpoint below; hybrid: a model's */
                        if (!a->entity || context_route_endpoints(spec, a, &ep, 1) == 0) {
                                r = diags_add(d, dag_file, a->pos.line, a->pos.column, path,
                                              "route atom '%s' has no endpoint in the spec (entity '%s', operation '%s')",
                                              a->id, a->entity ? a->entity : "", a->operation ? a->operation : "");
                                continue;
                        }
                }
                r = find_pattern(&b, spec, a, &tmpl);
                if (r == -ENOENT && hybrid) {
                        r = 0; /* the model writes it */
                        continue;
                }
                if (r == -ENOENT) {
                        _cleanup_free_ char *hint = bank_hint(&b, a->kind);
                        if (!hint) {
                                r = -ENOMEM;
                                break;
                        }
                        r = diags_add(d, dag_file, a->pos.line, a->pos.column, path,
                                      "no pattern for atom '%s' (kind %s, entity '%s', operation '%s', target '%s'); the bank writes %s atoms with: %s",
                                      a->id, atom_kind_name(a->kind), a->entity ? a->entity : "",
                                      a->operation ? a->operation : "", a->target,
                                      atom_kind_name(a->kind), hint);
                        continue;
                }
                if (r < 0)
                        break;
                r = load_file(&l, tmpl, &src, &len);
                if (r == -ENOENT)
                        r = diags_add(d, dag_file, a->pos.line, a->pos.column, path,
                                      "template '%s' for atom '%s' is not in the pattern bank", tmpl,
                                      a->id);
                else if (r < 0)
                        r = diags_add(d, dag_file, a->pos.line, a->pos.column, path,
                                      "cannot read template '%s': %s", tmpl, strerror(-r));
                else {
                        _cleanup_free_ char *error = NULL;
                        r = template_check(tmpl, src, len, &error);
                        if (r == -EINVAL)
                                r = diags_add(d, dag_file, a->pos.line, a->pos.column, path,
                                              "template for atom '%s' is broken: %s", a->id,
                                              error ? error : tmpl);
                }
        }
        for (size_t i = 0; r >= 0 && i < spec->n_endpoints; i++) {
                const struct endpoint *ep = &spec->endpoints[i];
                char path[64];
                if (ep->op != OP_CUSTOM || hybrid)
                        continue;
                snprintf(path, sizeof(path), "endpoints[%zu]", i);
                r = diags_add(d, spec->file, ep->pos.line, ep->pos.column, path,
                              "endpoint '%s' is a custom operation: the pattern backend cannot implement it; use a language-model backend",
                              ep->name ? ep->name : "");
        }
        for (size_t i = 0; r >= 0 && i < spec->n_rules; i++) {
                const struct rule *ru = &spec->rules[i];
                char path[64];
                if (ru->kind != RULE_CUSTOM || hybrid)
                        continue;
                snprintf(path, sizeof(path), "validations[%zu]", i);
                r = diags_add(d, spec->file, ru->pos.line, ru->pos.column, path,
                              "rule of '%s'%s%s%s is a custom rule: the pattern backend cannot implement it; use a language-model backend",
                              ru->entity ? ru->entity : "", ru->field ? " on field '" : "",
                              ru->field ? ru->field : "", ru->field ? "'" : "");
        }
        if (r >= 0 || r == -EINVAL)
                r = context_layout_check(spec, dag, dag_file, d);
        if (r >= 0 || r == -EINVAL)
                r = context_check(spec, spec->file, d);
        loader_clear(&l);
        bank_clear(&b);
        if (r < 0 && r != -EINVAL)
                return r;
        return d->n + d->dropped > before ? -EINVAL : 0;
}

static int pattern_check(const struct backend_options *o, const struct spec *spec,
                         const struct dag *dag, const char *dag_file, struct diags *d) {
        return check_impl(o, spec, dag, dag_file, d, false);
}

int pattern_check_hybrid(const struct backend_options *o, const struct spec *spec, const struct dag *dag,
                         const char *dag_file, struct diags *d) {
        return check_impl(o, spec, dag, dag_file, d, true);
}

static int fail(char **ret_error, int r, const char *fmt, ...) _printf_(3, 4);
static int fail(char **ret_error, int r, const char *fmt, ...) {
        va_list ap;
        char *msg = NULL;
        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        if (ret_error && msg)
                *ret_error = msg;
        else
                free(msg);
        return r;
}

/* What a job's atoms share (prepare()): the bank's directories and index, and the
 * template context of the whole project. */
struct prepared {
        struct loader l;
        struct bank b;
        struct context_job *ctx;
};

void pattern_unprepare(void *prepared) {
        struct prepared *p = prepared;
        if (!p)
                return;
        context_job_free(p->ctx);
        loader_clear(&p->l);
        bank_clear(&p->b);
        free(p);
}

int pattern_prepare(const struct backend_options *o, const struct spec *spec, const struct dag *dag,
                    void **ret) {
        struct prepared *p = calloc(1, sizeof(*p));
        struct diags d = DIAGS_INIT;
        if (!p)
                return -ENOMEM;
        int r = loader_init(o, &p->l);
        if (r >= 0)
                r = bank_load(&p->l, &p->b, &d);
        if (r >= 0)
                r = context_job_new(spec, dag, &p->ctx);
        diags_clear(&d);
        if (r < 0) {
                pattern_unprepare(p);
                return r;
        }
        *ret = p;
        return 0;
}

static int pattern_generate(const struct gen_request *req, struct strbuf *out,
                            struct gen_usage *usage, char **ret_error) {
        const struct atom *a = req->atom;
        const struct prepared *prep = req->prepared;
        struct diags d = DIAGS_INIT;
        struct bank own_bank = { .n = 0 };
        struct loader own_loader = { .n_dirs = 0 };
        const struct bank *b = prep ? &prep->b : &own_bank;
        const struct loader *l = prep ? &prep->l : &own_loader;
        _cleanup_free_ char *tmpl = NULL, *src = NULL, *err = NULL;
        _cleanup_node_ struct node *ctx = NULL;
        size_t len = 0;
        int r = 0;

        (void) usage;
        if (!prep) {
                r = loader_init(req->options, &own_loader);
                if (r >= 0)
                        r = bank_load(&own_loader, &own_bank, &d);
        }
        if (r < 0) {
                r = fail(ret_error, r, "cannot read the pattern index: %s",
                         d.n ? d.v[0].message : strerror(-r));
                goto out;
        }
        r = find_pattern(b, req->spec, a, &tmpl);
        if (r < 0) {
                r = fail(ret_error, r == -ENOENT ? -EINVAL : r,
                         "no pattern for atom '%s' (kind %s, target '%s')", a->id,
                         atom_kind_name(a->kind), a->target);
                goto out;
        }
        r = load_file(l, tmpl, &src, &len);
        if (r < 0) {
                r = fail(ret_error, r, "cannot read template '%s': %s", tmpl, strerror(-r));
                goto out;
        }
        /* prepared: only the atom's own keys here, the job's context looked up after them */
        r = prep ? context_atom_keys(prep->ctx, req->spec, req->dag, a, &ctx)
                 : context_for_atom(req->spec, req->dag, a, &ctx);
        if (r < 0) {
                r = fail(ret_error, r, "cannot build the template context: %s", strerror(-r));
                goto out;
        }
        struct template_env env = {
                .load = load_partial,
                .userdata = (void *) l,
                .escape = endswith(tmpl, ".py.tmpl") ? TEMPLATE_ESC_PYTHON : TEMPLATE_ESC_NONE,
                .outer = prep ? context_job_root(prep->ctx) : NULL,
        };
        struct strbuf buf;
        strbuf_init(&buf, MAX_OUTPUT);
        r = template_render(&env, tmpl, src, len, ctx, &buf, &err);
        if (r >= 0 && buf.len == 0)
                r = fail(ret_error, -EINVAL, "template '%s' rendered nothing for atom '%s'", tmpl, a->id);
        else if (r < 0)
                r = fail(ret_error, r, "%s", err ? err : strerror(-r));
        else if ((r = env.escape == TEMPLATE_ESC_PYTHON ? context_black_defs(buf.buf, buf.len, out)
                                                        : strbuf_add(out, buf.buf, buf.len)) < 0)
                r = fail(ret_error, r, "output of atom '%s' is too large", a->id);
        strbuf_free(&buf);
out:
        loader_clear(&own_loader);
        bank_clear(&own_bank);
        diags_clear(&d);
        return r;
}

/* Every file of the bank's directories, by name, in the order they are searched (a user's
 * pattern directory, then the built-in one): a change of any template changes the key of
 * every atom the bank writes. */
static int hash_dir(const char *dir, struct sha256_ctx *c) {
        struct dirent **names = NULL;
        int n = scandir(dir, &names, NULL, alphasort), r = 0;
        if (n < 0)
                return errno == ENOENT ? 0 : -errno;
        backend_key_adds(c, "pattern.dir", dir);
        for (int i = 0; i < n; i++) {
                _cleanup_free_ char *path = NULL, *text = NULL;
                size_t len = 0;
                if (r >= 0 && names[i]->d_name[0] != '.' && (path = path_join(dir, names[i]->d_name))) {
                        int k = read_file_bounded(path, MAX_TEMPLATE, &text, &len);
                        if (k >= 0) {
                                backend_key_adds(c, "pattern.file", names[i]->d_name);
                                backend_key_add(c, "pattern.text", text, len);
                        } else if (k != -EISDIR && k != -EINVAL && k != -ENOENT)
                                r = k;
                } else if (r >= 0 && names[i]->d_name[0] != '.')
                        r = -ENOMEM;
                free(names[i]);
        }
        free(names);
        return r;
}

int pattern_cache_key(const struct backend_options *o, struct sha256_ctx *c) {
        _cleanup_free_ char *builtin = o->datadir ? path_join(o->datadir, "patterns") : NULL;
        int r = 0;
        if (o->datadir && !builtin)
                return -ENOMEM;
        if (o->patterns_dir)
                r = hash_dir(o->patterns_dir, c);
        if (r >= 0 && builtin)
                r = hash_dir(builtin, c);
        return r;
}

static int pattern_key(const struct gen_request *req, struct sha256_ctx *c) {
        return pattern_cache_key(req->options, c);
}

const struct backend backend_pattern = {
        .name = "pattern",
        .deterministic = true,
        .check = pattern_check,
        .generate = pattern_generate,
        .cache_key = pattern_key,
        .prepare = pattern_prepare,
        .unprepare = pattern_unprepare,
};
