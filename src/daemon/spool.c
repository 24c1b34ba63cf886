/* spool.c - spool directories, claims, recovery, publication; see spool.h. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bundle/intake.h"
#include "shared/fs.h"
#include "shared/macro.h"
#include "spool.h"

static atomic_uint claim_counter;

static void step(const struct spool *s) {
        if (s->step_delay_ms)
                (void) usleep(s->step_delay_ms * 1000u);
}

void spool_close(struct spool *s) {
        free(s->root);
        free(s->inbox);
        free(s->outbox);
        free(s->failed);
        free(s->jobs);
        free(s->cancel);
        free(s->cache);
        if (s->lock_fd >= 0)
                (void) close(s->lock_fd);
        *s = (struct spool) { .lock_fd = -1 };
}

/* NAME is a temporary file of open_tmp_beside(): ".BASE.PID.N.tmp". */
static bool is_own_temp(const char *name) {
        size_t len = strlen(name);
        if (name[0] != '.' || len < 9 || !endswith(name, ".tmp"))
                return false;
        size_t i = len - 4; /* at ".tmp" */
        for (int field = 0; field < 2; field++) {
                size_t digits = 0;
                while (i > 1 && name[i - 1] >= '0' && name[i - 1] <= '9')
                        i--, digits++;
                if (digits == 0 || i < 2 || name[i - 1] != '.')
                        return false;
                i--; /* at the '.' before the digits */
        }
        return i > 1; /* a BASE remains */
}

/* Removes what a killed daemon left of its temporary files in DIR (only its own pattern). */
static int clean_temp_files(const char *dir) {
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        DIR *d = fdopendir(fd);
        if (!d)
                return -errno;
        TAKE_FD(fd);
        bool removed = false;
        int r = 0;
        struct dirent *de;
        while ((de = readdir(d)))
                if (is_own_temp(de->d_name) && de->d_type != DT_DIR) {
                        if (unlinkat(dirfd(d), de->d_name, 0) == 0)
                                removed = true;
                        else if (errno != ENOENT && r == 0)
                                r = -errno;
                }
        (void) closedir(d);
        if (r < 0)
                return r;
        return removed ? fsync_dir(dir) : 0;
}

int spool_open(struct spool *s, const char *root) {
        int r;
        *s = (struct spool) { .lock_fd = -1 };
        s->root = strdup(root);
        s->inbox = path_join(root, "inbox");
        s->outbox = path_join(root, "outbox");
        s->failed = path_join(root, "failed");
        s->jobs = path_join(root, ".codegend/jobs");
        s->cancel = path_join(root, ".codegend/cancel");
        s->cache = path_join(root, ".codegend/cache");
        _cleanup_free_ char *lock = path_join(root, ".codegend/lock");
        if (!s->root || !s->inbox || !s->outbox || !s->failed || !s->jobs || !s->cancel || !s->cache || !lock) {
                r = -ENOMEM;
                goto fail;
        }
        const char *dirs[] = { s->inbox, s->outbox, s->failed, s->jobs, s->cancel, s->cache };
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++)
                if ((r = mkdir_p(dirs[i], 0755)) < 0)
                        goto fail;
        s->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (s->lock_fd < 0) {
                r = -errno;
                goto fail;
        }
        if (flock(s->lock_fd, LOCK_EX | LOCK_NB) < 0) {
                r = errno == EWOULDBLOCK ? -EBUSY : -errno;
                goto fail;
        }
        /* the spool is ours: no other process writes these directories' temporary files (the
         * cache's are our workers', and none runs yet) */
        if ((r = clean_temp_files(s->outbox)) < 0 || (r = clean_temp_files(s->failed)) < 0 ||
            (r = clean_temp_files(s->cache)) < 0)
                goto fail;
        return 0;
fail:
        spool_close(s);
        return r;
}

int spool_claim(struct spool *s, const char *entry, char **ret_jobdir) {
        struct timespec ts;
        char id[96];
        int r;

        if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
                return -errno;
        struct tm tm;
        if (!gmtime_r(&ts.tv_sec, &tm))
                return -EOVERFLOW;
        /* sortable: recovery resumes jobs in the order they were claimed */
        snprintf(id, sizeof(id), "%04d%02d%02dT%02d%02d%02d.%09ldZ-%ld-%u", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec,
                 (long) getpid(), atomic_fetch_add(&claim_counter, 1));

        _cleanup_free_ char *jobdir = path_join(s->jobs, id);
        _cleanup_free_ char *bundledir = jobdir ? path_join(jobdir, "bundle") : NULL;
        _cleanup_free_ char *src = path_join(s->inbox, entry);
        _cleanup_free_ char *dst = bundledir ? path_join(bundledir, entry) : NULL;
        if (!dst || !src)
                return -ENOMEM;
        if (mkdir(jobdir, 0755) < 0)
                return -errno;
        if (mkdir(bundledir, 0755) < 0) {
                r = -errno;
                goto fail;
        }
        step(s);
        if (rename(src, dst) < 0) {
                r = -errno;
                goto fail;
        }
        step(s);
        /* the claim is durable once both directories are on disk */
        if ((r = fsync_dir(bundledir)) < 0 || (r = fsync_dir(s->inbox)) < 0 ||
            (r = fsync_dir(s->jobs)) < 0)
                return r; /* the bundle is claimed; recovery finds it */
        *ret_jobdir = TAKE_PTR(jobdir);
        return 0;
fail:
        (void) rm_rf(jobdir);
        return r;
}

