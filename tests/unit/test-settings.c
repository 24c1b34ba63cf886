/* test-settings.c - the configuration file: defaults, every key type, errors with
 * file:line:column, sizes. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "check-main.h"
#include "daemon/settings.h"
#include "format/conffile.h"
#include "shared/fs.h"

static char *dir;

static char *write_config(const char *text) {
        char *p = path_join(dir, "codegend.yaml");
        ck_assert_int_eq(write_file_atomic(p, text, strlen(text), 0644), 0);
        return p;
}

static void setup(void) {
        dir = test_tmpdir();
        ck_assert_ptr_nonnull(dir);
}

static void teardown(void) {
        rm_rf(dir);
        free(dir);
}

START_TEST(test_defaults) {
        struct settings s;
        settings_init(&s);
        ck_assert_uint_ge(s.workers, 1);
        ck_assert_uint_eq(s.atom_timeout, 300);
        ck_assert_uint_eq(s.rescan_interval, 30);
        ck_assert(!s.require_ready_marker);
        ck_assert_uint_eq(s.max_unpacked_bytes, 256u << 20);
        ck_assert_uint_eq(s.loc_min, 1000);
        settings_clear(&s);
}
END_TEST

START_TEST(test_shipped_config_loads) {
        struct settings s;
        struct diags d = DIAGS_INIT;
        char *p = path_join(test_srcdir(), "etc/codegend.yaml");
        settings_init(&s);
        int r = settings_load(&s, p, &d);
        if (r < 0)
                diags_print(&d, stderr);
        ck_assert_int_eq(r, 0);
        ck_assert_uint_eq(s.atom_timeout, 300);
        ck_assert_str_eq(s.backend, "pattern");
        ck_assert_uint_eq(s.max_bundle_bytes, 64u << 20);
        ck_assert_uint_eq(s.max_atoms, 2000);
        ck_assert(s.docstrings_min > 0.94 && s.docstrings_min < 0.96);
        settings_clear(&s);
        diags_clear(&d);
        free(p);
}
END_TEST

START_TEST(test_values) {
        struct settings s;
        struct diags d = DIAGS_INIT;
        char *p = write_config("spool: /srv/spool\nworkers: 3\nrequire_ready_marker: yes\n");
        settings_init(&s);
        /* "yes" is not a YAML 1.2 boolean: refused rather than guessed */
        ck_assert_int_eq(settings_load(&s, p, &d), -EINVAL);
        ck_assert_uint_eq(d.n, 1);
        ck_assert_uint_eq(d.v[0].line, 3);
        ck_assert_uint_eq(d.v[0].column, 23);
        diags_clear(&d);
        settings_clear(&s);
        free(p);

        p = write_config("spool: /srv/spool\nworkers: 3\nrequire_ready_marker: true\n"
                         "log_level: debug\nlimits: {max_unpacked_bytes: 2G, max_atoms: 10}\n"
                         "success_criteria:\n  type_hints_min: 0.5\nx-note: ignored\n");
        settings_init(&s);
        ck_assert_int_eq(settings_load(&s, p, &d), 0);
        ck_assert_str_eq(s.spool, "/srv/spool");
        ck_assert_uint_eq(s.workers, 3);
        ck_assert(s.require_ready_marker);
        ck_assert_int_eq(s.log_level, LOG_DEBUG);
        ck_assert_uint_eq(s.max_unpacked_bytes, UINT64_C(2) << 30);
        ck_assert_uint_eq(s.max_atoms, 10);
        ck_assert(s.type_hints_min > 0.49 && s.type_hints_min < 0.51);
        ck_assert_int_eq(s.schedule, SCHEDULE_DAG); /* the default */
        settings_clear(&s);
        free(p);

        p = write_config("schedule: waves\n");
        settings_init(&s);
        ck_assert_int_eq(settings_load(&s, p, &d), 0);
        ck_assert_int_eq(s.schedule, SCHEDULE_WAVES);
        settings_clear(&s);
        free(p);

        p = write_config("workers: 2\nschedule: fifo\n");
        settings_init(&s);
        ck_assert_int_eq(settings_load(&s, p, &d), -EINVAL);
        ck_assert_uint_eq(d.n, 1);
        ck_assert_uint_eq(d.v[0].line, 2);
        ck_assert_uint_eq(d.v[0].column, 11);
        ck_assert_ptr_nonnull(strstr(d.v[0].message, "'schedule' must be dag or waves"));
        diags_clear(&d);
        settings_clear(&s);
        free(p);
}
END_TEST

