/* test-reply.c - the reply parser against the declarative corpus in tests/data/replies/
 * (see its README.md: NAME.reply with NAME.expected or NAME.error, optional NAME.target
 * and NAME.ignored), each case also with CRLF line endings, behind a BOM and cut at every
 * length; then the limits and the argument checks. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/model/reply.h"
#include "check-main.h"
#include "shared/fs.h"
#include "shared/strbuf.h"

#define DEFAULT_TARGET "src/models/user.py"
#define MAX_CASES 256

static char *cases[MAX_CASES];
static size_t n_cases;

static char *case_file(const char *name, const char *suffix, size_t *ret_len) {
        char *path;
        ck_assert_int_ge(asprintf(&path, "%s/tests/data/replies/%s%s", test_srcdir(), name, suffix), 0);
        char *data = NULL;
        int r = read_file_bounded(path, 8u << 20, &data, ret_len);
        free(path);
        if (r == -ENOENT)
                return NULL;
        ck_assert_msg(r >= 0, "%s%s: %s", name, suffix, strerror(-r));
        return data;
}

static char *chomp(char *s) {
        if (s) {
                size_t n = strlen(s);
                while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
                        s[--n] = '\0';
        }
        return s;
}

static const char *errno_name(int r) {
        switch (-r) {
        case ENODATA: return "ENODATA";
        case EPERM: return "EPERM";
        case EINVAL: return "EINVAL";
        case E2BIG: return "E2BIG";
        case ENOMEM: return "ENOMEM";
        default: return "other";
        }
}

static void assert_one_newline(const char *text) {
        size_t n = strlen(text);
        ck_assert_uint_ge(n, 1);
        ck_assert_int_eq(text[n - 1], '\n');
        ck_assert_msg(n < 2 || text[n - 2] != '\n', "text ends with more than one newline");
        ck_assert_msg(!strchr(text, '\r'), "text keeps a carriage return");
}

/* Runs one variant of a case and checks it against the expectation. */
static void check_case(const char *name, const char *variant, const char *reply, size_t len,
                       const char *target, const char *expected, const char *error,
                       const char *ignored) {
        struct reply_result res = { NULL, NULL, 0 };
        char *err = NULL;
        int r = reply_extract(reply, len, target, &res, &err);
        if (error) {
                ck_assert_msg(r < 0, "%s (%s): expected an error, got text:\n%s", name, variant,
                              res.text);
                size_t n = strcspn(error, "\n");
                ck_assert_msg(strlen(errno_name(r)) == n && strncmp(errno_name(r), error, n) == 0,
                              "%s (%s): expected %.*s, got %s (%s)", name, variant, (int) n, error,
                              errno_name(r), err);
                ck_assert_msg(err && *err, "%s (%s): no error message", name, variant);
                const char *words = strchr(error, '\n');
                ck_assert_msg(!words || strstr(err, words + 1), "%s (%s): message \"%s\" lacks \"%s\"",
                              name, variant, err, words + 1);
                ck_assert_ptr_null(res.text);
                free(err);
                return;
        }
        ck_assert_msg(r == 0, "%s (%s): expected text, got %s (%s)", name, variant,
                      errno_name(r), err);
        ck_assert_ptr_null(err);
        assert_one_newline(res.text);
        ck_assert_msg(streq(res.text, expected), "%s (%s): text differs; got:\n%s---\nexpected:\n%s",
                      name, variant, res.text, expected);
        _cleanup_strbuf_ struct strbuf got = STRBUF_INIT;
        for (size_t i = 0; i < res.n_ignored; i++)
                ck_assert_int_eq(strbuf_addf(&got, "%s\n", res.ignored[i]), 0);
        ck_assert_msg(streq(strbuf_str(&got), ignored ? ignored : ""),
                      "%s (%s): ignored differs; got:\n%s---\nexpected:\n%s", name, variant,
                      strbuf_str(&got), ignored ? ignored : "");
        reply_result_clear(&res);
        ck_assert_ptr_null(res.text);
}

static char *with_crlf(const char *s, size_t len, size_t *ret_len) {
        struct strbuf sb = STRBUF_INIT;
        for (size_t i = 0; i < len; i++) {
                if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
                        ck_assert_int_eq(strbuf_addc(&sb, '\r'), 0);
                ck_assert_int_eq(strbuf_addc(&sb, s[i]), 0);
        }
        return strbuf_detach(&sb, ret_len);
}