int spool_job_entry(const char *jobdir, char **ret_entry) {
        _cleanup_free_ char *bundledir = path_join(jobdir, "bundle");
        if (!bundledir)
                return -ENOMEM;
        DIR *d = opendir(bundledir);
        if (!d)
                return -errno;
        char *found = NULL;
        struct dirent *de;
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, "..")) {
                        found = strdup(de->d_name);
                        break;
                }
        (void) closedir(d);
        if (!found)
                return de ? -ENOMEM : -ENOENT;
        *ret_entry = found;
        return 0;
}

int spool_recover(struct spool *s, char ***ret_jobdirs) {
        DIR *d = opendir(s->jobs);
        if (!d)
                return -errno;
        char **v = NULL;
        size_t n = 0;
        int r = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                char *jobdir = path_join(s->jobs, de->d_name);
                if (!jobdir) {
                        r = -ENOMEM;
                        break;
                }
                _cleanup_free_ char *entry = NULL;
                int k = spool_job_entry(jobdir, &entry);
                if (k == -ENOENT) {
                        /* a crash during the claim (nothing was moved in), or after the
                         * bundle went to failed/: nothing to resume */
                        (void) rm_rf(jobdir);
                        free(jobdir);
                        continue;
                }
                if (k < 0) {
                        /* EACCES, EMFILE, ENOMEM...: maybe a claimed bundle; never removed
                         * on such an error, left for the next start */
                        free(jobdir);
                        continue;
                }
                char **nv = realloc(v, (n + 2) * sizeof(*v));
                if (!nv) {
                        free(jobdir);
                        r = -ENOMEM;
                        break;
                }
                v = nv;
                v[n++] = jobdir;
                v[n] = NULL;
        }
        (void) closedir(d);
        if (r < 0) {
                for (size_t i = 0; i < n; i++)
                        free(v[i]);
                free(v);
                return r;
        }
        if (n)
                qsort(v, n, sizeof(*v), strcmp_ptr);
        else if (!(v = calloc(1, sizeof(*v))))
                return -ENOMEM;
        *ret_jobdirs = v;
        return 0;
}

static int output_path(const char *dir, const char *name, const char *suffix, char **ret) {
        if (asprintf(ret, "%s/%s%s", dir, name, suffix) < 0)
                return -ENOMEM;
        return 0;
}

/* Removes PATH when present; *removed is set when it was. */
static int unlink_counted(const char *path, bool *removed) {
        if (unlink(path) == 0) {
                *removed = true;
                return 0;
        }
        return errno == ENOENT ? 0 : -errno;
}

