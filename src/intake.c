/* intake.c - bundle forms, archive unpacking under limits, and the bundle's documents;
 * see intake.h for the interface and the diagnostics.
 *
 * Archives are read with libarchive (tar in all its variants and zip; gzip, xz, zstd or
 * no compression) and written out here, member by member, below the scratch directory
 * with openat(O_CREAT|O_EXCL|O_NOFOLLOW): never archive_read_extract(). Every header is
 * checked before anything of it is written, and the bytes actually written are counted,
 * so a lying header or a compression bomb stops at the limit. Once a member has been
 * refused, nothing more is written (the rest is only checked, for the report).
 * Internal helpers return 0, -EINVAL after adding diagnostics (stop), or another -errno.
 */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "doc.h"
#include "intake.h"
#include "shared/fs.h"
#include "shared/macro.h"

#define INTAKE_MAX_DEPTH 128
#define COPY_BUF_SIZE (32 * 1024)

void intake_limits_default(struct intake_limits *l) {
        *l = (struct intake_limits) {
                .max_bundle_bytes = INTAKE_MAX_BUNDLE_BYTES,
                .max_entries = INTAKE_MAX_ENTRIES,
                .max_unpacked_bytes = INTAKE_MAX_UNPACKED_BYTES,
                .max_doc_bytes = INTAKE_MAX_DOC_BYTES,
        };
}

static bool endswith(const char *s, const char *suffix) {
        size_t ls = strlen(s), lx = strlen(suffix);
        return ls >= lx && streq(s + ls - lx, suffix);
}

int bundle_classify(const char *entry, bool is_dir, enum bundle_form *ret_form, char **ret_name) {
        static const char *const leave_alone[] = { ".tmp", ".part", ".partial", ".ready" };
        static const struct {
                const char *ext;
                enum bundle_form form;
        } forms[] = {
                { ".tar", BUNDLE_ARCHIVE },         { ".tar.gz", BUNDLE_ARCHIVE },
                { ".tgz", BUNDLE_ARCHIVE },         { ".tar.xz", BUNDLE_ARCHIVE },
                { ".tar.zst", BUNDLE_ARCHIVE },     { ".zip", BUNDLE_ARCHIVE },
                { ".job.yaml", BUNDLE_SINGLE_FILE }, { ".job.yml", BUNDLE_SINGLE_FILE },
                { ".job.json", BUNDLE_SINGLE_FILE },
        };
        enum bundle_form form;
        size_t len;

        if (!entry || !*entry)
                return -EINVAL;
        if (entry[0] == '.')
                return 0;
        for (size_t i = 0; i < ELEMENTSOF(leave_alone); i++)
                if (endswith(entry, leave_alone[i]))
                        return 0;

        len = strlen(entry);
        if (is_dir)
                form = BUNDLE_DIRECTORY;
        else {
                size_t i;
                for (i = 0; i < ELEMENTSOF(forms); i++)
                        if (endswith(entry, forms[i].ext))
                                break;
                if (i == ELEMENTSOF(forms))
                        return -EINVAL;
                form = forms[i].form;
                len -= strlen(forms[i].ext);
        }

        _cleanup_free_ char *name = strndup(entry, len);
        if (!name)
                return -ENOMEM;
        if (!path_is_safe(name) || strchr(name, '/'))
                return -EINVAL;
        *ret_form = form;
        *ret_name = TAKE_PTR(name);
        return 1;
}

void bundle_free(struct bundle *b) {
        if (!b)
                return;
        free(b->name);
        node_free(b->spec);
        free(b->spec_file);
        node_free(b->dag);
        free(b->dag_file);
        node_free(b->options);
        free(b->options_file);
        free(b);
}

/* Adds a diagnostic, at node n of a document when n is given; 0 or -ENOMEM. */
static _printf_(5, 0) int vnote(struct diags *d, const char *file, const struct node *n,
                                const char *path, const char *fmt, va_list ap) {
        _cleanup_free_ char *msg = NULL;
        if (vasprintf(&msg, fmt, ap) < 0)
                return -ENOMEM;
        return diags_add(d, file, n ? n->line : 0, n ? n->column : 0, path, "%s", msg);
}

/* A diagnostic about a whole file, after which the caller goes on: 0 or -ENOMEM. */
static _printf_(3, 4) int note(struct diags *d, const char *file, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        int r = vnote(d, file, NULL, NULL, fmt, ap);
        va_end(ap);
        return r;
}

