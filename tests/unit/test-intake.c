/* test-intake.c - bundle classification and bundle_load() on every form, with every
 * refusal the intake makes. Fixture archives are written here at run time with
 * libarchive's writer (and tar(1) for the "./" member style); nothing binary is kept. */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check-main.h"
#include "format/doc.h"
#include "bundle/intake.h"
#include "shared/fs.h"
#include "shared/macro.h"
#include "shared/strbuf.h"

/* ---- helpers ---- */

static char *tmp;     /* the test's directory */
static char *scratch; /* tmp/scratch */
static char *ref_spec, *ref_dag;
static size_t ref_spec_len, ref_dag_len;

static void setup(void) {
        tmp = test_tmpdir();
        ck_assert_ptr_nonnull(tmp);
        scratch = path_join(tmp, "scratch");
        _cleanup_free_ char *s = path_join(test_srcdir(), "spool-example/taskmanager/spec.yaml");
        _cleanup_free_ char *g = path_join(test_srcdir(), "spool-example/taskmanager/dag.json");
        ck_assert_int_eq(read_file_bounded(s, 1 << 20, &ref_spec, &ref_spec_len), 0);
        ck_assert_int_eq(read_file_bounded(g, 1 << 20, &ref_dag, &ref_dag_len), 0);
}

static void teardown(void) {
        ck_assert_int_eq(rm_rf(tmp), 0);
        free(tmp);
        free(scratch);
        free(ref_spec);
        free(ref_dag);
}

static char *at(const char *rel) {
        char *p = path_join(tmp, rel);
        ck_assert_ptr_nonnull(p);
        return p;
}

static void put(const char *rel, const char *content, size_t len) {
        _cleanup_free_ char *p = at(rel);
        _cleanup_free_ char *dir = strdup(p);
        *strrchr(dir, '/') = '\0';
        ck_assert_int_eq(mkdir_p(dir, 0755), 0);
        ck_assert_int_eq(write_file_atomic(p, content, len, 0644), 0);
}

static void puts_(const char *rel, const char *content) {
        put(rel, content, strlen(content));
}

/* All diagnostics, one a line, for failure messages. */
static char *diags_text(const struct diags *d) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        ck_assert_ptr_nonnull(f);
        diags_print(d, f);
        fclose(f);
        return buf;
}

/* Asserts a diagnostic with this file label whose message starts with msg. */
static void assert_diag(const struct diags *d, const char *file, const char *msg) {
        for (size_t i = 0; i < d->n; i++)
                if (streq_ptr(d->v[i].file, file) &&
                    strncmp(d->v[i].message, msg, strlen(msg)) == 0)
                        return;
        _cleanup_free_ char *all = diags_text(d);
        ck_abort_msg("no diagnostic %s: %s... in:\n%s", file, msg, all);
}

/* Loads and expects failure with one diagnostic (file, message prefix). */
static void expect_fail(const char *rel, enum bundle_form form, const struct intake_limits *lim,
                        const char *file, const char *msg) {
        _cleanup_free_ char *p = at(rel);
        struct diags d = DIAGS_INIT;
        struct bundle *b = (struct bundle *) 0x1;
        ck_assert_int_eq(rm_rf(scratch), 0);
        ck_assert_int_eq(bundle_load(p, form, "job", scratch, lim, &b, &d), -EINVAL);
        ck_assert_ptr_eq(b, (struct bundle *) 0x1);
        assert_diag(&d, file, msg);
        diags_clear(&d);
}

static struct bundle *expect_ok(const char *rel, enum bundle_form form,
                                const struct intake_limits *lim) {
        _cleanup_free_ char *p = at(rel);
        struct diags d = DIAGS_INIT;
        struct bundle *b = NULL;
        ck_assert_int_eq(rm_rf(scratch), 0);
        int r = bundle_load(p, form, "taskmanager", scratch, lim, &b, &d);
        _cleanup_free_ char *all = diags_text(&d);
        ck_assert_msg(r == 0, "bundle_load(%s) = %d:\n%s", rel, r, all);
        ck_assert_uint_eq(d.n, 0);
        ck_assert_ptr_nonnull(b);
        ck_assert_str_eq(b->name, "taskmanager");
        ck_assert_int_eq(b->form, form);
        diags_clear(&d);
        return b;
}

/* The spec and DAG must be the reference job's, node for node. */
static void assert_reference(const struct bundle *b) {
        struct diags d = DIAGS_INIT;
        _cleanup_node_ struct node *spec = NULL, *dag = NULL;
        ck_assert_int_eq(doc_parse_yaml(ref_spec, ref_spec_len, "ref", &spec, &d), 0);
        ck_assert_int_eq(doc_parse_json(ref_dag, ref_dag_len, "ref", &dag, &d), 0);
        _cleanup_strbuf_ struct strbuf want = STRBUF_INIT, got = STRBUF_INIT;
        ck_assert_int_eq(doc_emit_json(spec, &want), 0);
        ck_assert_int_eq(doc_emit_json(b->spec, &got), 0);
        ck_assert_str_eq(strbuf_str(&got), strbuf_str(&want));
        ck_assert_ptr_nonnull(b->dag);
        strbuf_reset(&want);
        strbuf_reset(&got);
        ck_assert_int_eq(doc_emit_json(dag, &want), 0);
        ck_assert_int_eq(doc_emit_json(b->dag, &got), 0);
        ck_assert_str_eq(strbuf_str(&got), strbuf_str(&want));
        diags_clear(&d);
}

enum { M_FILE, M_DIR, M_SYMLINK, M_HARDLINK, M_CHARDEV, M_FIFO };

struct member {
        const char *path;
        int type;
        const char *content; /* M_FILE; the link target for links */
        size_t zeros;        /* M_FILE: this many zero bytes instead of content */
};

