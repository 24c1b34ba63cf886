/* test-dag.c - DAG parsing and checks, waves and order, planning and JSON output. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check-main.h"
#include "format/dag.h"
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

static bool has_diag(const struct diags *d, unsigned line, unsigned column, const char *path,
                     const char *message) {
        for (size_t i = 0; i < d->n; i++) {
                const struct diag *g = &d->v[i];
                if (g->line == line && g->column == column && streq(g->message, message) &&
                    streq_ptr(g->path, path) && streq_ptr(g->file, "t.yaml"))
                        return true;
        }
        return false;
}

#define assert_diag(d, line, column, path, message)                                        \
        ck_assert_msg(has_diag(d, line, column, path, message),                          \
                      "missing diagnostic %u:%u %s: %s; have:\n%s", line, column, path,     \
                      message, diags_text(d))

static struct node *load(const char *rel) {
        _cleanup_free_ char *path = path_join(test_srcdir(), rel);
        struct diags d = DIAGS_INIT;
        struct node *n = NULL;
        ck_assert_msg(doc_load(path, rel, 1 << 20, &n, &d) == 0, "%s", diags_text(&d));
        diags_clear(&d);
        return n;
}

static struct spec *load_spec(const char *rel) {
        _cleanup_node_ struct node *n = load(rel);
        struct diags d = DIAGS_INIT;
        struct spec *s = NULL;
        ck_assert_msg(spec_from_node(n, rel, &s, &d) == 0, "%s", diags_text(&d));
        diags_clear(&d);
        return s;
}

static struct node *yaml(const char *text) {
        struct diags d = DIAGS_INIT;
        struct node *n = NULL;
        ck_assert_msg(doc_parse_yaml(text, strlen(text), "t.yaml", &n, &d) == 0, "%s",
                      diags_text(&d));
        return n;
}

/* Parses and checks (without a spec); returns the first failing step's result. */
static int parse_check(const char *text, size_t max_atoms, struct dag **ret, struct diags *d) {
        _cleanup_node_ struct node *n = yaml(text);
        _cleanup_dag_ struct dag *dag = NULL;
        int r = dag_from_node(n, "t.yaml", &dag, d);
        if (r < 0) {
                ck_assert_ptr_null(dag);
                return r;
        }
        r = dag_check(dag, NULL, "t.yaml", max_atoms, d);
        if (r == 0 && ret)
                *ret = TAKE_PTR(dag);
        return r;
}

static void fails(const char *text, unsigned line, unsigned column, const char *path,
                  const char *message) {
        struct diags d = DIAGS_INIT;
        ck_assert_msg(parse_check(text, 0, NULL, &d) == -EINVAL, "%s", text);
        assert_diag(&d, line, column, path, message);
        diags_clear(&d);
}

