/* backend-hybrid.c - `hybrid`: the pattern bank writes every atom it can, a model writes
 * the rest (docs/backends.md, "Hybrid").
 *
 * Per atom, pattern_atom_plan() decides: the bank alone; a model given the bank's draft
 * of the file to extend (a validation atom of an entity with custom rules); or a model
 * alone (a custom operation's route, an atom of no template). The model is
 * options->hybrid_model (the `hybrid_model_backend` setting, the job option
 * `model_backend`). check() is the pattern backend's without the diagnostics for what the
 * model writes, plus the model backend's (model, key) when any atom needs it.
 * notes->backend names who wrote each atom. Never logs.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "backend/model/model.h"
#include "backend/pattern/pattern.h"
#include "shared/macro.h"

#define MAX_DRAFT (16u << 20)

static int hybrid_check(const struct backend_options *o, const struct spec *spec, const struct dag *dag,
                        const char *dag_file, struct diags *d) {
        const struct model_provider *p = model_provider_find(o->hybrid_model);
        size_t before = d->n;
        bool need_model = false;
        int r;

        if (!p)
                return diags_add(d, NULL, 0, 0, NULL, "hybrid needs a model backend (anthropic or openai), not '%s'",
                                 o->hybrid_model ? o->hybrid_model : "") < 0 ? -ENOMEM : -EINVAL;
        r = pattern_check_hybrid(o, spec, dag, dag_file, d);
        if (r < 0 && r != -EINVAL)
                return r;
        for (size_t i = 0; i < dag->n_atoms && !need_model; i++) {
                enum pattern_plan plan;
                if ((r = pattern_atom_plan(o, spec, &dag->atoms[i], &plan)) < 0)
                        return d->n > before ? -EINVAL : r;
                need_model = plan != PATTERN_WRITES;
        }
        if (need_model && (r = model_check(p, o, dag_file, d)) < 0 && r != -EINVAL)
                return r;
        return d->n > before ? -EINVAL : 0;
}

static int hybrid_generate(const struct gen_request *req, struct strbuf *out, struct gen_usage *usage,
                           char **ret_error) {
        const struct model_provider *p = model_provider_find(req->options->hybrid_model);
        enum pattern_plan plan;
        int r = pattern_atom_plan(req->options, req->spec, req->atom, &plan);
        if (r < 0) {
                if (asprintf(ret_error, "cannot read the pattern bank: %s", strerror(-r)) < 0)
                        *ret_error = NULL;
                return r;
        }
        if (plan == PATTERN_WRITES || !p) {
                if (req->notes)
                        req->notes->backend = backend_pattern.name;
                return backend_pattern.generate(req, out, usage, ret_error);
        }
        _cleanup_strbuf_ struct strbuf draft = STRBUF_INIT;
        strbuf_init(&draft, MAX_DRAFT);
        if (plan == PATTERN_DRAFT) {
                _cleanup_free_ char *error = NULL;
                r = backend_pattern.generate(req, &draft, usage, &error);
                if (r < 0)
                        strbuf_reset(&draft); /* no draft: the model writes the whole file */
        }
        return model_generate(p, req, draft.len ? strbuf_str(&draft) : NULL, out, usage, ret_error);
}

/* The bank's files, the plan and, for an atom a model writes, the model's part (with the
 * draft's text given to it, which the bank's files and the spec excerpt decide too). */
static int hybrid_key(const struct gen_request *req, struct sha256_ctx *c) {
        const struct model_provider *p = model_provider_find(req->options->hybrid_model);
        enum pattern_plan plan;
        int r = pattern_atom_plan(req->options, req->spec, req->atom, &plan);
        if (r < 0)
                return r;
        backend_key_adds(c, "hybrid.model_backend", req->options->hybrid_model);
        backend_key_adds(c, "hybrid.plan", plan == PATTERN_WRITES ? "pattern" : plan == PATTERN_DRAFT ? "draft" : "model");
        if ((r = pattern_cache_key(req->options, c)) < 0 || plan == PATTERN_WRITES || !p)
                return r;
        return model_cache_key(p, req, NULL, c);
}

/* Only the atoms the bank cannot write (alone) wait on the model. */
static int hybrid_model_atoms(const struct backend_options *o, const struct spec *spec, const struct dag *dag,
                              bool *ret) {
        _cleanup_free_ enum pattern_plan *plans = calloc(dag->n_atoms ? dag->n_atoms : 1, sizeof(*plans));
        if (!plans)
                return -ENOMEM;
        int r = pattern_atom_plans(o, spec, dag, plans);
        for (size_t i = 0; r >= 0 && i < dag->n_atoms; i++)
                ret[i] = plans[i] != PATTERN_WRITES;
        return r;
}

const struct backend backend_hybrid = {
        .name = "hybrid",
        .deterministic = false,
        .check = hybrid_check,
        .generate = hybrid_generate,
        .cache_key = hybrid_key,
        .model_atoms = hybrid_model_atoms,
        .prepare = pattern_prepare,
        .unprepare = pattern_unprepare,
};
