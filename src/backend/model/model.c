/* model.c - one atom through a language model: the calls, their faults, continuation,
 * budgets, accounting and reply extraction, shared by anthropic and openai; see model.h.
 *
 * Every HTTP attempt counts as a call and its reply's usage is added, failed attempts
 * included; retries counts the attempts after the first of each request. A request is
 * retried on a connection error, a timeout, a malformed 200 reply or a retryable status
 * (faults.h), waiting for the longer of the server's delay and the backoff; a 429 pauses
 * the provider for every worker (limits.h). 401/403 mark the key refused for the whole
 * daemon. Budgets are checked before every call: no call starts once one is reached.
 * Messages never include a request header (the key).
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "analysis/analyze.h"
#include "faults.h"
#include "format/doc.h"
#include "http.h"
#include "limits.h"
#include "model.h"
#include "prompt.h"
#include "reply.h"
#include "shared/macro.h"

#define MAX_REPLY_BYTES (32u << 20)
#define MAX_CONTINUATIONS 4
#define BACKOFF_BASE_MS 500
#define BACKOFF_CAP_MS 30000
#define SERVER_DELAY_MAX_MS 120000
#define MAX_HEADERS 5

struct session {
        const struct model_provider *p;
        const struct model_settings *ms;
        unsigned index; /* in struct limits */
        const struct gen_request *req;
        struct gen_usage *usage;
        const struct model_price *price;
        const char *model;
        char *url;
        char *headers[MAX_HEADERS];
};

static void session_clear(struct session *s) {
        free(s->url);
        for (size_t i = 0; i < MAX_HEADERS; i++)
                if (s->headers[i]) {
                        explicit_bzero(s->headers[i], strlen(s->headers[i]));
                        free(s->headers[i]);
                }
}

void model_reply_clear(struct model_reply *r) {
        free(r->text);
        *r = (struct model_reply) { .stop = MODEL_STOP_END };
}

static int fail(char **ret_error, int r, const char *fmt, ...) _printf_(3, 4);
static int fail(char **ret_error, int r, const char *fmt, ...) {
        va_list ap;
        free(*ret_error);
        va_start(ap, fmt);
        if (vasprintf(ret_error, fmt, ap) < 0)
                *ret_error = NULL;
        va_end(ap);
        return r;
}

int model_error_message(const struct node *reply, char **ret_message, bool *ret_quota) {
        const struct node *e = node_get(reply, "error");
        const struct node *msg = e && e->kind == NODE_MAP ? node_get(e, "message") : e;
        const struct node *type = node_get(e, "type"), *code = node_get(e, "code");
        *ret_quota = (type && type->kind == NODE_SCALAR && streq(type->value, "insufficient_quota")) ||
                     (code && code->kind == NODE_SCALAR && streq(code->value, "insufficient_quota"));
        if (!msg || msg->kind != NODE_SCALAR)
                return -ENOENT;
        *ret_message = strndup(msg->value, 1000);
        return *ret_message ? 0 : -ENOMEM;
}

int model_message_append(struct node *msgs, const char *role, const char *text) {
        struct node *m = node_new_map();
        /* node_seq_append() takes m, also when it fails */
        if (node_seq_append(msgs, m) < 0 || node_map_set_string(m, "role", role) < 0 ||
            node_map_set_string(m, "content", text) < 0)
                return -ENOMEM;
        return 0;
}

int model_request_finish(const struct model_settings *ms, const struct model_call *c, struct node *req,
                         struct node *msgs) {
        char num[32];

        for (size_t i = 0; i < c->n_messages; i++)
                if (model_message_append(msgs, c->messages[i].assistant ? "assistant" : "user",
                                         c->messages[i].text) < 0)
                        return -ENOMEM;
        if (ms->temperature >= 0) {
                snprintf(num, sizeof(num), "%.3g", ms->temperature);
                if (node_map_set(req, "temperature", node_new_scalar(num, false)) < 0)
                        return -ENOMEM;
        }
        return 0;
}

uint64_t model_uint_at(const struct node *n, const char *key) {
        long long v;
        return node_as_int(node_get(n, key), &v) == 0 && v > 0 ? (uint64_t) v : 0;
}

/* -EDQUOT with a message naming the budget when the next call may not start. */
static int budget_check(const struct session *s, char **ret_error) {
        const struct gen_budget *b = &s->req->options->budget;
        struct gen_usage t = s->req->spent;
        gen_usage_add(&t, s->usage);
        uint64_t tokens = t.input_tokens + t.output_tokens + t.cache_read_input_tokens +
                          t.cache_creation_input_tokens;
        if (b->max_calls && t.calls >= b->max_calls)
                return fail(ret_error, -EDQUOT, "budget max_calls reached (%u calls made, max_calls %u)",
                            t.calls, b->max_calls);
        if (b->max_tokens && tokens >= b->max_tokens)
                return fail(ret_error, -EDQUOT, "budget max_tokens reached (%llu tokens used, max_tokens %llu)",
                            (unsigned long long) tokens, (unsigned long long) b->max_tokens);
        if (b->max_cost_usd > 0 && t.cost_usd >= b->max_cost_usd)
                return fail(ret_error, -EDQUOT, "budget max_cost_usd reached (%.4f USD spent, max_cost_usd %.4f)",
                            t.cost_usd, b->max_cost_usd);
        return 0;
}

