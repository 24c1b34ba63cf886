/* openai.c - OpenAI's Chat Completions: POST {base_url}/chat/completions (base_url holds
 * /v1, as OPENAI_BASE_URL does).
 *
 * Authorization: Bearer KEY only when there is a key (local servers often want none).
 * The output budget is sent as max_completion_tokens (OpenAI's current name) or
 * max_tokens (older and many local servers), per the token_param setting. Usage:
 * prompt_tokens includes prompt_tokens_details.cached_tokens; they are split here so
 * input_tokens + cache_read_input_tokens = prompt_tokens. finish_reason length →
 * MODEL_STOP_LENGTH; a message whose `refusal` is set → MODEL_STOP_REFUSAL.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "shared/macro.h"

static char *openai_url(const char *base) {
        char *u;
        return asprintf(&u, "%s/chat/completions", base) < 0 ? NULL : u;
}

static int openai_headers(const struct model_settings *ms, char **ret, size_t n_ret) {
        if (n_ret < 2)
                return -EINVAL;
        ret[0] = strdup("Content-Type: application/json");
        if (ms->key && *ms->key && asprintf(&ret[1], "Authorization: Bearer %s", ms->key) < 0)
                ret[1] = NULL;
        return ret[0] && (!ms->key || !*ms->key || ret[1]) ? 0 : -ENOMEM;
}

static int openai_request(const struct model_settings *ms, const struct model_call *c, struct node **ret) {
        _cleanup_node_ struct node *req = node_new_map();
        struct node *msgs;

        /* node_map_set() and node_seq_append() take the value, also when they fail */
        if (!req || node_map_set_string(req, "model", c->model) < 0 ||
            node_map_set(req, "messages", msgs = node_new_seq()) < 0 ||
            node_map_set(req, ms->token_param ? ms->token_param : "max_completion_tokens",
                         node_new_int(c->max_tokens)) < 0)
                return -ENOMEM;
        /* the shared part first and identical across atoms: servers cache prompt prefixes */
        if (model_message_append(msgs, "system", c->system_shared) < 0 ||
            (c->system_atom && model_message_append(msgs, "system", c->system_atom) < 0) ||
            model_request_finish(ms, c, req, msgs) < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(req);
        return 0;
}

static int openai_parse(const struct node *reply, struct model_reply *ret, char **ret_error) {
        const struct node *choices = node_get(reply, "choices"), *usage = node_get(reply, "usage");

        *ret = (struct model_reply) { .stop = MODEL_STOP_END };
        if (usage && usage->kind == NODE_MAP) {
                uint64_t prompt = model_uint_at(usage, "prompt_tokens");
                uint64_t cached = model_uint_at(node_get(usage, "prompt_tokens_details"), "cached_tokens");
                if (cached > prompt)
                        cached = prompt;
                ret->usage = (struct gen_usage) {
                        .input_tokens = prompt - cached,
                        .cache_read_input_tokens = cached,
                        .output_tokens = model_uint_at(usage, "completion_tokens"),
                };
        }
        const struct node *choice = choices && choices->kind == NODE_SEQ && choices->n > 0 ? choices->items[0] : NULL;
        const struct node *msg = node_get(choice, "message");
        const struct node *content = node_get(msg, "content"), *refusal = node_get(msg, "refusal");
        const struct node *finish = node_get(choice, "finish_reason");
        if (!msg || msg->kind != NODE_MAP) {
                *ret_error = strdup("the reply has no 'choices[0].message'");
                return -EBADMSG;
        }
        if (refusal && refusal->kind == NODE_SCALAR && !node_is_null(refusal)) {
                ret->stop = MODEL_STOP_REFUSAL;
                ret->text = strdup(refusal->value);
                return ret->text ? 0 : -ENOMEM;
        }
        if (finish && finish->kind == NODE_SCALAR && streq(finish->value, "length"))
                ret->stop = MODEL_STOP_LENGTH;
        else if (finish && finish->kind == NODE_SCALAR && streq(finish->value, "content_filter"))
                ret->stop = MODEL_STOP_REFUSAL;
        ret->text = strdup(content && content->kind == NODE_SCALAR && !node_is_null(content) ? content->value : "");
        return ret->text ? 0 : -ENOMEM;
}

const struct model_provider model_openai = {
        .name = "openai",
        .key_env = "OPENAI_API_KEY",
        .url_env = "OPENAI_BASE_URL",
        .credential = "openai_api_key",
        .default_url = "https://api.openai.com/v1",
        .key_required = false,
        .url = openai_url,
        .headers = openai_headers,
        .request = openai_request,
        .parse = openai_parse,
};