START_TEST(test_corpus) {
        const char *name = cases[_i];
        size_t len, n;
        char *reply = case_file(name, ".reply", &len);
        ck_assert_ptr_nonnull(reply);
        char *expected = case_file(name, ".expected", &n);
        char *error = chomp(case_file(name, ".error", &n));
        char *target = chomp(case_file(name, ".target", &n));
        char *ignored = case_file(name, ".ignored", &n);
        ck_assert_msg(!expected != !error, "%s: needs exactly one of .expected and .error", name);
        const char *t = target ? target : DEFAULT_TARGET;

        check_case(name, "as is", reply, len, t, expected, error, ignored);

        char *crlf = with_crlf(reply, len, &n);
        check_case(name, "crlf", crlf, n, t, expected, error, ignored);
        free(crlf);

        char *bom = malloc(len + 3);
        ck_assert_ptr_nonnull(bom);
        memcpy(bom, "\xef\xbb\xbf", 3);
        memcpy(bom + 3, reply, len);
        check_case(name, "bom", bom, len + 3, t, expected, error, ignored);
        free(bom);

        /* every prefix (a reply cut anywhere) gives text or an error, never a crash */
        for (size_t cut = 0; cut < len; cut++) {
                struct reply_result res = { NULL, NULL, 0 };
                char *err = NULL;
                int r = reply_extract(reply, cut, t, &res, &err);
                if (r == 0)
                        assert_one_newline(res.text);
                else
                        ck_assert_msg(r == -ENODATA || r == -EPERM || r == -EINVAL,
                                      "%s cut at %zu: %s", name, cut, errno_name(r));
                reply_result_clear(&res);
                free(err);
        }
        free(reply);
        free(expected);
        free(error);
        free(target);
        free(ignored);
}
END_TEST

static void load_cases(void) {
        char *dir;
        if (asprintf(&dir, "%s/tests/data/replies", test_srcdir()) < 0)
                abort();
        DIR *d = opendir(dir);
        free(dir);
        if (!d)
                return;
        struct dirent *de;
        while ((de = readdir(d)) && n_cases < MAX_CASES) {
                size_t n = strlen(de->d_name);
                if (n > 6 && streq(de->d_name + n - 6, ".reply"))
                        cases[n_cases++] = strndup(de->d_name, n - 6);
        }
        closedir(d);
        qsort(cases, n_cases, sizeof(char *), strcmp_ptr);
}

START_TEST(test_corpus_size) {
        ck_assert_uint_ge(n_cases, 30);
}
END_TEST

START_TEST(test_limits) {
        struct reply_result res = { NULL, NULL, 0 };
        char *err = NULL;

        /* over the maximum size */
        size_t big = REPLY_MAX_SIZE + 1;
        char *s = malloc(big);
        ck_assert_ptr_nonnull(s);
        memset(s, 'x', big);
        ck_assert_int_eq(reply_extract(s, big, DEFAULT_TARGET, &res, &err), -E2BIG);
        ck_assert_ptr_nonnull(err);
        free(err);
        err = NULL;
        free(s);

        /* more blocks than allowed */
        struct strbuf sb = STRBUF_INIT;
        for (unsigned i = 0; i <= REPLY_MAX_BLOCKS; i++)
                ck_assert_int_eq(strbuf_adds(&sb, "```\nx = 1\n```\n"), 0);
        ck_assert_int_eq(reply_extract(sb.buf, sb.len, DEFAULT_TARGET, &res, &err), -E2BIG);
        free(err);
        err = NULL;
        strbuf_free(&sb);

        /* an unsafe or missing target */
        const char *bad[] = { "", "/etc/passwd", "../x.py", "a/../b.py", "a\\b.py", "a//b.py" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                ck_assert_int_eq(reply_extract("x = 1\n", 6, bad[i], &res, &err), -EINVAL);
                free(err);
                err = NULL;
        }
        ck_assert_int_eq(reply_extract(NULL, 0, DEFAULT_TARGET, &res, &err), -EINVAL);
        free(err);
        err = NULL;
        ck_assert_ptr_null(res.text);
}
END_TEST

/* NULs cannot sit in a C string literal's reply comfortably; build them here. */
START_TEST(test_nul) {
        struct reply_result res = { NULL, NULL, 0 };
        char *err = NULL;
        static const char in_path[] = "### src/models/us\0er.py\n```python\nx = 1\n```\n"
                                      "### src/models/user.py\n```python\ny = 2\n```\n";
        ck_assert_int_eq(reply_extract(in_path, sizeof(in_path) - 1, DEFAULT_TARGET, &res, &err), 0);
        ck_assert_str_eq(res.text, "y = 2\n");
        ck_assert_uint_eq(res.n_ignored, 1);
        ck_assert_str_eq(res.ignored[0], "refused \"src/models/us\\x00er.py\": unsafe path");
        reply_result_clear(&res);

        static const char only[] = "### src/\0user.py\n```python\nx = 1\n```\n";
        ck_assert_int_eq(reply_extract(only, sizeof(only) - 1, DEFAULT_TARGET, &res, &err), -EPERM);
        free(err);
        err = NULL;

        static const char in_text[] = "```python\nx = '\0'\n```\n";
        ck_assert_int_eq(reply_extract(in_text, sizeof(in_text) - 1, DEFAULT_TARGET, &res, &err), -EINVAL);
        ck_assert_ptr_nonnull(err);
        free(err);
}
END_TEST