/* A diagnostic about a whole file that stops the caller: -EINVAL or -ENOMEM. */
static _printf_(3, 4) int fail(struct diags *d, const char *file, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        int r = vnote(d, file, NULL, NULL, fmt, ap);
        va_end(ap);
        return r < 0 ? r : -EINVAL;
}

/* A diagnostic about node n of a document (path: where it is): -EINVAL or -ENOMEM. */
static _printf_(5, 6) int fail_at(struct diags *d, const char *file, const struct node *n,
                                  const char *path, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        int r = vnote(d, file, n, path, fmt, ap);
        va_end(ap);
        return r < 0 ? r : -EINVAL;
}

/* A member or file name fit for quoting in a message: control characters become '?' and
 * very long names are cut, so a hostile name cannot garble the report. */
static char *display_name(const char *s) {
        size_t n = strnlen(s, 300);
        char *c = malloc(n + 4);
        if (!c)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                unsigned char ch = (unsigned char) s[i];
                c[i] = ch < 0x20 || ch == 0x7f ? '?' : (char) ch;
        }
        memcpy(c + n, s[n] ? "..." : "", s[n] ? 4 : 1);
        return c;
}

static int write_all(int fd, const void *data, size_t len) {
        const char *p = data;
        while (len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += n;
                len -= (size_t) n;
        }
        return 0;
}

/* ---- the documents of a bundle, once it is a directory on disk ---- */

static const char *const spec_names[] = { "spec.yaml", "spec.yml", "spec.json" };

/* Finds which of names[] exist in root; *ret_found is the index or -1. */
static int find_doc(const char *root, const char *const *names, size_t n, const char *bundle_label,
                    int *ret_found, struct diags *d) {
        int found = -1;
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *p = path_join(root, names[i]);
                struct stat st;
                if (!p)
                        return -ENOMEM;
                if (lstat(p, &st) < 0) {
                        if (errno == ENOENT)
                                continue;
                        return -errno;
                }
                if (found >= 0)
                        return fail(d, bundle_label, "both %s and %s", names[found], names[i]);
                found = (int) i;
        }
        *ret_found = found;
        return 0;
}

static int load_doc(const char *root, const char *name, const char *label,
                    const struct intake_limits *lim, struct node **ret, struct diags *d) {
        _cleanup_free_ char *p = path_join(root, name);
        _cleanup_node_ struct node *n = NULL;
        if (!p)
                return -ENOMEM;
        int r = doc_load(p, label, (size_t) lim->max_doc_bytes, &n, d);
        if (r < 0)
                return r;
        if (!n)
                return fail(d, label, "empty document");
        if (n->kind == NODE_NULL)
                return fail_at(d, label, n, NULL, "empty document");
        *ret = TAKE_PTR(n);
        return 0;
}

/* Loads one kind of document (spec, dag or job options) from root, whose files are
 * labelled prefix + file name. missing: the error when none is there, NULL if optional. */
static int load_kind(const char *root, const char *prefix, const char *bundle_label,
                     const char *const *names, size_t n, const char *missing,
                     const struct intake_limits *lim, struct node **ret, char **ret_file,
                     struct diags *d) {
        int found = -1, r;
        r = find_doc(root, names, n, bundle_label, &found, d);
        if (r < 0)
                return r;
        if (found < 0)
                return missing ? fail(d, bundle_label, "%s", missing) : 0;
        _cleanup_free_ char *label = NULL;
        if (asprintf(&label, "%s%s", prefix, names[found]) < 0)
                return -ENOMEM;
        r = load_doc(root, names[found], label, lim, ret, d);
        if (r < 0)
                return r;
        *ret_file = TAKE_PTR(label);
        return 0;
}