/* python_version (issue 14): 3.11 by default, "3.12" or 3.12, and nothing else */
START_TEST(test_python_version) {
        struct settings s;
        struct diags d = DIAGS_INIT;
        settings_init(&s);
        ck_assert_uint_eq(s.python_minor, 11);
        settings_clear(&s);
        static const char *const good[] = { "python_version: \"3.12\"\n", "python_version: 3.12\n" };
        for (size_t i = 0; i < 2; i++) {
                char *p = write_config(good[i]);
                settings_init(&s);
                ck_assert_int_eq(settings_load(&s, p, &d), 0);
                ck_assert_uint_eq(s.python_minor, 12);
                settings_clear(&s);
                free(p);
        }
        char *p = write_config("workers: 2\npython_version: 2.7\n");
        settings_init(&s);
        ck_assert_int_eq(settings_load(&s, p, &d), -EINVAL);
        ck_assert_uint_eq(d.n, 1);
        ck_assert_uint_eq(d.v[0].line, 2);
        ck_assert_uint_eq(d.v[0].column, 17);
        ck_assert_ptr_nonnull(strstr(d.v[0].message, "from 3.8 to 3.14"));
        ck_assert_uint_eq(s.python_minor, 11);
        diags_clear(&d);
        settings_clear(&s);
        free(p);
}
END_TEST

START_TEST(test_model_sections) {
        struct settings s;
        struct diags d = DIAGS_INIT;
        char *p = write_config("daily_cost_usd: 12.5\nmax_calls: 100\n"
                               "anthropic:\n  model: claude-opus-4-5\n  max_retries: 2\n  temperature: 0.3\n"
                               "  prices:\n    claude-x: {input: 1, output: 2, cache_write: 3, cache_read: 0.5}\n"
                               "openai:\n  base_url: http://127.0.0.1:8080/v1\n  token_param: max_tokens\n"
                               "  concurrency: 1\n");
        settings_init(&s);
        ck_assert_int_eq(settings_load(&s, p, &d), 0);
        ck_assert(s.daily_cost_usd > 12.49 && s.daily_cost_usd < 12.51);
        ck_assert_uint_eq(s.max_calls, 100);
        ck_assert_str_eq(s.anthropic.model, "claude-opus-4-5");
        ck_assert_uint_eq(s.anthropic.max_retries, 2);
        ck_assert(s.anthropic.temperature > 0.29 && s.anthropic.temperature < 0.31);
        ck_assert(s.openai.temperature < 0);
        ck_assert_uint_eq(s.anthropic.n_prices, 1);
        ck_assert_str_eq(model_price_find(&s.anthropic, "claude-x")->model, "claude-x");
        ck_assert(model_price_find(&s.anthropic, "claude-x")->cache_read > 0.49);
        ck_assert_str_eq(s.openai.base_url, "http://127.0.0.1:8080/v1");
        ck_assert_str_eq(s.openai.token_param, "max_tokens");
        ck_assert_uint_eq(s.openai.concurrency, 1);
        settings_clear(&s);
        free(p);

        p = write_config("anthropic:\n  token_param: max_tokens\n  temperature: 3\n"
                         "  prices:\n    m: {input: -1, outptu: 2}\ndaily_cost_usd: -1\n");
        settings_init(&s);
        ck_assert_int_eq(settings_load(&s, p, &d), -EINVAL);
        ck_assert_uint_eq(d.n, 5);
        ck_assert_uint_eq(d.v[0].line, 2); /* token_param is openai's only */
        ck_assert_str_eq(d.v[0].path, "anthropic.token_param");
        ck_assert_uint_eq(d.v[1].line, 3);
        ck_assert_uint_eq(d.v[2].line, 5);
        ck_assert_uint_eq(d.v[4].line, 6);
        diags_clear(&d);
        settings_clear(&s);
        free(p);
}
END_TEST