/* A path over PATH_MAX is refused, and its message stays short. */
START_TEST(test_long_path) {
        struct strbuf sb = STRBUF_INIT;
        ck_assert_int_eq(strbuf_adds(&sb, "### src/"), 0);
        for (int i = 0; i < 5000; i++)
                ck_assert_int_eq(strbuf_addc(&sb, 'a'), 0);
        ck_assert_int_eq(strbuf_adds(&sb, ".py\n```python\nx = 1\n```\n"
                                          "### src/models/user.py\n```python\ny = 2\n```\n"), 0);
        struct reply_result res = { NULL, NULL, 0 };
        char *err = NULL;
        ck_assert_int_eq(reply_extract(sb.buf, sb.len, DEFAULT_TARGET, &res, &err), 0);
        ck_assert_str_eq(res.text, "y = 2\n");
        ck_assert_uint_eq(res.n_ignored, 1);
        ck_assert_uint_lt(strlen(res.ignored[0]), 200);
        ck_assert_ptr_nonnull(strstr(res.ignored[0], "unsafe path"));
        reply_result_clear(&res);
        strbuf_free(&sb);
}
END_TEST

/* Many refused files: the list is bounded, its last line counts the rest. */
START_TEST(test_many_ignored) {
        struct strbuf sb = STRBUF_INIT;
        for (int i = 0; i < 100; i++)
                ck_assert_int_eq(strbuf_addf(&sb, "### src/f%d.py\n```python\nx = %d\n```\n", i, i), 0);
        ck_assert_int_eq(strbuf_adds(&sb, "### src/models/user.py\n```python\ny = 2\n```\n"), 0);
        struct reply_result res = { NULL, NULL, 0 };
        char *err = NULL;
        ck_assert_int_eq(reply_extract(sb.buf, sb.len, DEFAULT_TARGET, &res, &err), 0);
        ck_assert_uint_eq(res.n_ignored, REPLY_MAX_IGNORED);
        ck_assert_str_eq(res.ignored[REPLY_MAX_IGNORED - 1], "refused 69 more files");
        reply_result_clear(&res);

        /* without the target: EPERM, its message bounded */
        ck_assert_int_eq(reply_extract(sb.buf, sb.len, "src/other.py", &res, &err), -EPERM);
        ck_assert_ptr_nonnull(strstr(err, "refused \"src/f0.py\": not the target"));
        ck_assert_uint_le(strlen(err), 1024);
        free(err);
        strbuf_free(&sb);
}
END_TEST

/* Blocks that each open a string no later line closes (\""" opens one, and inside
 * another string it is an escaped quote and two): every block would scan the 4 MiB to
 * the end before falling back, for minutes; after the first fallback fences follow
 * CommonMark alone and the parse stays linear (Check's default timeout would stop it). */
START_TEST(test_linear) {
        struct strbuf sb = STRBUF_INIT;
        strbuf_init(&sb, REPLY_MAX_SIZE);
        for (unsigned i = 0; i < REPLY_MAX_BLOCKS - 1; i++)
                ck_assert_int_eq(strbuf_adds(&sb, "```python\n\\\"\"\"\n```\n"), 0);
        while (strbuf_adds(&sb, "    x = 1\n") == 0)
                ;
        struct reply_result res = { NULL, NULL, 0 };
        char *err = NULL;
        ck_assert_int_eq(reply_extract(sb.buf, sb.len, DEFAULT_TARGET, &res, &err), 0);
        ck_assert_str_eq(res.text, "\\\"\"\"\n");
        reply_result_clear(&res);
        strbuf_free(&sb);
}
END_TEST

Suite *make_suite(void) {
        load_cases();
        Suite *s = suite_create("reply");
        TCase *tc = tcase_create("corpus");
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_corpus_size);
        tcase_add_loop_test(tc, test_corpus, 0, (int) n_cases);
        suite_add_tcase(s, tc);
        tc = tcase_create("limits");
        tcase_add_test(tc, test_limits);
        tcase_add_test(tc, test_nul);
        tcase_add_test(tc, test_long_path);
        tcase_add_test(tc, test_many_ignored);
        tcase_add_test(tc, test_linear);
        suite_add_tcase(s, tc);
        return s;
}
