/* test-model.c - the model backends' parts that need no server: the retry policy, the
 * servers' delay headers, backoff, prices and costs, the key's sources, the shared limits
 * (permits, pause, refused key, daily ceiling), request bodies and reply parsing of both
 * providers, prompt signatures. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backend/model/faults.h"
#include "backend/model/limits.h"
#include "backend/model/model.h"
#include "backend/model/prompt.h"
#include "check-main.h"
#include "format/doc.h"
#include "shared/fs.h"

START_TEST(test_retryable) {
        static const long yes[] = { 408, 409, 429, 500, 502, 503, 504, 529 };
        static const long no[] = { 200, 400, 401, 403, 404, 413, 422, 501 };
        for (size_t i = 0; i < ELEMENTSOF(yes); i++)
                ck_assert(fault_status_retryable(yes[i]));
        for (size_t i = 0; i < ELEMENTSOF(no); i++)
                ck_assert(!fault_status_retryable(no[i]));
}
END_TEST

START_TEST(test_durations) {
        uint64_t ms;
        ck_assert_int_eq(fault_parse_duration_ms("1s", &ms), 0);
        ck_assert_uint_eq(ms, 1000);
        ck_assert_int_eq(fault_parse_duration_ms("6m0s", &ms), 0);
        ck_assert_uint_eq(ms, 360000);
        ck_assert_int_eq(fault_parse_duration_ms("250ms", &ms), 0);
        ck_assert_uint_eq(ms, 250);
        ck_assert_int_eq(fault_parse_duration_ms("1.5s", &ms), 0);
        ck_assert_uint_eq(ms, 1500);
        ck_assert_int_eq(fault_parse_duration_ms("7", &ms), 0);
        ck_assert_uint_eq(ms, 7000);
        ck_assert_int_eq(fault_parse_duration_ms("", &ms), -EINVAL);
        ck_assert_int_eq(fault_parse_duration_ms("soon", &ms), -EINVAL);
        ck_assert_int_eq(fault_parse_duration_ms("5x", &ms), -EINVAL);
}
END_TEST

START_TEST(test_times) {
        time_t t;
        ck_assert_int_eq(fault_parse_time("Wed, 21 Oct 2015 07:28:00 GMT", &t), 0);
        ck_assert_int_eq((long long) t, 1445412480LL);
        ck_assert_int_eq(fault_parse_time("2015-10-21T07:28:00Z", &t), 0);
        ck_assert_int_eq((long long) t, 1445412480LL);
        ck_assert_int_eq(fault_parse_time("2015-10-21T09:28:00.250+02:00", &t), 0);
        ck_assert_int_eq((long long) t, 1445412480LL);
        ck_assert_int_eq(fault_parse_time("yesterday", &t), -EINVAL);
}
END_TEST

static void add_header(struct http_response *r, const char *n, const char *v) {
        r->header_names[r->n_headers] = strdup(n);
        r->header_values[r->n_headers++] = strdup(v);
}

START_TEST(test_server_delay) {
        struct http_response r = { 0 };
        time_t now = 1445412480;
        ck_assert_uint_eq(fault_server_delay_ms(&r, now, 60000), 0);
        add_header(&r, "retry-after", "2");
        ck_assert_uint_eq(fault_server_delay_ms(&r, now, 60000), 2000);
        add_header(&r, "retry-after-ms", "3500");
        ck_assert_uint_eq(fault_server_delay_ms(&r, now, 60000), 3500);
        add_header(&r, "anthropic-ratelimit-tokens-reset", "2015-10-21T07:28:10Z");
        ck_assert_uint_eq(fault_server_delay_ms(&r, now, 60000), 10000);
        add_header(&r, "x-ratelimit-reset-requests", "20s");
        ck_assert_uint_eq(fault_server_delay_ms(&r, now, 60000), 20000);
        /* bounded */
        add_header(&r, "retry-after", "Wed, 21 Oct 2015 09:28:00 GMT");
        ck_assert_uint_eq(fault_server_delay_ms(&r, now, 60000), 60000);
        http_response_clear(&r);

        /* a reset in the past, garbage: no delay */
        add_header(&r, "anthropic-ratelimit-requests-reset", "2015-10-21T07:00:00Z");
        add_header(&r, "retry-after", "later");
        ck_assert_uint_eq(fault_server_delay_ms(&r, now, 60000), 0);
        http_response_clear(&r);
}
END_TEST