START_TEST(test_reference_dag) {
        _cleanup_node_ struct node *n = load("spool-example/taskmanager/dag.json");
        _cleanup_spec_ struct spec *spec = load_spec("spool-example/taskmanager/spec.yaml");
        _cleanup_dag_ struct dag *dag = NULL;
        struct diags d = DIAGS_INIT;
        ck_assert_int_eq(dag_from_node(n, "dag.json", &dag, &d), 0);
        ck_assert_int_eq(dag_check(dag, spec, "dag.json", 100, &d), 0);
        ck_assert_uint_eq(d.n, 0);
        ck_assert_str_eq(dag->name, "taskmanager");
        ck_assert_uint_eq(dag->n_atoms, 50);
        ck_assert(dag->waves_given);
        ck_assert_uint_eq(dag->n_waves, 10);

        const struct node *waves = node_get(n, "waves");
        ck_assert_uint_eq(waves->n, 10);
        size_t k = 0;
        for (size_t w = 0; w < waves->n; w++)
                for (size_t i = 0; i < waves->items[w]->n; i++, k++) {
                        const char *id = waves->items[w]->items[i]->value;
                        const struct atom *a = dag_find_atom(dag, id);
                        ck_assert_ptr_nonnull(a);
                        ck_assert_uint_eq(a->wave, w + 1);
                        /* order: by wave, then document order (the reference lists each
                         * wave in document order) */
                        ck_assert_str_eq(dag->atoms[dag->order[k]].id, id);
                }
        ck_assert_uint_eq(k, 50);

        const struct atom *m = dag_find_atom(dag, "model_task");
        ck_assert_int_eq(m->kind, AK_MODEL);
        ck_assert_str_eq(m->target, "src/models/task.py");
        ck_assert_str_eq(m->entity, "Task");
        ck_assert_uint_eq(m->n_deps, 1);
        ck_assert_str_eq(dag->atoms[m->dep_idx[0]].id, "database");
        ck_assert_uint_eq(m->fragment_count, 1);
        ck_assert_uint_eq(m->pos.line, 49);
        ck_assert_uint_eq(m->pos.column, 5);

        /* five routes share src/api/routes/users.py, numbered in order */
        static const char *const ops[] = { "list", "create", "get", "update", "delete" };
        for (unsigned i = 0; i < 5; i++) {
                char id[64];
                snprintf(id, sizeof(id), "route_user_%s", ops[i]);
                const struct atom *r = dag_find_atom(dag, id);
                ck_assert_str_eq(r->operation, ops[i]);
                ck_assert_str_eq(r->target, "src/api/routes/users.py");
                ck_assert_uint_eq(r->fragment_count, 5);
                ck_assert_uint_eq(r->fragment_index, i);
        }
        ck_assert_ptr_null(dag_find_atom(dag, "nope"));

        /* checking twice gives the same result */
        ck_assert_int_eq(dag_check(dag, spec, "dag.json", 100, &d), 0);
        ck_assert_uint_eq(dag->n_waves, 10);
        diags_clear(&d);
}
END_TEST

START_TEST(test_computed_waves_equal_given) {
        _cleanup_node_ struct node *n = load("spool-example/taskmanager/dag.json");
        _cleanup_dag_ struct dag *given = NULL, *computed = NULL;
        struct diags d = DIAGS_INIT;
        ck_assert_int_eq(dag_from_node(n, "dag.json", &given, &d), 0);
        ck_assert_int_eq(dag_check(given, NULL, "dag.json", 0, &d), 0);

        /* the same document without "waves" */
        long w = node_key_index(n, "waves");
        ck_assert_int_eq(w, 3);
        n->n = 3;
        int r = dag_from_node(n, "dag.json", &computed, &d);
        n->n = 4;
        ck_assert_int_eq(r, 0);
        ck_assert(!computed->waves_given);
        ck_assert_int_eq(dag_check(computed, NULL, "dag.json", 0, &d), 0);
        ck_assert_uint_eq(computed->n_waves, 10);
        for (size_t i = 0; i < given->n_atoms; i++) {
                ck_assert_uint_eq(computed->atoms[i].wave, given->atoms[i].wave);
                ck_assert_uint_eq(computed->order[i], given->order[i]);
        }
        /* written back with the computed waves, it is the reference file again */
        _cleanup_free_ char *path = path_join(test_srcdir(), "spool-example/taskmanager/dag.json");
        _cleanup_free_ char *file = NULL;
        size_t len;
        ck_assert_int_eq(read_file_bounded(path, 1 << 20, &file, &len), 0);
        _cleanup_free_ char *json = dag_to_json(computed);
        ck_assert_str_eq(json, file);
        diags_clear(&d);
}
END_TEST

