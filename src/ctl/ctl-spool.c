/* ctl-spool.c - the spool as codegenctl sees it; see ctl-spool.h. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ctl-spool.h"
#include "format/bundle-name.h"
#include "format/diag.h"
#include "format/doc.h"
#include "format/node.h"
#include "shared/fs.h"
#include "shared/macro.h"

#define REPORT_MAX (8u << 20)

const char *ctl_state_name(enum ctl_state s) {
        static const char *const names[] = { "queued", "running", "done", "failed" };
        return s < _CTL_STATE_MAX ? names[s] : "unknown";
}

void ctl_spool_close(struct ctl_spool *sp) {
        free(sp->root);
        free(sp->inbox);
        free(sp->outbox);
        free(sp->failed);
        free(sp->jobs);
        free(sp->cancel);
        *sp = (struct ctl_spool) {};
}

int ctl_spool_open(struct ctl_spool *sp, const char *root) {
        *sp = (struct ctl_spool) {
                .root = strdup(root),
                .inbox = path_join(root, "inbox"),
                .outbox = path_join(root, "outbox"),
                .failed = path_join(root, "failed"),
                .jobs = path_join(root, ".codegend/jobs"),
                .cancel = path_join(root, ".codegend/cancel"),
        };
        if (!sp->root || !sp->inbox || !sp->outbox || !sp->failed || !sp->jobs || !sp->cancel) {
                ctl_spool_close(sp);
                return -ENOMEM;
        }
        if (!is_dir(sp->inbox)) {
                ctl_spool_close(sp);
                return -ENOTDIR;
        }
        return 0;
}

void ctl_job_clear(struct ctl_job *j) {
        free(j->name);
        free(j->entry);
        free(j->path);
        free(j->started_at);
        free(j->finished_at);
        free(j->stage);
        *j = (struct ctl_job) { .duration_s = -1 };
}

void ctl_jobs_free(struct ctl_job *v, size_t n) {
        for (size_t i = 0; i < n; i++)
                ctl_job_clear(&v[i]);
        free(v);
}

struct jobvec {
        struct ctl_job *v;
        size_t n, alloc;
};

/* Appends one sighting; takes name, entry and path (freed on failure). */
static int jobvec_add(struct jobvec *jv, enum ctl_state state, char *name, char *entry, char *path,
                      int64_t since) {
        if (!name || !path) {
                free(name);
                free(entry);
                free(path);
                return -ENOMEM;
        }
        if (jv->n == jv->alloc) {
                size_t alloc = jv->alloc ? jv->alloc * 2 : 32;
                struct ctl_job *v = realloc(jv->v, alloc * sizeof(*v));
                if (!v) {
                        free(name);
                        free(entry);
                        free(path);
                        return -ENOMEM;
                }
                jv->v = v;
                jv->alloc = alloc;
        }
        jv->v[jv->n++] = (struct ctl_job) { .name = name, .state = state, .entry = entry,
                                            .path = path, .since = since, .duration_s = -1 };
        return 0;
}

static int64_t mtime_of(const struct stat *st) {
        return (int64_t) st->st_mtim.tv_sec;
}

static int scan_inbox(const struct ctl_spool *sp, const char *only, struct jobvec *jv) {
        DIR *d = opendir(sp->inbox);
        if (!d)
                return -errno;
        int r = 0;
        struct dirent *de;
        while (r >= 0 && (de = readdir(d))) {
                struct stat st;
                char *name = NULL;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue; /* claimed meanwhile */
                if (bundle_classify(de->d_name, S_ISDIR(st.st_mode), NULL, &name) <= 0)
                        continue;
                if (only && !streq(name, only)) {
                        free(name);
                        continue;
                }
                r = jobvec_add(jv, CTL_QUEUED, name, strdup(de->d_name), path_join(sp->inbox, de->d_name),
                               mtime_of(&st));
        }
        (void) closedir(d);
        return r;
}