START_TEST(test_backoff) {
        for (unsigned a = 0; a < 8; a++) {
                uint64_t full = 500u << a > 30000 ? 30000 : 500u << a;
                for (uint32_t j = 0; j < 2000; j += 97) {
                        uint64_t d = fault_backoff_ms(a, 500, 30000, j * 7919u);
                        ck_assert_uint_ge(d, full / 2);
                        ck_assert_uint_le(d, full);
                }
        }
        ck_assert_uint_eq(fault_backoff_ms(40, 500, 30000, 0), 15000);
}
END_TEST

START_TEST(test_prices) {
        struct model_settings ms;
        model_settings_init(&ms, "anthropic");
        const struct model_price *p = model_price_find(&ms, "claude-sonnet-4-5-20250929");
        ck_assert_ptr_nonnull(p);
        ck_assert_str_eq(p->model, "claude-sonnet-4-5");
        ck_assert_str_eq(model_price_find(&ms, "gpt-5-mini-2025-08-07")->model, "gpt-5-mini");
        ck_assert_str_eq(model_price_find(&ms, "gpt-5")->model, "gpt-5");
        ck_assert_ptr_null(model_price_find(&ms, "llama3"));
        ck_assert_ptr_null(model_price_find(&ms, "claude-sonnet-4-50"));
        ck_assert_ptr_null(model_price_find(&ms, "gpt-5-mini-high"));
        ck_assert_str_eq(model_price_find(&ms, "claude-3-5-haiku-latest")->model, "claude-3-5-haiku");
        struct gen_usage u = { .input_tokens = 1000000, .output_tokens = 2000000,
                               .cache_creation_input_tokens = 100000, .cache_read_input_tokens = 1000000 };
        ck_assert_double_eq_tol(model_price_cost(p, &u), 3 + 30 + 0.375 + 0.3, 1e-9);
        ck_assert_double_eq(model_price_cost(NULL, &u), 0);

        /* a configured table comes first */
        ms.prices = calloc(1, sizeof(*ms.prices));
        ms.prices[0] = (struct model_price) { strdup("claude-sonnet-4-5"), 1, 2, 3, 4 };
        ms.n_prices = 1;
        ck_assert_double_eq_tol(model_price_find(&ms, "claude-sonnet-4-5")->output, 2, 1e-12);
        model_settings_clear(&ms);
}
END_TEST

START_TEST(test_key_sources) {
        _cleanup_free_ char *dir = test_tmpdir(), *file = path_join(dir, "key"), *cred = path_join(dir, "anthropic_api_key");
        struct model_settings ms;
        char *err = NULL;

        model_settings_init(&ms, "anthropic");
        setenv("ANTHROPIC_API_KEY", "from-env", 1);
        setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:1/", 1);
        unsetenv("CREDENTIALS_DIRECTORY");
        ck_assert_int_eq(model_settings_finish(&ms, "anthropic", &err), 0);
        ck_assert_str_eq(ms.key, "from-env");
        ck_assert_str_eq(ms.base_url, "http://127.0.0.1:1");
        ck_assert_ptr_null(getenv("ANTHROPIC_API_KEY")); /* no child sees it */

        ck_assert_int_eq(write_file_atomic(cred, "from-cred\n", 10, 0600), 0);
        setenv("CREDENTIALS_DIRECTORY", dir, 1);
        ck_assert_int_eq(model_settings_finish(&ms, "anthropic", &err), 0);
        ck_assert_str_eq(ms.key, "from-cred");

        ck_assert_int_eq(write_file_atomic(file, "from-file\n", 10, 0600), 0);
        ms.api_key_file = strdup(file);
        ck_assert_int_eq(model_settings_finish(&ms, "anthropic", &err), 0);
        ck_assert_str_eq(ms.key, "from-file");

        ck_assert_int_eq(write_file_atomic(file, "two\nlines\n", 10, 0600), 0);
        ck_assert_int_eq(model_settings_finish(&ms, "anthropic", &err), -EINVAL);
        ck_assert_ptr_nonnull(strstr(err, file));
        ck_assert_ptr_null(strstr(err, "lines"));
        free(err);
        unsetenv("CREDENTIALS_DIRECTORY");
        unsetenv("ANTHROPIC_BASE_URL");
        model_settings_clear(&ms);
        rm_rf(dir);
}
END_TEST