/* Writes an archive at tmp/rel: format is ARCHIVE_FORMAT_TAR_PAX_RESTRICTED or
 * ARCHIVE_FORMAT_ZIP, filter an ARCHIVE_FILTER_* code. */
static void make_archive(const char *rel, int format, int filter, const struct member *m,
                         size_t n) {
        _cleanup_free_ char *p = at(rel);
        struct archive *a = archive_write_new();
        ck_assert_int_eq(archive_write_set_format(a, format), ARCHIVE_OK);
        ck_assert_int_eq(archive_write_add_filter(a, filter), ARCHIVE_OK);
        ck_assert_int_eq(archive_write_open_filename(a, p), ARCHIVE_OK);
        static char zeros[64 * 1024];
        for (size_t i = 0; i < n; i++) {
                struct archive_entry *e = archive_entry_new();
                archive_entry_set_pathname(e, m[i].path);
                archive_entry_set_mtime(e, 1000000000, 0);
                size_t size = m[i].content ? strlen(m[i].content) : m[i].zeros;
                switch (m[i].type) {
                case M_FILE:
                        archive_entry_set_filetype(e, AE_IFREG);
                        archive_entry_set_perm(e, 0644);
                        archive_entry_set_size(e, (la_int64_t) size);
                        break;
                case M_DIR:
                        archive_entry_set_filetype(e, AE_IFDIR);
                        archive_entry_set_perm(e, 0755);
                        size = 0;
                        break;
                case M_SYMLINK:
                        archive_entry_set_filetype(e, AE_IFLNK);
                        archive_entry_set_perm(e, 0777);
                        archive_entry_set_symlink(e, m[i].content);
                        size = 0;
                        break;
                case M_HARDLINK:
                        archive_entry_set_filetype(e, AE_IFREG);
                        archive_entry_set_perm(e, 0644);
                        archive_entry_set_hardlink(e, m[i].content);
                        archive_entry_set_size(e, 0);
                        size = 0;
                        break;
                case M_CHARDEV:
                        archive_entry_set_filetype(e, AE_IFCHR);
                        archive_entry_set_perm(e, 0666);
                        archive_entry_set_rdevmajor(e, 1);
                        archive_entry_set_rdevminor(e, 3);
                        size = 0;
                        break;
                case M_FIFO:
                        archive_entry_set_filetype(e, AE_IFIFO);
                        archive_entry_set_perm(e, 0644);
                        size = 0;
                        break;
                }
                ck_assert_int_eq(archive_write_header(a, e), ARCHIVE_OK);
                if (m[i].type == M_FILE && m[i].content)
                        ck_assert_int_eq(archive_write_data(a, m[i].content, size),
                                         (la_ssize_t) size);
                else if (m[i].type == M_FILE)
                        for (size_t done = 0; done < size;) {
                                size_t k = size - done < sizeof(zeros) ? size - done
                                                                       : sizeof(zeros);
                                ck_assert_int_eq(archive_write_data(a, zeros, k), (la_ssize_t) k);
                                done += k;
                        }
                archive_entry_free(e);
        }
        ck_assert_int_eq(archive_write_close(a), ARCHIVE_OK);
        ck_assert_int_eq(archive_write_free(a), ARCHIVE_OK);
}

static void make_tar(const char *rel, const struct member *m, size_t n) {
        make_archive(rel, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, ARCHIVE_FILTER_GZIP, m, n);
}

#define TAR(rel, ...)                                                                      \
        do {                                                                               \
                const struct member _m[] = { __VA_ARGS__ };                                \
                make_tar(rel, _m, ELEMENTSOF(_m));                                         \
        } while (0)

/* ---- classification ---- */

static void check_class(const char *entry, bool is_dir, int want_r, enum bundle_form want_form,
                        const char *want_name) {
        enum bundle_form form = (enum bundle_form) 42;
        char *name = (char *) "untouched";
        int r = bundle_classify(entry, is_dir, &form, &name);
        ck_assert_msg(r == want_r, "bundle_classify(%s) = %d, want %d", entry, r, want_r);
        if (r == 1) {
                ck_assert_int_eq(form, want_form);
                ck_assert_str_eq(name, want_name);
                free(name);
        } else {
                ck_assert_int_eq(form, 42);
                ck_assert_str_eq(name, "untouched");
        }
}

START_TEST(test_classify) {
        check_class("taskmanager", true, 1, BUNDLE_DIRECTORY, "taskmanager");
        check_class("task.manager", true, 1, BUNDLE_DIRECTORY, "task.manager");
        check_class("taskmanager.tar", false, 1, BUNDLE_ARCHIVE, "taskmanager");
        check_class("taskmanager.tar.gz", false, 1, BUNDLE_ARCHIVE, "taskmanager");
        check_class("taskmanager.tgz", false, 1, BUNDLE_ARCHIVE, "taskmanager");
        check_class("taskmanager.tar.xz", false, 1, BUNDLE_ARCHIVE, "taskmanager");
        check_class("taskmanager.tar.zst", false, 1, BUNDLE_ARCHIVE, "taskmanager");
        check_class("taskmanager.zip", false, 1, BUNDLE_ARCHIVE, "taskmanager");
        check_class("v1.2.tar.gz", false, 1, BUNDLE_ARCHIVE, "v1.2");
        check_class("taskmanager.job.yaml", false, 1, BUNDLE_SINGLE_FILE, "taskmanager");
        check_class("taskmanager.job.yml", false, 1, BUNDLE_SINGLE_FILE, "taskmanager");
        check_class("taskmanager.job.json", false, 1, BUNDLE_SINGLE_FILE, "taskmanager");

        /* being written, hidden, markers: left alone */
        check_class(".taskmanager.tar.gz", false, 0, 0, NULL);
        check_class(".hidden", true, 0, 0, NULL);
        check_class("taskmanager.tar.gz.tmp", false, 0, 0, NULL);
        check_class("taskmanager.tar.gz.part", false, 0, 0, NULL);
        check_class("taskmanager.zip.partial", false, 0, 0, NULL);
        check_class("taskmanager.ready", false, 0, 0, NULL);
        check_class("taskmanager.tmp", true, 0, 0, NULL);

        /* unrecognised */
        check_class("taskmanager", false, -EINVAL, 0, NULL);
        check_class("spec.yaml", false, -EINVAL, 0, NULL);
        check_class("taskmanager.gz", false, -EINVAL, 0, NULL);
        check_class("taskmanager.rar", false, -EINVAL, 0, NULL);
        check_class(".tar.gz", false, 0, 0, NULL);
        check_class("x.tar.gz", false, 1, BUNDLE_ARCHIVE, "x");
        check_class(".job.yaml", false, 0, 0, NULL);
        check_class("a\nb.zip", false, -EINVAL, 0, NULL);
        check_class("", false, -EINVAL, 0, NULL);
        check_class(NULL, false, -EINVAL, 0, NULL);
}
END_TEST

