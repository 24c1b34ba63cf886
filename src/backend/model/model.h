/* model.h - the language-model backends' settings, providers and shared helpers.
 *
 * struct model_settings is one codegend.yaml section (anthropic: / openai:), filled by the
 * daemon's settings and completed by model_settings_finish() in the parent before the
 * first fork: base URL and key from the environment, api_key_file or
 * $CREDENTIALS_DIRECTORY; the key's environment variable is then removed so no child
 * and no program started later sees it. The key lives only in memory.
 *
 * A provider (anthropic.c, openai.c) knows its wire format: the URL, the headers, the
 * request body and how to read a reply; model.c runs the calls for one atom (faults,
 * continuation, accounting, budgets, reply extraction) the same way for both.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "backend/backend.h"
#include "format/node.h"
#include "shared/strbuf.h"

struct model_price {
        char *model;                   /* a model name, or a prefix of dated names */
        double input, output, cache_write, cache_read; /* USD per million tokens */
};

struct model_settings {
        char *base_url;
        char *model;
        unsigned max_tokens;
        double temperature;            /* < 0: not sent */
        unsigned connect_timeout, timeout; /* seconds */
        unsigned max_retries;
        unsigned concurrency, requests_per_minute, tokens_per_minute; /* 0: unlimited */
        char *token_param;             /* openai: max_completion_tokens or max_tokens */
        char *api_key_file;
        struct model_price *prices;
        size_t n_prices;
        char *key;                     /* loaded by model_settings_finish(), never logged */
};

void model_settings_init(struct model_settings *ms, const char *provider);
void model_settings_clear(struct model_settings *ms);
/* Reads the key and the base URL defaults for provider ("anthropic", "openai"); 0 or a
 * negative errno with *ret_error (malloc'd, names the file, never the key). */
int model_settings_finish(struct model_settings *ms, const char *provider, char **ret_error);
/* The price entry for model: an exact name, else a name followed by a date or "-latest"
 * (claude-sonnet-4-5-20250929, gpt-5-mini-2025-08-07), in the settings' table first, then the built-in one; NULL when none. */
const struct model_price *model_price_find(const struct model_settings *ms, const char *model);
double model_price_cost(const struct model_price *p, const struct gen_usage *u);

enum model_stop { MODEL_STOP_END, MODEL_STOP_LENGTH, MODEL_STOP_REFUSAL };

struct model_message {
        bool assistant;
        const char *text;
};

struct model_call {
        const char *system_shared; /* job-wide, cached on anthropic */
        const char *system_atom;   /* may be NULL */
        const struct model_message *messages;
        size_t n_messages;
        const char *model;
        unsigned max_tokens;
};

struct model_reply {
        char *text;          /* malloc'd, the reply's text (a refusal's words too) */
        enum model_stop stop;
        struct gen_usage usage;
};

struct model_provider {
        const char *name;
        const char *key_env, *url_env, *credential, *default_url;
        bool key_required;
        /* POST URL for base (malloc'd) */
        char *(*url)(const char *base);
        /* headers "Name: value" (malloc'd, NULL-terminated, at most 4) */
        int (*headers)(const struct model_settings *ms, char **ret, size_t n_ret);
        int (*request)(const struct model_settings *ms, const struct model_call *c, struct node **ret);
        /* A 200 reply's JSON; -EBADMSG with *ret_error when it is not one. */
        int (*parse)(const struct node *reply, struct model_reply *ret, char **ret_error);
};

extern const struct model_provider model_anthropic, model_openai;

/* The parts of a request body both wire formats share, for the providers' request():
 * appends {role, content} to msgs; model_request_finish() appends the call's messages to
 * msgs and sets temperature (when configured) in req. -ENOMEM on failure. */
int model_message_append(struct node *msgs, const char *role, const char *text);
int model_request_finish(const struct model_settings *ms, const struct model_call *c, struct node *req,
                         struct node *msgs);
/* A reply's count at key when it is a positive integer, else 0. */
uint64_t model_uint_at(const struct node *n, const char *key);
void model_reply_clear(struct model_reply *r);
/* Usage of an error reply (some servers report it), message and "quota" flag. */
int model_error_message(const struct node *reply, char **ret_message, bool *ret_quota);

/* The generate() of both model backends; draft: a first version of the file to extend
 * (hybrid: the pattern bank's), or NULL. */
int model_generate(const struct model_provider *p, const struct gen_request *req, const char *draft,
                   struct strbuf *out, struct gen_usage *usage, char **ret_error);
/* The check() of both model backends: a model and (anthropic) a key are configured. */
int model_check(const struct model_provider *p, const struct backend_options *o, const char *dag_file,
                struct diags *d);
/* "anthropic" or "openai" → its provider; NULL otherwise. */
const struct model_provider *model_provider_find(const char *name);
/* p's index among the providers of struct limits (limits.h): 0 .. LIMITS_PROVIDERS-1. */
unsigned model_provider_index(const struct model_provider *p);
/* The atom cache's part of both model backends (backend.h): provider, model, max_tokens,
 * temperature, repair settings, token parameter and prompt_cache_key(). */
int model_cache_key(const struct model_provider *p, const struct gen_request *req, const char *draft,
                    struct sha256_ctx *c);
