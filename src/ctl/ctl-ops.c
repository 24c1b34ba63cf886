/* ctl-ops.c - submitting, retrying and withdrawing bundles; see ctl-ops.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl-ops.h"
#include "format/bundle-name.h"
#include "shared/fs.h"
#include "shared/macro.h"
#include "shared/strbuf.h"

#define DIR_MODE 02770
#define FILE_MODE 0660
#define MAX_DEPTH 64

static atomic_uint tmp_counter;

/* A directory of a bundle copy, made with mode DIR_MODE & 0777, gets DIR_MODE whatever the
 * umask. mkdir() is not asked for the set-group-ID bit, and chmod() only when the directory
 * lacks it (a set-group-ID parent passes it on): RestrictSUIDSGID=
 * (codegend-nightly.service) refuses with EPERM every mkdir() and chmod() whose mode names
 * it. */
static int group_mode_at(int dfd, const char *rel) {
        struct stat st;
        if (fstatat(dfd, rel, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        if ((st.st_mode & 07777) != DIR_MODE && fchmodat(dfd, rel, DIR_MODE, 0) < 0)
                return -errno;
        return 0;
}

/* fd at the end of its file, copied from src; fsynced */
static int copy_fd(int src, int dst) {
        char buf[65536];
        for (;;) {
                ssize_t n = read(src, buf, sizeof(buf));
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                int r = write_all(dst, buf, (size_t) n);
                if (r < 0)
                        return r;
        }
        if (fchmod(dst, FILE_MODE) < 0 || fsync(dst) < 0)
                return -errno;
        return 0;
}

static int copy_file_at(int sdir, const char *sname, int ddir, const char *dname) {
        _cleanup_close_ int in = openat(sdir, sname, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (in < 0)
                return -errno;
        _cleanup_close_ int out = openat(ddir, dname, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                                         FILE_MODE);
        if (out < 0)
                return -errno;
        int r = copy_fd(in, out);
        if (r < 0)
                return r;
        return close(TAKE_FD(out)) < 0 ? -errno : 0;
}

static int fsync_at(int dfd, const char *rel) {
        _cleanup_close_ int fd = openat(dfd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 || fsync(fd) < 0)
                return -errno;
        return 0;
}

struct copy {
        int dst; /* the temporary directory's fd */
        struct strbuf dirs; /* rel paths of the directories made, NUL-separated */
};

static int copy_entry(const struct fs_entry *e, void *userdata) {
        struct copy *c = userdata;
        if (S_ISDIR(e->st->st_mode)) {
                if (mkdirat(c->dst, e->rel, DIR_MODE & 0777) < 0)
                        return -errno;
                int r = group_mode_at(c->dst, e->rel);
                if (r < 0)
                        return r;
                r = strbuf_add(&c->dirs, e->rel, strlen(e->rel) + 1);
                return r < 0 ? r : FS_WALK_DESCEND;
        }
        if (S_ISLNK(e->st->st_mode))
                return -ELOOP; /* the daemon refuses links in bundles: say so now */
        if (!S_ISREG(e->st->st_mode))
                return -EPERM;
        return copy_file_at(e->dfd, e->name, c->dst, e->rel);
}

static int submit_dir(const struct ctl_spool *sp, const char *path, const char *entry,
                      char **ret_failed) {
        _cleanup_free_ char *tmp = NULL, *dst = path_join(sp->inbox, entry);
        if (!dst || asprintf(&tmp, "%s/.%s.%ld.%u.tmp", sp->inbox, entry, (long) getpid(),
                             atomic_fetch_add(&tmp_counter, 1)) < 0)
                return -ENOMEM;
        if (mkdir(tmp, DIR_MODE & 0777) < 0)
                return -errno;
        struct copy c = { .dst = -1, .dirs = STRBUF_INIT };
        _cleanup_close_ int src = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int r = src < 0 ? -errno : 0;
        if (r == 0)
                r = group_mode_at(AT_FDCWD, tmp);
        if (r == 0 && (c.dst = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
                r = -errno;
        if (r == 0)
                r = fs_walk(src, MAX_DEPTH, copy_entry, &c, ret_failed);
        /* every directory's entries are durable before the tree appears under its name */
        for (size_t off = 0; r == 0 && off < c.dirs.len; off += strlen(c.dirs.buf + off) + 1)
                r = fsync_at(c.dst, c.dirs.buf + off);
        if (r == 0 && fsync(c.dst) < 0)
                r = -errno;
        if (r == 0 && renameat2(AT_FDCWD, tmp, AT_FDCWD, dst, RENAME_NOREPLACE) < 0)
                r = -errno;
        if (r == 0)
                r = fsync_dir(sp->inbox);
        else
                (void) rm_rf(tmp);
        if (c.dst >= 0)
                (void) close(c.dst);
        strbuf_free(&c.dirs);
        return r;
}

static int submit_file(const struct ctl_spool *sp, const char *path, const char *entry) {
        _cleanup_free_ char *dst = path_join(sp->inbox, entry), *tmp = NULL;
        if (!dst)
                return -ENOMEM;
        _cleanup_close_ int in = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (in < 0)
                return -errno;
        int out = open_tmp_beside(dst, &tmp);
        if (out < 0)
                return out;
        int r = copy_fd(in, out);
        if (r < 0) {
                (void) close(out);
                (void) unlink(tmp);
                return r;
        }
        /* a queued file of the same name is replaced: the daemon had not taken it yet */
        return commit_tmp_file(out, tmp, dst);
}

int ctl_submit(const struct ctl_spool *sp, const char *path, char **ret_entry, char **ret_failed) {
        struct stat st;
        if (lstat(path, &st) < 0)
                return -errno;
        /* "dir/" names the directory itself */
        _cleanup_free_ char *clean = strdup(path);
        if (!clean)
                return -ENOMEM;
        for (size_t n = strlen(clean); n > 1 && clean[n - 1] == '/'; n--)
                clean[n - 1] = '\0';
        _cleanup_free_ char *entry = strdup(path_basename(clean)), *name = NULL;
        if (!entry)
                return -ENOMEM;
        if (S_ISLNK(st.st_mode))
                return -ELOOP;
        if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
                return -EPERM;
        int r = bundle_classify(entry, S_ISDIR(st.st_mode), NULL, &name);
        if (r <= 0)
                return r == 0 ? -EINVAL : r;
        r = S_ISDIR(st.st_mode) ? submit_dir(sp, clean, entry, ret_failed) : submit_file(sp, clean, entry);
        if (r < 0)
                return r;
        *ret_entry = TAKE_PTR(entry);
        return 0;
}

int ctl_retry(const struct ctl_spool *sp, const char *name, const char *entry) {
        _cleanup_free_ char *src = path_join(sp->failed, entry), *dst = path_join(sp->inbox, entry);
        _cleanup_free_ char *report = NULL;
        if (!src || !dst || asprintf(&report, "%s/%s.error.yaml", sp->failed, name) < 0)
                return -ENOMEM;
        if (renameat2(AT_FDCWD, src, AT_FDCWD, dst, RENAME_NOREPLACE) < 0)
                return -errno;
        int r = fsync_dir(sp->inbox);
        if (r < 0)
                return r;
        if (unlink(report) < 0 && errno != ENOENT)
                return -errno;
        return fsync_dir(sp->failed);
}

int ctl_dequeue(const struct ctl_spool *sp, const char *entry) {
        _cleanup_free_ char *src = path_join(sp->inbox, entry), *hidden = NULL;
        if (!src || asprintf(&hidden, "%s/.%s.%ld.cancelled.tmp", sp->inbox, entry, (long) getpid()) < 0)
                return -ENOMEM;
        /* the rename decides the race with the daemon's claim: one of them gets it */
        if (renameat2(AT_FDCWD, src, AT_FDCWD, hidden, RENAME_NOREPLACE) < 0)
                return -errno;
        int r = fsync_dir(sp->inbox);
        int k = rm_rf(hidden);
        return r < 0 ? r : k;
}

int ctl_request_cancel(const struct ctl_spool *sp, const char *name) {
        _cleanup_free_ char *path = path_join(sp->cancel, name);
        if (!path)
                return -ENOMEM;
        int r = mkdir_p(sp->cancel, DIR_MODE & 0777); /* see group_mode_at() */
        if (r < 0)
                return r;
        return write_file_atomic(path, "", 0, FILE_MODE);
}
