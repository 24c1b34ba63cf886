/* backend-model.c - the `anthropic` and `openai` entries of the backend table.
 *
 * check() refuses, at validation, a job for a provider with no model or (anthropic) no
 * API key, naming where the key may come from. generate() is model_generate().
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "backend/backend.h"
#include "model.h"
#include "prompt.h"
#include "shared/macro.h"

int model_check(const struct model_provider *p, const struct backend_options *o, const char *dag_file,
                 struct diags *d) {
        const struct model_settings *ms = p == &model_anthropic ? o->anthropic : o->openai;
        size_t before = d->n;
        int r = 0;
        if (!ms || (!o->model && !ms->model))
                r = diags_add(d, dag_file, 0, 0, NULL,
                              "backend %s needs a model (the '%s.model' setting or the job option 'model')",
                              p->name, p->name);
        if (r >= 0 && ms && p->key_required && !ms->key)
                r = diags_add(d, dag_file, 0, 0, NULL,
                              "backend %s has no API key (set %s, '%s.api_key_file' or the credential %s)",
                              p->name, p->key_env, p->name, p->credential);
        return r < 0 ? r : d->n > before ? -EINVAL : 0;
}

static int check_anthropic(const struct backend_options *o, const struct spec *spec, const struct dag *dag,
                           const char *dag_file, struct diags *d) {
        (void) spec;
        (void) dag;
        return model_check(&model_anthropic, o, dag_file, d);
}

static int check_openai(const struct backend_options *o, const struct spec *spec, const struct dag *dag,
                        const char *dag_file, struct diags *d) {
        (void) spec;
        (void) dag;
        return model_check(&model_openai, o, dag_file, d);
}

static int generate_anthropic(const struct gen_request *req, struct strbuf *out, struct gen_usage *usage,
                              char **ret_error) {
        return model_generate(&model_anthropic, req, NULL, out, usage, ret_error);
}

static int generate_openai(const struct gen_request *req, struct strbuf *out, struct gen_usage *usage,
                           char **ret_error) {
        return model_generate(&model_openai, req, NULL, out, usage, ret_error);
}

int model_cache_key(const struct model_provider *p, const struct gen_request *req, const char *draft,
                    struct sha256_ctx *c) {
        const struct backend_options *o = req->options;
        const struct model_settings *ms = p == &model_anthropic ? o->anthropic : o->openai;
        _cleanup_free_ char *error = NULL;
        char num[128];
        if (!ms)
                return -EINVAL;
        backend_key_adds(c, "model.provider", p->name);
        backend_key_adds(c, "model.name", o->model ? o->model : ms->model);
        (void) snprintf(num, sizeof(num), "%u %.17g %d %u", ms->max_tokens, ms->temperature, o->repair,
                        o->repair ? o->repair_attempts : 0);
        backend_key_adds(c, "model.settings", num);
        backend_key_adds(c, "model.token_param", p == &model_openai ? ms->token_param : NULL);
        return prompt_cache_key(req, draft, c, &error);
}

static int key_anthropic(const struct gen_request *req, struct sha256_ctx *c) {
        return model_cache_key(&model_anthropic, req, NULL, c);
}

static int key_openai(const struct gen_request *req, struct sha256_ctx *c) {
        return model_cache_key(&model_openai, req, NULL, c);
}

/* Every atom's worker calls the model. */
static int all_model_atoms(const struct backend_options *o, const struct spec *spec, const struct dag *dag,
                           bool *ret) {
        (void) o;
        (void) spec;
        for (size_t i = 0; i < dag->n_atoms; i++)
                ret[i] = true;
        return 0;
}

const struct backend backend_anthropic = {
        .name = "anthropic",
        .deterministic = false,
        .check = check_anthropic,
        .generate = generate_anthropic,
        .cache_key = key_anthropic,
        .model_atoms = all_model_atoms,
};

const struct backend backend_openai = {
        .name = "openai",
        .deterministic = false,
        .check = check_openai,
        .generate = generate_openai,
        .cache_key = key_openai,
        .model_atoms = all_model_atoms,
};
