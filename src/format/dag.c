/* dag.c - the execution DAG: parse (dag_from_node), validate and schedule (dag_check),
 * and write back as JSON (dag_to_json). Planning a DAG from a spec is plan.c.
 *
 * Interface (dag.h). dag_from_node() checks everything the document alone decides, with
 * the exact position of each problem: keys, types, atom ids ([a-z0-9_.-]+, unique),
 * kinds, targets (relative, no "..", path_is_safe()), dependencies (known, not the atom
 * itself, not listed twice) and, when "waves" is given, that every atom is in exactly
 * one wave. dag_check() then checks against the spec and the limits (entities exist, at
 * most max_atoms atoms, no cycles, given waves respect dependencies), and computes
 * dep_idx, wave, n_waves, order and the fragment numbers. It re-checks the document
 * rules too, so that a DAG built in memory gets the same guarantees; for one that came
 * from dag_from_node() those checks find nothing new.
 *
 * Diagnostics, e.g.: "unknown atom kind 'modle'", "absolute target '/etc/x'", "target
 * 'a/../b' leaves the project", "duplicate atom id 'x'", "atom 'a' depends on unknown
 * atom 'zz'", "atom 'a' depends on itself", "unknown atom 'q' in waves[1]", "atom 'x' is
 * in no wave", "atom 'x' is in waves 2 and 4", "atom 'b' (wave 1) depends on 'a' which
 * is not in an earlier wave (wave 2)", "dependency cycle: a -> b -> c -> a" (each cycle
 * once, found by an iterative depth-first search), "atom 'model_x' names unknown entity
 * 'X'", "the DAG has N atoms, more than the limit of M".
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dag.h"
#include "doc.h"
#include "shared/fs.h"
#include "shared/macro.h"
#include "shared/strbuf.h"

static const char *const atom_kind_names[_AK_MAX] = {
        "config", "database", "model", "schema", "validation", "service", "route",
        "app", "migration", "test", "doc", "infra", "package",
};

const char *atom_kind_name(enum atom_kind k) {
        return (unsigned) k < _AK_MAX ? atom_kind_names[k] : "?";
}

int atom_kind_from_name(const char *s) {
        for (size_t i = 0; s && i < _AK_MAX; i++)
                if (streq(atom_kind_names[i], s))
                        return (int) i;
        return -EINVAL;
}

const struct atom *dag_find_atom(const struct dag *dag, const char *id) {
        for (size_t i = 0; dag && id && i < dag->n_atoms; i++)
                if (streq_ptr(dag->atoms[i].id, id))
                        return &dag->atoms[i];
        return NULL;
}

/* ---- diagnostics ---- */

struct dctx {
        const char *file;
        struct diags *d;
        size_t errors;
        bool oom;
};

_printf_(6, 7) static void derr(struct dctx *c, unsigned line, unsigned column, const char *base,
                                const char *key, const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL, *path = NULL;
        va_list ap;
        int k;

        c->errors++;
        va_start(ap, fmt);
        k = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (k < 0 || asprintf(&path, "%s%s%s", base, *base && key ? "." : "", key ? key : "") < 0) {
                path = NULL;
                c->oom = true;
                return;
        }
        if (diags_add(c->d, c->file, line, column, path, "%s", msg) < 0)
                c->oom = true;
}

#define derr_at(c, node, ...)                                                              \
        derr(c, (node) ? (node)->line : 0, (node) ? (node)->column : 0, __VA_ARGS__)

static char *pidx(struct dctx *c, const char *base, size_t i) {
        char *p;
        if (asprintf(&p, "%s[%zu]", base, i) < 0) {
                c->oom = true;
                return NULL;
        }
        return p;
}

static char *xstrdup(struct dctx *c, const char *s) {
        char *p = s ? strdup(s) : NULL;
        if (s && !p)
                c->oom = true;
        return p;
}

/* ---- the sorted id index: atom lookups in O(log n) ---- */

struct id_index {
        const struct dag *dag;
        size_t *idx; /* atom indexes with an id, sorted by (id, index) */
        size_t n;
};

