/* backend.h - the generation backend interface (a table of function pointers, like
 * OpenSMTPD's queue backends).
 *
 * check() runs at validation time in the parent: it adds a diagnostic for everything in
 * the job the backend cannot do (a custom operation on `pattern`, an atom whose target it
 * has no pattern for) so such a job fails before any worker starts; it returns 0,
 * -EINVAL (diagnostics added) or another negative errno.
 * generate() runs in a forked worker for one atom and appends the atom's text (the whole
 * file, or its fragment when several atoms share the target) to out; it returns 0 or a
 * negative errno with *ret_error set to a message (malloc'd) for the report.
 * A backend never falls back to another one.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "format/dag.h"
#include "format/diag.h"
#include "format/node.h"
#include "shared/sha256.h"
#include "shared/strbuf.h"
#include "format/spec.h"

struct model_settings;
struct limits;

/* A job's ceilings on model calls (0: none). */
struct gen_budget {
        double max_cost_usd;
        uint64_t max_tokens;
        unsigned max_calls;
};

struct backend_options {
        const char *datadir;      /* built-in data: DATADIR/codegend (patterns/, prompts/) */
        const char *patterns_dir; /* a user's pattern directory searched first, or NULL */
        const char *model;        /* network backends */
        /* ---- model backends (model/) ---- */
        const char *prompts_dir;  /* a user's prompt templates searched first, or NULL */
        const struct model_settings *anthropic, *openai;
        struct limits *limits;    /* shared by every worker of the daemon */
        double daily_cost_usd;    /* 0: no ceiling */
        struct gen_budget budget;
        const char *hybrid_model; /* hybrid: the model backend, "anthropic" or "openai" */
        bool repair;              /* repair calls for an atom whose text has syntax errors */
        unsigned repair_attempts;
};

/* What a backend tells about how it wrote an atom, beyond its text and usage. */
struct gen_notes {
        const char *backend;      /* the backend that wrote it (hybrid: pattern or a model) */
        int syntax_errors_before; /* before repair calls; -1 when none were needed */
        unsigned repair_calls;
        struct node *refused;     /* files a model's reply offered for other paths (seq, owned) */
};

struct gen_usage {
        unsigned calls;
        unsigned retries;
        uint64_t input_tokens;
        uint64_t output_tokens;
        uint64_t cache_read_input_tokens;
        uint64_t cache_creation_input_tokens;
        double cost_usd;
};

/* to += from, field by field (an atom's tries, a job's atoms). */
static inline void gen_usage_add(struct gen_usage *to, const struct gen_usage *from) {
        to->calls += from->calls;
        to->retries += from->retries;
        to->input_tokens += from->input_tokens;
        to->output_tokens += from->output_tokens;
        to->cache_read_input_tokens += from->cache_read_input_tokens;
        to->cache_creation_input_tokens += from->cache_creation_input_tokens;
        to->cost_usd += from->cost_usd;
}

struct gen_request {
        const struct spec *spec;
        const struct dag *dag;
        const struct atom *atom;
        const struct backend_options *options;
        const char *work_dir;   /* the job's work area: frags/ATOM_ID.frag of finished atoms */
        const char *spec_text;  /* the whole spec as YAML (model prompts) */
        const struct node *spec_doc; /* the spec document (the atom cache's spec excerpt), may be NULL */
        struct gen_usage spent; /* what the job's finished atoms used (budgets) */
        struct gen_notes *notes; /* filled by generate(), may be NULL */
        const void *prepared;   /* the backend's prepare() for the job, or NULL */
};

struct backend {
        const char *name;
        bool deterministic; /* same input, same output: tarballs are byte-identical */
        int (*check)(const struct backend_options *o, const struct spec *spec,
                     const struct dag *dag, const char *dag_file, struct diags *d);
        int (*generate)(const struct gen_request *req, struct strbuf *out,
                        struct gen_usage *usage, char **ret_error);
        /* The atom cache (docs/cache.md): adds to c everything of the backend's own that
         * decides the atom's output (its templates' or prompts' texts, the model and its
         * settings); runs in the atom's worker before generate(). 0 or a negative errno. */
        int (*cache_key)(const struct gen_request *req, struct sha256_ctx *c);
        /* Which atoms' workers will wait on a model's reply (docs/backends.md,
         * "Concurrency"): sets ret[i] for every atom of dag; runs in the parent once the
         * job is valid. Such a worker takes one of its provider's `concurrency` slots
         * instead of one of the `workers` (CPU) slots. NULL: none does (pattern). 0 or a
         * negative errno. */
        int (*model_atoms)(const struct backend_options *o, const struct spec *spec,
                           const struct dag *dag, bool *ret);
        /* What every atom's generate() would otherwise derive again from the whole job
         * (the pattern bank's index, the template context of the whole spec): built once
         * per job in the parent, before its first worker forks; the workers inherit it
         * (copy-on-write) as req->prepared, so an atom's cost does not grow with the
         * spec. NULL, or *ret NULL: generate() builds what it needs itself. 0 or a
         * negative errno; unprepare() frees it. */
        int (*prepare)(const struct backend_options *o, const struct spec *spec, const struct dag *dag,
                       void **ret);
        void (*unprepare)(void *prepared);
};

extern const struct backend backend_pattern, backend_anthropic, backend_openai, backend_hybrid;

/* The atom cache's key of req's atom through b: a format version, PACKAGE_VERSION, the
 * backend's name, the atom's own fields and its fragment position, the spec excerpt it
 * sees (backend_spec_excerpt()), the SHA-256 of each dependency's fragment (read from
 * req->work_dir/frags/) and b->cache_key(). 0 or a negative errno. */
int backend_cache_key(const struct backend *b, const struct gen_request *req, uint8_t ret[32]);
/* The part of the spec document an atom sees: for an atom of an entity, the document with
 * `entities` reduced to that entity and the entities it has a relationship with (either
 * way, or a foreign key either way) and every other list of mappings with an `entity:` key (endpoints, validations)
 * reduced to those entities' items; the whole document for an atom of no entity. */
int backend_spec_excerpt(const struct spec *spec, const struct node *doc, const struct atom *a,
                         struct node **ret);
/* Adds one labelled, length-prefixed field to a cache key (data may be NULL: absent). */
void backend_key_add(struct sha256_ctx *c, const char *label, const void *data, size_t len);
void backend_key_adds(struct sha256_ctx *c, const char *label, const char *s);

/* NULL when no backend of that name is built in. */
const struct backend *backend_find(const char *name);