static void sleep_ms(uint64_t ms) {
        struct timespec ts = { .tv_sec = (time_t) (ms / 1000), .tv_nsec = (long) (ms % 1000) * 1000000 };
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

static void account(struct session *s, const struct gen_usage *u) {
        struct gen_usage one = *u;
        one.calls = one.retries = 0;
        one.cost_usd = model_price_cost(s->price, &one);
        gen_usage_add(s->usage, &one);
}

/* One request, with its retries. */
static int call(struct session *s, const struct model_call *c, struct model_reply *ret, char **ret_error) {
        const struct model_settings *ms = s->ms;
        struct limits *lim = s->req->options->limits;
        _cleanup_node_ struct node *body = NULL;
        _cleanup_strbuf_ struct strbuf json = STRBUF_INIT;
        int r;

        if ((r = s->p->request(ms, c, &body)) < 0)
                return fail(ret_error, r, "failed to build the request: %s", strerror(-r));
        strbuf_init(&json, 0);
        if ((r = doc_emit_json(body, &json)) < 0)
                return fail(ret_error, r, "failed to build the request: %s", strerror(-r));
        uint64_t est = json.len / 4 + c->max_tokens;
        const struct http_request hr = {
                .url = s->url,
                .headers = (const char *const *) s->headers,
                .body = json.buf,
                .body_len = json.len,
                .connect_timeout = ms->connect_timeout,
                .timeout = ms->timeout,
                .max_body = MAX_REPLY_BYTES,
        };
        for (unsigned attempt = 0;; attempt++) {
                struct http_response resp = { 0 };
                _cleanup_free_ char *err = NULL, *msg = NULL;
                _cleanup_node_ struct node *reply = NULL;
                bool retry = false, quota = false;
                uint64_t delay = 0;

                if ((r = budget_check(s, ret_error)) < 0)
                        return r;
                if (lim) {
                        r = limits_acquire(lim, s->index, ms, s->req->options->daily_cost_usd, est);
                        if (r == -EACCES)
                                return fail(ret_error, r, "%s refused this API key earlier (401/403); no call is sent "
                                            "with it until the configuration changes", s->p->name);
                        if (r == -EDQUOT)
                                return fail(ret_error, r, "budget daily_cost_usd reached (%.4f USD spent today, "
                                            "daily_cost_usd %.4f)", limits_daily_cost(lim),
                                            s->req->options->daily_cost_usd);
                        if (r < 0)
                                return fail(ret_error, r, "failed to wait for the shared limits: %s", strerror(-r));
                }
                if (attempt > 0)
                        s->usage->retries++;
                s->usage->calls++;
                r = http_post(&hr, &resp, &err);
                if (r < 0) {
                        if (lim)
                                limits_release(lim, s->index, est, 0, 0);
                        if (r == -ENOMEM)
                                return fail(ret_error, r, "out of memory");
                        if (attempt >= ms->max_retries)
                                return fail(ret_error, r, "%s: %s (after %u attempts)", s->p->name,
                                            err ? err : strerror(-r), attempt + 1);
                        sleep_ms(fault_backoff_ms(attempt, BACKOFF_BASE_MS, BACKOFF_CAP_MS, (uint32_t) random()));
                        continue;
                }
                struct diags d = DIAGS_INIT;
                int pr = resp.body.len ? doc_parse_json(resp.body.buf, resp.body.len, "reply", &reply, &d) : -EBADMSG;
                diags_clear(&d);
                if (pr >= 0 && resp.status == 200) {
                        r = s->p->parse(reply, ret, &err);
                        account(s, &ret->usage);
                } else if (pr >= 0) {
                        /* error replies may carry usage (an OpenAI-compatible server does) */
                        struct model_reply tmp = { 0 };
                        _cleanup_free_ char *ignored = NULL;
                        if (node_get(reply, "usage")) {
                                (void) s->p->parse(reply, &tmp, &ignored); /* usage is read first */
                                account(s, &tmp.usage);
                        }
                        model_reply_clear(&tmp);
                        (void) model_error_message(reply, &msg, &quota);
                }
                if (lim) {
                        uint64_t used = ret->usage.input_tokens + ret->usage.output_tokens +
                                        ret->usage.cache_read_input_tokens + ret->usage.cache_creation_input_tokens;
                        limits_release(lim, s->index, est, used, model_price_cost(s->price, &ret->usage));
                }
                if (resp.status == 200) {
                        if (pr >= 0 && r >= 0) {
                                http_response_clear(&resp);
                                return 0;
                        }
                        model_reply_clear(ret);
                        if (r == -ENOMEM) {
                                http_response_clear(&resp);
                                return fail(ret_error, r, "out of memory");
                        }
                        retry = true; /* a malformed reply: the server's fault */
                        if (!msg && !(msg = strdup(pr < 0 ? "the reply is not valid JSON" : err ? err : "malformed reply")))
                                r = -ENOMEM;
                } else if (resp.status == 401 || resp.status == 403) {
                        if (lim)
                                limits_refuse_key(lim, s->index, ms->key);
                } else
                        retry = fault_status_retryable(resp.status) && !quota;
                if (retry)
                        delay = fault_server_delay_ms(&resp, time(NULL), SERVER_DELAY_MAX_MS);
                long status = resp.status;
                http_response_clear(&resp);
                if (!retry || attempt >= ms->max_retries)
                        return fail(ret_error, status == 200 ? -EBADMSG : -EPROTO, "%s: HTTP %ld: %s%s", s->p->name,
                                    status, msg ? msg : "no error message",
                                    retry ? " (retries exhausted)" : "");
                uint64_t back = fault_backoff_ms(attempt, BACKOFF_BASE_MS, BACKOFF_CAP_MS, (uint32_t) random());
                if (status == 429 && lim)
                        limits_pause(lim, s->index, delay > back ? delay : back);
                sleep_ms(delay > back ? delay : back);
        }
}

/* Calls until the reply is complete: a reply cut at max_tokens is continued. */
static int complete(struct session *s, const char *system, const char *atom_system, const char *user,
                    char **ret, char **ret_error) {
        _cleanup_strbuf_ struct strbuf acc = STRBUF_INIT;
        strbuf_init(&acc, MAX_REPLY_BYTES);
        for (unsigned k = 0;; k++) {
                struct model_message msgs[3] = { { false, user } };
                size_t n = 1;
                if (k > 0) {
                        msgs[n++] = (struct model_message) { true, strbuf_str(&acc) };
                        /* Anthropic continues an assistant prefill; Chat Completions wants a turn */
                        if (s->p != &model_anthropic)
                                msgs[n++] = (struct model_message) {
                                        false, "Your answer was cut off. Continue exactly where it stopped, "
                                               "without repeating anything." };
                }
                const struct model_call c = { .system_shared = system, .system_atom = atom_system,
                                              .messages = msgs, .n_messages = n, .model = s->model,
                                              .max_tokens = s->ms->max_tokens };
                struct model_reply rep = { 0 };
                int r = call(s, &c, &rep, ret_error);
                if (r < 0)
                        return r;
                if (rep.stop == MODEL_STOP_REFUSAL) {
                        r = fail(ret_error, -EPERM, "%s: the model refused: %s", s->p->name,
                                 rep.text && *rep.text ? rep.text : "(no reason given)");
                        model_reply_clear(&rep);
                        return r;
                }
                r = strbuf_adds(&acc, rep.text ? rep.text : "");
                enum model_stop stop = rep.stop;
                model_reply_clear(&rep);
                if (r < 0)
                        return fail(ret_error, r, "the reply is too large");
                if (stop == MODEL_STOP_END)
                        break;
                if (k + 1 >= MAX_CONTINUATIONS)
                        return fail(ret_error, -E2BIG, "%s: the reply was still cut at max_tokens (%u) after %u "
                                    "continuations", s->p->name, s->ms->max_tokens, k);
        }
        *ret = strbuf_detach(&acc, NULL);
        return 0;
}

static int extract(const struct session *s, const char *reply, struct strbuf *out, char **ret_error) {
        struct reply_result res = { 0 };
        _cleanup_free_ char *err = NULL;
        int r = reply_extract(reply, strlen(reply), s->req->atom->target, &res, &err);
        if (r == -ENODATA)
                return fail(ret_error, r, "%s: the reply holds no code for %s%s%s", s->p->name,
                            s->req->atom->target, err ? ": " : "", err ? err : "");
        if (r < 0)
                return fail(ret_error, r, "%s: the reply has no file %s%s%s", s->p->name, s->req->atom->target,
                            err ? ": " : "", err ? err : "");
        r = strbuf_adds(out, res.text);
        struct gen_notes *notes = s->req->notes;
        for (size_t i = 0; r >= 0 && notes && i < res.n_ignored; i++) {
                if (!notes->refused && !(notes->refused = node_new_seq()))
                        r = -ENOMEM;
                else
                        r = node_seq_append(notes->refused, node_new_string(res.ignored[i]));
        }
        reply_result_clear(&res);
        return r < 0 ? fail(ret_error, r, "the atom's text is too large") : 0;
}

static int syntax_errors(const struct session *s, const char *text, struct node **ret_list) {
        struct file_metrics fm;
        int r = analyze_source(s->req->atom->target, text, strlen(text), &fm);
        if (r < 0)
                return r;
        r = (int) fm.errors.count;
        if (ret_list && analyze_errors_to_node(&fm, ret_list) < 0)
                r = -ENOMEM;
        file_metrics_clear(&fm);
        return r;
}

/* Up to repair_attempts repair calls while the text has syntax errors; the text with the
 * fewest errors is kept. A failed repair call fails the atom like any call. */
static int repair(struct session *s, const char *system, struct strbuf *text, char **ret_error) {
        const struct backend_options *o = s->req->options;
        struct gen_notes *notes = s->req->notes;
        _cleanup_node_ struct node *errors = NULL;
        int n = syntax_errors(s, strbuf_str(text), &errors);
        if (n < 0)
                return fail(ret_error, n, "failed to analyse the reply: %s", strerror(-n));
        if (n == 0 || !o->repair || o->repair_attempts == 0)
                return 0;
        if (notes)
                notes->syntax_errors_before = n;
        for (unsigned k = 0; k < o->repair_attempts && n > 0; k++) {
                _cleanup_free_ char *user = NULL, *reply = NULL;
                _cleanup_strbuf_ struct strbuf fixed = STRBUF_INIT;
                _cleanup_node_ struct node *errs2 = NULL;
                unsigned before = s->usage->calls;
                int r = prompt_repair(s->req, strbuf_str(text), errors, &user, ret_error);
                if (r >= 0)
                        r = complete(s, system, NULL, user, &reply, ret_error);
                if (notes)
                        notes->repair_calls += s->usage->calls - before;
                if (r < 0)
                        return r;
                strbuf_init(&fixed, text->max);
                if (extract(s, reply, &fixed, ret_error) < 0) {
                        free(*ret_error); /* a repair with no usable code: keep the text */
                        *ret_error = NULL;
                        continue;
                }
                int m = syntax_errors(s, strbuf_str(&fixed), &errs2);
                if (m < 0)
                        return fail(ret_error, m, "failed to analyse the repair: %s", strerror(-m));
                if (m < n) {
                        strbuf_reset(text);
                        if ((r = strbuf_add(text, fixed.buf, fixed.len)) < 0)
                                return fail(ret_error, r, "the atom's text is too large");
                        n = m;
                        node_free(errors);
                        errors = TAKE_PTR(errs2);
                }
        }
        return 0;
}

const struct model_provider *model_provider_find(const char *name) {
        return streq_ptr(name, "anthropic") ? &model_anthropic : streq_ptr(name, "openai") ? &model_openai : NULL;
}

unsigned model_provider_index(const struct model_provider *p) {
        return p == &model_anthropic ? 0 : 1;
}

int model_generate(const struct model_provider *p, const struct gen_request *req, const char *draft,
                   struct strbuf *out, struct gen_usage *usage, char **ret_error) {
        const struct backend_options *o = req->options;
        struct session s = {
                .p = p,
                .ms = p == &model_anthropic ? o->anthropic : o->openai,
                .index = model_provider_index(p),
                .req = req,
                .usage = usage,
        };
        _cleanup_free_ char *system = NULL, *user = NULL, *reply = NULL;
        int r;

        *ret_error = NULL;
        if (!s.ms)
                return fail(ret_error, -EINVAL, "%s is not configured", p->name);
        s.model = o->model ? o->model : s.ms->model;
        if (!s.model)
                return fail(ret_error, -EINVAL, "no model set for %s", p->name);
        s.price = model_price_find(s.ms, s.model);
        srandom((unsigned) getpid() ^ (unsigned) time(NULL));
        if (!(s.url = p->url(s.ms->base_url)) || (r = p->headers(s.ms, s.headers, MAX_HEADERS - 1)) < 0) {
                session_clear(&s);
                return fail(ret_error, -ENOMEM, "out of memory");
        }
        r = prompt_system(req, &system, ret_error);
        if (r >= 0)
                r = prompt_atom(req, draft, &user, ret_error);
        if (r >= 0)
                r = complete(&s, system, NULL, user, &reply, ret_error);
        _cleanup_strbuf_ struct strbuf text = STRBUF_INIT;
        strbuf_init(&text, out->max);
        if (r >= 0)
                r = extract(&s, reply, &text, ret_error);
        if (r >= 0)
                r = repair(&s, system, &text, ret_error);
        if (r >= 0 && (r = strbuf_add(out, text.buf ? text.buf : "", text.len)) < 0)
                r = fail(ret_error, r, "the atom's text is too large");
        if (req->notes)
                req->notes->backend = p->name;
        session_clear(&s);
        return r;
}