START_TEST(test_plan_reference) {
        _cleanup_spec_ struct spec *spec = load_spec("spool-example/taskmanager/spec.yaml");
        _cleanup_node_ struct node *n = load("spool-example/taskmanager/dag.json");
        _cleanup_dag_ struct dag *ref = NULL, *plan = NULL;
        struct diags d = DIAGS_INIT;
        ck_assert_int_eq(dag_from_node(n, "dag.json", &ref, &d), 0);
        ck_assert_int_eq(plan_from_spec(spec, &plan), 0);
        ck_assert_int_eq(dag_check(plan, spec, "plan", 1000, &d), 0);
        ck_assert_uint_eq(d.n, 0);

        ck_assert_int_eq(plan->format, 1);
        ck_assert_str_eq(plan->name, ref->name);
        ck_assert_uint_eq(plan->n_atoms, ref->n_atoms);
        for (size_t i = 0; i < ref->n_atoms; i++) {
                const struct atom *a = &plan->atoms[i], *b = &ref->atoms[i];
                ck_assert_str_eq(a->id, b->id);
                ck_assert_int_eq(a->kind, b->kind);
                ck_assert_str_eq(a->target, b->target);
                ck_assert_pstr_eq(a->entity, b->entity);
                ck_assert_pstr_eq(a->operation, b->operation);
                ck_assert_pstr_eq(a->description, b->description);
                ck_assert_uint_eq(a->n_deps, b->n_deps);
                for (size_t j = 0; j < a->n_deps; j++)
                        ck_assert_str_eq(a->depends_on[j], b->depends_on[j]);
        }
        ck_assert_uint_eq(plan->n_waves, 10);
        for (size_t w = 0; w < ref->n_waves; w++)
                for (size_t i = 0; i < ref->wave_len[w]; i++)
                        ck_assert_uint_eq(dag_find_atom(plan, ref->wave_ids[w][i])->wave, w + 1);

        /* and as JSON it is byte for byte the reference file */
        _cleanup_free_ char *path = path_join(test_srcdir(), "spool-example/taskmanager/dag.json");
        _cleanup_free_ char *file = NULL;
        size_t len;
        ck_assert_int_eq(read_file_bounded(path, 1 << 20, &file, &len), 0);
        _cleanup_free_ char *json = dag_to_json(plan);
        ck_assert_str_eq(json, file);
        diags_clear(&d);
}
END_TEST

START_TEST(test_plan_second_spec) {
        _cleanup_spec_ struct spec *spec = load_spec("tests/data/specs/library-m2m-custom.yaml");
        _cleanup_dag_ struct dag *plan = NULL;
        struct diags d = DIAGS_INIT;
        ck_assert_int_eq(plan_from_spec(spec, &plan), 0);
        ck_assert_msg(dag_check(plan, spec, "plan", 1000, &d) == 0, "%s", diags_text(&d));

        const struct atom *r = dag_find_atom(plan, "route_book_retire");
        ck_assert_ptr_nonnull(r);
        ck_assert_int_eq(r->kind, AK_ROUTE);
        ck_assert_str_eq(r->operation, "retire");
        ck_assert_str_eq(r->entity, "Book");
        ck_assert_str_eq(r->target, "src/api/routes/books.py");
        ck_assert_uint_eq(r->fragment_count, 4);
        ck_assert_uint_eq(r->fragment_index, 3);
        ck_assert_str_eq(dag_find_atom(plan, "route_author_list")->target, "src/api/routes/authors.py");
        ck_assert_str_eq(dag_find_atom(plan, "route_category_delete")->target,
                         "src/api/routes/categories.py");
        ck_assert_ptr_null(dag_find_atom(plan, "route_author_create"));

        const struct atom *m = dag_find_atom(plan, "model_author_profile");
        ck_assert_str_eq(m->target, "src/models/author_profile.py");
        const struct atom *v = dag_find_atom(plan, "validation_author_profile");
        ck_assert_uint_eq(v->n_deps, 3);
        ck_assert_str_eq(v->depends_on[0], "errors");
        ck_assert_str_eq(v->depends_on[1], "model_author_profile");
        ck_assert_str_eq(v->depends_on[2], "model_author");
        /* a self reference adds no dependency twice */
        v = dag_find_atom(plan, "validation_category");
        ck_assert_uint_eq(v->n_deps, 2);
        ck_assert_str_eq(dag_find_atom(plan, "test_categories")->target, "tests/test_categories.py");
        const struct atom *rp = dag_find_atom(plan, "routes_pkg");
        ck_assert_uint_eq(rp->n_deps, 6);
        ck_assert_str_eq(rp->depends_on[3], "route_book_retire");
        ck_assert_uint_eq(dag_find_atom(plan, "models_pkg")->n_deps, 4);

        /* every atom comes after all it depends on */
        for (size_t i = 0; i < plan->n_atoms; i++)
                for (size_t j = 0; j < plan->atoms[i].n_deps; j++)
                        ck_assert_uint_lt(plan->atoms[plan->atoms[i].dep_idx[j]].wave,
                                          plan->atoms[i].wave);
        _cleanup_free_ char *json = dag_to_json(plan);
        ck_assert_ptr_nonnull(strstr(json, "\"operation\": \"retire\""));
        diags_clear(&d);
}
END_TEST

