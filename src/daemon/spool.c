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
#include "lease.h"
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
        free(s->clock);
        if (s->lock_fd >= 0)
                (void) close(s->lock_fd);
        *s = (struct spool) { .lock_fd = -1 };
}

/* NAME is a temporary file of open_tmp_beside(): ".BASE.PID.N.tmp" or ".BASE.PID@TAG.N.tmp";
 * *ret_pid and ret_tag ("" without one) say whose. */
static bool parse_temp(const char *name, long *ret_pid, char ret_tag[static FS_TMP_TAG_MAX + 1]) {
        size_t len = strlen(name);
        if (name[0] != '.' || len < 9 || !endswith(name, ".tmp"))
                return false;
        size_t i = len - 4; /* at ".tmp" */
        size_t digits = 0;
        while (i > 1 && name[i - 1] >= '0' && name[i - 1] <= '9')
                i--, digits++;
        if (digits == 0 || i < 2 || name[i - 1] != '.')
                return false;
        i--; /* at the '.' before N */
        size_t t = i;
        while (t > 1 && i - t < FS_TMP_TAG_MAX &&
               ((name[t - 1] >= '0' && name[t - 1] <= '9') || (name[t - 1] >= 'a' && name[t - 1] <= 'z')))
                t--;
        ret_tag[0] = '\0';
        if (t > 1 && t < i && name[t - 1] == '@') {
                memcpy(ret_tag, name + t, i - t);
                ret_tag[i - t] = '\0';
                i = t - 1; /* at the '@' */
        }
        long pid = 0;
        digits = 0;
        size_t end = i;
        while (i > 1 && name[i - 1] >= '0' && name[i - 1] <= '9')
                i--, digits++;
        if (digits == 0 || digits > 9 || i < 2 || name[i - 1] != '.')
                return false;
        for (size_t k = i; k < end; k++)
                pid = pid * 10 + (name[k] - '0');
        *ret_pid = pid;
        return i - 1 > 1; /* a BASE remains */
}

/* rename() of a name only we may take: over NFS a retransmitted request can fail with
 * ENOENT after the first one succeeded, so that failure is checked on the disk. */
static int rename_owned(const char *src, const char *dst) {
        if (rename(src, dst) == 0)
                return 0;
        int r = -errno;
        struct stat st;
        if (r == -ENOENT && lstat(dst, &st) == 0 && lstat(src, &st) < 0 && errno == ENOENT)
                return 0;
        return r;
}

