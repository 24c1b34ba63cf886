/* fsorder.c - an LD_PRELOAD shim for the end-to-end tests: records, in call order, the
 * file-system calls whose order the daemon promises (job-format.md section 4).
 *
 * Every call of rename, renameat, renameat2, fsync, fdatasync, unlink, unlinkat, open and
 * openat with O_CREAT, write (regular files only) and fork (in the parent, with the
 * child's pid) appends one line to the file named by $FSORDER_LOG:
 *
 *     PID OP RESULT PATH [PATH2]
 *
 * with absolute paths (relative ones are resolved against the directory fd or the
 * working directory; an fd is named through /proc/self/fd). Lines are written with one
 * O_APPEND write each, so the daemon's processes interleave whole lines in the order the
 * calls returned. Without $FSORDER_LOG the shim only forwards.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#define LINE_MAX_LEN (2 * PATH_MAX + 128)

static void *next_fn(const char *name) {
        return dlsym(RTLD_NEXT, name);
}

static void fd_path(int fd, char *buf, size_t size) {
        char link[64];
        snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
        ssize_t n = readlink(link, buf, size - 1);
        if (n < 0)
                n = snprintf(buf, size, "fd:%d", fd) > 0 ? (ssize_t) strlen(buf) : 0;
        buf[n] = '\0';
}

static void abs_path(int dirfd, const char *path, char *buf, size_t size) {
        char base[PATH_MAX];
        if (!path) {
                snprintf(buf, size, "(null)");
                return;
        }
        if (path[0] == '/') {
                snprintf(buf, size, "%s", path);
                return;
        }
        if (dirfd == AT_FDCWD) {
                if (!getcwd(base, sizeof(base)))
                        snprintf(base, sizeof(base), "?");
        } else
                fd_path(dirfd, base, sizeof(base));
        snprintf(buf, size, "%s/%s", base, path);
}

static void record(const char *op, long result, const char *p1, const char *p2) {
        const char *log = getenv("FSORDER_LOG");
        if (!log || !*log)
                return;
        int saved = errno;
        char line[LINE_MAX_LEN];
        int n = snprintf(line, sizeof(line), "%ld %s %ld %s%s%s\n", (long) getpid(), op, result, p1,
                         p2 ? " " : "", p2 ? p2 : "");
        if (n > 0) {
                if ((size_t) n >= sizeof(line))
                        n = (int) sizeof(line) - 1;
                /* raw system calls: never through the wrappers below */
                long fd = syscall(SYS_openat, AT_FDCWD, log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
                if (fd >= 0) {
                        (void) syscall(SYS_write, (int) fd, line, (size_t) n);
                        (void) syscall(SYS_close, (int) fd);
                }
        }
        errno = saved;
}

static void record_at(const char *op, long result, int dfd1, const char *a, int dfd2, const char *b) {
        char p1[PATH_MAX + 64], p2[PATH_MAX + 64];
        abs_path(dfd1, a, p1, sizeof(p1));
        if (b)
                abs_path(dfd2, b, p2, sizeof(p2));
        record(op, result, p1, b ? p2 : NULL);
}

static void record_fd(const char *op, long result, int fd) {
        char p[PATH_MAX];
        fd_path(fd, p, sizeof(p));
        record(op, result, p, NULL);
}

int rename(const char *a, const char *b) {
        int (*f)(const char *, const char *) = next_fn("rename");
        int r = f(a, b);
        record_at("rename", r, AT_FDCWD, a, AT_FDCWD, b);
        return r;
}

int renameat(int da, const char *a, int db, const char *b) {
        int (*f)(int, const char *, int, const char *) = next_fn("renameat");
        int r = f(da, a, db, b);
        record_at("rename", r, da, a, db, b);
        return r;
}

int renameat2(int da, const char *a, int db, const char *b, unsigned flags) {
        int (*f)(int, const char *, int, const char *, unsigned) = next_fn("renameat2");
        int r = f(da, a, db, b, flags);
        record_at("rename", r, da, a, db, b);
        return r;
}

int fsync(int fd) {
        int (*f)(int) = next_fn("fsync");
        int r = f(fd);
        record_fd("fsync", r, fd);
        return r;
}

int fdatasync(int fd) {
        int (*f)(int) = next_fn("fdatasync");
        int r = f(fd);
        record_fd("fsync", r, fd);
        return r;
}

int unlink(const char *p) {
        int (*f)(const char *) = next_fn("unlink");
        int r = f(p);
        record_at("unlink", r, AT_FDCWD, p, AT_FDCWD, NULL);
        return r;
}

int unlinkat(int d, const char *p, int flags) {
        int (*f)(int, const char *, int) = next_fn("unlinkat");
        int r = f(d, p, flags);
        record_at((flags & AT_REMOVEDIR) ? "rmdir" : "unlink", r, d, p, AT_FDCWD, NULL);
        return r;
}

#define OPEN_WRAPPER(name, ...)                                                                  \
        int name(__VA_ARGS__, int flags, ...) {                                                 \
                mode_t mode = 0;                                                                \
                if (flags & (O_CREAT | __O_TMPFILE)) {                                          \
                        va_list ap;                                                             \
                        va_start(ap, flags);                                                    \
                        mode = (mode_t) va_arg(ap, int);                                        \
                        va_end(ap);                                                             \
                }

OPEN_WRAPPER(open, const char *p)
        int (*f)(const char *, int, ...) = next_fn("open");
        int r = f(p, flags, mode);
        if (flags & O_CREAT)
                record_at("create", r, AT_FDCWD, p, AT_FDCWD, NULL);
        return r;
}

OPEN_WRAPPER(open64, const char *p)
        int (*f)(const char *, int, ...) = next_fn("open64");
        int r = f(p, flags, mode);
        if (flags & O_CREAT)
                record_at("create", r, AT_FDCWD, p, AT_FDCWD, NULL);
        return r;
}

OPEN_WRAPPER(openat, int d, const char *p)
        int (*f)(int, const char *, int, ...) = next_fn("openat");
        int r = f(d, p, flags, mode);
        if (flags & O_CREAT)
                record_at("create", r, d, p, AT_FDCWD, NULL);
        return r;
}

OPEN_WRAPPER(openat64, int d, const char *p)
        int (*f)(int, const char *, int, ...) = next_fn("openat64");
        int r = f(d, p, flags, mode);
        if (flags & O_CREAT)
                record_at("create", r, d, p, AT_FDCWD, NULL);
        return r;
}

ssize_t write(int fd, const void *buf, size_t len) {
        ssize_t (*f)(int, const void *, size_t) = next_fn("write");
        ssize_t r = f(fd, buf, len);
        struct stat st;
        if (fd > 2 && getenv("FSORDER_LOG") && fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
                record_fd("write", (long) r, fd);
        return r;
}

pid_t fork(void) {
        pid_t (*f)(void) = next_fn("fork");
        pid_t r = f();
        if (r > 0) {
                char child[32];
                snprintf(child, sizeof(child), "%ld", (long) r);
                record("fork", (long) r, child, NULL);
        }
        return r;
}
