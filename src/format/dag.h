/* dag.h - the execution DAG (job-format.md section 3, ExecutionDAG) and its planning.
 *
 * dag_from_node() parses a DAG document; dag_check() validates it against the spec
 * (ids, kinds, safe targets, known entities, known dependencies, cycles naming the
 * cycle, given waves) and computes waves and a topological order. plan_from_spec()
 * plans a DAG for a bundle that has none: one atom per generated file, the same ids,
 * kinds and targets as the reference DAG (examples/taskmanager/dag.json).
 * Functions return 0 or a negative errno; -EINVAL means diagnostics were added.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"
#include "node.h"
#include "spec.h"

enum atom_kind {
        AK_CONFIG, AK_DATABASE, AK_MODEL, AK_SCHEMA, AK_VALIDATION, AK_SERVICE, AK_ROUTE,
        AK_APP, AK_MIGRATION, AK_TEST, AK_DOC, AK_INFRA, AK_PACKAGE, _AK_MAX,
};

struct atom {
        char *id;
        enum atom_kind kind;
        char *target;
        char *entity;      /* NULL when absent */
        char *operation;   /* routes: list/create/get/update/delete or a custom op name */
        char *description;
        char **depends_on;
        size_t n_deps;
        /* computed by dag_check() */
        size_t *dep_idx;   /* indexes into dag->atoms */
        unsigned wave;     /* 1-based */
        unsigned fragment_index; /* position among atoms sharing this target, 0-based, in order */
        unsigned fragment_count; /* how many atoms share this target */
        struct src_pos pos;
};

struct dag {
        long long format;
        char *name;
        struct atom *atoms;
        size_t n_atoms;
        /* given in the document (validated) or computed */
        bool waves_given;
        char ***wave_ids;  /* as given: wave_ids[w][i], only when waves_given */
        size_t *wave_len;
        size_t n_waves;
        /* computed by dag_check(): atom indexes in a topological order that is stable
         * (ties broken by wave, then position in the document) */
        size_t *order;
};

int dag_from_node(const struct node *root, const char *file, struct dag **ret, struct diags *d);
int dag_check(struct dag *dag, const struct spec *spec, const char *file, size_t max_atoms,
              struct diags *d);
int plan_from_spec(const struct spec *spec, struct dag **ret);
/* The plan that ran, as JSON for .codegen/dag.json (with computed waves). */
char *dag_to_json(const struct dag *dag);
void dag_free(struct dag *dag);
static inline void dag_freep(struct dag **d) {
        dag_free(*d);
}
#define _cleanup_dag_ __attribute__((cleanup(dag_freep)))

const char *atom_kind_name(enum atom_kind k);
int atom_kind_from_name(const char *s); /* -EINVAL when unknown */
const struct atom *dag_find_atom(const struct dag *dag, const char *id);