static int scan_running(const struct ctl_spool *sp, const char *only, struct jobvec *jv) {
        DIR *d = opendir(sp->jobs);
        if (!d)
                return errno == ENOENT ? 0 : -errno; /* no daemon has run here yet */
        int r = 0;
        struct dirent *de;
        while (r >= 0 && (de = readdir(d))) {
                /* "ID+superseded": a job a newer one of its name replaced, being removed */
                if (de->d_name[0] == '.' || endswith(de->d_name, "+superseded"))
                        continue;
                _cleanup_free_ char *bundledir = NULL;
                if (asprintf(&bundledir, "%s/%s/bundle", sp->jobs, de->d_name) < 0)
                        return (void) closedir(d), -ENOMEM;
                DIR *b = opendir(bundledir);
                if (!b)
                        continue; /* finished meanwhile, or a claim in progress */
                struct stat bst;
                int64_t since = fstat(dirfd(b), &bst) == 0 ? mtime_of(&bst) : 0;
                struct dirent *be;
                while ((be = readdir(b))) {
                        struct stat st;
                        char *name = NULL;
                        if (be->d_name[0] == '.' ||
                            fstatat(dirfd(b), be->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                                continue;
                        /* a claimed entry that is no bundle fails at once: it keeps its name */
                        if (bundle_classify(be->d_name, S_ISDIR(st.st_mode), NULL, &name) <= 0 &&
                            !(name = strdup(be->d_name))) {
                                r = -ENOMEM;
                                break;
                        }
                        if (only && !streq(name, only)) {
                                free(name);
                                break;
                        }
                        r = jobvec_add(jv, CTL_RUNNING, name, strdup(be->d_name),
                                       path_join(bundledir, be->d_name), since);
                        break;
                }
                (void) closedir(b);
        }
        (void) closedir(d);
        return r;
}

/* outbox/NAME.metrics.yaml or failed/NAME.error.yaml */
static int scan_reports(const char *dir, const char *suffix, enum ctl_state state, const char *only,
                        struct jobvec *jv) {
        DIR *d = opendir(dir);
        if (!d)
                return errno == ENOENT ? 0 : -errno;
        int r = 0;
        struct dirent *de;
        while (r >= 0 && (de = readdir(d))) {
                struct stat st;
                size_t len = strlen(de->d_name);
                if (de->d_name[0] == '.' || !endswith(de->d_name, suffix) || len == strlen(suffix) ||
                    (only && (len - strlen(suffix) != strlen(only) || strncmp(de->d_name, only, strlen(only)) != 0)) ||
                    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
                        continue;
                r = jobvec_add(jv, state, strndup(de->d_name, len - strlen(suffix)), NULL,
                               path_join(dir, de->d_name), mtime_of(&st));
        }
        (void) closedir(d);
        return r;
}

static char *scalar_dup(const struct node *map, const char *key) {
        const struct node *n = node_get(map, key);
        return n && n->kind == NODE_SCALAR && !node_is_null(n) ? strdup(n->value) : NULL;
}

/* Times and stage from a finished job's report; a report that cannot be read leaves them
 * unknown (the file's own time stays in since). */
static void read_report(struct ctl_job *j) {
        _cleanup_free_ char *text = NULL;
        _cleanup_node_ struct node *root = NULL;
        struct diags d = DIAGS_INIT;
        size_t len;
        if (read_file_bounded(j->path, REPORT_MAX, &text, &len) < 0 ||
            doc_parse_yaml(text, len, j->path, &root, &d) < 0 || !root || root->kind != NODE_MAP) {
                diags_clear(&d);
                return;
        }
        diags_clear(&d);
        if (j->state == CTL_FAILED)
                j->stage = scalar_dup(root, "stage");
        /* an error report has its times in its partial metrics, when generation started */
        const struct node *metrics = node_get(root, "metrics");
        const struct node *times = metrics && metrics->kind == NODE_MAP ? metrics : root;
        j->started_at = scalar_dup(times, "started_at");
        j->finished_at = scalar_dup(times, "finished_at");
        const struct node *dur = node_get(times, "duration_s");
        double x;
        if (dur && node_as_double(dur, &x) == 0)
                j->duration_s = x;
}

static int cmp_name_state(const void *a, const void *b) {
        const struct ctl_job *x = a, *y = b;
        int c = strcmp(x->name, y->name);
        return c ? c : (int) x->state - (int) y->state;
}

static int cmp_state_name(const void *a, const void *b) {
        const struct ctl_job *x = a, *y = b;
        return x->state != y->state ? (int) x->state - (int) y->state : strcmp(x->name, y->name);
}

/* The jobs of the spool, or only the one named only. */
static int collect(const struct ctl_spool *sp, const char *only, struct ctl_job **ret, size_t *ret_n) {
        struct jobvec jv = {};
        int r;
        /* inbox before jobs before reports: a job moving on while we look is seen in its
         * later state, never missed */
        if ((r = scan_inbox(sp, only, &jv)) < 0 || (r = scan_running(sp, only, &jv)) < 0 ||
            (r = scan_reports(sp->outbox, ".metrics.yaml", CTL_DONE, only, &jv)) < 0 ||
            (r = scan_reports(sp->failed, ".error.yaml", CTL_FAILED, only, &jv)) < 0) {
                ctl_jobs_free(jv.v, jv.n);
                return r;
        }
        if (jv.n)
                qsort(jv.v, jv.n, sizeof(*jv.v), cmp_name_state);
        /* one record per name: the earliest state; between done and failed the newer */
        size_t out = 0;
        for (size_t i = 0; i < jv.n;) {
                size_t k = i + 1;
                size_t best = i;
                while (k < jv.n && streq(jv.v[k].name, jv.v[i].name)) {
                        struct ctl_job *b = &jv.v[best], *c = &jv.v[k];
                        if (b->state >= CTL_DONE && c->state >= CTL_DONE && c->since > b->since)
                                best = k;
                        k++;
                }
                for (size_t m = i; m < k; m++)
                        if (m != best)
                                ctl_job_clear(&jv.v[m]);
                jv.v[out++] = jv.v[best];
                i = k;
        }
        for (size_t i = 0; i < out; i++) {
                struct ctl_job *j = &jv.v[i];
                if (j->state < CTL_DONE)
                        continue;
                read_report(j);
                if (j->state == CTL_FAILED && ctl_failed_entry(sp, j->name, &j->entry) == -ENOMEM) {
                        ctl_jobs_free(jv.v, out);
                        return -ENOMEM;
                }
        }
        if (out)
                qsort(jv.v, out, sizeof(*jv.v), cmp_state_name);
        *ret = jv.v;
        *ret_n = out;
        return 0;
}

int ctl_list(const struct ctl_spool *sp, struct ctl_job **ret, size_t *ret_n) {
        return collect(sp, NULL, ret, ret_n);
}

int ctl_find(const struct ctl_spool *sp, const char *name, struct ctl_job *ret) {
        struct ctl_job *v;
        size_t n;
        int r = collect(sp, name, &v, &n);
        if (r < 0)
                return r;
        r = -ENOENT;
        for (size_t i = 0; i < n; i++)
                if (streq(v[i].name, name)) {
                        *ret = v[i];
                        v[i] = (struct ctl_job) {};
                        r = 0;
                        break;
                }
        ctl_jobs_free(v, n);
        return r;
}

int ctl_failed_entry(const struct ctl_spool *sp, const char *name, char **ret_entry) {
        DIR *d = opendir(sp->failed);
        if (!d)
                return -errno;
        int r = -ENOENT;
        struct dirent *de;
        while ((de = readdir(d))) {
                struct stat st;
                _cleanup_free_ char *n = NULL;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
                    bundle_classify(de->d_name, S_ISDIR(st.st_mode), NULL, &n) <= 0 || !streq(n, name))
                        continue;
                *ret_entry = strdup(de->d_name);
                r = *ret_entry ? 0 : -ENOMEM;
                break;
        }
        (void) closedir(d);
        return r;
}