START_TEST(test_errors_have_positions) {
        struct settings s;
        struct diags d = DIAGS_INIT;
        char *p = write_config("workers: 0\nworkerz: 2\nlimits:\n  max_bundle_bytes: lots\n"
                               "  nope: 1\nspool: [a]\nsuccess_criteria: {docstrings_min: 2}\n");
        settings_init(&s);
        ck_assert_int_eq(settings_load(&s, p, &d), -EINVAL);
        ck_assert_uint_eq(d.n, 6);
        ck_assert_uint_eq(d.v[0].line, 1);
        ck_assert_uint_eq(d.v[0].column, 10);
        ck_assert_str_eq(d.v[0].path, "workers");
        ck_assert_ptr_nonnull(strstr(d.v[1].message, "unknown key 'workerz'"));
        ck_assert_uint_eq(d.v[1].line, 2);
        ck_assert_uint_eq(d.v[1].column, 1);
        ck_assert_str_eq(d.v[2].path, "limits.max_bundle_bytes");
        ck_assert_uint_eq(d.v[2].line, 4);
        ck_assert_uint_eq(d.v[2].column, 21);
        ck_assert_str_eq(d.v[3].path, "limits.nope");
        ck_assert_ptr_nonnull(strstr(d.v[4].message, "must be a string"));
        ck_assert_str_eq(d.v[5].path, "success_criteria.docstrings_min");
        ck_assert_str_eq(d.v[0].file, p);
        diags_clear(&d);
        settings_clear(&s);
        free(p);
}
END_TEST

START_TEST(test_missing_and_empty) {
        struct settings s;
        struct diags d = DIAGS_INIT;
        settings_init(&s);
        char *missing = path_join(dir, "nope.yaml");
        ck_assert_int_eq(settings_load(&s, missing, &d), -ENOENT);
        char *p = write_config("# nothing but a comment\n");
        ck_assert_int_eq(settings_load(&s, p, &d), 0);
        ck_assert_uint_eq(d.n, 0);
        settings_clear(&s);
        free(p);
        free(missing);
}
END_TEST

/* What codegend and codegenctl both read: the file's path, and the file as a mapping. */
START_TEST(test_conffile) {
        struct diags d = DIAGS_INIT;
        struct node *root = NULL;
        ck_assert_str_eq(conffile_path(NULL), SYSCONFDIR "/codegend.yaml");
        ck_assert_str_eq(conffile_path("/x.yaml"), "/x.yaml");
        _cleanup_free_ char *missing = path_join(dir, "nope.yaml");
        ck_assert_int_eq(conffile_read(missing, &root, &d), -ENOENT);
        _cleanup_free_ char *p = write_config("# only a comment\n");
        ck_assert_int_eq(conffile_read(p, &root, &d), 0);
        ck_assert_ptr_null(root);
        free(write_config("~\n"));
        ck_assert_int_eq(conffile_read(p, &root, &d), 0);
        ck_assert_ptr_null(root);
        free(write_config("- spool: /srv\n"));
        ck_assert_int_eq(conffile_read(p, &root, &d), -EINVAL);
        ck_assert_ptr_null(root);
        ck_assert_uint_eq(d.n, 1);
        ck_assert_str_eq(d.v[0].file, p);
        ck_assert_uint_eq(d.v[0].line, 1);
        ck_assert_str_eq(d.v[0].message, "the configuration must be a mapping of keys to values");
        diags_clear(&d);
        free(write_config("# the spool\nspool: /srv/spool\n"));
        ck_assert_int_eq(conffile_read(p, &root, &d), 0);
        ck_assert_str_eq(node_get(root, "spool")->value, "/srv/spool");
        node_free(root);
        ck_assert_uint_eq(d.n, 0);
}
END_TEST

START_TEST(test_parse_size) {
        uint64_t v;
        ck_assert_int_eq(parse_size("1024", &v), 0);
        ck_assert_uint_eq(v, 1024);
        ck_assert_int_eq(parse_size("64K", &v), 0);
        ck_assert_uint_eq(v, 65536);
        ck_assert_int_eq(parse_size("3MiB", &v), 0);
        ck_assert_uint_eq(v, 3u << 20);
        ck_assert_int_eq(parse_size("1G", &v), 0);
        ck_assert_uint_eq(v, 1u << 30);
        ck_assert_int_eq(parse_size("", &v), -EINVAL);
        ck_assert_int_eq(parse_size("-1", &v), -EINVAL);
        ck_assert_int_eq(parse_size("12Q", &v), -EINVAL);
        ck_assert_int_eq(parse_size("99999999999999T", &v), -ERANGE);
}
END_TEST

Suite *make_suite(void) {
        Suite *s = suite_create("settings");
        TCase *tc = tcase_create("core");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_defaults);
        tcase_add_test(tc, test_shipped_config_loads);
        tcase_add_test(tc, test_values);
        tcase_add_test(tc, test_python_version);
        tcase_add_test(tc, test_errors_have_positions);
        tcase_add_test(tc, test_model_sections);
        tcase_add_test(tc, test_missing_and_empty);
        tcase_add_test(tc, test_conffile);
        tcase_add_test(tc, test_parse_size);
        suite_add_tcase(s, tc);
        return s;
}
