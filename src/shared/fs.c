/* fs.c - atomic writes, bounded reads, tree removal and path safety; see fs.h. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs.h"
#include "macro.h"

static atomic_uint tmp_counter;
static char tmp_tag[FS_TMP_TAG_MAX + 1];

int fs_set_tmp_tag(const char *tag) {
        size_t n = strlen(tag);
        if (n > FS_TMP_TAG_MAX)
                return -ENAMETOOLONG;
        for (size_t i = 0; i < n; i++)
                if (!((tag[i] >= '0' && tag[i] <= '9') || (tag[i] >= 'a' && tag[i] <= 'z')))
                        return -EINVAL;
        memcpy(tmp_tag, tag, n + 1);
        return 0;
}

const char *fs_tmp_tag(void) {
        return tmp_tag;
}

char *path_join(const char *a, const char *b) {
        char *p;
        size_t la = strlen(a);
        if (la > 0 && a[la - 1] == '/')
                la--;
        if (asprintf(&p, "%.*s/%s", (int) la, a, b) < 0)
                return NULL;
        return p;
}

const char *path_basename(const char *path) {
        const char *s = strrchr(path, '/');
        return s ? s + 1 : path;
}

static char *path_dirname(const char *path) {
        const char *s = strrchr(path, '/');
        if (!s)
                return strdup(".");
        if (s == path)
                return strdup("/");
        return strndup(path, (size_t) (s - path));
}

int fsync_dir(const char *dir) {
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fsync(fd) < 0)
                return -errno;
        return 0;
}

int fsync_parent_dir(const char *path) {
        _cleanup_free_ char *d = path_dirname(path);
        if (!d)
                return -ENOMEM;
        return fsync_dir(d);
}

int open_tmp_beside(const char *path, char **ret_tmp) {
        _cleanup_free_ char *dir = path_dirname(path);
        if (!dir)
                return -ENOMEM;
        for (int attempt = 0; attempt < 100; attempt++) {
                char *tmp;
                if (asprintf(&tmp, "%s/.%s.%ld%s%s.%u.tmp", dir, path_basename(path), (long) getpid(),
                             tmp_tag[0] ? "@" : "", tmp_tag, atomic_fetch_add(&tmp_counter, 1)) < 0)
                        return -ENOMEM;
                int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
                if (fd >= 0) {
                        *ret_tmp = tmp;
                        return fd;
                }
                int r = -errno;
                free(tmp);
                if (r != -EEXIST)
                        return r;
        }
        return -EEXIST;
}

int commit_tmp_file(int fd, const char *tmp, const char *path) {
        int r = 0;
        if (fsync(fd) < 0)
                r = -errno;
        if (close(fd) < 0 && r == 0)
                r = -errno;
        if (r == 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0) {
                (void) unlink(tmp);
                return r;
        }
        return fsync_parent_dir(path);
}

int write_all(int fd, const void *data, size_t len) {
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

static int write_file_replace(const char *path, const void *data, size_t len, mode_t mode, bool durable) {
        _cleanup_free_ char *tmp = NULL;
        int fd = open_tmp_beside(path, &tmp);
        if (fd < 0)
                return fd;
        int r = write_all(fd, data, len);
        if (r == 0 && fchmod(fd, mode) < 0)
                r = -errno;
        if (r < 0) {
                (void) close(fd);
                (void) unlink(tmp);
                return r;
        }
        if (durable)
                return commit_tmp_file(fd, tmp, path);
        if (close(fd) < 0)
                r = -errno;
        if (r == 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0)
                (void) unlink(tmp);
        return r;
}

int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode) {
        return write_file_replace(path, data, len, mode, true);
}

int write_file_atomic_volatile(const char *path, const void *data, size_t len, mode_t mode) {
        return write_file_replace(path, data, len, mode, false);
}

int read_file_bounded(const char *path, size_t max, char **ret, size_t *ret_len) {
        /* O_NONBLOCK: a FIFO must not block; read_fd_bounded() refuses it */
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return -errno;
        return read_fd_bounded(fd, max, ret, ret_len);
}

int read_fd_bounded(int fd, size_t max, char **ret, size_t *ret_len) {
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        if (!S_ISREG(st.st_mode))
                return -EINVAL;
        if ((unsigned long long) st.st_size > max)
                return -E2BIG;

        size_t cap = (size_t) st.st_size + 1, len = 0;
        _cleanup_free_ char *buf = malloc(cap);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                if (len + 1 >= cap) {
                        if (cap > max + 1)
                                return -E2BIG;
                        size_t ncap = cap * 2 > max + 2 ? max + 2 : cap * 2;
                        char *nb = realloc(buf, ncap);
                        if (!nb)
                                return -ENOMEM;
                        buf = nb;
                        cap = ncap;
                }
                ssize_t n = read(fd, buf + len, cap - 1 - len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                len += (size_t) n;
                if (len > max)
                        return -E2BIG;
        }
        buf[len] = '\0';
        *ret = TAKE_PTR(buf);
        if (ret_len)
                *ret_len = len;
        return 0;
}