int spool_clock(struct spool *s, struct timespec *ret) {
        _cleanup_close_ int fd = open(s->clock, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        struct stat st;
        /* NULL: the file system's "now" (on NFS, the server's: SET_TO_SERVER_TIME) */
        if (futimens(fd, NULL) < 0 || fstat(fd, &st) < 0)
                return -errno;
        *ret = st.st_mtim;
        return 0;
}

/* A temporary file's writer is surely gone: a dead process of this host (its tag, or none:
 * an older version's, which ran alone), or another host's file older than a lease. */
static bool temp_abandoned(struct spool *s, const char *tag, long pid, const struct stat *st,
                           const struct timespec *now) {
        if (!tag[0] || streq(tag, fs_tmp_tag()))
                return !pid_is_alive(pid);
        return lease_expired(&st->st_mtim, now, s->lease_seconds, s->lease_grace);
}

/* Removes what killed writers left of their temporary files in DIR (only that pattern). */
static int clean_temp_files(struct spool *s, const char *dir, const struct timespec *now) {
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
        while ((de = readdir(d))) {
                char tag[FS_TMP_TAG_MAX + 1];
                long pid;
                struct stat st;
                if (!parse_temp(de->d_name, &pid, tag) ||
                    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || S_ISDIR(st.st_mode) ||
                    !temp_abandoned(s, tag, pid, &st, now))
                        continue;
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

int spool_open(struct spool *s, const char *root, const struct spool_options *o) {
        int r;
        char tag[FS_TMP_TAG_MAX + 1];
        *s = (struct spool) { .lock_fd = -1, .lease_seconds = o->lease_seconds, .lease_grace = o->lease_grace };
        if ((r = instance_init(&s->self)) < 0)
                return r;
        instance_tag(&s->self, tag);
        if ((r = fs_set_tmp_tag(tag)) < 0)
                return r;
        s->root = strdup(root);
        s->inbox = path_join(root, "inbox");
        s->outbox = path_join(root, "outbox");
        s->failed = path_join(root, "failed");
        s->jobs = path_join(root, ".codegend/jobs");
        s->cancel = path_join(root, ".codegend/cancel");
        s->cache = path_join(root, ".codegend/cache");
        if (asprintf(&s->clock, "%s/.codegend/clock-%s", root, tag) < 0)
                s->clock = NULL;
        _cleanup_free_ char *lock = path_join(root, ".codegend/lock");
        if (!s->root || !s->inbox || !s->outbox || !s->failed || !s->jobs || !s->cancel || !s->cache ||
            !s->clock || !lock) {
                r = -ENOMEM;
                goto fail;
        }
        const char *dirs[] = { s->inbox, s->outbox, s->failed, s->jobs, s->cancel, s->cache };
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++)
                if ((r = mkdir_p(dirs[i], 0755)) < 0)
                        goto fail;
        /* shared by the daemons that share the spool, exclusive for one that wants it alone
         * (and for versions before leases): the two kinds never run together */
        s->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (s->lock_fd < 0) {
                r = -errno;
                goto fail;
        }
        if (flock(s->lock_fd, (o->exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) < 0) {
                r = errno == EWOULDBLOCK ? -EBUSY : -errno;
                /* a file system without locks (NFS without lockd): leases alone */
                if (r != -ENOLCK || o->exclusive)
                        goto fail;
        }
        struct timespec now;
        if ((r = spool_clock(s, &now)) < 0)
                goto fail;
        /* only the temporary files of writers that are surely gone: other daemons share
         * these directories (the cache's are workers', ours or theirs) */
        if ((r = clean_temp_files(s, s->outbox, &now)) < 0 || (r = clean_temp_files(s, s->failed, &now)) < 0 ||
            (r = clean_temp_files(s, s->cache, &now)) < 0)
                goto fail;
        return 0;
fail:
        spool_close(s);
        return r;
}

int spool_claim(struct spool *s, const char *entry, char **ret_jobdir) {
        struct timespec ts;
        char key[JOBID_KEY_LEN + 1], id[JOBID_KEY_LEN + INSTANCE_HOST_MAX + 64];
        int r;

        if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
                return -errno;
        /* sortable: jobs of one name end in the order of their claims */
        if ((r = jobid_key(&ts, key, sizeof(key))) < 0 ||
            (r = jobid_format(key, &s->self, atomic_fetch_add(&claim_counter, 1), id, sizeof(id))) < 0)
                return r;

        _cleanup_free_ char *jobdir = path_join(s->jobs, id);
        _cleanup_free_ char *bundledir = jobdir ? path_join(jobdir, "bundle") : NULL;
        _cleanup_free_ char *src = path_join(s->inbox, entry);
        _cleanup_free_ char *dst = bundledir ? path_join(bundledir, entry) : NULL;
        if (!dst || !src)
                return -ENOMEM;
        if (mkdir(jobdir, 0755) < 0)
                return -errno;
        /* the lease before the bundle: a job directory with a bundle always has one */
        if ((r = lease_write(jobdir, &s->self, s->lease_seconds)) < 0)
                goto fail;
        if (mkdir(bundledir, 0755) < 0) {
                r = -errno;
                goto fail;
        }
        step(s);
        if ((r = rename_owned(src, dst)) < 0)
                goto fail;
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

/* The job name of the job directory DIR (malloc'd): its bundle's, or the entry's own
 * when it is no bundle (it fails under that name). */
static int job_name_of(const char *dir, char **ret) {
        _cleanup_free_ char *entry = NULL, *path = NULL, *name = NULL;
        int r = spool_job_entry(dir, &entry);
        if (r < 0)
                return r;
        if (asprintf(&path, "%s/bundle/%s", dir, entry) < 0)
                return -ENOMEM;
        struct stat st;
        if (lstat(path, &st) < 0)
                return -errno;
        enum bundle_form form;
        if (bundle_classify(entry, S_ISDIR(st.st_mode), &form, &name) <= 0) {
                free(name);
                name = TAKE_PTR(entry);
        }
        *ret = TAKE_PTR(name);
        return 0;
}

/* When the directory (named id) was last known alive: its lease's mtime, or with no
 * lease (a claim in progress, or an older version's job) the directory's own. */
static int last_renewal(const char *dir, struct timespec *ret) {
        struct lease l;
        int r = lease_read(dir, &l);
        if (r >= 0) {
                *ret = l.mtime;
                return 0;
        }
        if (r != -ENOENT && r != -EINVAL)
                return r;
        struct stat st;
        if (lstat(dir, &st) < 0)
                return -errno;
        *ret = st.st_mtim;
        return 0;
}

struct candidate {
        char *name;
        struct jobid id;
};

static int candidate_compare(const void *a, const void *b) {
        return jobid_compare(((const struct candidate *) a)->name, ((const struct candidate *) b)->name);
}

/* Looks at one job directory: a free job to take goes into *v; free garbage (a claim that
 * never moved its bundle in, a superseded job) is removed. */
static int consider_jobdir(struct spool *s, const char *name, const struct timespec *now,
                           struct candidate **v, size_t *n) {
        struct jobid id;
        if (jobid_parse(name, &id) < 0)
                return 0; /* not ours to judge */
        if (!id.legacy && streq(id.host, s->self.host) && streq(id.boot, s->self.boot) &&
            id.pid == (long) s->self.pid)
                return 0; /* our own, in memory */
        _cleanup_free_ char *dir = path_join(s->jobs, name);
        if (!dir)
                return -ENOMEM;
        struct timespec renewed;
        if (last_renewal(dir, &renewed) < 0)
                return 0; /* gone meanwhile, or unreadable: looked at again later */
        bool same_boot = !id.legacy && streq(id.host, s->self.host) && streq(id.boot, s->self.boot);
        if (!lease_takeable(&id, &s->self, same_boot ? pid_is_alive(id.pid) : true, &renewed, now,
                            s->lease_seconds, s->lease_grace))
                return 0;
        if (id.state == JOBDIR_SUPERSEDED)
                return rm_rf(dir) < 0 ? 0 : 1;
        _cleanup_free_ char *entry = NULL;
        int k = spool_job_entry(dir, &entry);
        if (k == -ENOENT) {
                /* a crash during the claim (nothing was moved in), or after the bundle
                 * went to failed/: nothing to resume */
                return rm_rf(dir) < 0 ? 0 : 1;
        }
        if (k < 0)
                return 0; /* EACCES, EMFILE, ENOMEM...: never removed on such an error */
        struct candidate *nv = realloc(*v, (*n + 1) * sizeof(*nv));
        if (!nv)
                return -ENOMEM;
        *v = nv;
        if (!(nv[*n].name = strdup(name)))
                return -ENOMEM;
        nv[*n].id = id;
        (*n)++;
        return 0;
}

int spool_take_free(struct spool *s, size_t max, char ***ret_jobdirs, size_t *ret_removed) {
        struct timespec now;
        int r = spool_clock(s, &now);
        if (r < 0)
                return r;
        DIR *d = opendir(s->jobs);
        if (!d)
                return -errno;
        struct candidate *v = NULL;
        size_t n = 0, removed = 0;
        struct dirent *de;
        while (r >= 0 && (de = readdir(d)))
                if (de->d_name[0] != '.') {
                        r = consider_jobdir(s, de->d_name, &now, &v, &n);
                        if (r > 0)
                                removed++, r = 0;
                }
        (void) closedir(d);

        char **taken = NULL;
        size_t k = 0;
        if (r >= 0 && !(taken = calloc(n + 1, sizeof(*taken))))
                r = -ENOMEM;
        if (n)
                qsort(v, n, sizeof(*v), candidate_compare);
        for (size_t i = 0; r >= 0 && i < n && k < max; i++) {
                char id[JOBID_KEY_LEN + INSTANCE_HOST_MAX + 64];
                _cleanup_free_ char *old = path_join(s->jobs, v[i].name);
                if (!old || jobid_format(v[i].id.key, &s->self, atomic_fetch_add(&claim_counter, 1), id,
                                         sizeof(id)) < 0) {
                        r = -ENOMEM;
                        break;
                }
                char *new = path_join(s->jobs, id);
                if (!new) {
                        r = -ENOMEM;
                        break;
                }
                /* renewed first, so that no third daemon judges it free under its new
                 * name; then the rename decides: one taker wins, the others get ENOENT */
                if (lease_write(old, &s->self, s->lease_seconds) < 0 || rename_owned(old, new) < 0) {
                        free(new);
                        continue;
                }
                taken[k++] = new;
        }
        for (size_t i = 0; i < n; i++)
                free(v[i].name);
        free(v);
        if (r >= 0 && (k > 0 || removed > 0))
                r = fsync_dir(s->jobs);
        if (r < 0) {
                for (size_t i = 0; i < k; i++)
                        free(taken[i]);
                free(taken);
                return r;
        }
        *ret_jobdirs = taken;
        if (ret_removed)
                *ret_removed = removed;
        return 0;
}

bool spool_jobdir_is_own(const struct spool *s, const char *jobdir) {
        struct jobid id;
        return jobid_parse(path_basename(jobdir), &id) >= 0 && !id.legacy && streq(id.host, s->self.host) &&
               streq(id.boot, s->self.boot) && id.pid == (long) s->self.pid;
}

/* Supersedes the older jobs of NAME still in flight (renamed to "+superseded"; on_superseded
 * is told of each); -EAGAIN when one of them is ending (or changed while we looked). */
static int supersede_older(struct spool *s, const char *self_name, const char *name,
                           void (*on_superseded)(void *userdata, const char *old, const char *new),
                           void *userdata) {
        DIR *d = opendir(s->jobs);
        if (!d)
                return -errno;
        size_t self_len = jobid_base_len(self_name);
        bool wait = false, renamed = false;
        int r = 0;
        struct dirent *de;
        while (r >= 0 && (de = readdir(d))) {
                struct jobid id;
                if (de->d_name[0] == '.' || jobid_parse(de->d_name, &id) < 0 || id.state == JOBDIR_SUPERSEDED ||
                    (jobid_base_len(de->d_name) == self_len && strncmp(de->d_name, self_name, self_len) == 0) ||
                    jobid_compare(de->d_name, self_name) >= 0)
                        continue;
                _cleanup_free_ char *dir = path_join(s->jobs, de->d_name), *other = NULL, *to = NULL;
                if (!dir) {
                        r = -ENOMEM;
                        break;
                }
                if (job_name_of(dir, &other) < 0 || !streq(other, name))
                        continue;
                if (id.state == JOBDIR_ENDING) {
                        wait = true; /* it publishes or fails first: claim order */
                        continue;
                }
                if (asprintf(&to, "%s+superseded", dir) < 0) {
                        r = -ENOMEM;
                        break;
                }
                int k = rename_owned(dir, to);
                if (k == -ENOENT) {
                        wait = true; /* it moved on meanwhile: look again */
                        continue;
                }
                if (k < 0) {
                        r = k;
                        continue;
                }
                renamed = true;
                if (on_superseded)
                        on_superseded(userdata, dir, to);
        }
        (void) closedir(d);
        if (r >= 0 && renamed)
                r = fsync_dir(s->jobs); /* durable: a crash must not let it publish after us */
        if (r < 0)
                return r;
        return wait ? -EAGAIN : 0;
}

int spool_end_begin(struct spool *s, char **jobdir, const char *name,
                    void (*on_superseded)(void *userdata, const char *old, const char *new), void *userdata) {
        const char *base = path_basename(*jobdir);
        struct jobid id;
        int r;
        if (jobid_parse(base, &id) < 0)
                return -EINVAL;
        if (id.state != JOBDIR_ENDING) {
                char *to;
                if (asprintf(&to, "%s+ending", *jobdir) < 0)
                        return -ENOMEM;
                if ((r = rename_owned(*jobdir, to)) < 0) {
                        free(to);
                        return r == -ENOENT ? -ESTALE : r;
                }
                free(*jobdir);
                *jobdir = to;
                base = path_basename(*jobdir);
        }
        /* twice: a directory renamed while readdir() runs may be missed by it */
        for (int pass = 0; pass < 2; pass++)
                if ((r = supersede_older(s, base, name, on_superseded, userdata)) < 0)
                        return r;
        return 0;
}

int spool_name_in_flight(struct spool *s, const char *name) {
        DIR *d = opendir(s->jobs);
        if (!d)
                return -errno;
        int r = 0;
        struct dirent *de;
        while (r == 0 && (de = readdir(d))) {
                struct jobid id;
                if (de->d_name[0] == '.' || jobid_parse(de->d_name, &id) < 0 || id.state == JOBDIR_SUPERSEDED)
                        continue;
                _cleanup_free_ char *dir = path_join(s->jobs, de->d_name), *other = NULL;
                if (!dir)
                        r = -ENOMEM;
                else if (job_name_of(dir, &other) >= 0 && streq(other, name))
                        r = 1;
        }
        (void) closedir(d);
        return r;
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

        /* our tarball first: when our job directory was taken from us (a stall past the
         * lease), nothing of the taker's outputs may go */
        struct stat st;
        if (lstat(tarball, &st) < 0)
                return -errno;
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
        /* our bundle first: when our job directory was taken from us (a stall past the
         * lease), nothing of the taker's outputs may go */
        struct stat st;
        if (lstat(src, &st) < 0)
                return -errno;
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