START_TEST(test_limits) {
        struct limits *l;
        struct model_settings ms;
        model_settings_init(&ms, "openai");
        ms.concurrency = 1;
        ms.key = strdup("k1");
        ck_assert_int_eq(limits_new(&l), 0);
        ck_assert_int_eq(limits_acquire(l, 1, &ms, 0, 10), 0);
        /* a second permit only after a release; the other provider is independent */
        ck_assert_int_eq(limits_acquire(l, 0, &ms, 0, 10), 0);
        limits_release(l, 0, 10, 5, 0.25);
        limits_release(l, 1, 10, 5, 0.5);
        ck_assert_double_eq_tol(limits_daily_cost(l), 0.75, 1e-12);
        ck_assert_int_eq(limits_acquire(l, 1, &ms, 0.75, 10), -EDQUOT);
        ck_assert_int_eq(limits_acquire(l, 1, &ms, 1.0, 10), 0);
        limits_release(l, 1, 10, 10, 0);

        /* a pause holds the next call */
        struct timespec a, b;
        limits_pause(l, 1, 300);
        clock_gettime(CLOCK_MONOTONIC, &a);
        ck_assert_int_eq(limits_acquire(l, 1, &ms, 0, 10), 0);
        clock_gettime(CLOCK_MONOTONIC, &b);
        ck_assert_int_ge((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000, 250);
        limits_release(l, 1, 10, 10, 0);

        /* a refused key stops calls with that key only */
        limits_refuse_key(l, 1, "k1");
        ck_assert(limits_key_refused(l, 1, "k1"));
        ck_assert_int_eq(limits_acquire(l, 1, &ms, 0, 10), -EACCES);
        free(ms.key);
        ms.key = strdup("k2");
        ck_assert_int_eq(limits_acquire(l, 1, &ms, 0, 10), 0);
        limits_release(l, 1, 10, 10, 0);

        /* requests per minute: the 3rd of 2/min waits ~30 s, so only two at once here */
        ms.requests_per_minute = 2;
        ms.concurrency = 0;
        limits_free(l);
        ck_assert_int_eq(limits_new(&l), 0);
        ck_assert_int_eq(limits_acquire(l, 1, &ms, 0, 1), 0);
        ck_assert_int_eq(limits_acquire(l, 1, &ms, 0, 1), 0);
        limits_free(l);

        /* tokens per minute: 60000/min = 1000/s; the bucket is spent, 500 more wait ~0.5 s */
        ms.requests_per_minute = 0;
        ms.tokens_per_minute = 60000;
        ck_assert_int_eq(limits_new(&l), 0);
        ck_assert_int_eq(limits_acquire(l, 1, &ms, 0, 60000), 0);
        limits_release(l, 1, 60000, 60000, 0);
        clock_gettime(CLOCK_MONOTONIC, &a);
        ck_assert_int_eq(limits_acquire(l, 1, &ms, 0, 500), 0);
        clock_gettime(CLOCK_MONOTONIC, &b);
        long waited = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
        ck_assert_int_ge(waited, 400);
        ck_assert_int_le(waited, 2000);
        limits_release(l, 1, 500, 500, 0);
        limits_free(l);
        model_settings_clear(&ms);
}
END_TEST

static struct node *parse(const char *json) {
        struct node *n = NULL;
        struct diags d = DIAGS_INIT;
        ck_assert_int_eq(doc_parse_json(json, strlen(json), "t", &n, &d), 0);
        diags_clear(&d);
        return n;
}

/* The JSON body p's request() makes of c holds every string of has and none of lacks
 * (NULL-terminated lists). */
static void check_request(const struct model_provider *p, const struct model_settings *ms,
                          const struct model_call *c, const char *const *has, const char *const *lacks) {
        _cleanup_node_ struct node *req = NULL;
        _cleanup_strbuf_ struct strbuf out = STRBUF_INIT;
        ck_assert_int_eq(p->request(ms, c, &req), 0);
        strbuf_init(&out, 0);
        ck_assert_int_eq(doc_emit_json(req, &out), 0);
        for (; *has; has++)
                ck_assert_msg(strstr(out.buf, *has), "no %s in %s", *has, out.buf);
        for (; *lacks; lacks++)
                ck_assert_msg(!strstr(out.buf, *lacks), "%s in %s", *lacks, out.buf);
}

/* p's headers are want, in order (NULL where none). */
static void check_headers(const struct model_provider *p, const struct model_settings *ms,
                          const char *const want[4]) {
        char *h[4] = { 0 };
        ck_assert_int_eq(p->headers(ms, h, 4), 0);
        for (size_t i = 0; i < 4; i++) {
                if (want[i])
                        ck_assert_str_eq(h[i], want[i]);
                else
                        ck_assert_ptr_null(h[i]);
                free(h[i]);
        }
}

/* p reads the reply json as text with stop and usage's token counts. */
static void check_reply(const struct model_provider *p, const char *json, const char *text,
                        enum model_stop stop, struct gen_usage usage) {
        _cleanup_node_ struct node *rep = parse(json);
        struct model_reply r;
        char *err = NULL;
        ck_assert_int_eq(p->parse(rep, &r, &err), 0);
        ck_assert_ptr_null(err);
        ck_assert_str_eq(r.text, text);
        ck_assert_int_eq(r.stop, stop);
        ck_assert_uint_eq(r.usage.input_tokens, usage.input_tokens);
        ck_assert_uint_eq(r.usage.output_tokens, usage.output_tokens);
        ck_assert_uint_eq(r.usage.cache_read_input_tokens, usage.cache_read_input_tokens);
        ck_assert_uint_eq(r.usage.cache_creation_input_tokens, usage.cache_creation_input_tokens);
        model_reply_clear(&r);
}

START_TEST(test_anthropic_wire) {
        struct model_settings ms;
        model_settings_init(&ms, "anthropic");
        ms.key = strdup("sekrit");
        const struct model_message msgs[] = { { false, "write it" }, { true, "partial" } };
        const struct model_call c = { "shared part", "atom part", msgs, 2, "claude-x", 100 };
        check_request(&model_anthropic, &ms, &c,
                      (const char *const[]) { "\"cache_control\": {\n        \"type\": \"ephemeral\"",
                                              "\"max_tokens\": 100", "\"role\": \"assistant\"", NULL },
                      (const char *const[]) { "sekrit", "temperature", NULL });
        check_headers(&model_anthropic, &ms,
                      (const char *const[]) { "anthropic-version: 2023-06-01",
                                              "Content-Type: application/json", "x-api-key: sekrit", NULL });

        check_reply(&model_anthropic,
                    "{\"content\":[{\"type\":\"text\",\"text\":\"a\"},{\"type\":\"text\",\"text\":\"b\"}],"
                    "\"stop_reason\":\"max_tokens\",\"usage\":{\"input_tokens\":10,\"output_tokens\":20,"
                    "\"cache_creation_input_tokens\":30,\"cache_read_input_tokens\":40}}",
                    "ab", MODEL_STOP_LENGTH,
                    (struct gen_usage) { .input_tokens = 10, .output_tokens = 20,
                                         .cache_creation_input_tokens = 30, .cache_read_input_tokens = 40 });
        struct model_reply r;
        char *err = NULL;
        _cleanup_node_ struct node *bad = parse("{\"type\":\"message\"}");
        ck_assert_int_eq(model_anthropic.parse(bad, &r, &err), -EBADMSG);
        free(err);
        model_settings_clear(&ms);
}
END_TEST

START_TEST(test_openai_wire) {
        struct model_settings ms;
        model_settings_init(&ms, "openai");
        ms.token_param = strdup("max_tokens");
        ms.temperature = 0.2;
        const struct model_message msgs[] = { { false, "write it" } };
        const struct model_call c = { "shared part", NULL, msgs, 1, "gpt-x", 100 };
        check_request(&model_openai, &ms, &c,
                      (const char *const[]) { "\"max_tokens\": 100", "\"temperature\": 0.2",
                                              "\"role\": \"system\"", NULL },
                      (const char *const[]) { "max_completion_tokens", NULL });
        /* no key: no Authorization */
        check_headers(&model_openai, &ms,
                      (const char *const[]) { "Content-Type: application/json", NULL, NULL, NULL });

        check_reply(&model_openai,
                    "{\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":\"x\",\"refusal\":null},"
                    "\"finish_reason\":\"length\"}],\"usage\":{\"prompt_tokens\":100,\"completion_tokens\":7,"
                    "\"prompt_tokens_details\":{\"cached_tokens\":60}}}",
                    "x", MODEL_STOP_LENGTH,
                    (struct gen_usage) { .input_tokens = 40, .cache_read_input_tokens = 60, .output_tokens = 7 });
        check_reply(&model_openai,
                    "{\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":null,\"refusal\":\"No.\"},"
                    "\"finish_reason\":\"stop\"}]}",
                    "No.", MODEL_STOP_REFUSAL, (struct gen_usage) { 0 });

        _cleanup_node_ struct node *e = parse("{\"error\":{\"message\":\"quota\",\"type\":\"insufficient_quota\"}}");
        char *msg = NULL;
        bool quota = false;
        ck_assert_int_eq(model_error_message(e, &msg, &quota), 0);
        ck_assert(quota);
        ck_assert_str_eq(msg, "quota");
        free(msg);
        model_settings_clear(&ms);
}
END_TEST

START_TEST(test_signatures) {
        _cleanup_free_ char *s = prompt_signatures(
                "\"\"\"Doc.\"\"\"\nimport os\nfrom x import y\n\nLIMIT: int = 5\n\n@dataclass\nclass A(B):\n"
                "    \"\"\"A.\"\"\"\n    name: str\n\n    def f(self, a: int) -> int:\n        return a\n"
                "async def g() -> None:\n    pass\n");
        ck_assert_str_eq(s, "import os\nfrom x import y\nLIMIT: int = 5\n@dataclass\nclass A(B):\n"
                            "    def f(self, a: int) -> int:\nasync def g() -> None:\n");
}
END_TEST

Suite *make_suite(void) {
        Suite *s = suite_create("model");
        TCase *tc = tcase_create("core");
        tcase_set_timeout(tc, 30);
        tcase_add_test(tc, test_retryable);
        tcase_add_test(tc, test_durations);
        tcase_add_test(tc, test_times);
        tcase_add_test(tc, test_server_delay);
        tcase_add_test(tc, test_backoff);
        tcase_add_test(tc, test_prices);
        tcase_add_test(tc, test_key_sources);
        tcase_add_test(tc, test_limits);
        tcase_add_test(tc, test_anthropic_wire);
        tcase_add_test(tc, test_openai_wire);
        tcase_add_test(tc, test_signatures);
        suite_add_tcase(s, tc);
        return s;
}
