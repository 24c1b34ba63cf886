/* test-fs.c - atomic writes, bounded reads, tree removal and path safety. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check-main.h"
#include "shared/fs.h"
#include "shared/strbuf.h"

START_TEST(test_path_is_safe) {
        ck_assert(path_is_safe("src/models/user.py"));
        ck_assert(path_is_safe(".env.example"));
        ck_assert(path_is_safe("a/.codegen/x"));
        ck_assert(!path_is_safe(""));
        ck_assert(!path_is_safe(NULL));
        ck_assert(!path_is_safe("/etc/passwd"));
        ck_assert(!path_is_safe("../x"));
        ck_assert(!path_is_safe("a/../../x"));
        ck_assert(!path_is_safe("a/.."));
        ck_assert(!path_is_safe("./a"));
        ck_assert(!path_is_safe("a//b"));
        ck_assert(!path_is_safe("a/"));
        ck_assert(!path_is_safe("a\\b"));
        ck_assert(!path_is_safe("a\nb"));
        char longc[300];
        memset(longc, 'x', sizeof(longc) - 1);
        longc[sizeof(longc) - 1] = '\0';
        ck_assert(!path_is_safe(longc));
}
END_TEST

START_TEST(test_atomic_write_and_read) {
        char *dir = test_tmpdir();
        ck_assert_ptr_nonnull(dir);
        char *p = path_join(dir, "f.txt");
        ck_assert_int_eq(write_file_atomic(p, "hello", 5, 0644), 0);
        ck_assert_int_eq(write_file_atomic(p, "hello world", 11, 0600), 0);
        char *buf = NULL;
        size_t len = 0;
        ck_assert_int_eq(read_file_bounded(p, 100, &buf, &len), 0);
        ck_assert_uint_eq(len, 11);
        ck_assert_str_eq(buf, "hello world");
        free(buf);
        ck_assert_int_eq(read_file_bounded(p, 10, &buf, &len), -E2BIG);
        ck_assert_int_eq(read_file_bounded(dir, 10, &buf, &len), -EISDIR);
        struct stat st;
        ck_assert_int_eq(stat(p, &st), 0);
        ck_assert_uint_eq(st.st_mode & 0777, 0600);
        free(p);
        ck_assert_int_eq(rm_rf(dir), 0);
        ck_assert(!is_dir(dir));
        free(dir);
}
END_TEST

START_TEST(test_volatile_write_and_fifo_read) {
        char *dir = test_tmpdir();
        ck_assert_ptr_nonnull(dir);
        char *p = path_join(dir, "f.txt"), *fifo = path_join(dir, "x.job.yaml");
        ck_assert_int_eq(write_file_atomic_volatile(p, "one", 3, 0644), 0);
        ck_assert_int_eq(write_file_atomic_volatile(p, "two!", 4, 0600), 0);
        char *buf = NULL;
        size_t len = 0;
        ck_assert_int_eq(read_file_bounded(p, 100, &buf, &len), 0);
        ck_assert_str_eq(buf, "two!");
        free(buf);
        struct stat st;
        ck_assert_int_eq(stat(p, &st), 0);
        ck_assert_uint_eq(st.st_mode & 0777, 0600);
        /* no temporary file is left beside it */
        ck_assert_int_eq(rm_rf(p), 0);
        ck_assert_int_eq(rmdir(dir), 0);
        ck_assert_int_eq(mkdir(dir, 0755), 0);
        /* a FIFO without a writer: refused at once, never waited for */
        ck_assert_int_eq(mkfifo(fifo, 0644), 0);
        ck_assert_int_eq(read_file_bounded(fifo, 100, &buf, &len), -EINVAL);
        free(p);
        free(fifo);
        ck_assert_int_eq(rm_rf(dir), 0);
        free(dir);
}
END_TEST

START_TEST(test_mkdir_p_and_rm_rf) {
        char *dir = test_tmpdir();
        char *deep = path_join(dir, "a/b/c/d");
        ck_assert_int_eq(mkdir_p(deep, 0755), 0);
        ck_assert(is_dir(deep));
        ck_assert_int_eq(mkdir_p(deep, 0755), 0);
        char *f = path_join(deep, "x");
        ck_assert_int_eq(write_file_atomic(f, "x", 1, 0644), 0);
        ck_assert_int_eq(mkdir_p(f, 0755), -ENOTDIR);
        ck_assert_int_eq(rm_rf(dir), 0);
        ck_assert_int_eq(rm_rf(dir), 0);
        free(f);
        free(deep);
        free(dir);
}
END_TEST

START_TEST(test_strbuf_bounded) {
        struct strbuf sb;
        strbuf_init(&sb, 8);
        ck_assert_int_eq(strbuf_adds(&sb, "1234"), 0);
        ck_assert_int_eq(strbuf_addf(&sb, "%d", 5678), 0);
        ck_assert_int_eq(strbuf_addc(&sb, 'x'), -E2BIG);
        ck_assert_str_eq(strbuf_str(&sb), "12345678");
        size_t len;
        char *s = strbuf_detach(&sb, &len);
        ck_assert_uint_eq(len, 8);
        ck_assert_str_eq(strbuf_str(&sb), "");
        free(s);
        strbuf_free(&sb);
}
END_TEST

/* The settle check's probe: a file open for writing is seen as such, closed it is not. */
START_TEST(test_file_being_written) {
        char *dir = test_tmpdir(), *p = path_join(dir, "f");
        ck_assert(signal(SIGIO, SIG_IGN) != SIG_ERR);
        int w = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        ck_assert_int_ge(w, 0);
        ck_assert_int_eq(fs_file_being_written(AT_FDCWD, p), 1);
        ck_assert_int_eq(close(w), 0);
        ck_assert_int_eq(fs_file_being_written(AT_FDCWD, p), 0);
        int r = open(p, O_RDONLY | O_CLOEXEC); /* a reader is no writer */
        ck_assert_int_ge(r, 0);
        ck_assert_int_eq(fs_file_being_written(AT_FDCWD, p), 0);
        ck_assert_int_eq(close(r), 0);
        ck_assert_int_eq(fs_file_being_written(AT_FDCWD, dir), -EINVAL); /* not a regular file */
        rm_rf(dir);
        free(p);
        free(dir);
}
END_TEST

Suite *make_suite(void) {
        Suite *s = suite_create("fs");
        TCase *tc = tcase_create("core");
        tcase_add_test(tc, test_path_is_safe);
        tcase_add_test(tc, test_atomic_write_and_read);
        tcase_add_test(tc, test_volatile_write_and_fifo_read);
        tcase_add_test(tc, test_mkdir_p_and_rm_rf);
        tcase_add_test(tc, test_strbuf_bounded);
        tcase_add_test(tc, test_file_being_written);
        suite_add_tcase(s, tc);
        return s;
}