START_TEST(test_job_names) {
        char *name = NULL;
        /* codegenctl's use: the name without the form */
        ck_assert_int_eq(bundle_classify("tm.zip", false, NULL, &name), 1);
        ck_assert_str_eq(name, "tm");
        free(name);
        ck_assert(bundle_name_is_valid("taskmanager"));
        ck_assert(bundle_name_is_valid("v1.2"));
        ck_assert(!bundle_name_is_valid(".hidden"));
        ck_assert(!bundle_name_is_valid(""));
        ck_assert(!bundle_name_is_valid("a/b"));
        ck_assert(!bundle_name_is_valid(".."));
        ck_assert(!bundle_name_is_valid("a\tb"));
        char longest[BUNDLE_NAME_MAX + 2];
        memset(longest, 'n', BUNDLE_NAME_MAX);
        longest[BUNDLE_NAME_MAX] = '\0';
        ck_assert(bundle_name_is_valid(longest));
        longest[BUNDLE_NAME_MAX] = 'n';
        longest[BUNDLE_NAME_MAX + 1] = '\0';
        ck_assert(!bundle_name_is_valid(longest));
}
END_TEST

START_TEST(test_classify_upload_and_reserved_names) {
        /* upload tools' names for files still being written */
        check_class("x.tar.gz.filepart", false, 0, 0, NULL);
        check_class("x.zip.crdownload", false, 0, 0, NULL);
        check_class("x.tar.download", true, 0, 0, NULL);
        /* the daemon's own names in failed/ and outbox/: never a bundle */
        check_class("foo.error.yaml", true, -EINVAL, 0, NULL);
        check_class("foo.error.yaml", false, -EINVAL, 0, NULL);
        check_class("foo.metrics.yaml", true, -EINVAL, 0, NULL);
        /* the longest job name, and one byte more */
        char name[BUNDLE_NAME_MAX + 2], entry[BUNDLE_NAME_MAX + 16];
        memset(name, 'n', BUNDLE_NAME_MAX);
        name[BUNDLE_NAME_MAX] = '\0';
        snprintf(entry, sizeof(entry), "%s.tar.gz", name);
        check_class(entry, false, 1, BUNDLE_ARCHIVE, name);
        check_class(name, true, 1, BUNDLE_DIRECTORY, name);
        name[BUNDLE_NAME_MAX] = 'n';
        name[BUNDLE_NAME_MAX + 1] = '\0';
        snprintf(entry, sizeof(entry), "%s.tar.gz", name);
        check_class(entry, false, -EINVAL, 0, NULL);
        check_class(name, true, -EINVAL, 0, NULL);
}
END_TEST

START_TEST(test_classify_empty_name) {
        /* "tar.gz" has no dot before the extension, so it is not an archive at all */
        check_class("tar.gz", false, -EINVAL, 0, NULL);
        check_class("job.yaml", false, -EINVAL, 0, NULL);
}
END_TEST

START_TEST(test_limits_default) {
        struct intake_limits l;
        intake_limits_default(&l);
        ck_assert_uint_eq(l.max_bundle_bytes, 64u << 20);
        ck_assert_uint_eq(l.max_entries, 1000);
        ck_assert_uint_eq(l.max_unpacked_bytes, 256u << 20);
        ck_assert_uint_eq(l.max_doc_bytes, 4u << 20);
}
END_TEST

/* ---- directory bundles ---- */

START_TEST(test_dir_ok) {
        put("taskmanager/spec.yaml", ref_spec, ref_spec_len);
        put("taskmanager/dag.json", ref_dag, ref_dag_len);
        puts_("taskmanager/job.yaml", "backend: pattern\n");
        puts_("taskmanager/README.md", "ignored\n");
        puts_("taskmanager/notes/other.txt", "ignored\n");
        struct bundle *b = expect_ok("taskmanager", BUNDLE_DIRECTORY, NULL);
        assert_reference(b);
        ck_assert_str_eq(b->spec_file, "taskmanager/spec.yaml");
        ck_assert_str_eq(b->dag_file, "taskmanager/dag.json");
        ck_assert_ptr_nonnull(b->options);
        ck_assert_str_eq(b->options_file, "taskmanager/job.yaml");
        ck_assert_str_eq(node_get(b->options, "backend")->value, "pattern");
        /* positions are the file's own */
        ck_assert_uint_eq(b->spec->keys[0]->line, 2);
        bundle_free(b);

        /* spec.json, no DAG, no job.yaml */
        puts_("json/spec.json", "{\"format\": 1, \"name\": \"x\"}");
        b = expect_ok("json", BUNDLE_DIRECTORY, NULL);
        ck_assert_str_eq(b->spec_file, "json/spec.json");
        ck_assert_ptr_null(b->dag);
        ck_assert_ptr_null(b->dag_file);
        ck_assert_ptr_null(b->options);
        ck_assert_ptr_null(b->options_file);
        ck_assert_str_eq(node_get(b->spec, "name")->value, "x");
        bundle_free(b);
}
END_TEST