/* Loads spec, dag and options, reporting the problems of all three. */
static int load_docs(struct bundle *b, const char *root, const char *prefix,
                     const char *bundle_label, const struct intake_limits *lim, struct diags *d) {
        static const char *const dag_names[] = { "dag.yaml", "dag.yml", "dag.json" };
        static const char *const job_names[] = { "job.yaml", "job.yml" };
        int r, ret = 0;

        r = load_kind(root, prefix, bundle_label, spec_names, ELEMENTSOF(spec_names),
                      "no spec.yaml or spec.json in the bundle", lim,
                      &b->spec, &b->spec_file, d);
        if (r == -EINVAL)
                ret = r;
        else if (r < 0)
                return r;
        r = load_kind(root, prefix, bundle_label, dag_names, ELEMENTSOF(dag_names), NULL, lim,
                      &b->dag, &b->dag_file, d);
        if (r == -EINVAL)
                ret = r;
        else if (r < 0)
                return r;
        r = load_kind(root, prefix, bundle_label, job_names, ELEMENTSOF(job_names), NULL, lim,
                      &b->options, &b->options_file, d);
        if (r < 0)
                return r;
        return ret;
}

/* ---- directory bundles ---- */

struct walk {
        const struct intake_limits *lim;
        const char *label;
        uint64_t entries;
        uint64_t bytes;
        bool bad;
};

static const char *special_kind(mode_t mode) {
        if (S_ISLNK(mode))
                return "a symbolic link";
        if (S_ISCHR(mode) || S_ISBLK(mode))
                return "a device";
        if (S_ISFIFO(mode))
                return "a fifo";
        if (S_ISSOCK(mode))
                return "a socket";
        return "not a regular file or directory";
}

/* Checks the tree below dfd (rel is its path in the bundle, "" for the top). Special
 * files are reported and the walk goes on; limits stop it. */
static int walk_dir(int dfd, const char *rel, struct walk *w, struct diags *d, int depth) {
        if (depth > INTAKE_MAX_DEPTH)
                return fail(d, w->label, "bundle nests deeper than %d levels", INTAKE_MAX_DEPTH);
        int fd = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return -errno;
        DIR *dir = fdopendir(fd);
        if (!dir) {
                int r = -errno;
                (void) close(fd);
                return r;
        }
        int r = 0;
        struct dirent *de;
        errno = 0;
        while (r == 0 && (de = readdir(dir))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                _cleanup_free_ char *sub = *rel ? path_join(rel, de->d_name) : strdup(de->d_name);
                struct stat st;
                if (!sub) {
                        r = -ENOMEM;
                        break;
                }
                if (++w->entries > w->lim->max_entries) {
                        r = fail(d, w->label, "bundle has more than %llu entries",
                                 (unsigned long long) w->lim->max_entries);
                        break;
                }
                if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        r = -errno;
                        break;
                }
                if (S_ISREG(st.st_mode)) {
                        w->bytes += (uint64_t) st.st_size;
                        if (w->bytes > w->lim->max_bundle_bytes)
                                r = fail(d, w->label, "bundle size exceeds %llu bytes",
                                         (unsigned long long) w->lim->max_bundle_bytes);
                } else if (S_ISDIR(st.st_mode)) {
                        _cleanup_close_ int cfd = openat(
                                dfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        r = cfd < 0 ? -errno : walk_dir(cfd, sub, w, d, depth + 1);
                } else {
                        _cleanup_free_ char *shown = display_name(sub);
                        r = shown ? note(d, w->label, "bundle entry '%s' is %s", shown,
                                         special_kind(st.st_mode))
                                  : -ENOMEM;
                        w->bad = true;
                }
                errno = 0;
        }
        if (r == 0 && errno != 0)
                r = -errno;
        (void) closedir(dir);
        return r;
}

static int load_directory(struct bundle *b, const char *path, const char *label,
                          const struct intake_limits *lim, struct diags *d) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
                if (errno == ELOOP || errno == ENOTDIR)
                        return fail(d, label, "'%s' is not a directory", label);
                return -errno;
        }
        struct walk w = { .lim = lim, .label = label };
        int r = walk_dir(fd, "", &w, d, 0);
        if (r < 0)
                return r;
        if (w.bad)
                return -EINVAL;
        _cleanup_free_ char *prefix = NULL;
        if (asprintf(&prefix, "%s/", label) < 0)
                return -ENOMEM;
        return load_docs(b, path, prefix, label, lim, d);
}

/* ---- archives ---- */

struct unpack {
        struct archive *a;
        const struct intake_limits *lim;
        const char *label;
        int scratch_fd;
        uint64_t entries;
        uint64_t bytes;
        bool bad;
};

