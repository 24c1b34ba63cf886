/* test-pack.c - SHA-256 against the FIPS 180-4 examples, and the deterministic tarball:
 * byte-identical output for the same tree, its headers as listed back by libarchive, the
 * gzip header, the checksum against sha256sum(1), refusal of links and special files. */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "check-main.h"
#include "output/pack.h"
#include "shared/fs.h"
#include "shared/macro.h"
#include "shared/sha256.h"

static void hex_of(const void *data, size_t len, char out[65]) {
        uint8_t d[32];
        sha256_buf(data, len, d);
        sha256_hex(d, out);
}

START_TEST(test_sha256_vectors) {
        char hex[65];
        hex_of("", 0, hex);
        ck_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        hex_of("abc", 3, hex);
        ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        const char *m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
        hex_of(m448, strlen(m448), hex);
        ck_assert_str_eq(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
        const char *m896 = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
                           "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
        hex_of(m896, strlen(m896), hex);
        ck_assert_str_eq(hex, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}
END_TEST

START_TEST(test_sha256_million_a) {
        /* Fed in uneven pieces so every path through sha256_update() runs. */
        static const size_t pieces[] = { 1, 63, 64, 65, 7, 1000, 127, 129 };
        char a[1000];
        memset(a, 'a', sizeof(a));
        struct sha256_ctx c;
        sha256_init(&c);
        size_t left = 1000000, i = 0;
        while (left > 0) {
                size_t n = pieces[i++ % ELEMENTSOF(pieces)];
                if (n > left)
                        n = left;
                sha256_update(&c, a, n);
                left -= n;
        }
        uint8_t d[32];
        char hex[65];
        sha256_final(&c, d);
        sha256_hex(d, hex);
        ck_assert_str_eq(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");

        /* 55 and 56 bytes straddle the length field's room in the last block. */
        char x[56];
        memset(x, 'x', sizeof(x));
        hex_of(x, 55, hex);
        ck_assert_str_eq(hex, "d5e285683cd4efc02d021a5c62014694958901005d6f71e89e0989fac77e4072");
        hex_of(x, 56, hex);
        ck_assert_str_eq(hex, "04c26261370ee7541549d16dee320c723e3fd14671e66a099afe0a377c16888e");
}
END_TEST

static void put(const char *dir, const char *rel, const char *content, mode_t mode) {
        char *p = path_join(dir, rel);
        ck_assert_ptr_nonnull(p);
        ck_assert_int_eq(write_file_atomic(p, content, strlen(content), mode), 0);
        free(p);
}

static char *make_tree(const char *base) {
        char *root = path_join(base, "tree");
        char *sub = path_join(root, "a/b");
        char *sub2 = path_join(root, ".codegen");
        ck_assert_int_eq(mkdir_p(sub, 0755), 0);
        ck_assert_int_eq(mkdir_p(sub2, 0755), 0);
        put(root, "a/b/deep.py", "print('deep')\n", 0644);
        put(root, "a-b.txt", "dash\n", 0644);
        put(root, "a/x.py", "x = 1\n", 0600);
        put(root, "run.sh", "#!/bin/sh\necho hi\n", 0700);
        put(root, "README.md", "# readme\n", 0664);
        put(root, ".codegen/spec.yaml", "format: 1\n", 0644);
        free(sub);
        free(sub2);
        return root;
}

static char *pack_to(const char *base, const char *name, const char *root, uint64_t *bytes,
                     uint8_t sha[32]) {
        char *out = path_join(base, name);
        int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(pack_tree(root, "proj", fd, bytes, sha), 0);
        ck_assert_int_eq(close(fd), 0);
        return out;
}

static char *slurp(const char *path, size_t *len) {
        char *buf = NULL;
        ck_assert_int_eq(read_file_bounded(path, 1 << 24, &buf, len), 0);
        return buf;
}

static void touch_old(const char *root, const char *rel) {
        char *p = path_join(root, rel);
        struct timeval tv[2] = { { 12345, 0 }, { 67890, 500 } };
        ck_assert_int_eq(utimes(p, tv), 0);
        free(p);
}

START_TEST(test_pack_deterministic) {
        char *base = test_tmpdir();
        char *root = make_tree(base);
        uint64_t b1, b2;
        uint8_t s1[32], s2[32];
        char *o1 = pack_to(base, "one.tar.gz", root, &b1, s1);

        /* Change everything but the contents and the execute bits. */
        char *p = path_join(root, "README.md");
        ck_assert_int_eq(chmod(p, 0600), 0);
        free(p);
        p = path_join(root, "a");
        ck_assert_int_eq(chmod(p, 0700), 0);
        free(p);
        touch_old(root, "a/x.py");
        touch_old(root, "a/b");
        if (geteuid() == 0) {
                p = path_join(root, "run.sh");
                ck_assert_int_eq(chown(p, 1234, 1234), 0);
                free(p);
        }
        sleep(1);
        put(root, "a-b.txt", "dash\n", 0644); /* rewritten: new inode and mtime */

        char *o2 = pack_to(base, "two.tar.gz", root, &b2, s2);
        size_t l1, l2;
        char *c1 = slurp(o1, &l1), *c2 = slurp(o2, &l2);
        ck_assert_uint_eq(l1, l2);
        ck_assert_uint_eq(l1, b1);
        ck_assert_uint_eq(l2, b2);
        ck_assert(memcmp(c1, c2, l1) == 0);
        ck_assert(memcmp(s1, s2, 32) == 0);

        /* A content change must change the bytes. */
        put(root, "a-b.txt", "dash!\n", 0644);
        uint64_t b3;
        uint8_t s3[32];
        char *o3 = pack_to(base, "three.tar.gz", root, &b3, s3);
        ck_assert(memcmp(s1, s3, 32) != 0);

        free(c1);
        free(c2);
        free(o1);
        free(o2);
        free(o3);
        free(root);
        ck_assert_int_eq(rm_rf(base), 0);
        free(base);
}
END_TEST

START_TEST(test_pack_listing) {
        static const struct {
                const char *path;
                int dir;
                unsigned mode;
                const char *content;
        } want[] = {
                { "proj", 1, 0755, NULL },
                { "proj/.codegen", 1, 0755, NULL },
                { "proj/.codegen/spec.yaml", 0, 0644, "format: 1\n" },
                { "proj/README.md", 0, 0644, "# readme\n" },
                { "proj/a", 1, 0755, NULL },
                { "proj/a-b.txt", 0, 0644, "dash\n" },
                { "proj/a/b", 1, 0755, NULL },
                { "proj/a/b/deep.py", 0, 0644, "print('deep')\n" },
                { "proj/a/x.py", 0, 0644, "x = 1\n" },
                { "proj/run.sh", 0, 0755, "#!/bin/sh\necho hi\n" },
        };
        char *base = test_tmpdir();
        char *root = make_tree(base);
        uint64_t bytes;
        uint8_t sha[32];
        char *out = pack_to(base, "out.tar.gz", root, &bytes, sha);

        struct archive *a = archive_read_new();
        archive_read_support_format_tar(a);
        archive_read_support_filter_gzip(a);
        ck_assert_int_eq(archive_read_open_filename(a, out, 10240), ARCHIVE_OK);
        ck_assert_int_eq(archive_filter_code(a, 0), ARCHIVE_FILTER_GZIP);
        struct archive_entry *e;
        size_t i = 0;
        char prev[1024] = "";
        int r;
        while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
                ck_assert_uint_lt(i, ELEMENTSOF(want));
                char name[1024];
                snprintf(name, sizeof(name), "%s", archive_entry_pathname(e));
                size_t n = strlen(name);
                if (n > 0 && name[n - 1] == '/')
                        name[n - 1] = '\0';
                ck_assert(strcmp(prev, name) < 0);
                ck_assert(streq(name, "proj") || strncmp(name, "proj/", 5) == 0);
                snprintf(prev, sizeof(prev), "%s", name);

                ck_assert_str_eq(name, want[i].path);
                ck_assert_uint_eq(archive_entry_filetype(e),
                                  want[i].dir ? AE_IFDIR : AE_IFREG);
                ck_assert_uint_eq(archive_entry_perm(e), want[i].mode);
                ck_assert_int_eq(archive_entry_uid(e), 0);
                ck_assert_int_eq(archive_entry_gid(e), 0);
                ck_assert_str_eq(archive_entry_uname(e), "root");
                ck_assert_str_eq(archive_entry_gname(e), "root");
                ck_assert_int_eq(archive_entry_mtime(e), PACK_MTIME);
                ck_assert_int_eq(archive_entry_mtime_nsec(e), 0);
                ck_assert(!archive_entry_atime_is_set(e));
                ck_assert(!archive_entry_ctime_is_set(e));
                ck_assert_int_eq(archive_entry_xattr_count(e), 0);
                if (want[i].content) {
                        char buf[256];
                        la_ssize_t got = archive_read_data(a, buf, sizeof(buf));
                        ck_assert_int_eq(got, (la_ssize_t) strlen(want[i].content));
                        ck_assert(memcmp(buf, want[i].content, (size_t) got) == 0);
                }
                i++;
        }
        ck_assert_int_eq(r, ARCHIVE_EOF);
        ck_assert_uint_eq(i, ELEMENTSOF(want));
        ck_assert_int_eq(archive_read_free(a), ARCHIVE_OK);

        free(out);
        free(root);
        ck_assert_int_eq(rm_rf(base), 0);
        free(base);
}
END_TEST

START_TEST(test_pack_gzip_header_and_sha256sum) {
        char *base = test_tmpdir();
        char *root = make_tree(base);
        uint64_t bytes;
        uint8_t sha[32];
        char *out = pack_to(base, "out.tar.gz", root, &bytes, sha);
        size_t len;
        unsigned char *c = (unsigned char *) slurp(out, &len);
        ck_assert_uint_eq(len, bytes);
        ck_assert_uint_ge(len, 18);
        ck_assert_uint_eq(c[0], 0x1f);
        ck_assert_uint_eq(c[1], 0x8b);
        ck_assert_uint_eq(c[2], 8);            /* deflate */
        ck_assert_uint_eq(c[3] & 0x08, 0);     /* FNAME */
        ck_assert_uint_eq(c[3] & 0x10, 0);     /* FCOMMENT */
        ck_assert_uint_eq(c[4] | c[5] | c[6] | c[7], 0); /* MTIME */

        char cmd[4200], line[256], hex[65];
        snprintf(cmd, sizeof(cmd), "/usr/bin/sha256sum '%s'", out);
        FILE *f = popen(cmd, "r");
        ck_assert_ptr_nonnull(f);
        ck_assert_ptr_nonnull(fgets(line, sizeof(line), f));
        ck_assert_int_eq(pclose(f), 0);
        sha256_hex(sha, hex);
        ck_assert(strncmp(line, hex, 64) == 0);
        ck_assert(line[64] == ' ');

        free(c);
        free(out);
        free(root);
        ck_assert_int_eq(rm_rf(base), 0);
        free(base);
}
END_TEST

START_TEST(test_pack_refuses_links_and_specials) {
        char *base = test_tmpdir();
        char *root = make_tree(base);
        char *out = path_join(base, "out.tar.gz");
        int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        ck_assert_int_ge(fd, 0);
        uint64_t bytes = 4242;
        uint8_t sha[32] = { 7 };

        ck_assert_int_eq(pack_tree(root, "", fd, &bytes, sha), -EINVAL);
        ck_assert_int_eq(pack_tree(root, "a/b", fd, &bytes, sha), -EINVAL);
        ck_assert_int_eq(pack_tree(root, "..", fd, &bytes, sha), -EINVAL);

        char *link = path_join(root, "a/b/link");
        ck_assert_int_eq(symlink("../../README.md", link), 0);
        ck_assert_int_eq(pack_tree(root, "proj", fd, &bytes, sha), -ELOOP);
        ck_assert_int_eq(unlink(link), 0);

        char *fifo = path_join(root, "a/fifo");
        ck_assert_int_eq(mkfifo(fifo, 0644), 0);
        ck_assert_int_eq(pack_tree(root, "proj", fd, &bytes, sha), -EINVAL);
        ck_assert_int_eq(unlink(fifo), 0);

        char *missing = path_join(base, "missing");
        ck_assert_int_eq(pack_tree(missing, "proj", fd, &bytes, sha), -ENOENT);
        ck_assert_uint_eq(bytes, 4242); /* untouched on failure */
        ck_assert_uint_eq(sha[0], 7);

        ck_assert_int_eq(pack_tree(root, "proj", fd, &bytes, sha), 0);
        ck_assert_uint_gt(bytes, 0);
        ck_assert_int_eq(close(fd), 0);

        free(missing);
        free(fifo);
        free(link);
        free(out);
        free(root);
        ck_assert_int_eq(rm_rf(base), 0);
        free(base);
}
END_TEST

Suite *make_suite(void) {
        Suite *s = suite_create("pack");
        TCase *tc = tcase_create("core");
        tcase_set_timeout(tc, 20);
        tcase_add_test(tc, test_sha256_vectors);
        tcase_add_test(tc, test_sha256_million_a);
        tcase_add_test(tc, test_pack_deterministic);
        tcase_add_test(tc, test_pack_listing);
        tcase_add_test(tc, test_pack_gzip_header_and_sha256sum);
        tcase_add_test(tc, test_pack_refuses_links_and_specials);
        suite_add_tcase(s, tc);
        return s;
}
