/* anthropic.c - the Messages API: POST {base_url}/v1/messages.
 *
 * Headers x-api-key and anthropic-version: 2023-06-01. The system prompt is sent as two
 * blocks: the job-wide part with cache_control {type: ephemeral} (written to the cache by
 * the first atom, read by the others) and the atom's own part. Usage: input_tokens,
 * output_tokens, cache_creation_input_tokens, cache_read_input_tokens. stop_reason
 * max_tokens → MODEL_STOP_LENGTH (model.c continues with the partial text as an assistant
 * prefill), refusal → MODEL_STOP_REFUSAL.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "shared/macro.h"

static char *anthropic_url(const char *base) {
        char *u;
        return asprintf(&u, "%s/v1/messages", base) < 0 ? NULL : u;
}

static int anthropic_headers(const struct model_settings *ms, char **ret, size_t n_ret) {
        if (n_ret < 3)
                return -EINVAL;
        ret[0] = strdup("anthropic-version: 2023-06-01");
        ret[1] = strdup("Content-Type: application/json");
        if (ms->key && asprintf(&ret[2], "x-api-key: %s", ms->key) < 0)
                ret[2] = NULL;
        return ret[0] && ret[1] && (!ms->key || ret[2]) ? 0 : -ENOMEM;
}

static struct node *text_block(const char *text, bool cache) {
        struct node *b = node_new_map();
        struct node *cc = NULL;
        if (!b || node_map_set_string(b, "type", "text") < 0 || node_map_set_string(b, "text", text) < 0 ||
            (cache && node_map_set(b, "cache_control", cc = node_new_map()) < 0) ||
            (cc && node_map_set_string(cc, "type", "ephemeral") < 0)) {
                node_free(b);
                return NULL;
        }
        return b;
}

static int anthropic_request(const struct model_settings *ms, const struct model_call *c, struct node **ret) {
        _cleanup_node_ struct node *req = node_new_map();
        struct node *system, *msgs;

        /* node_map_set() and node_seq_append() take the value, also when they fail */
        if (!req || node_map_set_string(req, "model", c->model) < 0 ||
            node_map_set(req, "max_tokens", node_new_int(c->max_tokens)) < 0 ||
            node_map_set(req, "system", system = node_new_seq()) < 0 ||
            node_map_set(req, "messages", msgs = node_new_seq()) < 0)
                return -ENOMEM;
        if (node_seq_append(system, text_block(c->system_shared, true)) < 0 ||
            (c->system_atom && node_seq_append(system, text_block(c->system_atom, false)) < 0))
                return -ENOMEM;
        if (model_request_finish(ms, c, req, msgs) < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(req);
        return 0;
}

static int anthropic_parse(const struct node *reply, struct model_reply *ret, char **ret_error) {
        const struct node *content = node_get(reply, "content"), *stop = node_get(reply, "stop_reason");
        const struct node *usage = node_get(reply, "usage");
        struct strbuf text;

        *ret = (struct model_reply) { .stop = MODEL_STOP_END };
        if (usage && usage->kind == NODE_MAP)
                ret->usage = (struct gen_usage) {
                        .input_tokens = model_uint_at(usage, "input_tokens"),
                        .output_tokens = model_uint_at(usage, "output_tokens"),
                        .cache_creation_input_tokens = model_uint_at(usage, "cache_creation_input_tokens"),
                        .cache_read_input_tokens = model_uint_at(usage, "cache_read_input_tokens"),
                };
        if (!content || content->kind != NODE_SEQ || !stop || stop->kind != NODE_SCALAR) {
                *ret_error = strdup("the reply has no 'content' list or no 'stop_reason'");
                return -EBADMSG;
        }
        strbuf_init(&text, 16u << 20);
        for (size_t i = 0; i < content->n; i++) {
                const struct node *b = content->items[i], *t = node_get(b, "type"), *v = node_get(b, "text");
                if (t && t->kind == NODE_SCALAR && streq(t->value, "text") && v && v->kind == NODE_SCALAR &&
                    strbuf_adds(&text, v->value) < 0) {
                        strbuf_free(&text);
                        return -ENOMEM;
                }
        }
        if (streq(stop->value, "max_tokens"))
                ret->stop = MODEL_STOP_LENGTH;
        else if (streq(stop->value, "refusal"))
                ret->stop = MODEL_STOP_REFUSAL;
        ret->text = strbuf_detach(&text, NULL);
        return 0;
}

const struct model_provider model_anthropic = {
        .name = "anthropic",
        .key_env = "ANTHROPIC_API_KEY",
        .url_env = "ANTHROPIC_BASE_URL",
        .credential = "anthropic_api_key",
        .default_url = "https://api.anthropic.com",
        .key_required = true,
        .url = anthropic_url,
        .headers = anthropic_headers,
        .request = anthropic_request,
        .parse = anthropic_parse,
};
