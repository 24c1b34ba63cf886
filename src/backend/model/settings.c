/* settings.c - defaults, key loading and the price table of a model backend; see model.h.
 *
 * The key comes from, in this order: api_key_file, $CREDENTIALS_DIRECTORY/<provider>_api_key
 * (systemd's LoadCredential=), the provider's environment variable. The environment
 * variable is unset afterwards in every case, so children and anything exec'd never see
 * it. Messages name files, never the key.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model.h"
#include "shared/fs.h"
#include "shared/macro.h"

#define MAX_KEY 4096

void model_settings_init(struct model_settings *ms, const char *provider) {
        *ms = (struct model_settings) {
                .max_tokens = 8192,
                .temperature = -1,
                .connect_timeout = 10,
                .timeout = 300,
                .max_retries = 4,
                .concurrency = 4,
        };
        (void) provider;
}

void model_settings_clear(struct model_settings *ms) {
        free(ms->base_url);
        free(ms->model);
        free(ms->token_param);
        free(ms->api_key_file);
        for (size_t i = 0; i < ms->n_prices; i++)
                free(ms->prices[i].model);
        free(ms->prices);
        if (ms->key) {
                explicit_bzero(ms->key, strlen(ms->key));
                free(ms->key);
        }
        *ms = (struct model_settings) { .temperature = -1 };
}

static int read_key(const char *path, char **ret, char **ret_error) {
        char *text = NULL;
        size_t len = 0;
        int r = read_file_bounded(path, MAX_KEY, &text, &len);
        if (r < 0) {
                if (asprintf(ret_error, "failed to read the API key from %s: %s", path, strerror(-r)) < 0)
                        *ret_error = NULL;
                return r;
        }
        while (len > 0 && strchr(" \t\r\n", text[len - 1]))
                text[--len] = '\0';
        if (len == 0 || strlen(text) != len || strpbrk(text, "\r\n")) {
                explicit_bzero(text, len);
                free(text);
                if (asprintf(ret_error, "%s must hold one API key on one line", path) < 0)
                        *ret_error = NULL;
                return -EINVAL;
        }
        *ret = text;
        return 0;
}

/* The key found in the provider's environment variable at the first look, kept in memory:
 * the variable is removed then, so that no child sees it, and a reload (SIGHUP) that
 * reads the settings again finds the key here. NULL when there was none. */
static const char *env_key(const struct model_provider *p, int *ret_error) {
        static char *keys[2];
        static bool taken[2];
        size_t i = p == &model_anthropic ? 0 : 1;
        *ret_error = 0;
        if (!taken[i]) {
                const char *e = getenv(p->key_env);
                if (e && *e && !(keys[i] = strdup(e))) {
                        *ret_error = -ENOMEM;
                        return NULL;
                }
                (void) unsetenv(p->key_env);
                taken[i] = true;
        }
        return keys[i];
}

/* A systemd credential: NAME itself (LoadCredential=NAME:FILE), or the file NAME of a
 * credential directory (LoadCredential=api-keys:DIR, as the shipped unit does). */
static int read_credential(const char *creds, const char *name, char **ret_key, char **ret_error) {
        static const char *const prefixes[] = { "", "api-keys_" };
        for (size_t i = 0; i < ELEMENTSOF(prefixes); i++) {
                _cleanup_free_ char *path = NULL;
                if (asprintf(&path, "%s/%s%s", creds, prefixes[i], name) < 0)
                        return -ENOMEM;
                if (access(path, F_OK) == 0)
                        return read_key(path, ret_key, ret_error);
        }
        return 0;
}