START_TEST(test_plan_name_collisions) {
        struct diags d = DIAGS_INIT;
        _cleanup_node_ struct node *n = yaml(
                "format: 1\nname: t\nentities:\n"
                "  - {name: Model, fields: [{name: a, type: text}]}\n"
                "  - {name: Conftest, fields: [{name: a, type: text}]}\n");
        _cleanup_spec_ struct spec *spec = NULL;
        _cleanup_dag_ struct dag *plan = NULL;
        ck_assert_msg(spec_from_node(n, "t.yaml", &spec, &d) == 0, "%s", diags_text(&d));
        ck_assert_int_eq(plan_from_spec(spec, &plan), 0);
        ck_assert_msg(dag_check(plan, spec, "plan", 0, &d) == 0, "%s", diags_text(&d));
        const struct atom *t = dag_find_atom(plan, "test_models_2");
        ck_assert_ptr_nonnull(t);
        ck_assert_str_eq(t->target, "tests/test_models_api.py");
        ck_assert_str_eq(t->entity, "Model");
        ck_assert_uint_eq(t->fragment_count, 1);
        t = dag_find_atom(plan, "test_conftests");
        ck_assert_str_eq(t->target, "tests/test_conftests.py");
        ck_assert_str_eq(dag_find_atom(plan, "test_models")->target, "tests/test_models.py");
        diags_clear(&d);
}
END_TEST

#define HEAD "format: 1\nname: t\natoms:\n"
#define A "  - {id: a, kind: model, target: a.py}\n"
#define B_ON_A "  - {id: b, kind: model, target: b.py, depends_on: [a]}\n"

START_TEST(test_cycles) {
        struct diags d = DIAGS_INIT;
        const char *text = HEAD "  - {id: a, kind: model, target: a.py, depends_on: [b]}\n"
                                "  - {id: b, kind: model, target: b.py, depends_on: [c]}\n"
                                "  - {id: c, kind: model, target: c.py, depends_on: [a]}\n"
                                "  - {id: d, kind: model, target: d.py, depends_on: [a, e]}\n"
                                "  - {id: e, kind: model, target: e.py, depends_on: [d]}\n"
                                "  - {id: f, kind: model, target: f.py, depends_on: [e, c]}\n";
        ck_assert_int_eq(parse_check(text, 0, NULL, &d), -EINVAL);
        ck_assert_msg(d.n == 2, "%s", diags_text(&d));
        assert_diag(&d, 4, 5, "atoms[0]", "dependency cycle: a -> b -> c -> a");
        assert_diag(&d, 7, 5, "atoms[3]", "dependency cycle: d -> e -> d");
        diags_clear(&d);

        /* a long cycle, named in order, shortened in the middle */
        _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
        ck_assert_int_eq(strbuf_adds(&sb, HEAD), 0);
        for (int i = 0; i < 30; i++)
                ck_assert_int_eq(strbuf_addf(&sb, "  - {id: n%d, kind: doc, target: n%d.md, depends_on: [n%d]}\n",
                                             i, i, (i + 1) % 30), 0);
        ck_assert_int_eq(parse_check(sb.buf, 0, NULL, &d), -EINVAL);
        ck_assert_uint_eq(d.n, 1);
        ck_assert_str_eq(d.v[0].message,
                         "dependency cycle: n0 -> n1 -> n2 -> n3 -> n4 -> n5 -> n6 -> n7 -> n8 -> n9 -> "
                         "n10 -> n11 -> n12 -> n13 -> n14 -> n15 -> n16 -> n17 -> n18 -> n19 -> "
                         "... -> n28 -> n29 -> n0");
        diags_clear(&d);
}
END_TEST