static int cmp_atom_id(const void *a, const void *b, void *userdata) {
        const struct dag *dag = userdata;
        size_t i = *(const size_t *) a, j = *(const size_t *) b;
        int r = strcmp(dag->atoms[i].id, dag->atoms[j].id);
        return r ? r : (i < j ? -1 : i > j);
}

static int id_index_build(const struct dag *dag, struct id_index *ix) {
        ix->dag = dag;
        ix->n = 0;
        ix->idx = calloc(dag->n_atoms ? dag->n_atoms : 1, sizeof(size_t));
        if (!ix->idx)
                return -ENOMEM;
        for (size_t i = 0; i < dag->n_atoms; i++)
                if (dag->atoms[i].id)
                        ix->idx[ix->n++] = i;
        qsort_r(ix->idx, ix->n, sizeof(size_t), cmp_atom_id, (void *) dag);
        return 0;
}

static void id_index_done(struct id_index *ix) {
        free(ix->idx);
        ix->idx = NULL;
}

/* Index of the first atom with this id, or -1. */
static long id_index_find(const struct id_index *ix, const char *id) {
        size_t lo = 0, hi = ix->n;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (strcmp(ix->dag->atoms[ix->idx[mid]].id, id) < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        if (lo < ix->n && streq(ix->dag->atoms[ix->idx[lo]].id, id))
                return (long) ix->idx[lo];
        return -1;
}

/* ---- checks shared by dag_from_node() (with nodes) and dag_check() (without) ---- */

static bool id_is_valid(const char *s) {
        return *s && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_.-") == strlen(s);
}

static bool target_leaves(const char *t) {
        for (const char *p = t; p; p = strchr(p, '/')) {
                if (*p == '/')
                        p++;
                if (p[0] == '.' && p[1] == '.' && (p[2] == '/' || p[2] == '\0'))
                        return true;
        }
        return false;
}

static void check_target(struct dctx *c, unsigned line, unsigned column, const char *path,
                         const char *t) {
        if (t[0] == '/')
                derr(c, line, column, path, "target", "absolute target '%s'", t);
        else if (target_leaves(t))
                derr(c, line, column, path, "target", "target '%s' leaves the project", t);
        else if (!path_is_safe(t))
                derr(c, line, column, path, "target",
                     "unsafe target '%s' (empty, '.' or over-long components, control characters and backslashes are refused)",
                     t);
}

static void check_duplicate_ids(struct dctx *c, const struct dag *dag, const struct id_index *ix,
                                const struct node *atoms) {
        for (size_t k = 1; k < ix->n; k++) {
                const struct atom *a = &dag->atoms[ix->idx[k]];
                const struct atom *first = &dag->atoms[ix->idx[k - 1]];
                if (!streq(a->id, first->id))
                        continue;
                _cleanup_free_ char *p = pidx(c, "atoms", ix->idx[k]);
                const struct node *at = atoms ? node_get(atoms->items[ix->idx[k]], "id") : NULL;
                if (at)
                        derr_at(c, at, p ? p : "", "id", "duplicate atom id '%s'", a->id);
                else
                        derr(c, a->pos.line, a->pos.column, p ? p : "", "id",
                             "duplicate atom id '%s'", a->id);
        }
}

/* Fills dep_idx; reports unknown, self and repeated dependencies. */
static int resolve_deps(struct dctx *c, struct dag *dag, const struct id_index *ix,
                        const struct node *atoms) {
        for (size_t i = 0; i < dag->n_atoms; i++) {
                struct atom *a = &dag->atoms[i];
                const struct node *deps = atoms ? node_get(atoms->items[i], "depends_on") : NULL;
                free(a->dep_idx);
                a->dep_idx = NULL;
                if (a->n_deps == 0)
                        continue;
                if (!(a->dep_idx = calloc(a->n_deps, sizeof(size_t))))
                        return -ENOMEM;
                _cleanup_free_ char *ap = pidx(c, "atoms", i);
                _cleanup_free_ char *dp = NULL;
                if (!ap || asprintf(&dp, "%s.depends_on", ap) < 0) {
                        dp = NULL;
                        return -ENOMEM;
                }
                for (size_t j = 0; j < a->n_deps; j++) {
                        const struct node *at = deps && deps->kind == NODE_SEQ && j < deps->n
                                                        ? deps->items[j]
                                                        : NULL;
                        unsigned line = at ? at->line : a->pos.line;
                        unsigned column = at ? at->column : a->pos.column;
                        _cleanup_free_ char *p = pidx(c, dp, j);
                        long k = id_index_find(ix, a->depends_on[j]);
                        a->dep_idx[j] = k < 0 ? i : (size_t) k;
                        if (!a->id)
                                continue;
                        if (k < 0)
                                derr(c, line, column, p ? p : "", NULL,
                                     "atom '%s' depends on unknown atom '%s'", a->id,
                                     a->depends_on[j]);
                        else if ((size_t) k == i)
                                derr(c, line, column, p ? p : "", NULL, "atom '%s' depends on itself",
                                     a->id);
                        else
                                for (size_t m = 0; m < j; m++)
                                        if (streq(a->depends_on[m], a->depends_on[j])) {
                                                derr(c, line, column, p ? p : "", NULL,
                                                     "atom '%s' lists '%s' twice in depends_on",
                                                     a->id, a->depends_on[j]);
                                                break;
                                        }
                }
        }
        return c->oom ? -ENOMEM : 0;
}

/* Given waves: every atom in exactly one, no unknown ids, no empty wave. Sets each atom's
 * wave (0 for atoms in no wave). */
static int check_wave_membership(struct dctx *c, struct dag *dag, const struct id_index *ix,
                                 const struct node *waves) {
        for (size_t i = 0; i < dag->n_atoms; i++)
                dag->atoms[i].wave = 0;
        for (size_t w = 0; w < dag->n_waves; w++) {
                const struct node *wn = waves && w < waves->n ? waves->items[w] : NULL;
                _cleanup_free_ char *wp = pidx(c, "waves", w);
                if (!wp)
                        return -ENOMEM;
                if (dag->wave_len[w] == 0 && (!wn || wn->kind == NODE_SEQ))
                        derr_at(c, wn, wp, NULL, "wave %zu is empty", w + 1);
                for (size_t k = 0; k < dag->wave_len[w]; k++) {
                        const char *id = dag->wave_ids[w][k];
                        const struct node *at = wn && wn->kind == NODE_SEQ && k < wn->n
                                                        ? wn->items[k]
                                                        : wn;
                        _cleanup_free_ char *p = pidx(c, wp, k);
                        long i = id_index_find(ix, id);
                        if (i < 0) {
                                derr_at(c, at, p ? p : "", NULL, "unknown atom '%s' in %s", id, wp);
                                continue;
                        }
                        struct atom *a = &dag->atoms[i];
                        if (a->wave == w + 1)
                                derr_at(c, at, p ? p : "", NULL, "atom '%s' is listed twice in wave %zu",
                                        id, w + 1);
                        else if (a->wave)
                                derr_at(c, at, p ? p : "", NULL, "atom '%s' is in waves %u and %zu", id,
                                        a->wave, w + 1);
                        else
                                a->wave = (unsigned) (w + 1);
                }
        }
        for (size_t i = 0; i < dag->n_atoms; i++) {
                const struct atom *a = &dag->atoms[i];
                if (a->wave || !a->id || (long) i != id_index_find(ix, a->id))
                        continue;
                _cleanup_free_ char *p = pidx(c, "atoms", i);
                derr(c, a->pos.line, a->pos.column, p ? p : "", NULL, "atom '%s' is in no wave", a->id);
        }
        return c->oom ? -ENOMEM : 0;
}

/* ---- parsing ---- */

static const char *const dag_keys[] = { "format", "name", "atoms", "waves" };
static const char *const atom_keys[] = { "id", "kind", "target", "entity", "operation",
                                         "description", "depends_on" };

static void check_keys(struct dctx *c, const struct node *map, const char *path,
                       const char *const *known, size_t n) {
        for (size_t i = 0; i < map->n; i++) {
                const char *k = map->keys[i]->value;
                bool ok = strncmp(k, "x-", 2) == 0;
                for (size_t j = 0; j < n && !ok; j++)
                        ok = streq(k, known[j]);
                if (ok)
                        continue;
                const char *s = spec_suggest(k, known, n);
                derr_at(c, map->keys[i], path, k, "unknown key '%s'%s%s%s", k,
                        s ? "; did you mean '" : "", s ? s : "", s ? "'?" : "");
        }
}

static const struct node *get(const struct node *map, const char *key) {
        const struct node *v = node_get(map, key);
        return node_is_null(v) ? NULL : v;
}

static const char *get_str(struct dctx *c, const struct node *map, const char *path,
                           const char *key, bool required) {
        const struct node *v = get(map, key);
        if (!v) {
                if (required)
                        derr_at(c, map, path, key, "missing required key '%s'", key);
                return NULL;
        }
        if (!node_is_string(v)) {
                derr_at(c, v, path, key, "'%s' must be a string (found %s)", key, node_kind_name(v));
                return NULL;
        }
        return v->value;
}

/* A sequence of strings as a new string vector; NULL when absent or wrong. */
static char **get_strv(struct dctx *c, const struct node *v, const char *path, const char *what,
                       size_t *ret_n) {
        *ret_n = 0;
        if (v->kind != NODE_SEQ) {
                derr_at(c, v, path, NULL, "%s must be a sequence (found %s)", what, node_kind_name(v));
                return NULL;
        }
        char **strv = calloc(v->n + 1, sizeof(char *));
        if (!strv) {
                c->oom = true;
                return NULL;
        }
        for (size_t i = 0; i < v->n; i++) {
                const struct node *item = v->items[i];
                if (!node_is_string(item)) {
                        _cleanup_free_ char *p = pidx(c, path, i);
                        derr_at(c, item, p ? p : "", NULL, "atom id must be a string (found %s)",
                                node_kind_name(item));
                        continue;
                }
                strv[(*ret_n)++] = xstrdup(c, item->value);
        }
        return strv;
}

static void parse_atom(struct dctx *c, const struct node *n, const char *path, struct atom *a) {
        const char *s;
        const struct node *v;

        a->kind = _AK_MAX; /* until known */
        a->pos = (struct src_pos) { n->line, n->column };
        if (n->kind != NODE_MAP) {
                derr_at(c, n, path, NULL, "atom must be a mapping (found %s)", node_kind_name(n));
                return;
        }
        check_keys(c, n, path, atom_keys, ELEMENTSOF(atom_keys));
        if ((s = get_str(c, n, path, "id", true))) {
                if (!id_is_valid(s))
                        derr_at(c, get(n, "id"), path, "id", "invalid atom id '%s': must match [a-z0-9_.-]+", s);
                a->id = xstrdup(c, s);
        }
        if ((s = get_str(c, n, path, "kind", true))) {
                int k = atom_kind_from_name(s);
                if (k < 0) {
                        const char *sg = spec_suggest(s, atom_kind_names, _AK_MAX);
                        derr_at(c, get(n, "kind"), path, "kind",
                                "unknown atom kind '%s'%s%s%s (valid kinds: config, database, model, schema, validation, service, route, app, migration, test, doc, infra, package)",
                                s, sg ? "; did you mean '" : "", sg ? sg : "", sg ? "'?" : "");
                } else
                        a->kind = (enum atom_kind) k;
        }
        if ((s = get_str(c, n, path, "target", true))) {
                v = get(n, "target");
                check_target(c, v->line, v->column, path, s);
                a->target = xstrdup(c, s);
        }
        a->entity = xstrdup(c, get_str(c, n, path, "entity", false));
        a->operation = xstrdup(c, get_str(c, n, path, "operation", false));
        a->description = xstrdup(c, get_str(c, n, path, "description", false));
        if ((v = get(n, "depends_on"))) {
                _cleanup_free_ char *p = NULL;
                if (asprintf(&p, "%s.depends_on", path) < 0) {
                        p = NULL;
                        c->oom = true;
                        return;
                }
                a->depends_on = get_strv(c, v, p, "'depends_on'", &a->n_deps);
        }
}

static void parse_waves(struct dctx *c, const struct node *w, struct dag *dag) {
        if (w->kind != NODE_SEQ) {
                derr_at(c, w, "waves", NULL, "'waves' must be a sequence of sequences (found %s)",
                        node_kind_name(w));
                return;
        }
        dag->waves_given = true;
        dag->wave_ids = calloc(w->n ? w->n : 1, sizeof(char **));
        dag->wave_len = calloc(w->n ? w->n : 1, sizeof(size_t));
        if (!dag->wave_ids || !dag->wave_len) {
                c->oom = true;
                return;
        }
        dag->n_waves = w->n;
        for (size_t i = 0; i < w->n && !c->oom; i++) {
                _cleanup_free_ char *p = pidx(c, "waves", i);
                if (w->items[i]->kind != NODE_SEQ)
                        derr_at(c, w->items[i], p ? p : "", NULL, "a wave must be a sequence of atom ids (found %s)",
                                node_kind_name(w->items[i]));
                else if (!(dag->wave_ids[i] = get_strv(c, w->items[i], p ? p : "", "a wave",
                                                       &dag->wave_len[i])))
                        c->oom = true;
        }
}

static int dag_parse(struct dctx *c, const struct node *root, struct dag *dag) {
        const struct node *v, *atoms = NULL;
        const char *s;

        if (!root || root->kind != NODE_MAP) {
                derr_at(c, root, "", NULL, "the DAG must be a mapping (found %s)", node_kind_name(root));
                return 0;
        }
        check_keys(c, root, "", dag_keys, ELEMENTSOF(dag_keys));
        if (!(v = get(root, "format")))
                derr_at(c, root, "", "format", "missing required key 'format'");
        else if (node_as_int(v, &dag->format) < 0)
                derr_at(c, v, "", "format", "'format' must be an integer (found %s)", node_kind_name(v));
        else if (dag->format != 1)
                derr_at(c, v, "", "format", "unsupported format %lld (this version reads format 1)",
                        dag->format);
        if ((s = get_str(c, root, "", "name", true))) {
                if (!*s || strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(s) ||
                    !(s[0] >= 'a' && s[0] <= 'z'))
                        derr_at(c, get(root, "name"), "", "name",
                                "invalid name '%s': must match [a-z][a-z0-9_]*", s);
                dag->name = xstrdup(c, s);
        }
        if (!(v = get(root, "atoms")))
                derr_at(c, root, "", "atoms", "missing required key 'atoms'");
        else if (v->kind != NODE_SEQ || v->n == 0)
                derr_at(c, v, "", "atoms", "'atoms' must be a non-empty sequence (found %s)",
                        v->kind == NODE_SEQ ? "an empty one" : node_kind_name(v));
        else if (!(dag->atoms = calloc(v->n, sizeof(struct atom))))
                return -ENOMEM;
        else {
                atoms = v;
                dag->n_atoms = v->n;
                for (size_t i = 0; i < v->n && !c->oom; i++) {
                        _cleanup_free_ char *p = pidx(c, "atoms", i);
                        parse_atom(c, v->items[i], p ? p : "", &dag->atoms[i]);
                }
        }
        size_t before_waves = c->errors;
        if ((v = get(root, "waves")))
                parse_waves(c, v, dag);
        bool waves_ok = c->errors == before_waves;
        if (c->oom)
                return -ENOMEM;

        _cleanup_(id_index_done) struct id_index ix = { 0 };
        if (id_index_build(dag, &ix) < 0)
                return -ENOMEM;
        check_duplicate_ids(c, dag, &ix, atoms);
        if (atoms && resolve_deps(c, dag, &ix, atoms) < 0)
                return -ENOMEM;
        if (dag->waves_given && waves_ok && check_wave_membership(c, dag, &ix, get(root, "waves")) < 0)
                return -ENOMEM;
        return c->oom ? -ENOMEM : 0;
}

int dag_from_node(const struct node *root, const char *file, struct dag **ret, struct diags *d) {
        struct dctx c = { .file = file, .d = d };
        _cleanup_dag_ struct dag *dag = calloc(1, sizeof(*dag));
        if (!dag)
                return -ENOMEM;
        int r = dag_parse(&c, root, dag);
        if (r < 0 || c.oom)
                return -ENOMEM;
        if (c.errors > 0)
                return -EINVAL;
        *ret = TAKE_PTR(dag);
        return 0;
}

/* ---- checking and scheduling ---- */

static void report_cycle(struct dctx *c, const struct dag *dag, const size_t *stack, size_t from,
                         size_t to) {
        _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
        size_t len = to - from + 1;
        int r = strbuf_adds(&sb, "dependency cycle: ");
        for (size_t k = from; k <= to && r >= 0; k++) {
                /* very long cycles are shortened in the middle */
                if (len > 24 && k == from + 20) {
                        r = strbuf_adds(&sb, "... -> ");
                        k = to - 2;
                        continue;
                }
                r = strbuf_addf(&sb, "%s -> ", dag->atoms[stack[k]].id);
        }
        if (r >= 0)
                r = strbuf_adds(&sb, dag->atoms[stack[from]].id);
        if (r < 0) {
                c->oom = true;
                return;
        }
        const struct atom *a = &dag->atoms[stack[from]];
        _cleanup_free_ char *p = pidx(c, "atoms", stack[from]);
        derr(c, a->pos.line, a->pos.column, p ? p : "", NULL, "%s", strbuf_str(&sb));
}

/* Iterative depth-first search along depends_on. Reports every cycle once (one per
 * back edge) and fills post with the atoms in post-order: dependencies first. */
static int find_cycles(struct dctx *c, const struct dag *dag, size_t *post) {
        size_t n = dag->n_atoms, n_post = 0;
        _cleanup_free_ unsigned char *color = calloc(n, 1); /* 0 new, 1 on stack, 2 done */
        _cleanup_free_ size_t *stack = calloc(n, sizeof(size_t));
        _cleanup_free_ size_t *next = calloc(n, sizeof(size_t));
        _cleanup_free_ size_t *depth = calloc(n, sizeof(size_t));
        if (!color || !stack || !next || !depth)
                return -ENOMEM;
        for (size_t s = 0; s < n; s++) {
                if (color[s])
                        continue;
                size_t top = 0;
                stack[top++] = s;
                color[s] = 1;
                depth[s] = 0;
                next[s] = 0;
                while (top > 0) {
                        size_t v = stack[top - 1];
                        const struct atom *a = &dag->atoms[v];
                        if (next[v] < a->n_deps) {
                                size_t u = a->dep_idx[next[v]++];
                                if (color[u] == 0) {
                                        color[u] = 1;
                                        next[u] = 0;
                                        depth[u] = top;
                                        stack[top++] = u;
                                } else if (color[u] == 1)
                                        report_cycle(c, dag, stack, depth[u], top - 1);
                                continue;
                        }
                        color[v] = 2;
                        post[n_post++] = v;
                        top--;
                }
        }
        return c->oom ? -ENOMEM : 0;
}

struct order_ctx {
        const struct dag *dag;
        const size_t *rank; /* position in order */
};

static int cmp_wave_index(const void *a, const void *b, void *userdata) {
        const struct dag *dag = userdata;
        size_t i = *(const size_t *) a, j = *(const size_t *) b;
        unsigned wi = dag->atoms[i].wave, wj = dag->atoms[j].wave;
        if (wi != wj)
                return wi < wj ? -1 : 1;
        return i < j ? -1 : i > j;
}

static int cmp_target_rank(const void *a, const void *b, void *userdata) {
        const struct order_ctx *o = userdata;
        size_t i = *(const size_t *) a, j = *(const size_t *) b;
        int r = strcmp(o->dag->atoms[i].target, o->dag->atoms[j].target);
        if (r)
                return r;
        return o->rank[i] < o->rank[j] ? -1 : o->rank[i] > o->rank[j];
}

static int compute_order(struct dag *dag) {
        size_t n = dag->n_atoms;
        free(dag->order);
        if (!(dag->order = calloc(n ? n : 1, sizeof(size_t))))
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                dag->order[i] = i;
        qsort_r(dag->order, n, sizeof(size_t), cmp_wave_index, dag);

        _cleanup_free_ size_t *rank = calloc(n ? n : 1, sizeof(size_t));
        _cleanup_free_ size_t *by_target = calloc(n ? n : 1, sizeof(size_t));
        if (!rank || !by_target)
                return -ENOMEM;
        for (size_t k = 0; k < n; k++) {
                rank[dag->order[k]] = k;
                by_target[k] = dag->order[k];
        }
        struct order_ctx o = { dag, rank };
        qsort_r(by_target, n, sizeof(size_t), cmp_target_rank, &o);
        for (size_t k = 0, j; k < n; k = j) {
                for (j = k; j < n && streq(dag->atoms[by_target[j]].target,
                                           dag->atoms[by_target[k]].target); j++)
                        ;
                for (size_t m = k; m < j; m++) {
                        dag->atoms[by_target[m]].fragment_index = (unsigned) (m - k);
                        dag->atoms[by_target[m]].fragment_count = (unsigned) (j - k);
                }
        }
        return 0;
}

static int dag_validate(struct dctx *c, struct dag *dag, const struct spec *spec, size_t max_atoms) {
        size_t n = dag->n_atoms;

        if (max_atoms && n > max_atoms) {
                const struct atom *a = &dag->atoms[max_atoms];
                derr(c, a->pos.line, a->pos.column, "atoms", NULL,
                     "the DAG has %zu atoms, more than the limit of %zu", n, max_atoms);
                return 0;
        }
        if (n == 0) {
                derr(c, 0, 0, "atoms", NULL, "the DAG has no atoms");
                return 0;
        }
        for (size_t i = 0; i < n; i++) {
                const struct atom *a = &dag->atoms[i];
                _cleanup_free_ char *p = pidx(c, "atoms", i);
                if (!p)
                        return -ENOMEM;
                if (!a->id || !id_is_valid(a->id))
                        derr(c, a->pos.line, a->pos.column, p, "id", "invalid atom id '%s'",
                             a->id ? a->id : "");
                if ((unsigned) a->kind >= _AK_MAX)
                        derr(c, a->pos.line, a->pos.column, p, "kind", "atom '%s' has no valid kind",
                             a->id ? a->id : "");
                if (!a->target)
                        derr(c, a->pos.line, a->pos.column, p, "target", "atom '%s' has no target",
                             a->id ? a->id : "");
                else
                        check_target(c, a->pos.line, a->pos.column, p, a->target);
                if (a->entity && spec && !spec_find_entity(spec, a->entity))
                        derr(c, a->pos.line, a->pos.column, p, "entity",
                             "atom '%s' names unknown entity '%s'", a->id ? a->id : "", a->entity);
        }
        if (c->errors)
                return 0;

        _cleanup_(id_index_done) struct id_index ix = { 0 };
        if (id_index_build(dag, &ix) < 0)
                return -ENOMEM;
        check_duplicate_ids(c, dag, &ix, NULL);
        if (resolve_deps(c, dag, &ix, NULL) < 0)
                return -ENOMEM;
        if (c->errors)
                return 0;

        _cleanup_free_ size_t *post = calloc(n, sizeof(size_t));
        if (!post || find_cycles(c, dag, post) < 0)
                return -ENOMEM;
        if (c->errors)
                return 0;

        if (dag->waves_given) {
                if (check_wave_membership(c, dag, &ix, NULL) < 0)
                        return -ENOMEM;
                if (c->errors)
                        return 0;
                for (size_t i = 0; i < n; i++) {
                        const struct atom *a = &dag->atoms[i];
                        for (size_t j = 0; j < a->n_deps; j++) {
                                const struct atom *b = &dag->atoms[a->dep_idx[j]];
                                if (b->wave < a->wave)
                                        continue;
                                _cleanup_free_ char *p = NULL;
                                if (asprintf(&p, "atoms[%zu].depends_on[%zu]", i, j) < 0) {
                                        p = NULL;
                                        return -ENOMEM;
                                }
                                derr(c, a->pos.line, a->pos.column, p, NULL,
                                     "atom '%s' (wave %u) depends on '%s' which is not in an earlier wave (wave %u)",
                                     a->id, a->wave, b->id, b->wave);
                        }
                }
                if (c->errors)
                        return 0;
        } else {
                /* post-order puts every dependency before the atoms that need it */
                unsigned max = 0;
                for (size_t k = 0; k < n; k++) {
                        struct atom *a = &dag->atoms[post[k]];
                        a->wave = 1;
                        for (size_t j = 0; j < a->n_deps; j++)
                                if (dag->atoms[a->dep_idx[j]].wave + 1 > a->wave)
                                        a->wave = dag->atoms[a->dep_idx[j]].wave + 1;
                        if (a->wave > max)
                                max = a->wave;
                }
                dag->n_waves = max;
        }
        return compute_order(dag);
}

int dag_check(struct dag *dag, const struct spec *spec, const char *file, size_t max_atoms,
              struct diags *d) {
        struct dctx c = { .file = file, .d = d };
        int r = dag_validate(&c, dag, spec, max_atoms);
        if (r < 0 || c.oom)
                return -ENOMEM;
        return c.errors > 0 ? -EINVAL : 0;
}

/* ---- JSON ---- */

static struct node *strv_node(char *const *v, size_t n) {
        struct node *seq = node_new_seq();
        for (size_t i = 0; seq && i < n; i++)
                if (node_seq_append(seq, node_new_string(v[i])) < 0) {
                        node_free(seq);
                        return NULL;
                }
        return seq;
}

static struct node *dag_to_node(const struct dag *dag) {
        _cleanup_node_ struct node *root = node_new_map();
        struct node *atoms, *waves;
        int r;

        if (!root || node_map_set_int(root, "format", dag->format ? dag->format : 1) < 0 ||
            node_map_set_string(root, "name", dag->name) < 0 ||
            node_map_set(root, "atoms", (atoms = node_new_seq())) < 0)
                return NULL;
        for (size_t i = 0; i < dag->n_atoms; i++) {
                const struct atom *a = &dag->atoms[i];
                struct node *m = node_new_map();
                if (!m || node_seq_append(atoms, m) < 0)
                        return NULL;
                r = node_map_set_string(m, "id", a->id);
                if (r >= 0)
                        r = node_map_set_string(m, "kind", atom_kind_name(a->kind));
                if (r >= 0)
                        r = node_map_set_string(m, "target", a->target);
                if (r >= 0)
                        r = node_map_set(m, "depends_on", strv_node(a->depends_on, a->n_deps));
                if (r >= 0 && a->entity)
                        r = node_map_set_string(m, "entity", a->entity);
                if (r >= 0 && a->operation)
                        r = node_map_set_string(m, "operation", a->operation);
                if (r >= 0 && a->description)
                        r = node_map_set_string(m, "description", a->description);
                if (r < 0)
                        return NULL;
        }
        if (dag->order) {
                /* the computed waves, each in document order */
                if (!(waves = node_new_seq()) || node_map_set(root, "waves", waves) < 0)
                        return NULL;
                struct node *cur = NULL;
                unsigned w = 0;
                for (size_t k = 0; k < dag->n_atoms; k++) {
                        const struct atom *a = &dag->atoms[dag->order[k]];
                        if (!cur || a->wave != w) {
                                if (!(cur = node_new_seq()) || node_seq_append(waves, cur) < 0)
                                        return NULL;
                                w = a->wave;
                        }
                        if (node_seq_append(cur, node_new_string(a->id)) < 0)
                                return NULL;
                }
        } else if (dag->waves_given) {
                if (!(waves = node_new_seq()) || node_map_set(root, "waves", waves) < 0)
                        return NULL;
                for (size_t w = 0; w < dag->n_waves; w++)
                        if (node_seq_append(waves, strv_node(dag->wave_ids[w], dag->wave_len[w])) < 0)
                                return NULL;
        }
        return TAKE_PTR(root);
}

char *dag_to_json(const struct dag *dag) {
        _cleanup_node_ struct node *n = dag_to_node(dag);
        _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
        if (!n || doc_emit_json(n, &sb) < 0)
                return NULL;
        return strbuf_detach(&sb, NULL);
}

static void strv_free(char **v, size_t n) {
        for (size_t i = 0; v && i < n; i++)
                free(v[i]);
        free(v);
}

void dag_free(struct dag *dag) {
        if (!dag)
                return;
        for (size_t i = 0; i < dag->n_atoms; i++) {
                struct atom *a = &dag->atoms[i];
                free(a->id);
                free(a->target);
                free(a->entity);
                free(a->operation);
                free(a->description);
                strv_free(a->depends_on, a->n_deps);
                free(a->dep_idx);
        }
        free(dag->atoms);
        if (dag->wave_ids)
                for (size_t w = 0; w < dag->n_waves; w++)
                        strv_free(dag->wave_ids[w], dag->wave_len[w]);
        free(dag->wave_ids);
        free(dag->wave_len);
        free(dag->order);
        free(dag->name);
        free(dag);
}