START_TEST(test_dir_doc_choice) {
        puts_("both/spec.yaml", "format: 1\n");
        puts_("both/spec.json", "{}");
        expect_fail("both", BUNDLE_DIRECTORY, NULL, "both", "both spec.yaml and spec.json");

        puts_("none/README.md", "no spec here\n");
        expect_fail("none", BUNDLE_DIRECTORY, NULL, "none",
                    "no spec.yaml or spec.json in the bundle");

        puts_("yml/spec.yml", "format: 1\n");
        puts_("yml/spec.yaml", "format: 1\n");
        expect_fail("yml", BUNDLE_DIRECTORY, NULL, "yml", "both spec.yaml and spec.yml");

        puts_("dags/spec.yaml", "format: 1\n");
        puts_("dags/dag.yaml", "format: 1\n");
        puts_("dags/dag.json", "{}");
        expect_fail("dags", BUNDLE_DIRECTORY, NULL, "dags", "both dag.yaml and dag.json");

        /* a spec that is a directory */
        _cleanup_free_ char *p = at("specdir/spec.yaml");
        ck_assert_int_eq(mkdir_p(p, 0755), 0);
        expect_fail("specdir", BUNDLE_DIRECTORY, NULL, "specdir/spec.yaml", "not a regular file");

        /* document errors keep going: both the spec and the DAG are reported */
        puts_("broken/spec.yaml", "format: [1\n");
        puts_("broken/dag.json", "{\"format\": }");
        _cleanup_free_ char *bp = at("broken");
        struct diags d = DIAGS_INIT;
        struct bundle *b = NULL;
        ck_assert_int_eq(bundle_load(bp, BUNDLE_DIRECTORY, "broken", scratch, NULL, &b, &d),
                         -EINVAL);
        ck_assert_ptr_null(b);
        ck_assert_uint_eq(d.n, 2);
        ck_assert_str_eq(d.v[0].file, "broken/spec.yaml");
        ck_assert_uint_gt(d.v[0].line, 0);
        ck_assert_str_eq(d.v[1].file, "broken/dag.json");
        diags_clear(&d);

        /* a document that is only null */
        puts_("nul/spec.yaml", "~\n");
        expect_fail("nul", BUNDLE_DIRECTORY, NULL, "nul/spec.yaml", "empty document");
}
END_TEST

START_TEST(test_dir_refuses_specials) {
        puts_("linky/spec.yaml", "format: 1\n");
        puts_("linky/sub/file", "x\n");
        _cleanup_free_ char *l = at("linky/sub/link");
        ck_assert_int_eq(symlink("/etc/passwd", l), 0);
        expect_fail("linky", BUNDLE_DIRECTORY, NULL, "linky",
                    "bundle entry 'sub/link' is a symbolic link");

        puts_("fifo/spec.yaml", "format: 1\n");
        _cleanup_free_ char *f = at("fifo/pipe");
        ck_assert_int_eq(mkfifo(f, 0644), 0);
        expect_fail("fifo", BUNDLE_DIRECTORY, NULL, "fifo", "bundle entry 'pipe' is a fifo");

        /* spec.yaml itself a symlink to a good file */
        puts_("speclink/real.yaml", "format: 1\n");
        _cleanup_free_ char *s = at("speclink/spec.yaml");
        ck_assert_int_eq(symlink("real.yaml", s), 0);
        expect_fail("speclink", BUNDLE_DIRECTORY, NULL, "speclink",
                    "bundle entry 'spec.yaml' is a symbolic link");

        /* the bundle itself a symlink to a directory */
        puts_("real/spec.yaml", "format: 1\n");
        _cleanup_free_ char *bl = at("alias");
        ck_assert_int_eq(symlink("real", bl), 0);
        expect_fail("alias", BUNDLE_DIRECTORY, NULL, "alias", "'alias' is not a directory");
}
END_TEST

START_TEST(test_dir_limits) {
        struct intake_limits lim;
        intake_limits_default(&lim);
        lim.max_entries = 5;
        puts_("many/spec.yaml", "format: 1\n");
        for (int i = 0; i < 6; i++) {
                char rel[64];
                snprintf(rel, sizeof(rel), "many/f%d", i);
                puts_(rel, "x");
        }
        expect_fail("many", BUNDLE_DIRECTORY, &lim, "many", "bundle has more than 5 entries");

        intake_limits_default(&lim);
        lim.max_bundle_bytes = 1000;
        puts_("big/spec.yaml", "format: 1\n");
        char blob[1200];
        memset(blob, 'x', sizeof(blob));
        put("big/blob.bin", blob, sizeof(blob));
        expect_fail("big", BUNDLE_DIRECTORY, &lim, "big", "bundle size exceeds 1000 bytes");

        intake_limits_default(&lim);
        lim.max_doc_bytes = 100;
        put("bigdoc/spec.yaml", ref_spec, ref_spec_len);
        expect_fail("bigdoc", BUNDLE_DIRECTORY, &lim, "bigdoc/spec.yaml",
                    "file is larger than 100 bytes");
}
END_TEST

/* ---- archives ---- */