int model_settings_finish(struct model_settings *ms, const char *provider, char **ret_error) {
        const struct model_provider *p = streq(provider, "anthropic") ? &model_anthropic : &model_openai;
        const char *creds = getenv("CREDENTIALS_DIRECTORY");
        int r = 0;
        const char *env = env_key(p, &r);
        if (r < 0)
                return r;

        *ret_error = NULL;
        if (!ms->base_url) {
                const char *u = getenv(p->url_env);
                if (!(ms->base_url = strdup(u && *u ? u : p->default_url)))
                        return -ENOMEM;
        }
        size_t n = strlen(ms->base_url);
        while (n > 1 && ms->base_url[n - 1] == '/')
                ms->base_url[--n] = '\0';
        if (!ms->token_param && !(ms->token_param = strdup("max_completion_tokens")))
                return -ENOMEM;
        if (ms->key) {
                explicit_bzero(ms->key, strlen(ms->key));
                free(ms->key);
                ms->key = NULL;
        }
        if (ms->api_key_file)
                r = read_key(ms->api_key_file, &ms->key, ret_error);
        else if (creds && *creds)
                r = read_credential(creds, p->credential, &ms->key, ret_error);
        if (r >= 0 && !ms->key && env && !(ms->key = strdup(env)))
                r = -ENOMEM;
        return r;
}

/* Public list prices, USD per million tokens (cache_write: Anthropic's 5-minute cache
 * writes; OpenAI bills no cache writes, so they cost what input costs). Editable: a
 * `prices:` table in codegend.yaml is searched first. As last checked on
 * anthropic.com/pricing and openai.com/api/pricing (2025): docs/backends.md. */
static const struct model_price builtin_prices[] = {
        { (char *) "claude-opus-4-5", 5.00, 25.00, 6.25, 0.50 },
        { (char *) "claude-opus-4-1", 15.00, 75.00, 18.75, 1.50 },
        { (char *) "claude-opus-4", 15.00, 75.00, 18.75, 1.50 },
        { (char *) "claude-sonnet-4-5", 3.00, 15.00, 3.75, 0.30 },
        { (char *) "claude-sonnet-4", 3.00, 15.00, 3.75, 0.30 },
        { (char *) "claude-3-7-sonnet", 3.00, 15.00, 3.75, 0.30 },
        { (char *) "claude-haiku-4-5", 1.00, 5.00, 1.25, 0.10 },
        { (char *) "claude-3-5-haiku", 0.80, 4.00, 1.00, 0.08 },
        { (char *) "gpt-5", 1.25, 10.00, 1.25, 0.125 },
        { (char *) "gpt-5-mini", 0.25, 2.00, 0.25, 0.025 },
        { (char *) "gpt-5-nano", 0.05, 0.40, 0.05, 0.005 },
        { (char *) "gpt-4.1", 2.00, 8.00, 2.00, 0.50 },
        { (char *) "gpt-4.1-mini", 0.40, 1.60, 0.40, 0.10 },
        { (char *) "gpt-4.1-nano", 0.10, 0.40, 0.10, 0.025 },
        { (char *) "gpt-4o", 2.50, 10.00, 2.50, 1.25 },
        { (char *) "gpt-4o-mini", 0.15, 0.60, 0.15, 0.075 },
        { (char *) "o3", 2.00, 8.00, 2.00, 0.50 },
        { (char *) "o4-mini", 1.10, 4.40, 1.10, 0.275 },
};

/* "-20250929", "-2025-08-07", "-latest": a dated or moving name of the same model */
static bool version_suffix(const char *s) {
        if (*s++ != '-')
                return false;
        if (streq(s, "latest"))
                return true;
        return strlen(s) >= 6 && strspn(s, "0123456789-") == strlen(s);
}

static const struct model_price *find_in(const struct model_price *t, size_t n, const char *model) {
        const struct model_price *best = NULL;
        size_t best_len = 0;
        for (size_t i = 0; i < n; i++) {
                const struct model_price *p = &t[i];
                size_t len = strlen(p->model);
                if (streq(p->model, model))
                        return p;
                if (strncmp(p->model, model, len) == 0 && version_suffix(model + len) && len > best_len)
                        best = p, best_len = len;
        }
        return best;
}

const struct model_price *model_price_find(const struct model_settings *ms, const char *model) {
        if (!model)
                return NULL;
        const struct model_price *p = find_in(ms->prices, ms->n_prices, model);
        return p ? p : find_in(builtin_prices, ELEMENTSOF(builtin_prices), model);
}

double model_price_cost(const struct model_price *p, const struct gen_usage *u) {
        if (!p)
                return 0;
        return ((double) u->input_tokens * p->input + (double) u->output_tokens * p->output +
                (double) u->cache_creation_input_tokens * p->cache_write +
                (double) u->cache_read_input_tokens * p->cache_read) / 1e6;
}