START_TEST(test_atom_errors) {
        fails(HEAD "  - {id: a, kind: model, target: a.py, depends_on: [zz]}\n", 4, 53,
              "atoms[0].depends_on[0]", "atom 'a' depends on unknown atom 'zz'");
        fails(HEAD A "  - {id: b, kind: model, target: b.py, depends_on: [a, b]}\n", 5, 56,
              "atoms[1].depends_on[1]", "atom 'b' depends on itself");
        fails(HEAD A "  - {id: b, kind: model, target: b.py, depends_on: [a, a]}\n", 5, 56,
              "atoms[1].depends_on[1]", "atom 'b' lists 'a' twice in depends_on");
        fails(HEAD A "  - {id: a, kind: schema, target: b.py}\n", 5, 10, "atoms[1].id",
              "duplicate atom id 'a'");
        fails(HEAD "  - {id: A!, kind: model, target: a.py}\n", 4, 10, "atoms[0].id",
              "invalid atom id 'A!': must match [a-z0-9_.-]+");
        fails(HEAD "  - {id: a, kind: modle, target: a.py}\n", 4, 19, "atoms[0].kind",
              "unknown atom kind 'modle'; did you mean 'model'? (valid kinds: config, database, model, schema, validation, service, route, app, migration, test, doc, infra, package)");
        fails(HEAD "  - {id: a, kind: model, target: /etc/x}\n", 4, 34, "atoms[0].target",
              "absolute target '/etc/x'");
        fails(HEAD "  - {id: a, kind: model, target: a/../b}\n", 4, 34, "atoms[0].target",
              "target 'a/../b' leaves the project");
        fails(HEAD "  - {id: a, kind: model, target: ..}\n", 4, 34, "atoms[0].target",
              "target '..' leaves the project");
        fails(HEAD "  - {id: a, kind: model, target: a//b}\n", 4, 34, "atoms[0].target",
              "unsafe target 'a//b' (empty, '.' or over-long components, control characters and backslashes are refused)");
        fails(HEAD "  - {id: a, kind: model, target: a.py, depend_on: [b]}\n", 4, 40,
              "atoms[0].depend_on", "unknown key 'depend_on'; did you mean 'depends_on'?");
        fails(HEAD "  - {id: a, kind: model}\n", 4, 5, "atoms[0].target", "missing required key 'target'");
        fails(HEAD "  - {id: a, kind: model, target: a.py, depends_on: b}\n", 4, 52,
              "atoms[0].depends_on", "'depends_on' must be a sequence (found string)");
        fails(HEAD "  - {id: a, kind: model, target: a.py, entity: [x]}\n", 4, 48,
              "atoms[0].entity", "'entity' must be a string (found sequence)");
        fails(HEAD "  - just text\n", 4, 5, "atoms[0]", "atom must be a mapping (found string)");
        fails("name: t\natoms:\n" A, 1, 1, "format", "missing required key 'format'");
        fails("format: 2\nname: t\natoms:\n" A, 1, 9, "format",
              "unsupported format 2 (this version reads format 1)");
        fails("format: 1\natoms:\n" A, 1, 1, "name", "missing required key 'name'");
        fails("format: 1\nname: t\natoms: []\n", 3, 8, "atoms",
              "'atoms' must be a non-empty sequence (found an empty one)");
        fails(HEAD A "x-ok: 1\nwavs: []\n", 6, 1, "wavs", "unknown key 'wavs'; did you mean 'waves'?");
}
END_TEST

