/* unpack.c - archives unpacked under limits, and the root of what they hold; see unpack.h
 * for the interface and the diagnostics.
 *
 * Archives are read with libarchive and written out here, member by member, below the
 * scratch directory with openat(O_CREAT|O_EXCL|O_NOFOLLOW): never archive_read_extract().
 * Every header is checked before anything of it is written, and the bytes actually written
 * are counted, so a lying header or a compression bomb stops at the limit. Once a member
 * has been refused, nothing more is written (the rest is only checked, for the report).
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

#include "shared/fs.h"
#include "shared/macro.h"
#include "unpack.h"

#define COPY_BUF_SIZE (32 * 1024)

/* Adds a diagnostic about the archive; 0 or -ENOMEM. */
static _printf_(3, 0) int vnote(struct diags *d, const char *file, const char *fmt, va_list ap) {
        _cleanup_free_ char *msg = NULL;
        if (vasprintf(&msg, fmt, ap) < 0)
                return -ENOMEM;
        return diags_add(d, file, 0, 0, NULL, "%s", msg);
}

/* A diagnostic after which the caller goes on: 0 or -ENOMEM. */
static _printf_(3, 4) int note(struct diags *d, const char *file, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        int r = vnote(d, file, fmt, ap);
        va_end(ap);
        return r;
}

/* A diagnostic that stops the caller: -EINVAL or -ENOMEM. */
static _printf_(3, 4) int fail(struct diags *d, const char *file, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        int r = vnote(d, file, fmt, ap);
        va_end(ap);
        return r < 0 ? r : -EINVAL;
}

char *display_name(const char *s) {
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

/* ---- unpacking ---- */

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

int archive_unpack(int fd, const char *scratch, const char *label, const struct intake_limits *lim,
                   struct diags *d) {
        _cleanup_(archive_read_freep) struct archive *a = archive_read_new();
        _cleanup_close_ int scratch_fd = -1;
        struct intake_limits def;
        int r;

        if (!a)
                return -ENOMEM;
        if (!lim) {
                intake_limits_default(&def);
                lim = &def;
        }
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

/* ---- the root of the unpacked tree ---- */

/* The top level of the unpacked tree, without names starting with '.' and __MACOSX
 * (resource forks that macOS adds to zip files): for messages, the two first folders and
 * the first other name in strcmp() order. */
struct top_level {
        size_t n, n_dirs;
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


int unpack_locate_root(const char *scratch, const char *label, enum unpack_root mode,
                       char **ret_root, char **ret_prefix, struct diags *d) {
        _cleanup_(top_level_free) struct top_level t = { 0 };
        _cleanup_free_ char *root = NULL, *prefix = NULL;
        int r = top_level_list(scratch, &t);
        if (r < 0)
                return r;

        if (t.n_dirs == 1 && t.n == 1) {
                root = path_join(scratch, t.dirs[0]);
                if (asprintf(&prefix, "%s/", t.dirs[0]) < 0)
                        prefix = NULL;
        } else if (t.n_dirs == 0 || mode == UNPACK_ROOT_TREE) {
                root = strdup(scratch);
                prefix = strdup("");
        } else if (t.n_dirs > 1) {
                _cleanup_free_ char *a = display_name(t.dirs[0]), *b = display_name(t.dirs[1]);
                return a && b ? fail(d, label,
                                     "archive has more than one top-level folder ('%s', '%s')",
                                     a, b)
                              : -ENOMEM;
        } else {
                _cleanup_free_ char *a = display_name(t.other), *b = display_name(t.dirs[0]);
                return a && b ? fail(d, label,
                                     "archive holds '%s' beside its top-level folder '%s'", a, b)
                              : -ENOMEM;
        }
        if (!root || !prefix)
                return -ENOMEM;
        *ret_root = TAKE_PTR(root);
        *ret_prefix = TAKE_PTR(prefix);
        return 0;
}