/* Removes failed/NAME.error.yaml, then every failed bundle that is_named() says is NAME's. */
static int forget_failed(struct spool *s, const char *name,
                         bool (*is_named)(const char *entry, bool is_dir, const char *name)) {
        _cleanup_free_ char *err = NULL;
        bool removed = false;
        int r = 0;
        if (output_path(s->failed, name, ".error.yaml", &err) < 0)
                return -ENOMEM;
        if (unlink(err) == 0)
                removed = true;
        else if (errno != ENOENT)
                return -errno;
        DIR *d = opendir(s->failed);
        if (!d)
                return -errno;
        struct dirent *de;
        while (r >= 0 && (de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                _cleanup_free_ char *p = path_join(s->failed, de->d_name);
                struct stat st;
                if (!p)
                        r = -ENOMEM;
                else if (lstat(p, &st) == 0 && is_named(de->d_name, S_ISDIR(st.st_mode), name)) {
                        r = rm_rf(p);
                        removed = true;
                }
        }
        (void) closedir(d);
        if (r < 0)
                return r;
        return removed ? fsync_dir(s->failed) : 0; /* nothing changed: nothing to sync */
}

int spool_publish(struct spool *s, const char *name, const char *tarball, const char *report,
                  size_t report_len, bool (*is_named)(const char *entry, bool is_dir, const char *name)) {
        _cleanup_free_ char *tar = NULL, *rep = NULL;
        int r;
        if (output_path(s->outbox, name, ".tar.gz", &tar) < 0 ||
            output_path(s->outbox, name, ".metrics.yaml", &rep) < 0)
                return -ENOMEM;

        /* a present report means a complete pair: an earlier run's report goes (durably)
         * before the new tarball replaces the one it names; tarball first, report last */
        if (unlink(rep) == 0) {
                if ((r = fsync_dir(s->outbox)) < 0)
                        return r;
        } else if (errno != ENOENT)
                return -errno;
        step(s);
        if (rename(tarball, tar) < 0)
                return -errno;
        if ((r = fsync_dir(s->outbox)) < 0)
                return r;
        step(s);
        if ((r = write_file_atomic(rep, report, report_len, 0644)) < 0)
                return r;
        step(s);
        return forget_failed(s, name, is_named);
}

static int move_to_failed(struct spool *s, const char *src, const char *entry) {
        _cleanup_free_ char *dst = path_join(s->failed, entry);
        if (!dst)
                return -ENOMEM;
        if (rename(src, dst) < 0) {
                if (errno != EEXIST && errno != ENOTEMPTY && errno != EISDIR && errno != ENOTDIR)
                        return -errno;
                /* an earlier bundle of that name: the new one replaces it */
                int r = rm_rf(dst);
                if (r < 0)
                        return r;
                if (rename(src, dst) < 0)
                        return -errno;
        }
        return fsync_dir(s->failed);
}

static int retract_outputs(struct spool *s, const char *name) {
        _cleanup_free_ char *tar = NULL, *rep = NULL;
        int r;
        if (output_path(s->outbox, name, ".tar.gz", &tar) < 0 ||
            output_path(s->outbox, name, ".metrics.yaml", &rep) < 0)
                return -ENOMEM;
        bool removed = false;
        /* report first: a present report always names a present tarball */
        if ((r = unlink_counted(rep, &removed)) < 0 || (r = unlink_counted(tar, &removed)) < 0)
                return r;
        return removed ? fsync_dir(s->outbox) : 0;
}

int spool_fail(struct spool *s, const char *jobdir, const char *name, const char *entry,
               const char *report, size_t report_len) {
        _cleanup_free_ char *err = NULL, *src = NULL;
        int r;
        if (output_path(s->failed, name, ".error.yaml", &err) < 0 ||
            asprintf(&src, "%s/bundle/%s", jobdir, entry) < 0)
                return -ENOMEM;
        if ((r = retract_outputs(s, name)) < 0)
                return r;
        step(s);
        /* the report first: a crash before the move re-runs the job, which fails again */
        if ((r = write_file_atomic(err, report, report_len, 0644)) < 0)
                return r;
        step(s);
        return move_to_failed(s, src, entry);
}

static bool exists_in(const char *dir, const char *name, const char *suffix) {
        _cleanup_free_ char *p = NULL;
        if (asprintf(&p, "%s/%s%s", dir, name, suffix) < 0)
                return true; /* unknown: do not take it */
        struct stat st;
        return lstat(p, &st) == 0 || errno != ENOENT;
}

/* A name in failed/ that nothing holds yet, neither as an entry nor as a report, derived
 * from ENTRY: at most BUNDLE_NAME_MAX bytes, never ending in a report's suffix. */
static int failed_free_name(struct spool *s, const char *entry, char **ret) {
        _cleanup_free_ char *base = strndup(entry, BUNDLE_NAME_MAX);
        if (!base)
                return -ENOMEM;
        bool reserved = endswith(base, ".error.yaml") || endswith(base, ".metrics.yaml");
        for (unsigned n = 0; n < 10000; n++) {
                char *cand;
                if (n == 0 && !reserved)
                        cand = strdup(base);
                else if (asprintf(&cand, "%s~%u", base, n) < 0)
                        cand = NULL;
                if (!cand)
                        return -ENOMEM;
                if (!exists_in(s->failed, cand, "") && !exists_in(s->failed, cand, ".error.yaml")) {
                        *ret = cand;
                        return 0;
                }
                free(cand);
        }
        return -EEXIST;
}

int spool_fail_unique(struct spool *s, const char *src, const char *entry, const char *report,
                      size_t report_len, char **ret_name) {
        _cleanup_free_ char *name = NULL, *err = NULL, *dst = NULL;
        int r = failed_free_name(s, entry, &name);
        if (r < 0)
                return r;
        if (output_path(s->failed, name, ".error.yaml", &err) < 0 || !(dst = path_join(s->failed, name)))
                return -ENOMEM;
        if ((r = write_file_atomic(err, report, report_len, 0644)) < 0)
                return r;
        if (rename(src, dst) < 0)
                return -errno;
        if ((r = fsync_dir(s->failed)) < 0)
                return r;
        if (ret_name)
                *ret_name = TAKE_PTR(name);
        return 0;
}

int spool_reject(struct spool *s, const char *entry, const char *report, size_t report_len,
                 char **ret_name) {
        _cleanup_free_ char *src = path_join(s->inbox, entry);
        if (!src)
                return -ENOMEM;
        return spool_fail_unique(s, src, entry, report, report_len, ret_name);
}

int spool_job_remove(const char *jobdir) {
        int r = rm_rf(jobdir);
        if (r < 0)
                return r;
        return fsync_parent_dir(jobdir);
}