START_TEST(test_wave_errors) {
        fails(HEAD A B_ON_A "waves:\n  - [a, q]\n  - [b]\n", 7, 9, "waves[0][1]",
              "unknown atom 'q' in waves[0]");
        fails(HEAD A B_ON_A "waves:\n  - [a]\n", 5, 5, "atoms[1]", "atom 'b' is in no wave");
        fails(HEAD A B_ON_A "waves:\n  - [a]\n  - [b]\n  - [a]\n", 9, 6, "waves[2][0]",
              "atom 'a' is in waves 1 and 3");
        fails(HEAD A B_ON_A "waves:\n  - [a, a]\n  - [b]\n", 7, 9, "waves[0][1]",
              "atom 'a' is listed twice in wave 1");
        fails(HEAD A B_ON_A "waves:\n  - [a]\n  - []\n  - [b]\n", 8, 5, "waves[1]", "wave 2 is empty");
        fails(HEAD A B_ON_A "waves:\n  - [b]\n  - [a]\n", 5, 5, "atoms[1].depends_on[0]",
              "atom 'b' (wave 1) depends on 'a' which is not in an earlier wave (wave 2)");
        fails(HEAD A B_ON_A "waves:\n  - [a, b]\n", 5, 5, "atoms[1].depends_on[0]",
              "atom 'b' (wave 1) depends on 'a' which is not in an earlier wave (wave 1)");
        fails(HEAD A B_ON_A "waves: [a, b]\n", 6, 9, "waves[0]",
              "a wave must be a sequence of atom ids (found string)");
        fails(HEAD A B_ON_A "waves: {a: 1}\n", 6, 8, "waves",
              "'waves' must be a sequence of sequences (found mapping)");

        /* valid given waves are taken as they are, even when not the tightest */
        struct diags d = DIAGS_INIT;
        _cleanup_dag_ struct dag *dag = NULL;
        ck_assert_int_eq(parse_check(HEAD A B_ON_A "waves:\n  - [a]\n  - []\n", 0, &dag, &d), -EINVAL);
        ck_assert_int_eq(parse_check(HEAD A B_ON_A "waves:\n  - [a]\n  - [b]\n", 0, &dag, &d), 0);
        ck_assert_uint_eq(dag_find_atom(dag, "b")->wave, 2);
        diags_clear(&d);
}
END_TEST

START_TEST(test_check_against_spec_and_limits) {
        _cleanup_spec_ struct spec *spec = load_spec("spool-example/taskmanager/spec.yaml");
        _cleanup_node_ struct node *n = yaml(HEAD "  - {id: m, kind: model, target: m.py, entity: Ghost}\n"
                                                  "  - {id: u, kind: model, target: u.py, entity: User}\n"
                                                  "  - {id: v, kind: model, target: v.py}\n");
        _cleanup_dag_ struct dag *dag = NULL;
        struct diags d = DIAGS_INIT;
        ck_assert_int_eq(dag_from_node(n, "t.yaml", &dag, &d), 0);
        ck_assert_int_eq(dag_check(dag, spec, "t.yaml", 0, &d), -EINVAL);
        ck_assert_uint_eq(d.n, 1);
        assert_diag(&d, 4, 5, "atoms[0].entity", "atom 'm' names unknown entity 'Ghost'");
        diags_clear(&d);

        ck_assert_int_eq(dag_check(dag, NULL, "t.yaml", 2, &d), -EINVAL);
        assert_diag(&d, 6, 5, "atoms", "the DAG has 3 atoms, more than the limit of 2");
        diags_clear(&d);
        ck_assert_int_eq(dag_check(dag, NULL, "t.yaml", 3, &d), 0);
        ck_assert_uint_eq(dag->n_waves, 1);

        /* a DAG built in memory gets the same checks, without positions */
        free(dag->atoms[1].target);
        dag->atoms[1].target = strdup("../u.py");
        free(dag->atoms[2].depends_on);
        dag->atoms[2].depends_on = calloc(1, sizeof(char *));
        dag->atoms[2].depends_on[0] = strdup("ghost");
        dag->atoms[2].n_deps = 1;
        ck_assert_int_eq(dag_check(dag, NULL, "t.yaml", 0, &d), -EINVAL);
        assert_diag(&d, 5, 5, "atoms[1].target", "target '../u.py' leaves the project");
        diags_clear(&d);
        free(dag->atoms[1].target);
        dag->atoms[1].target = strdup("u.py");
        ck_assert_int_eq(dag_check(dag, NULL, "t.yaml", 0, &d), -EINVAL);
        assert_diag(&d, 6, 5, "atoms[2].depends_on[0]", "atom 'v' depends on unknown atom 'ghost'");
        diags_clear(&d);
}
END_TEST