START_TEST(test_archive_forms_load_same_spec) {
        static const struct {
                const char *rel;
                int format, filter;
        } forms[] = {
                { "t1.tar", ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, ARCHIVE_FILTER_NONE },
                { "t2.tar.gz", ARCHIVE_FORMAT_TAR_USTAR, ARCHIVE_FILTER_GZIP },
                { "t3.tgz", ARCHIVE_FORMAT_TAR_GNUTAR, ARCHIVE_FILTER_GZIP },
                { "t4.tar.xz", ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, ARCHIVE_FILTER_XZ },
                { "t5.tar.zst", ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, ARCHIVE_FILTER_ZSTD },
                { "t6.zip", ARCHIVE_FORMAT_ZIP, ARCHIVE_FILTER_NONE },
        };
        const struct member m[] = {
                { "taskmanager/", M_DIR, NULL, 0 },
                { "taskmanager/spec.yaml", M_FILE, ref_spec, 0 },
                { "taskmanager/dag.json", M_FILE, ref_dag, 0 },
                { "taskmanager/job.yaml", M_FILE, "backend: pattern\n", 0 },
        };
        for (size_t i = 0; i < ELEMENTSOF(forms); i++) {
                make_archive(forms[i].rel, forms[i].format, forms[i].filter, m, ELEMENTSOF(m));
                struct bundle *b = expect_ok(forms[i].rel, BUNDLE_ARCHIVE, NULL);
                assert_reference(b);
                ck_assert_str_eq(b->spec_file, "taskmanager/spec.yaml");
                ck_assert_str_eq(b->dag_file, "taskmanager/dag.json");
                ck_assert_str_eq(b->options_file, "taskmanager/job.yaml");
                bundle_free(b);

                /* written by us, as plain files */
                _cleanup_free_ char *f = path_join(scratch, "taskmanager/spec.yaml");
                struct stat st;
                ck_assert_int_eq(lstat(f, &st), 0);
                ck_assert(S_ISREG(st.st_mode));
                ck_assert_uint_eq(st.st_mode & 0022, 0);
                ck_assert_uint_eq((size_t) st.st_size, ref_spec_len);
        }
}
END_TEST

START_TEST(test_archive_top_level_vs_folder) {
        /* at the top, without directory entries, with a macOS resource fork beside */
        const struct member top[] = {
                { "spec.yaml", M_FILE, ref_spec, 0 },
                { "dag.json", M_FILE, ref_dag, 0 },
                { "__MACOSX/._spec.yaml", M_FILE, "junk", 0 },
        };
        make_archive("top.zip", ARCHIVE_FORMAT_ZIP, ARCHIVE_FILTER_NONE, top, ELEMENTSOF(top));
        struct bundle *b = expect_ok("top.zip", BUNDLE_ARCHIVE, NULL);
        assert_reference(b);
        ck_assert_str_eq(b->spec_file, "spec.yaml");
        ck_assert_str_eq(b->dag_file, "dag.json");
        ck_assert_ptr_null(b->options);
        bundle_free(b);

        /* under one folder, with dotfiles and __MACOSX at the top ignored */
        const struct member folder[] = {
                { "tm/sub/spec.yaml", M_FILE, "not this one", 0 },
                { "tm/spec.yaml", M_FILE, ref_spec, 0 },
                { "tm/dag.json", M_FILE, ref_dag, 0 },
                { ".DS_Store", M_FILE, "junk", 0 },
                { "__MACOSX/tm/._spec.yaml", M_FILE, "junk", 0 },
        };
        make_archive("folder.zip", ARCHIVE_FORMAT_ZIP, ARCHIVE_FILTER_NONE, folder,
                     ELEMENTSOF(folder));
        b = expect_ok("folder.zip", BUNDLE_ARCHIVE, NULL);
        assert_reference(b);
        ck_assert_str_eq(b->spec_file, "tm/spec.yaml");
        bundle_free(b);

        /* two top-level folders */
        TAR("two.tar.gz", { "a/spec.yaml", M_FILE, "format: 1\n", 0 },
            { "b/spec.yaml", M_FILE, "format: 1\n", 0 });
        expect_fail("two.tar.gz", BUNDLE_ARCHIVE, NULL, "two.tar.gz",
                    "archive has more than one top-level folder ('a', 'b')");

        /* a folder and a stray file at the top */
        TAR("stray.tar.gz", { "tm/spec.yaml", M_FILE, "format: 1\n", 0 },
            { "README", M_FILE, "hi\n", 0 });
        expect_fail("stray.tar.gz", BUNDLE_ARCHIVE, NULL, "stray.tar.gz",
                    "archive holds 'README' beside its top-level folder 'tm'");

        /* the folder holds no spec */
        TAR("nospec.tar.gz", { "tm/readme", M_FILE, "hi\n", 0 });
        expect_fail("nospec.tar.gz", BUNDLE_ARCHIVE, NULL, "nospec.tar.gz",
                    "no spec.yaml or spec.json in the bundle");

        /* an archive with nothing in it */
        make_archive("empty.tar", ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, ARCHIVE_FILTER_NONE, NULL, 0);
        expect_fail("empty.tar", BUNDLE_ARCHIVE, NULL, "empty.tar",
                    "no spec.yaml or spec.json in the bundle");

        /* both specs in the folder; labels name the members */
        TAR("both.tar.gz", { "tm/spec.yaml", M_FILE, "format: 1\n", 0 },
            { "tm/spec.json", M_FILE, "{}", 0 });
        expect_fail("both.tar.gz", BUNDLE_ARCHIVE, NULL, "both.tar.gz",
                    "both spec.yaml and spec.json");

        /* a document error is labelled with the member's path */
        TAR("bad.tar.gz", { "tm/spec.yaml", M_FILE, "format: 1\nformat: 2\n", 0 });
        expect_fail("bad.tar.gz", BUNDLE_ARCHIVE, NULL, "tm/spec.yaml", "duplicate key 'format'");
}
END_TEST