int mkdir_p(const char *path, mode_t mode) {
        _cleanup_free_ char *p = strdup(path);
        if (!p)
                return -ENOMEM;
        for (char *s = p + 1; *s; s++) {
                if (*s != '/')
                        continue;
                *s = '\0';
                if (mkdir(p, mode) < 0 && errno != EEXIST)
                        return -errno;
                *s = '/';
        }
        if (mkdir(p, mode) < 0) {
                if (errno != EEXIST)
                        return -errno;
                if (!is_dir(p))
                        return -ENOTDIR;
        }
        return 0;
}

static int rm_rf_at(int dfd, const char *name, int depth) {
        if (depth > 256)
                return -ELOOP;
        if (unlinkat(dfd, name, 0) == 0)
                return 0;
        if (errno == ENOENT)
                return 0;
        if (errno != EISDIR && errno != EPERM)
                return -errno;

        int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        DIR *d = fdopendir(fd);
        if (!d) {
                int r = -errno;
                (void) close(fd);
                return r;
        }
        int r = 0;
        struct dirent *de;
        errno = 0;
        while ((de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                int k = rm_rf_at(dirfd(d), de->d_name, depth + 1);
                if (k < 0 && r == 0)
                        r = k;
                errno = 0;
        }
        if (errno != 0 && r == 0)
                r = -errno;
        (void) closedir(d);
        if (unlinkat(dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT && r == 0)
                r = -errno;
        return r;
}

int rm_rf(const char *path) {
        return rm_rf_at(AT_FDCWD, path, 0);
}

struct walk {
        fs_walk_fn fn;
        void *userdata;
        unsigned max_depth;
        char rel[4096];
};

static int walk_at(struct walk *w, int dirfd, unsigned depth) {
        int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return -errno;
        DIR *d = fdopendir(fd);
        if (!d) {
                int r = -errno;
                (void) close(fd);
                return r;
        }
        size_t base = strlen(w->rel);
        int r = 0;
        struct dirent *de;
        errno = 0;
        while (r >= 0 && (de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                int k = snprintf(w->rel + base, sizeof(w->rel) - base, "%s%s", base ? "/" : "",
                                 de->d_name);
                if (k < 0 || (size_t) k >= sizeof(w->rel) - base) {
                        w->rel[base] = '\0';
                        r = -ENAMETOOLONG;
                        break;
                }
                struct stat st;
                if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        r = -errno;
                        break;
                }
                const struct fs_entry e = { dirfd, de->d_name, w->rel, &st, depth };
                r = w->fn(&e, w->userdata);
                if (r == FS_WALK_DESCEND && S_ISDIR(st.st_mode)) {
                        if (depth + 1 > w->max_depth) {
                                r = -ELOOP;
                                break;
                        }
                        _cleanup_close_ int sub = openat(dirfd, de->d_name,
                                                         O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        r = sub < 0 ? -errno : walk_at(w, sub, depth + 1);
                }
                if (r < 0)
                        break; /* w->rel names the entry */
                w->rel[base] = '\0';
                errno = 0;
        }
        if (r >= 0 && errno != 0)
                r = -errno;
        (void) closedir(d);
        return r < 0 ? r : 0;
}

int fs_walk(int dirfd, unsigned max_depth, fs_walk_fn fn, void *userdata, char **ret_failed) {
        struct walk *w = calloc(1, sizeof(*w));
        if (!w)
                return -ENOMEM;
        *w = (struct walk) { .fn = fn, .userdata = userdata, .max_depth = max_depth };
        int r = walk_at(w, dirfd, 0);
        if (r < 0 && ret_failed)
                *ret_failed = w->rel[0] ? strdup(w->rel) : NULL;
        free(w);
        return r;
}

bool path_is_safe(const char *rel) {
        if (!rel || !*rel || rel[0] == '/' || strlen(rel) > 1024)
                return false;
        const char *p = rel;
        while (*p) {
                const char *e = strchr(p, '/');
                size_t n = e ? (size_t) (e - p) : strlen(p);
                if (n == 0 || n > 255)
                        return false;
                if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
                        return false;
                for (size_t i = 0; i < n; i++) {
                        unsigned char c = (unsigned char) p[i];
                        if (c < 0x20 || c == 0x7f || c == '\\')
                                return false;
                }
                if (!e)
                        break;
                p = e + 1;
                if (!*p)
                        return false;
        }
        return true;
}

bool is_dir(const char *path) {
        struct stat st;
        return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

bool is_regular(const char *path) {
        struct stat st;
        return lstat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int fs_file_being_written(int dirfd, const char *name) {
        _cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fcntl(fd, F_SETLEASE, F_RDLCK) < 0)
                return errno == EAGAIN ? 1 : -errno;
        (void) fcntl(fd, F_SETLEASE, F_UNLCK);
        return 0;
}