/* libarchive's error as a diagnostic, or -ENOMEM when that is what it was. */
static int archive_fail(struct unpack *u, struct diags *d) {
        if (archive_errno(u->a) == ENOMEM)
                return -ENOMEM;
        const char *msg = archive_error_string(u->a);
        return fail(d, u->label, "not a readable archive: %s", msg ? msg : "unknown error");
}

/* The member's path with "./" prefixes and trailing slashes removed (tar writes both);
 * "" for the archive's own root. Sets *ret_problem when the path is refused. */
static int member_path(const char *raw, char **ret, const char **ret_problem) {
        const char *p = raw;
        *ret_problem = NULL;
        while (p[0] == '.' && p[1] == '/') {
                p += 2;
                while (*p == '/')
                        p++;
        }
        if (streq(p, "."))
                p += 1;
        if (raw[0] == '/') {
                *ret_problem = "has an absolute path";
                return 0;
        }
        size_t n = strlen(p);
        while (n > 0 && p[n - 1] == '/')
                n--;
        char *c = strndup(p, n);
        if (!c)
                return -ENOMEM;
        for (const char *s = c; *s;) {
                size_t k = strcspn(s, "/");
                if (k == 2 && s[0] == '.' && s[1] == '.') {
                        *ret_problem = "leaves the bundle";
                        break;
                }
                s += k;
                if (*s)
                        s++;
        }
        if (!*ret_problem && *c && !path_is_safe(c))
                *ret_problem = "has an unsafe name";
        *ret = c;
        return 0;
}

static const char *member_problem(struct archive_entry *e) {
        if (archive_entry_hardlink(e))
                return "is a hard link";
        if (archive_entry_symlink(e))
                return "is a symbolic link";
        switch (archive_entry_filetype(e)) {
        case AE_IFREG:
        case AE_IFDIR:
                return NULL;
        case AE_IFLNK:
                return "is a symbolic link";
        case AE_IFCHR:
        case AE_IFBLK:
                return "is a device";
        case AE_IFIFO:
                return "is a fifo";
        case AE_IFSOCK:
                return "is a socket";
        default:
                return "is not a regular file or directory";
        }
}