START_TEST(test_archive_dot_slash_members) {
        /* tar -C dir . writes "./" and "./spec.yaml" */
        put("src/spec.yaml", ref_spec, ref_spec_len);
        put("src/dag.json", ref_dag, ref_dag_len);
        char cmd[4096];
        snprintf(cmd, sizeof(cmd), "/usr/bin/tar -C '%s/src' -czf '%s/dot.tar.gz' .", tmp, tmp);
        ck_assert_int_eq(system(cmd), 0);
        struct bundle *b = expect_ok("dot.tar.gz", BUNDLE_ARCHIVE, NULL);
        assert_reference(b);
        ck_assert_str_eq(b->spec_file, "spec.yaml");
        bundle_free(b);
}
END_TEST

START_TEST(test_archive_refuses_paths) {
        TAR("abs.tar.gz", { "/etc/evil", M_FILE, "x", 0 });
        expect_fail("abs.tar.gz", BUNDLE_ARCHIVE, NULL, "abs.tar.gz",
                    "archive member '/etc/evil' has an absolute path");

        TAR("dotdot.tar.gz", { "spec.yaml", M_FILE, "format: 1\n", 0 },
            { "../evil", M_FILE, "x", 0 });
        expect_fail("dotdot.tar.gz", BUNDLE_ARCHIVE, NULL, "dotdot.tar.gz",
                    "archive member '../evil' leaves the bundle");
        /* nothing escaped the scratch directory */
        _cleanup_free_ char *evil = at("evil");
        ck_assert(access(evil, F_OK) < 0);

        TAR("deep.tar.gz", { "tm/a/../../../evil", M_FILE, "x", 0 });
        expect_fail("deep.tar.gz", BUNDLE_ARCHIVE, NULL, "deep.tar.gz",
                    "archive member 'tm/a/../../../evil' leaves the bundle");

        TAR("ctl.tar.gz", { "tm/a\nb", M_FILE, "x", 0 });
        expect_fail("ctl.tar.gz", BUNDLE_ARCHIVE, NULL, "ctl.tar.gz",
                    "archive member 'tm/a?b' has an unsafe name");

        TAR("dup.tar.gz", { "tm/spec.yaml", M_FILE, "format: 1\n", 0 },
            { "tm/spec.yaml", M_FILE, "format: 2\n", 0 });
        expect_fail("dup.tar.gz", BUNDLE_ARCHIVE, NULL, "dup.tar.gz",
                    "archive member 'tm/spec.yaml' clashes with another member");

        TAR("under.tar.gz", { "tm", M_FILE, "x", 0 }, { "tm/spec.yaml", M_FILE, "x", 0 });
        expect_fail("under.tar.gz", BUNDLE_ARCHIVE, NULL, "under.tar.gz",
                    "archive member 'tm/spec.yaml' clashes with another member");
}
END_TEST

START_TEST(test_archive_refuses_links_and_devices) {
        TAR("sym.tar.gz", { "tm/spec.yaml", M_FILE, "format: 1\n", 0 },
            { "tm/x", M_SYMLINK, "/etc/passwd", 0 });
        expect_fail("sym.tar.gz", BUNDLE_ARCHIVE, NULL, "sym.tar.gz",
                    "archive member 'tm/x' is a symbolic link");

        TAR("hard.tar.gz", { "tm/spec.yaml", M_FILE, "format: 1\n", 0 },
            { "tm/dag.json", M_HARDLINK, "tm/spec.yaml", 0 });
        expect_fail("hard.tar.gz", BUNDLE_ARCHIVE, NULL, "hard.tar.gz",
                    "archive member 'tm/dag.json' is a hard link");

        TAR("dev.tar.gz", { "tm/null", M_CHARDEV, NULL, 0 });
        expect_fail("dev.tar.gz", BUNDLE_ARCHIVE, NULL, "dev.tar.gz",
                    "archive member 'tm/null' is a device");

        TAR("fifo.tar.gz", { "tm/pipe", M_FIFO, NULL, 0 });
        expect_fail("fifo.tar.gz", BUNDLE_ARCHIVE, NULL, "fifo.tar.gz",
                    "archive member 'tm/pipe' is a fifo");

        /* a symlink in a zip */
        const struct member z[] = { { "spec.yaml", M_SYMLINK, "/etc/passwd", 0 } };
        make_archive("sym.zip", ARCHIVE_FORMAT_ZIP, ARCHIVE_FILTER_NONE, z, 1);
        expect_fail("sym.zip", BUNDLE_ARCHIVE, NULL, "sym.zip",
                    "archive member 'spec.yaml' is a symbolic link");

        /* every refused member is reported, and nothing after the first is written */
        TAR("several.tar.gz", { "tm/a", M_SYMLINK, "x", 0 }, { "tm/b", M_FIFO, NULL, 0 },
            { "tm/spec.yaml", M_FILE, "format: 1\n", 0 });
        _cleanup_free_ char *p = at("several.tar.gz");
        struct diags d = DIAGS_INIT;
        struct bundle *b = NULL;
        ck_assert_int_eq(rm_rf(scratch), 0);
        ck_assert_int_eq(bundle_load(p, BUNDLE_ARCHIVE, "x", scratch, NULL, &b, &d), -EINVAL);
        ck_assert_uint_eq(d.n, 2);
        _cleanup_free_ char *written = path_join(scratch, "tm/spec.yaml");
        ck_assert(access(written, F_OK) < 0);
        diags_clear(&d);
}
END_TEST