START_TEST(test_json_and_names) {
        struct diags d = DIAGS_INIT;
        _cleanup_dag_ struct dag *dag = NULL;
        ck_assert_int_eq(parse_check(HEAD A B_ON_A
                                     "  - {id: c, kind: route, target: b.py, entity: E, operation: list, description: \"x\\ny\"}\n",
                                     0, &dag, &d), 0);
        _cleanup_free_ char *json = dag_to_json(dag);
        ck_assert_str_eq(json, "{\n"
                               "  \"format\": 1,\n"
                               "  \"name\": \"t\",\n"
                               "  \"atoms\": [\n"
                               "    {\n"
                               "      \"id\": \"a\",\n"
                               "      \"kind\": \"model\",\n"
                               "      \"target\": \"a.py\",\n"
                               "      \"depends_on\": []\n"
                               "    },\n"
                               "    {\n"
                               "      \"id\": \"b\",\n"
                               "      \"kind\": \"model\",\n"
                               "      \"target\": \"b.py\",\n"
                               "      \"depends_on\": [\n"
                               "        \"a\"\n"
                               "      ]\n"
                               "    },\n"
                               "    {\n"
                               "      \"id\": \"c\",\n"
                               "      \"kind\": \"route\",\n"
                               "      \"target\": \"b.py\",\n"
                               "      \"depends_on\": [],\n"
                               "      \"entity\": \"E\",\n"
                               "      \"operation\": \"list\",\n"
                               "      \"description\": \"x\\ny\"\n"
                               "    }\n"
                               "  ],\n"
                               "  \"waves\": [\n"
                               "    [\n"
                               "      \"a\",\n"
                               "      \"c\"\n"
                               "    ],\n"
                               "    [\n"
                               "      \"b\"\n"
                               "    ]\n"
                               "  ]\n"
                               "}\n");
        /* fragments of b.py: c (wave 1) before b (wave 2) */
        ck_assert_uint_eq(dag_find_atom(dag, "c")->fragment_index, 0);
        ck_assert_uint_eq(dag_find_atom(dag, "b")->fragment_index, 1);
        ck_assert_uint_eq(dag_find_atom(dag, "b")->fragment_count, 2);
        ck_assert_uint_eq(dag->order[0], 0);
        ck_assert_uint_eq(dag->order[1], 2);
        ck_assert_uint_eq(dag->order[2], 1);

        /* its own output reads back to the same DAG */
        _cleanup_node_ struct node *n = NULL;
        _cleanup_dag_ struct dag *back = NULL;
        ck_assert_int_eq(doc_parse_json(json, strlen(json), "t.json", &n, &d), 0);
        ck_assert_int_eq(dag_from_node(n, "t.json", &back, &d), 0);
        ck_assert_int_eq(dag_check(back, NULL, "t.json", 0, &d), 0);
        _cleanup_free_ char *again = dag_to_json(back);
        ck_assert_str_eq(again, json);

        for (int k = 0; k < _AK_MAX; k++)
                ck_assert_int_eq(atom_kind_from_name(atom_kind_name((enum atom_kind) k)), k);
        ck_assert_int_eq(atom_kind_from_name("nope"), -EINVAL);
        ck_assert_str_eq(atom_kind_name(AK_PACKAGE), "package");
        diags_clear(&d);
}
END_TEST

Suite *make_suite(void) {
        Suite *s = suite_create("dag");
        TCase *tc = tcase_create("dag");
        tcase_add_test(tc, test_reference_dag);
        tcase_add_test(tc, test_computed_waves_equal_given);
        tcase_add_test(tc, test_plan_reference);
        tcase_add_test(tc, test_plan_second_spec);
        tcase_add_test(tc, test_plan_name_collisions);
        tcase_add_test(tc, test_cycles);
        tcase_add_test(tc, test_atom_errors);
        tcase_add_test(tc, test_wave_errors);
        tcase_add_test(tc, test_check_against_spec_and_limits);
        tcase_add_test(tc, test_json_and_names);
        suite_add_tcase(s, tc);
        return s;
}