/* Opens (creating as needed) the directory that holds the last component of rel. */
static int open_parent(int root_fd, const char *rel, const char **ret_base) {
        int fd = fcntl(root_fd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return -errno;
        const char *s = rel;
        for (;;) {
                const char *slash = strchr(s, '/');
                if (!slash)
                        break;
                _cleanup_free_ char *comp = strndup(s, (size_t) (slash - s));
                if (!comp) {
                        (void) close(fd);
                        return -ENOMEM;
                }
                if (mkdirat(fd, comp, 0755) < 0 && errno != EEXIST) {
                        int r = -errno;
                        (void) close(fd);
                        return r;
                }
                int nfd = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                int r = -errno;
                (void) close(fd);
                if (nfd < 0)
                        return r;
                fd = nfd;
                s = slash + 1;
        }
        *ret_base = s;
        return fd;
}

/* Reads the current member's data, counting what it really holds (never the header's
 * size) against the unpacked-size limit, and writes it to fd unless fd is -1. */
static int copy_data(struct unpack *u, int fd, struct diags *d) {
        char buf[COPY_BUF_SIZE];
        for (;;) {
                la_ssize_t n = archive_read_data(u->a, buf, sizeof(buf));
                if (n == 0)
                        return 0;
                if (n < 0)
                        return archive_fail(u, d);
                if ((uint64_t) n > u->lim->max_unpacked_bytes - u->bytes)
                        return fail(d, u->label, "unpacked size exceeds %llu bytes",
                                    (unsigned long long) u->lim->max_unpacked_bytes);
                u->bytes += (uint64_t) n;
                if (fd >= 0) {
                        int r = write_all(fd, buf, (size_t) n);
                        if (r < 0)
                                return r;
                }
        }
}

/* Writes one checked member below the scratch directory. */
static int unpack_member(struct unpack *u, struct archive_entry *e, const char *rel,
                         const char *shown, struct diags *d) {
        const char *base = NULL;
        _cleanup_close_ int pfd = open_parent(u->scratch_fd, rel, &base);
        if (pfd == -ENOTDIR || pfd == -ELOOP || pfd == -EEXIST)
                return fail(d, u->label, "archive member '%s' clashes with another member", shown);
        if (pfd < 0)
                return pfd;

        if (archive_entry_filetype(e) == AE_IFDIR) {
                if (mkdirat(pfd, base, 0755) < 0 && errno != EEXIST)
                        return -errno;
                struct stat st;
                if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return -errno;
                if (!S_ISDIR(st.st_mode))
                        return fail(d, u->label, "archive member '%s' clashes with another member",
                                    shown);
                return 0;
        }

        _cleanup_close_ int fd = openat(pfd, base,
                                        O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0) {
                if (errno == EEXIST || errno == ELOOP || errno == EISDIR)
                        return fail(d, u->label, "archive member '%s' clashes with another member",
                                    shown);
                return -errno;
        }
        int r = copy_data(u, fd, d);
        if (r < 0)
                return r;
        if (close(TAKE_FD(fd)) < 0)
                return -errno;
        return 0;
}

static int unpack_one(struct unpack *u, struct archive_entry *e, struct diags *d) {
        const char *raw = archive_entry_pathname(e);
        if (!raw)
                raw = archive_entry_pathname_utf8(e);
        if (!raw) {
                u->bad = true;
                return note(d, u->label, "archive member with an unreadable name");
        }

        _cleanup_free_ char *rel = NULL, *shown = display_name(raw);
        const char *problem;
        if (!shown || member_path(raw, &rel, &problem) < 0)
                return -ENOMEM;
        if (!problem)
                problem = member_problem(e);
        if (!problem && !*rel && archive_entry_filetype(e) != AE_IFDIR)
                problem = "has an unsafe name";
        if (problem) {
                u->bad = true;
                int r = note(d, u->label, "archive member '%s' %s", shown, problem);
                return r < 0 ? r : copy_data(u, -1, d);
        }
        /* after a refusal the rest is only checked: its data is read (and counted, so that
         * skipping a bomb is bounded too) but not written */
        if (u->bad)
                return copy_data(u, -1, d);
        if (!*rel)
                return 0;
        return unpack_member(u, e, rel, shown, d);
}

static void archive_read_freep(struct archive **a) {
        if (*a)
                (void) archive_read_free(*a);
}

static int unpack_archive(int fd, const char *scratch, const char *label,
                          const struct intake_limits *lim, struct diags *d) {
        _cleanup_(archive_read_freep) struct archive *a = archive_read_new();
        _cleanup_close_ int scratch_fd = -1;
        int r;

        if (!a)
                return -ENOMEM;
        r = mkdir_p(scratch, 0755);
        if (r < 0)
                return r;
        scratch_fd = open(scratch, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (scratch_fd < 0)
                return -errno;

        struct unpack u = { .a = a, .lim = lim, .label = label, .scratch_fd = scratch_fd };
        if (archive_read_support_format_tar(a) < ARCHIVE_WARN ||
            archive_read_support_format_zip(a) < ARCHIVE_WARN ||
            archive_read_support_filter_none(a) < ARCHIVE_WARN ||
            archive_read_support_filter_gzip(a) < ARCHIVE_WARN ||
            archive_read_support_filter_xz(a) < ARCHIVE_WARN ||
            archive_read_support_filter_zstd(a) < ARCHIVE_WARN) {
                int e = archive_errno(a);
                return e > 0 ? -e : -EIO;
        }
        if (archive_read_open_fd(a, fd, COPY_BUF_SIZE) != ARCHIVE_OK)
                return archive_fail(&u, d);

        for (;;) {
                struct archive_entry *e;
                r = archive_read_next_header(a, &e);
                if (r == ARCHIVE_EOF)
                        break;
                if (r < ARCHIVE_WARN)
                        return archive_fail(&u, d);
                if (++u.entries > lim->max_entries)
                        return fail(d, label, "archive has more than %llu entries",
                                    (unsigned long long) lim->max_entries);
                r = unpack_one(&u, e, d);
                if (r < 0)
                        return r;
        }
        return u.bad ? -EINVAL : 0;
}

/* The top level of the unpacked tree, without names starting with '.' and __MACOSX
 * (resource forks that macOS adds to zip files): for messages, the two first folders and
 * the first other name in strcmp() order. */
struct top_level {
        size_t n, n_dirs;
        bool has_spec;
        char *dirs[2];
        char *other;
};

static void top_level_free(struct top_level *t) {
        free(t->dirs[0]);
        free(t->dirs[1]);
        free(t->other);
}

/* Keeps name in *slot when it sorts before what is there; returns 0 or -ENOMEM. */
static int keep_first(char **slot, const char *name) {
        if (*slot && strcmp(name, *slot) >= 0)
                return 0;
        char *c = strdup(name);
        if (!c)
                return -ENOMEM;
        free(*slot);
        *slot = c;
        return 0;
}

static int top_level_add(struct top_level *t, const char *name, bool is_folder) {
        t->n++;
        for (size_t i = 0; i < ELEMENTSOF(spec_names); i++)
                if (streq(name, spec_names[i]))
                        t->has_spec = true;
        if (!is_folder)
                return keep_first(&t->other, name);
        t->n_dirs++;
        if (t->dirs[0] && strcmp(name, t->dirs[0]) > 0)
                return keep_first(&t->dirs[1], name);
        free(t->dirs[1]);
        t->dirs[1] = TAKE_PTR(t->dirs[0]);
        t->dirs[0] = strdup(name);
        return t->dirs[0] ? 0 : -ENOMEM;
}

static int top_level_list(const char *scratch, struct top_level *t) {
        DIR *dir = opendir(scratch);
        if (!dir)
                return -errno;
        int r = 0;
        struct dirent *de;
        errno = 0;
        while (r == 0 && (de = readdir(dir))) {
                struct stat st;
                if (de->d_name[0] == '.' || streq(de->d_name, "__MACOSX"))
                        continue;
                if (fstatat(dirfd(dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        r = -errno;
                else
                        r = top_level_add(t, de->d_name, S_ISDIR(st.st_mode));
                errno = 0;
        }
        if (r == 0 && errno != 0)
                r = -errno;
        (void) closedir(dir);
        return r;
}

/* Finds where the bundle's files are in the unpacked tree: at its top (when a spec is
 * there, or no folder is), or in its one top-level folder when that is all there is. */
static int locate_root(const char *scratch, const char *label, char **ret_root,
                       char **ret_prefix, struct diags *d) {
        _cleanup_(top_level_free) struct top_level t = { 0 };
        _cleanup_free_ char *root = NULL, *prefix = NULL;
        int r = top_level_list(scratch, &t);
        if (r < 0)
                return r;

        if (t.has_spec || t.n_dirs == 0) {
                root = strdup(scratch);
                prefix = strdup("");
        } else if (t.n_dirs > 1) {
                _cleanup_free_ char *a = display_name(t.dirs[0]), *b = display_name(t.dirs[1]);
                return a && b ? fail(d, label,
                                     "archive has more than one top-level folder ('%s', '%s')",
                                     a, b)
                              : -ENOMEM;
        } else if (t.n > 1) {
                _cleanup_free_ char *a = display_name(t.other), *b = display_name(t.dirs[0]);
                return a && b ? fail(d, label,
                                     "archive holds '%s' beside its top-level folder '%s'", a, b)
                              : -ENOMEM;
        } else {
                root = path_join(scratch, t.dirs[0]);
                if (asprintf(&prefix, "%s/", t.dirs[0]) < 0)
                        prefix = NULL;
        }
        if (!root || !prefix)
                return -ENOMEM;
        *ret_root = TAKE_PTR(root);
        *ret_prefix = TAKE_PTR(prefix);
        return 0;
}

/* Opens a bundle that must be a regular file and checks its size. */
static int open_bundle_file(const char *path, const char *label, const struct intake_limits *lim,
                            struct diags *d) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
        struct stat st;
        if (fd < 0) {
                if (errno == ELOOP)
                        return fail(d, label, "'%s' is a symbolic link", label);
                return -errno;
        }
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return fail(d, label, "'%s' is not a regular file", label);
        if ((uint64_t) st.st_size > lim->max_bundle_bytes)
                return fail(d, label, "bundle size exceeds %llu bytes",
                            (unsigned long long) lim->max_bundle_bytes);
        return TAKE_FD(fd);
}

static int load_archive(struct bundle *b, const char *path, const char *scratch,
                        const char *label, const struct intake_limits *lim, struct diags *d) {
        _cleanup_close_ int fd = open_bundle_file(path, label, lim, d);
        if (fd < 0)
                return fd;
        int r = unpack_archive(fd, scratch, label, lim, d);
        if (r < 0)
                return r;
        _cleanup_free_ char *root = NULL, *prefix = NULL;
        r = locate_root(scratch, label, &root, &prefix, d);
        if (r < 0)
                return r;
        return load_docs(b, root, prefix, label, lim, d);
}

/* ---- single-file bundles ---- */

static int take_subtree(struct node *root, size_t i, const char *label, const char *key,
                        struct node **ret, char **ret_file, struct diags *d) {
        const struct node *k = root->keys[i];
        struct node *v = root->items[i];
        if (!v || v->kind != NODE_MAP)
                return fail_at(d, label, v && v->line ? v : k, key,
                               "'%s' must be a mapping, not %s%s", key,
                               node_is_null(v) ? "" : "a ", node_kind_name(v));
        if (*ret)
                return 0; /* the parser refuses duplicate keys; keep the first anyway */
        char *file = strdup(label);
        if (!file)
                return -ENOMEM;
        *ret = v;
        root->items[i] = NULL;
        *ret_file = file;
        return 0;
}

static int load_single(struct bundle *b, const char *path, const char *label,
                       const struct intake_limits *lim, struct diags *d) {
        _cleanup_close_ int fd = open_bundle_file(path, label, lim, d);
        _cleanup_node_ struct node *root = NULL;
        int r, ret = 0;

        if (fd < 0)
                return fd;
        r = doc_load(path, label, (size_t) lim->max_doc_bytes, &root, d);
        if (r < 0)
                return r;
        if (!root)
                return fail(d, label, "empty document");
        if (root->kind == NODE_NULL)
                return fail_at(d, label, root, NULL, "empty document");
        if (root->kind != NODE_MAP)
                return fail_at(d, label, root, NULL,
                               "a job file must be a mapping with the keys 'spec', 'dag' and "
                               "'options', not a %s",
                               node_kind_name(root));

        for (size_t i = 0; i < root->n; i++) {
                const struct node *k = root->keys[i];
                const char *key = k->value ? k->value : "";
                if (streq(key, "spec"))
                        r = take_subtree(root, i, label, key, &b->spec, &b->spec_file, d);
                else if (streq(key, "dag"))
                        r = take_subtree(root, i, label, key, &b->dag, &b->dag_file, d);
                else if (streq(key, "options"))
                        r = take_subtree(root, i, label, key, &b->options, &b->options_file, d);
                else if (strncmp(key, "x-", 2) == 0)
                        r = 0;
                else {
                        _cleanup_free_ char *shown = display_name(key);
                        if (!shown)
                                return -ENOMEM;
                        r = fail_at(d, label, k, shown, "unknown key '%s'", shown);
                }
                if (r == -EINVAL)
                        ret = r;
                else if (r < 0)
                        return r;
        }
        if (node_key_index(root, "spec") < 0)
                return fail_at(d, label, root, NULL, "missing key 'spec'");
        return ret;
}

int bundle_load(const char *path, enum bundle_form form, const char *name,
                const char *scratch_dir, const struct intake_limits *lim,
                struct bundle **ret, struct diags *d) {
        struct intake_limits l;
        intake_limits_default(&l);
        if (lim) {
                if (lim->max_bundle_bytes)
                        l.max_bundle_bytes = lim->max_bundle_bytes;
                if (lim->max_entries)
                        l.max_entries = lim->max_entries;
                if (lim->max_unpacked_bytes)
                        l.max_unpacked_bytes = lim->max_unpacked_bytes;
                if (lim->max_doc_bytes)
                        l.max_doc_bytes = lim->max_doc_bytes;
        }

        if (form > BUNDLE_SINGLE_FILE || (form == BUNDLE_ARCHIVE && !scratch_dir))
                return -EINVAL;
        _cleanup_bundle_ struct bundle *b = calloc(1, sizeof(*b));
        if (!b)
                return -ENOMEM;
        b->form = form;
        b->name = strdup(name);

        const char *label = path_basename(path);
        size_t before = d->n + d->dropped;
        int r;
        if (!b->name)
                r = -ENOMEM;
        else if (form == BUNDLE_DIRECTORY)
                r = load_directory(b, path, label, &l, d);
        else if (form == BUNDLE_ARCHIVE)
                r = load_archive(b, path, scratch_dir, label, &l, d);
        else
                r = load_single(b, path, label, &l, d);
        if (r < 0)
                return r;
        if (d->n + d->dropped > before)
                return -EINVAL;
        *ret = TAKE_PTR(b);
        return 0;
}