/* fs_walk callback: the bytes of the regular files of a tree */
static int add_size(const struct fs_entry *e, void *userdata) {
        if (S_ISREG(e->st->st_mode))
                *(unsigned long long *) userdata += (unsigned long long) e->st->st_size;
        return S_ISDIR(e->st->st_mode) ? FS_WALK_DESCEND : 0;
}

START_TEST(test_archive_bomb) {
        struct intake_limits lim;
        intake_limits_default(&lim);
        lim.max_unpacked_bytes = 1 << 20;
        TAR("bomb.tar.gz", { "tm/spec.yaml", M_FILE, "format: 1\n", 0 },
            { "tm/zeros", M_FILE, NULL, (size_t) 10 << 20 });
        _cleanup_free_ char *p = at("bomb.tar.gz");
        struct stat st;
        ck_assert_int_eq(stat(p, &st), 0);
        ck_assert_int_lt(st.st_size, 100 * 1024); /* it is a bomb */

        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        expect_fail("bomb.tar.gz", BUNDLE_ARCHIVE, &lim, "bomb.tar.gz",
                    "unpacked size exceeds 1048576 bytes");
        clock_gettime(CLOCK_MONOTONIC, &t1);
        ck_assert_int_lt(t1.tv_sec - t0.tv_sec, 2);

        unsigned long long used = 0;
        int sfd = open(scratch, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ck_assert_int_ge(sfd, 0);
        ck_assert_int_eq(fs_walk(sfd, 64, add_size, &used, NULL), 0);
        close(sfd);
        ck_assert_uint_le(used, 1 << 20);

        /* a bomb after a refused member is only skipped, but that is bounded as well */
        TAR("late.tar.gz", { "../evil", M_FILE, "x", 0 },
            { "tm/zeros", M_FILE, NULL, (size_t) 10 << 20 });
        expect_fail("late.tar.gz", BUNDLE_ARCHIVE, &lim, "late.tar.gz",
                    "unpacked size exceeds 1048576 bytes");

        /* many small members add up too */
        TAR("sum.tar.gz", { "tm/a", M_FILE, NULL, 600 << 10 }, { "tm/b", M_FILE, NULL, 600 << 10 });
        expect_fail("sum.tar.gz", BUNDLE_ARCHIVE, &lim, "sum.tar.gz",
                    "unpacked size exceeds 1048576 bytes");
}
END_TEST

START_TEST(test_archive_entry_and_size_limits) {
        struct intake_limits lim;
        intake_limits_default(&lim);
        lim.max_entries = 5;
        struct member m[8];
        char names[8][32];
        for (size_t i = 0; i < ELEMENTSOF(m); i++) {
                snprintf(names[i], sizeof(names[i]), "tm/f%zu", i);
                m[i] = (struct member) { names[i], M_FILE, "x", 0 };
        }
        make_tar("many.tar.gz", m, ELEMENTSOF(m));
        expect_fail("many.tar.gz", BUNDLE_ARCHIVE, &lim, "many.tar.gz",
                    "archive has more than 5 entries");
        lim.max_entries = 8;
        expect_fail("many.tar.gz", BUNDLE_ARCHIVE, &lim, "many.tar.gz",
                    "no spec.yaml or spec.json in the bundle");

        intake_limits_default(&lim);
        lim.max_bundle_bytes = 100;
        TAR("fat.tar", { "spec.yaml", M_FILE, "format: 1\n", 0 });
        expect_fail("fat.tar", BUNDLE_ARCHIVE, &lim, "fat.tar", "bundle size exceeds 100 bytes");
}
END_TEST

START_TEST(test_archive_garbage_and_truncated) {
        char junk[4096];
        srand(7);
        for (size_t i = 0; i < sizeof(junk); i++)
                junk[i] = (char) (rand() & 0xff);
        put("junk.tar.gz", junk, sizeof(junk));
        expect_fail("junk.tar.gz", BUNDLE_ARCHIVE, NULL, "junk.tar.gz", "not a readable archive: ");

        /* gzip magic, then garbage */
        junk[0] = (char) 0x1f;
        junk[1] = (char) 0x8b;
        junk[2] = 8;
        junk[3] = 0;
        put("magic.tar.gz", junk, sizeof(junk));
        expect_fail("magic.tar.gz", BUNDLE_ARCHIVE, NULL, "magic.tar.gz",
                    "not a readable archive: ");

        /* a valid archive cut in half */
        const struct member m[] = {
                { "tm/spec.yaml", M_FILE, ref_spec, 0 },
                { "tm/dag.json", M_FILE, ref_dag, 0 },
        };
        make_archive("whole.tar", ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, ARCHIVE_FILTER_NONE, m, 2);
        _cleanup_free_ char *whole = at("whole.tar");
        char *data;
        size_t len;
        ck_assert_int_eq(read_file_bounded(whole, 1 << 20, &data, &len), 0);
        put("cut.tar", data, 5000);
        free(data);
        expect_fail("cut.tar", BUNDLE_ARCHIVE, NULL, "cut.tar", "not a readable archive: ");

        /* a symlink dropped as the archive */
        _cleanup_free_ char *l = at("link.tar");
        ck_assert_int_eq(symlink("whole.tar", l), 0);
        expect_fail("link.tar", BUNDLE_ARCHIVE, NULL, "link.tar", "'link.tar' is a symbolic link");
}
END_TEST

/* ---- single files ---- */

START_TEST(test_single_ok) {
        puts_("taskmanager.job.yaml", "# a job in one file\n"
                                      "x-note: allowed\n"
                                      "spec:\n"
                                      "  format: 1\n"
                                      "  name: taskmanager\n"
                                      "dag:\n"
                                      "  format: 1\n"
                                      "options:\n"
                                      "  backend: pattern\n");
        struct bundle *b = expect_ok("taskmanager.job.yaml", BUNDLE_SINGLE_FILE, NULL);
        ck_assert_str_eq(b->spec_file, "taskmanager.job.yaml");
        ck_assert_str_eq(b->dag_file, "taskmanager.job.yaml");
        ck_assert_str_eq(b->options_file, "taskmanager.job.yaml");
        ck_assert_int_eq(b->spec->kind, NODE_MAP);
        ck_assert_str_eq(node_get(b->spec, "name")->value, "taskmanager");
        /* positions point into the file */
        ck_assert_uint_eq(b->spec->keys[1]->line, 5);
        ck_assert_uint_eq(b->spec->keys[1]->column, 3);
        ck_assert_str_eq(node_get(b->options, "backend")->value, "pattern");
        bundle_free(b);

        puts_("taskmanager.job.json", "{\"spec\": {\"format\": 1, \"name\": \"taskmanager\"}}");
        b = expect_ok("taskmanager.job.json", BUNDLE_SINGLE_FILE, NULL);
        ck_assert_str_eq(b->spec_file, "taskmanager.job.json");
        ck_assert_str_eq(node_get(b->spec, "name")->value, "taskmanager");
        ck_assert_ptr_null(b->dag);
        ck_assert_ptr_null(b->dag_file);
        ck_assert_ptr_null(b->options);
        bundle_free(b);
}
END_TEST

START_TEST(test_single_errors) {
        puts_("empty.job.yaml", "");
        expect_fail("empty.job.yaml", BUNDLE_SINGLE_FILE, NULL, "empty.job.yaml", "empty document");

        puts_("blank.job.json", "  \n");
        expect_fail("blank.job.json", BUNDLE_SINGLE_FILE, NULL, "blank.job.json",
                    "empty document");

        puts_("nul.job.yaml", "null\n");
        expect_fail("nul.job.yaml", BUNDLE_SINGLE_FILE, NULL, "nul.job.yaml", "empty document");

        puts_("list.job.yaml", "- spec\n");
        expect_fail("list.job.yaml", BUNDLE_SINGLE_FILE, NULL, "list.job.yaml",
                    "a job file must be a mapping");

        puts_("nospec.job.yaml", "dag: {format: 1}\n");
        expect_fail("nospec.job.yaml", BUNDLE_SINGLE_FILE, NULL, "nospec.job.yaml",
                    "missing key 'spec'");

        puts_("seq.job.yaml", "spec: [1, 2]\ndag: ~\n");
        expect_fail("seq.job.yaml", BUNDLE_SINGLE_FILE, NULL, "seq.job.yaml",
                    "'spec' must be a mapping, not a sequence");
        expect_fail("seq.job.yaml", BUNDLE_SINGLE_FILE, NULL, "seq.job.yaml",
                    "'dag' must be a mapping, not null");

        puts_("syntax.job.json", "{\"spec\": {}");
        expect_fail("syntax.job.json", BUNDLE_SINGLE_FILE, NULL, "syntax.job.json",
                    "invalid JSON");

        struct intake_limits lim;
        intake_limits_default(&lim);
        lim.max_doc_bytes = 10;
        puts_("long.job.yaml", "spec: {format: 1, name: taskmanager}\n");
        expect_fail("long.job.yaml", BUNDLE_SINGLE_FILE, &lim, "long.job.yaml",
                    "file is larger than 10 bytes");
}
END_TEST

START_TEST(test_single_unknown_key_position) {
        puts_("typo.job.yaml", "spec:\n  format: 1\nopitons:\n  backend: pattern\n");
        _cleanup_free_ char *p = at("typo.job.yaml");
        struct diags d = DIAGS_INIT;
        struct bundle *b = NULL;
        ck_assert_int_eq(bundle_load(p, BUNDLE_SINGLE_FILE, "typo", scratch, NULL, &b, &d),
                         -EINVAL);
        ck_assert_ptr_null(b);
        ck_assert_uint_eq(d.n, 1);
        ck_assert_str_eq(d.v[0].message, "unknown key 'opitons'");
        ck_assert_str_eq(d.v[0].file, "typo.job.yaml");
        ck_assert_str_eq(d.v[0].path, "opitons");
        ck_assert_uint_eq(d.v[0].line, 3);
        ck_assert_uint_eq(d.v[0].column, 1);
        diags_clear(&d);
}
END_TEST

Suite *make_suite(void) {
        Suite *s = suite_create("intake");
        TCase *tc = tcase_create("core");
        tcase_set_timeout(tc, 30);
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_classify);
        tcase_add_test(tc, test_classify_empty_name);
        tcase_add_test(tc, test_classify_upload_and_reserved_names);
        tcase_add_test(tc, test_job_names);
        tcase_add_test(tc, test_limits_default);
        tcase_add_test(tc, test_dir_ok);
        tcase_add_test(tc, test_dir_doc_choice);
        tcase_add_test(tc, test_dir_refuses_specials);
        tcase_add_test(tc, test_dir_limits);
        tcase_add_test(tc, test_archive_forms_load_same_spec);
        tcase_add_test(tc, test_archive_top_level_vs_folder);
        tcase_add_test(tc, test_archive_dot_slash_members);
        tcase_add_test(tc, test_archive_refuses_paths);
        tcase_add_test(tc, test_archive_refuses_links_and_devices);
        tcase_add_test(tc, test_archive_bomb);
        tcase_add_test(tc, test_archive_entry_and_size_limits);
        tcase_add_test(tc, test_archive_garbage_and_truncated);
        tcase_add_test(tc, test_single_ok);
        tcase_add_test(tc, test_single_errors);
        tcase_add_test(tc, test_single_unknown_key_position);
        suite_add_tcase(s, tc);
        return s;
}
