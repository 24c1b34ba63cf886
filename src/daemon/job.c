/* job.c - one job's life in the parent; see job.h.
 *
 * Diagnostics about the bundle are collected in j->diags and end in the error report;
 * faults of the daemon itself (ENOMEM, a full disk) are logged here, at the place that
 * decides to fail the job, and also end in the report so the job never vanishes.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "backend/model/limits.h"
#include "bundle/intake.h"
#include "job.h"
#include "manager.h"
#include "output/report.h"
#include "shared/fs.h"
#include "shared/log.h"
#include "shared/macro.h"
#include "worker.h"

#define USEC_PER_SEC UINT64_C(1000000)

static uint64_t now_usec(clockid_t clock) {
        struct timespec ts;
        if (clock_gettime(clock, &ts) < 0)
                return 0;
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000;
}

int job_new(struct manager *m, const char *jobdir, struct job **ret) {
        struct job *j = calloc(1, sizeof(*j));
        if (!j)
                return -ENOMEM;
        j->manager = m;
        j->settings = m->settings;
        j->schedule = m->settings->schedule;
        j->priority = SCHED_PRIORITY_DEFAULT;
        j->model_provider = -1;
        j->diags = (struct diags) DIAGS_INIT;
        j->started_realtime = now_usec(CLOCK_REALTIME);
        j->started_usec = now_usec(CLOCK_MONOTONIC);
        j->dir = strdup(jobdir);
        if (!j->dir) {
                free(j);
                return -ENOMEM;
        }
        *ret = j;
        return 0;
}

static void atom_run_clear(struct atom_run *r) {
        r->child = sd_event_source_disable_unref(r->child);
        r->timer = sd_event_source_disable_unref(r->timer);
        free(r->error);
        r->error = NULL;
        node_free(r->syntax_list);
        r->syntax_list = NULL;
        node_free(r->refused);
        r->refused = NULL;
}

void job_free(struct job *j) {
        if (!j)
                return;
        if (j->runs)
                for (size_t i = 0; i < j->dag->n_atoms; i++)
                        atom_run_clear(&j->runs[i]);
        free(j->runs);
        free(j->chain);
        if (j->prepared)
                j->backend->unprepare(j->prepared);
        sd_event_source_disable_unref(j->child_src);
        sd_event_source_disable_unref(j->child_timer);
        sd_event_source_disable_unref(j->kick);
        sd_event_source_disable_unref(j->fail_retry);
        sd_event_source_disable_unref(j->end_retry);
        bundle_free(j->bundle);
        spec_free(j->spec);
        dag_free(j->dag);
        diags_clear(&j->diags);
        node_free(j->content);
        free(j->tarball_sha256);
        free(j->model);
        free(j->dir);
        free(j->entry);
        free(j->name);
        free(j);
}

void job_kill(struct job *j, int sig) {
        if (j->runs)
                for (size_t i = 0; i < j->dag->n_atoms; i++)
                        if (j->runs[i].state == RUN_RUNNING && j->runs[i].pid > 0)
                                (void) kill(j->runs[i].pid, sig);
        if (j->child_pid > 0)
                (void) kill(j->child_pid, sig);
}

const char *job_stage_name(const struct job *j) {
        static const char *const names[] = { "intake", "validation", "generation", "packaging" };
        return j->cancelled ? "cancelled" : names[j->stage];
}

int job_report_view(const struct job *j, struct report_job *ret) {
        struct report_job rj = {
                .name = j->name,
                .entry = j->entry,
                .backend = j->backend ? j->backend->name : NULL,
                .model_backend = j->backend && !j->backend->deterministic,
                .model = j->model,
                .dag = j->dag,
                .started_realtime = j->started_realtime,
                .started_usec = j->started_usec,
                .schedule = schedule_mode_name(j->schedule),
                .priority = j->priority,
                .finished_realtime = j->finished_realtime,
                .duration_s = j->finished_usec > j->started_usec ?
                        (double) (j->finished_usec - j->started_usec) / 1e6 : 0,
                .content = j->content,
                .tarball_bytes = j->tarball_bytes,
                .tarball_sha256 = j->tarball_sha256,
                .diags = &j->diags,
        };
        settings_thresholds(j->settings, &rj.thresholds);
        if (j->runs) {
                rj.atoms = calloc(j->dag->n_atoms, sizeof(*rj.atoms));
                if (!rj.atoms)
                        return -ENOMEM;
                for (size_t i = 0; i < j->dag->n_atoms; i++) {
                        const struct atom_run *run = &j->runs[i];
                        rj.atoms[i] = (struct report_atom) {
                                .state = run->state,
                                .attempts = run->attempts,
                                .start_usec = run->start_usec,
                                .end_usec = run->end_usec,
                                .work_usec = run->work_usec,
                                .error = run->error,
                                .loc = run->loc,
                                .syntax_errors = run->syntax_errors,
                                .syntax_list = run->syntax_list,
                                .usage = run->usage,
                                .backend = run->backend,
                                .syntax_errors_before = run->syntax_errors_before,
                                .repair_calls = run->repair_calls,
                                .refused = run->refused,
                                .cache = run->cache,
                                .cached_usage = run->cached_usage,
                        };
                }
        }
        *ret = rj;
        return 0;
}

/* What a child of this job needs of the daemon (worker.h). */
static void worker_env_init(struct worker_env *env, const struct job *j) {
        const struct manager *m = j->manager;
        *env = (struct worker_env) {
                .parent = m->pid,
                .lock_fd = m->spool.lock_fd,
                .cpu_seconds = j->settings->worker_cpu_seconds,
                .memory = j->settings->worker_memory,
                .output_bytes = j->settings->worker_output_bytes,
                .cache_dir = j->cache && j->backend && j->backend->cache_key ? m->spool.cache : NULL,
        };
        settings_thresholds(j->settings, &env->thresholds);
}

#define SUPERSEDED_MARKER "superseded"

/* Drops a job that a newer job of the same name has replaced, or that another daemon has
 * taken over: nothing of it is published. */
static void job_discard(struct job *j) {
        j->finished = true;
        j->succeeded = false;
        j->finished_realtime = now_usec(CLOCK_REALTIME);
        j->finished_usec = now_usec(CLOCK_MONOTONIC);
        if (j->lost) {
                log_notice("%s: taken over by another daemon (its lease here was not renewed in time): "
                           "dropped here", j->name ? j->name : j->dir);
                return; /* the directory is the taker's now */
        }
        int r = spool_job_remove(j->dir);
        if (r < 0)
                log_warning_errno(r, "%s: failed to remove %s: %m", j->name, j->dir);
        log_notice("%s: dropped: a newer job of the same name (claimed later) ended first", j->name);
}

static int on_kick(sd_event_source *s, void *userdata);

/* spool_end_begin() renamed OLD, an older job of the same name, to NEW: when it is one of
 * ours it is stopped now, and dropped as soon as its children are gone. */
static void on_superseded(void *userdata, const char *old, const char *new) {
        struct manager *m = userdata;
        for (struct job *o = m->jobs; o; o = o->next) {
                if (o->finished || !streq(o->dir, old))
                        continue;
                char *dir = strdup(new);
                if (dir) {
                        free(o->dir);
                        o->dir = dir;
                } else
                        o->lost = true; /* its directory is gone from where we know it */
                o->superseded = true;
                job_kill(o, SIGKILL);
                if (!o->kick && sd_event_add_defer(m->event, &o->kick, on_kick, o) < 0)
                        log_error("%s: cannot schedule the job's end", o->name);
        }
}

/* The directory J held is gone: superseded by a newer job of its name (another daemon
 * renamed it to "+superseded"), or taken over by another daemon. */
static void job_note_lost(struct job *j) {
        _cleanup_free_ char *sup = NULL;
        struct stat st;
        if (asprintf(&sup, "%s+superseded", j->dir) >= 0 && lstat(sup, &st) == 0) {
                free(j->dir);
                j->dir = TAKE_PTR(sup);
                j->superseded = true;
        } else
                j->lost = true;
}

void job_lost(struct job *j) {
        if (j->finished || job_dropped(j))
                return;
        job_note_lost(j);
        job_kill(j, SIGKILL);
        /* it ends when its children are reaped, or from the loop */
        if (!j->kick && sd_event_add_defer(j->manager->event, &j->kick, on_kick, j) < 0)
                log_error("%s: cannot schedule the job's end", j->name ? j->name : j->dir);
}

static void job_publish(struct job *j);
static void job_fail(struct job *j);

static int on_end_retry(sd_event_source *s, uint64_t usec, void *userdata) {
        struct job *j = userdata;
        struct manager *m = j->manager;
        j->end_retry = sd_event_source_disable_unref(j->end_retry);
        if (j->succeeded)
                job_publish(j);
        else
                job_fail(j);
        if (j->finished)
                manager_job_done(m, j);
        return 0;
}

static int on_fail_retry(sd_event_source *s, uint64_t usec, void *userdata) {
        struct job *j = userdata;
        struct manager *m = j->manager;
        j->fail_retry = sd_event_source_disable_unref(j->fail_retry);
        job_fail(j);
        if (j->finished)
                manager_job_done(m, j);
        return 0;
}

/* A fault of the machine (a full disk, an I/O error, no memory) keeps a failed job from
 * being recorded: it waits, in memory and in the state area, and is tried again with a
 * back-off from 1 s to a minute, so it ends as soon as the fault is gone rather than at
 * the next start. manager_job_done() leaves a job that is not finished alone. */
static void job_fail_later(struct job *j, int error, const char *what) {
        j->finished = false;
        j->fail_delay = j->fail_delay == 0 ? 1 : j->fail_delay >= 30 ? 60 : j->fail_delay * 2;
        log_error_errno(error, "%s: %s; trying again in %u s: %m", j->name, what, j->fail_delay);
        if (j->fail_retry)
                return; /* armed already */
        int r = sd_event_add_time_relative(j->manager->event, &j->fail_retry, CLOCK_MONOTONIC,
                                           j->fail_delay * USEC_PER_SEC, 0, on_fail_retry, j);
        if (r < 0) {
                log_error_errno(r, "%s: cannot arm the retry; the job stays in the state area and "
                                "runs again at the next start: %m", j->name);
                j->finished = true;
        }
}

#define END_RETRY_USEC (200 * UINT64_C(1000))

/* Jobs of one name end in the order they were claimed, on every daemon of the spool
 * (spool_end_begin()). 0: go ahead and publish or fail; 1: an older job of the name is
 * ending, J waits (tried again from a timer); -ESTALE: J is no longer ours and has been
 * dropped (finished); another negative errno: a fault (the caller decides). */
static int job_end_gate(struct job *j) {
        struct manager *m = j->manager;
        int r = spool_end_begin(&m->spool, &j->dir, j->name, on_superseded, m);
        if (r == -EAGAIN) {
                j->end_waiting = true;
                if (!j->end_retry)
                        r = sd_event_add_time_relative(m->event, &j->end_retry, CLOCK_MONOTONIC,
                                                       END_RETRY_USEC, 0, on_end_retry, j);
                else
                        r = 0;
                if (r < 0)
                        return r;
                log_debug("%s: an older job of the same name is ending first: waiting", j->name);
                return 1;
        }
        j->end_waiting = false;
        /* the lease renewed right before the outputs are touched: the directory is still
         * ours (a daemon stalled past its lease, SIGSTOP, finds it taken here), and the
         * publication has a whole lease and its grace before anyone may take the job */
        if (r >= 0 && lease_write(j->dir, &m->spool.self, m->spool.lease_seconds) == -ENOENT)
                r = -ESTALE;
        if (r == -ESTALE) {
                job_note_lost(j);
                job_discard(j);
        }
        return r;
}

/* Ends the job in failed/ with everything known about why. */
static void job_fail(struct job *j) {
        struct manager *m = j->manager;
        if (job_dropped(j)) {
                job_discard(j);
                return;
        }
        j->succeeded = false;
        if (!j->end_waiting) {
                j->finished_realtime = now_usec(CLOCK_REALTIME);
                j->finished_usec = now_usec(CLOCK_MONOTONIC);
        }

        _cleanup_free_ char *report = NULL;
        size_t len = 0;
        struct report_job rj;
        int r = job_report_view(j, &rj);
        if (r >= 0) {
                r = report_error(&rj, job_stage_name(j), &report, &len);
                report_job_clear(&rj);
        }
        if (r < 0) {
                job_fail_later(j, r, "failed to build the error report");
                return;
        }
        r = job_end_gate(j);
        if (r > 0 || (r < 0 && j->finished))
                return; /* waits for an older job of its name, or dropped */
        j->finished = true;
        if (r < 0) {
                job_fail_later(j, r, "failed to order the job after older jobs of the same name");
                return;
        }
        _cleanup_free_ char *other = NULL;
        r = spool_fail(&m->spool, j->dir, j->name, j->entry, report, len);
        if (r < 0) {
                /* a cause tied to the name would fail the same way at every start: place it
                 * under a free name instead of leaving a poison job in the state area */
                log_error_errno(r, "%s: failed to move the job to failed/ (trying a free name): %m", j->name);
                _cleanup_free_ char *src = job_bundle_path(j);
                r = src ? spool_fail_unique(&m->spool, src, j->entry, report, len, &other) : -ENOMEM;
                if (r < 0) {
                        job_fail_later(j, r, "failed to move the job to failed/");
                        return;
                }
                log_warning("%s: placed in failed/ as %s (the manager logs the job's end)", j->name, other);
        }
        (void) spool_job_remove(j->dir); /* the manager logs the job's end */
}

/* A fault of the daemon's own while handling a job: it is reported like a bad bundle. */
static int job_fault(struct job *j, int r, const char *what) {
        log_error_errno(r, "%s: %s: %m", j->name ? j->name : j->dir, what);
        errno = -r;
        (void) diags_add(&j->diags, NULL, 0, 0, NULL, "%s: %m", what);
        return r;
}

/* A job option that is a number >= 0: a budget (0: none). */
static int option_number(struct job *j, const struct node *k, const struct node *v, bool integer,
                         double *ret) {
        long long i;
        double x;
        if (integer ? node_as_int(v, &i) < 0 || i < 0 : node_as_double(v, &x) < 0 || x < 0)
                return diags_add(&j->diags, j->bundle->options_file, v->line, v->column, k->value,
                                 "'%s' must be %s >= 0", k->value, integer ? "an integer" : "a number");
        *ret = integer ? (double) i : x;
        return 0;
}

/* The scheduling options (sched.h): `schedule: dag|waves`, `priority: 1..100`. */
static int job_sched_option(struct job *j, const char *file, const char *key, const struct node *v) {
        if (streq(key, "schedule")) {
                int mode = node_is_string(v) ? schedule_mode_from_name(v->value) : -EINVAL;
                if (mode < 0)
                        return diags_add(&j->diags, file, v->line, v->column, key,
                                         "'schedule' must be dag or waves");
                j->schedule = (enum schedule_mode) mode;
                return 0;
        }
        long long p;
        if (v->kind != NODE_SCALAR || node_as_int(v, &p) < 0 || p < SCHED_PRIORITY_MIN ||
            p > SCHED_PRIORITY_MAX)
                return diags_add(&j->diags, file, v->line, v->column, key,
                                 "'priority' must be an integer from %d to %d", SCHED_PRIORITY_MIN,
                                 SCHED_PRIORITY_MAX);
        j->priority = (unsigned) p;
        return 0;
}

static int job_load_options(struct job *j, const struct settings *s) {
        const struct node *o = j->bundle->options;
        const char *file = j->bundle->options_file;
        const char *backend = s->backend ? s->backend : "pattern";
        const char *model = s->model;
        const struct node *where = NULL; /* the options' backend: key, for the diagnostic */
        const char *hybrid = s->hybrid_model_backend ? s->hybrid_model_backend : "anthropic";
        const struct node *hybrid_where = NULL;
        double calls = s->max_calls, tokens = (double) s->max_tokens;
        int r = 0;

        j->budget = (struct gen_budget) { .max_cost_usd = s->max_cost_usd };
        j->repair = s->repair;
        j->cache = s->cache;
        if (o && !node_is_null(o)) {
                if (o->kind != NODE_MAP)
                        return diags_add(&j->diags, file, o->line, o->column, "options",
                                         "job options must be a mapping");
                for (size_t i = 0; i < o->n && r >= 0; i++) {
                        const struct node *k = o->keys[i], *v = o->items[i];
                        if (streq(k->value, "backend") || streq(k->value, "model") ||
                            streq(k->value, "model_backend")) {
                                if (!node_is_string(v))
                                        r = diags_add(&j->diags, file, v->line, v->column, k->value,
                                                      "'%s' must be a string", k->value);
                                else if (streq(k->value, "backend"))
                                        backend = v->value, where = v;
                                else if (streq(k->value, "model_backend"))
                                        hybrid = v->value, hybrid_where = v;
                                else
                                        model = v->value;
                        } else if (streq(k->value, "max_cost_usd"))
                                r = option_number(j, k, v, false, &j->budget.max_cost_usd);
                        else if (streq(k->value, "max_tokens"))
                                r = option_number(j, k, v, true, &tokens);
                        else if (streq(k->value, "max_calls"))
                                r = option_number(j, k, v, true, &calls);
                        else if (streq(k->value, "repair") || streq(k->value, "cache")) {
                                bool b;
                                if (node_as_bool(v, &b) < 0)
                                        r = diags_add(&j->diags, file, v->line, v->column, k->value,
                                                      "'%s' must be true or false", k->value);
                                else if (streq(k->value, "repair"))
                                        j->repair = b;
                                else
                                        j->cache = j->cache && b; /* --no-cache wins */
                        }
                        else if (streq(k->value, "schedule") || streq(k->value, "priority"))
                                r = job_sched_option(j, file, k->value, v);
                        else if (strncmp(k->value, "x-", 2) != 0)
                                r = diags_add(&j->diags, file, k->line, k->column, k->value,
                                              "unknown key '%s' in job options (known: backend, model, "
                                              "model_backend, max_cost_usd, max_tokens, max_calls, repair, "
                                              "cache, schedule, priority)", k->value);
                }
        }
        if (r < 0)
                return r;
        j->budget.max_tokens = (uint64_t) tokens;
        j->budget.max_calls = calls > UINT_MAX ? UINT_MAX : (unsigned) calls;
        j->backend = backend_find(backend);
        if (!j->backend)
                return diags_add(&j->diags, where ? file : NULL, where ? where->line : 0,
                                 where ? where->column : 0, where ? "backend" : NULL,
                                 "unknown backend '%s' (this build has: pattern, anthropic, openai, hybrid)", backend);
        if (j->backend == &backend_hybrid && !streq(hybrid, "anthropic") && !streq(hybrid, "openai"))
                return diags_add(&j->diags, hybrid_where ? file : NULL, hybrid_where ? hybrid_where->line : 0,
                                 hybrid_where ? hybrid_where->column : 0, hybrid_where ? "model_backend" : NULL,
                                 "hybrid's model backend must be anthropic or openai, not '%s'", hybrid);
        j->hybrid_model = streq(hybrid, "anthropic") ? "anthropic" : "openai";
        /* a model backend's own default model, so that the report names the one used */
        const char *mb = j->backend == &backend_hybrid ? j->hybrid_model : j->backend->name;
        if (!model && streq(mb, "anthropic"))
                model = s->anthropic.model;
        else if (!model && streq(mb, "openai"))
                model = s->openai.model;
        if (model && !(j->model = strdup(model)))
                return -ENOMEM;
        return 0;
}

static int job_validate(struct job *j) {
        const struct settings *s = j->settings;
        int r;

        r = job_load_options(j, s);
        if (r < 0)
                return r;
        r = spec_from_node(j->bundle->spec, j->bundle->spec_file, &j->spec, &j->diags);
        if (r < 0 && r != -EINVAL)
                return r;
        if (j->bundle->dag) {
                r = dag_from_node(j->bundle->dag, j->bundle->dag_file, &j->dag, &j->diags);
                if (r < 0 && r != -EINVAL)
                        return r;
        } else if (j->spec) {
                r = plan_from_spec(j->spec, &j->dag);
                if (r < 0)
                        return r;
        }
        if (!j->spec || !j->dag)
                return 0;
        const char *dag_file = j->bundle->dag ? j->bundle->dag_file : "(planned)";
        r = dag_check(j->dag, j->spec, dag_file, s->max_atoms, &j->diags);
        if (r < 0 && r != -EINVAL)
                return r;
        if (j->diags.n > 0 || !j->backend)
                return 0;
        j->bopts = (struct backend_options) {
                .datadir = s->datadir,
                .patterns_dir = s->patterns_dir,
                .model = j->model,
                .prompts_dir = s->prompts_dir,
                .anthropic = &s->anthropic,
                .openai = &s->openai,
                .limits = j->manager->limits,
                .daily_cost_usd = s->daily_cost_usd,
                .budget = j->budget,
                .hybrid_model = j->hybrid_model,
                .repair = j->repair,
                .repair_attempts = s->repair_attempts,
        };
        r = j->backend->check(&j->bopts, j->spec, j->dag, dag_file, &j->diags);
        if (r < 0 && r != -EINVAL)
                return r;
        return 0;
}

static int job_make_workdirs(struct job *j) {
        static const char *const dirs[] = { "frags", "results", "project", "out", "scratch" };
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                _cleanup_free_ char *p = path_join(j->dir, dirs[i]);
                if (!p)
                        return -ENOMEM;
                /* a resumed job starts over: what an earlier run left is discarded */
                int r = rm_rf(p);
                if (r < 0)
                        return r;
                if (!streq(dirs[i], "scratch") && mkdir(p, 0755) < 0)
                        return -errno;
        }
        return 0;
}

static bool is_dir_entry(const struct job *j) {
        _cleanup_free_ char *p = job_bundle_path(j);
        struct stat st;
        return p && lstat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static struct intake_limits job_limits(const struct job *j) {
        const struct settings *s = j->settings;
        return (struct intake_limits) {
                .max_bundle_bytes = s->max_bundle_bytes,
                .max_entries = s->max_archive_entries,
                .max_unpacked_bytes = s->max_unpacked_bytes,
                .max_doc_bytes = s->max_document_bytes,
        };
}

char *job_bundle_path(const struct job *j) {
        char *p;
        if (asprintf(&p, "%s/bundle/%s", j->dir, j->entry) < 0)
                return NULL;
        return p;
}

/* Which atoms wait on a model (the backend's model_atoms()) and the slots they share:
 * their provider's `concurrency` (sched.h). */
static int job_model_slots(struct job *j) {
        const struct settings *s = j->settings;
        if (!j->backend->model_atoms)
                return 0;
        _cleanup_free_ bool *model = calloc(j->dag->n_atoms ? j->dag->n_atoms : 1, sizeof(bool));
        if (!model)
                return -ENOMEM;
        int r = j->backend->model_atoms(&j->bopts, j->spec, j->dag, model);
        if (r < 0)
                return r;
        const struct model_provider *p =
                model_provider_find(j->backend == &backend_hybrid ? j->hybrid_model : j->backend->name);
        if (!p)
                return -EINVAL;
        const struct model_settings *ms = p == &model_anthropic ? &s->anthropic : &s->openai;
        j->model_provider = (int) model_provider_index(p);
        j->model_slots = ms->concurrency && ms->concurrency < LIMITS_MAX_SLOTS ? ms->concurrency : LIMITS_MAX_SLOTS;
        for (size_t i = 0; i < j->dag->n_atoms; i++)
                j->runs[i].model = model[i];
        return 0;
}

/* Reads the bundle's documents (an archive: from the child's unpacking), validates and
 * plans; on any problem the job is failed. */
static void job_load(struct job *j, bool unpacked) {
        const struct intake_limits lim = job_limits(j);
        _cleanup_free_ char *path = job_bundle_path(j), *scratch = path_join(j->dir, "scratch");
        int r;

        if (!path || !scratch) {
                job_fault(j, -ENOMEM, "failed to read the bundle");
                job_fail(j);
                return;
        }
        r = unpacked ? bundle_load_unpacked(path, j->form, j->name, scratch, &lim, &j->bundle, &j->diags)
                     : bundle_load(path, j->form, j->name, scratch, &lim, &j->bundle, &j->diags);
        if (r < 0) {
                if (r != -EINVAL)
                        job_fault(j, r, "failed to read the bundle");
                job_fail(j);
                return;
        }

        j->stage = STAGE_VALIDATION;
        r = job_validate(j);
        if (r < 0)
                job_fault(j, r, "failed to validate the bundle");
        if (r < 0 || j->diags.n > 0) {
                job_fail(j);
                return;
        }

        j->runs = calloc(j->dag->n_atoms, sizeof(*j->runs));
        if (!j->runs || sched_chains(j->dag, &j->manager->kind_times, &j->chain) < 0) {
                job_fault(j, -ENOMEM, "failed to plan the job");
                job_fail(j);
                return;
        }
        for (size_t i = 0; i < j->dag->n_atoms; i++)
                j->runs[i].syntax_errors_before = -1;
        r = job_model_slots(j);
        /* what every atom would derive again from the whole job, once (backend.h) */
        if (r >= 0 && j->backend->prepare) {
                r = j->backend->prepare(&j->bopts, j->spec, j->dag, &j->prepared);
                /* the temporaries of building it go back to the kernel: every fork copies
                 * the page tables of what the parent keeps mapped */
                (void) malloc_trim(0);
        }
        if (r < 0) {
                job_fault(j, r, "failed to plan the job");
                job_fail(j);
                return;
        }
        j->stage = STAGE_GENERATION;
        log_info("%s: %zu atoms in %zu waves, backend %s, schedule %s, priority %u", j->name,
                 j->dag->n_atoms, j->dag->n_waves, j->backend->name, schedule_mode_name(j->schedule),
                 j->priority);
}

/* Reaps an exited child now and drops its event source, so that the source's descriptor
 * (a pidfd) is released as the child ends, not when its job ends; a kept source would
 * also hold the pid, and once the kernel hands that pid to a new worker (pid_max wraps),
 * sd_event_add_child() refuses it with EBUSY. sd-event's own reaping after the handler
 * then finds nothing. */
static sd_event_source *child_release(sd_event_source *src, const siginfo_t *si) {
        siginfo_t reaped;
        if (si->si_pid > 0)
                (void) waitid(P_PID, (id_t) si->si_pid, &reaped, WEXITED | WNOHANG);
        return sd_event_source_disable_unref(src);
}

static int on_child_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        struct job *j = userdata;
        if (j->child_pid > 0) {
                j->child_timed_out = true;
                (void) kill(j->child_pid, SIGKILL);
        }
        return 0;
}

/* A child we failed to watch could never be reaped: kill it and stop the daemon loudly;
 * what is "child" or "worker". */
static int watch_failed(struct job *j, pid_t pid, const char *what, int r) {
        (void) kill(pid, SIGKILL);
        log_error_errno(r, "%s: failed to watch %s %ld: %m", j->name, what, (long) pid);
        return sd_event_exit(j->manager->event, r);
}

/* Watches the job's own child (unpacking or packing): exit and limits.unpack_timeout. */
static int watch_child(struct job *j, pid_t pid, sd_event_child_handler_t handler) {
        struct manager *m = j->manager;
        j->child_pid = pid;
        j->child_timed_out = false;
        int r = sd_event_add_child(m->event, &j->child_src, pid, WEXITED, handler, j);
        if (r >= 0)
                r = sd_event_add_time_relative(m->event, &j->child_timer, CLOCK_MONOTONIC,
                                               j->settings->unpack_timeout * USEC_PER_SEC, 0,
                                               on_child_timeout, j);
        if (r < 0)
                return watch_failed(j, pid, "child", r);
        return 0;
}

/* The job's child has ended: its sources go, the job's own descriptors with them. */
static void child_ended(struct job *j, const siginfo_t *si) {
        j->child_pid = 0;
        j->child_src = child_release(j->child_src, si);
        j->child_timer = sd_event_source_disable_unref(j->child_timer);
}

static int on_unpack_exit(sd_event_source *s, const siginfo_t *si, void *userdata) {
        struct job *j = userdata;
        struct manager *m = j->manager;

        child_ended(j, si);
        m->running--;
        if (job_dropped(j))
                job_discard(j);
        else if (j->child_timed_out) {
                (void) diags_add(&j->diags, NULL, 0, 0, NULL, "unpacking timed out after %u s (limits.unpack_timeout)",
                                 j->settings->unpack_timeout);
                job_fail(j);
        } else if (si->si_code == CLD_EXITED && si->si_status == WORKER_OK)
                job_load(j, true);
        else {
                int r = si->si_code == CLD_EXITED && si->si_status == WORKER_REFUSED
                                ? worker_load_diags(j, "unpack")
                                : -ECHILD;
                if (r < 0 && si->si_code != CLD_EXITED)
                        (void) diags_add(&j->diags, NULL, 0, 0, NULL,
                                         "unpacking process killed by signal %d (%s)",
                                         si->si_status, strsignal(si->si_status));
                else if (r < 0)
                        job_fault(j, r == -ECHILD ? -EIO : r, "failed to unpack the bundle");
                job_fail(j);
        }
        if (j->finished)
                manager_job_done(m, j);
        else
                manager_schedule(m);
        return 0;
}

int job_start(struct job *j) {
        enum bundle_form form;
        int r;

        j->stage = STAGE_INTAKE;
        r = spool_job_entry(j->dir, &j->entry);
        if (r < 0)
                return log_error_errno(r, "%s: no bundle in the job directory: %m", j->dir);
        r = bundle_classify(j->entry, is_dir_entry(j), &form, &j->name);
        if (r <= 0) {
                j->name = strdup(j->entry);
                if (!j->name)
                        return -ENOMEM;
                _cleanup_free_ char *why = bundle_refusal(j->entry, is_dir_entry(j));
                r = why ? report_not_a_bundle(&j->diags, j->entry, why) : -ENOMEM;
                if (r < 0)
                        return r;
                job_fail(j);
                return 0;
        }
        j->form = form;
        _cleanup_free_ char *marker = path_join(j->dir, SUPERSEDED_MARKER);
        if (!marker)
                return -ENOMEM;
        if (access(marker, F_OK) == 0) {
                /* a newer job of this name ended before the last stop */
                j->superseded = true;
                job_discard(j);
                return 0;
        }
        r = job_make_workdirs(j);
        if (r < 0) {
                job_fault(j, r, "failed to prepare the job's work area");
                job_fail(j);
                return 0;
        }
        if (form != BUNDLE_ARCHIVE) {
                job_load(j, false);
                return 0;
        }

        /* decompression is the slow part of intake: a child does it, the loop goes on; it
         * takes one of the worker slots, like an atom (manager_schedule() starts it) */
        j->unpack_pending = true;
        return 0;
}

/* Forks one of the job's processes (what: "the packing process", "a worker", ...) with
 * env set up for it; when fork() fails, logs and has the manager try again later. */
static pid_t fork_child(struct job *j, struct worker_env *env, const char *what) {
        (void) fflush(NULL);
        worker_env_init(env, j);
        pid_t pid = fork();
        if (pid < 0) {
                int r = -errno;
                log_warning_errno(r, "%s: failed to fork %s (trying again): %m", j->name, what);
                manager_retry_later(j->manager);
                return r;
        }
        return pid;
}

int job_start_unpack(struct job *j) {
        struct manager *m = j->manager;
        struct worker_env env;
        pid_t pid = fork_child(j, &env, "the unpacking process");
        if (pid < 0)
                return pid;
        if (pid == 0) {
                const struct intake_limits lim = job_limits(j);
                worker_unpack_main(&env, j, &lim);
        }
        j->unpack_pending = false;
        m->running++;
        return watch_child(j, pid, on_unpack_exit);
}

long job_next_atom(struct job *j, unsigned slots) {
        if (j->finished || j->failed || job_dropped(j) || !j->runs || j->child_pid > 0 ||
            j->unpack_pending || j->pack_pending)
                return -1;
        return sched_pick_in(j->dag, j->runs, j->chain, j->schedule, slots);
}

void job_share(const struct job *j, struct sched_share *ret) {
        *ret = (struct sched_share) {
                .running = (unsigned) j->n_running,
                .started = j->n_started,
                .priority = j->priority,
        };
}

/* Called whenever an atom ends: start packing, or finish a failed job. */
static void job_progress(struct job *j) {
        struct manager *m = j->manager;
        if (job_dropped(j)) {
                /* its children were killed: it ends when the last is reaped */
                if (j->n_running == 0 && j->child_pid == 0) {
                        job_discard(j);
                        manager_job_done(m, j);
                }
                return;
        }
        if (j->n_running > 0)
                return;
        if (j->failed) {
                for (size_t i = 0; i < j->dag->n_atoms; i++)
                        if (j->runs[i].state == RUN_PENDING)
                                j->runs[i].state = RUN_SKIPPED;
                job_fail(j);
                if (j->finished)
                        manager_job_done(m, j);
                return;
        }
        if (j->n_finished == j->dag->n_atoms && !j->pack_pending && j->child_pid == 0)
                (void) job_start_packing(j); /* tried again later when the fork failed */
}

static void atom_failed(struct job *j, size_t idx, const char *fmt, ...) _printf_(3, 4);
static void atom_failed(struct job *j, size_t idx, const char *fmt, ...) {
        struct atom_run *run = &j->runs[idx];
        const struct atom *a = &j->dag->atoms[idx];
        va_list ap;
        char *msg = NULL;

        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        if (run->attempts < j->settings->atom_attempts && !j->cancelled) {
                log_atom(LOG_WARNING, j->name, a->id, "generation", "%s: atom %s: %s; trying again",
                         j->name, a->id, msg ? msg : fmt);
                free(msg);
                run->state = RUN_PENDING;
                return;
        }
        free(run->error);
        run->error = msg;
        run->state = RUN_FAILED;
        j->failed = true;
        (void) diags_add(&j->diags, NULL, 0, 0, a->id, "atom '%s' (%s, %s) failed: %s", a->id,
                         atom_kind_name(a->kind), a->target, msg ? msg : fmt);
        log_atom(LOG_WARNING, j->name, a->id, "generation", "%s: atom %s failed: %s", j->name, a->id,
                 msg ? msg : fmt);
}

static int on_atom_exit(sd_event_source *s, const siginfo_t *si, void *userdata);
static int on_atom_timeout(sd_event_source *s, uint64_t usec, void *userdata);

/* userdata for a worker's event sources: the job and the atom index in one pointer-sized
 * cookie would be fragile; a small struct lives in the run itself instead */
struct run_ref {
        struct job *job;
        size_t idx;
};

static struct run_ref *run_ref_new(struct job *j, size_t idx) {
        struct run_ref *ref = malloc(sizeof(*ref));
        if (ref)
                *ref = (struct run_ref) { j, idx };
        return ref;
}

int job_spawn_atom(struct job *j, size_t idx) {
        struct manager *m = j->manager;
        struct atom_run *run = &j->runs[idx];
        struct run_ref *ref = run_ref_new(j, idx);
        int r;

        if (!ref) {
                manager_retry_later(m);
                return log_warning_errno(ENOMEM, "%s: failed to start a worker (trying again): %m", j->name);
        }
        run->child = sd_event_source_disable_unref(run->child);
        run->attempts++;
        run->timed_out = false;
        run->start_usec = now_usec(CLOCK_MONOTONIC);
        struct worker_env env;
        pid_t pid = fork_child(j, &env, "a worker");
        if (pid < 0) {
                /* EAGAIN (process limit) or ENOMEM pass: the atom waits, it does not fail */
                free(ref);
                run->attempts--;
                return pid;
        }
        if (pid == 0)
                worker_atom_main(&env, j, idx);

        run->pid = pid;
        run->state = RUN_RUNNING;
        j->n_running++;
        j->n_started++;
        m->running++;
        if (run->model)
                m->running_model[j->model_provider]++;
        r = sd_event_add_child(m->event, &run->child, pid, WEXITED, on_atom_exit, ref);
        if (r >= 0) {
                r = sd_event_source_set_destroy_callback(run->child, free);
                if (r < 0)
                        free(ref);
        } else
                free(ref);
        if (r >= 0)
                r = sd_event_add_time_relative(m->event, &run->timer, CLOCK_MONOTONIC,
                                               j->settings->atom_timeout * USEC_PER_SEC, 0,
                                               on_atom_timeout, run);
        if (r < 0)
                return watch_failed(j, pid, "worker", r);
        log_debug("%s: atom %s started (pid %ld)", j->name, j->dag->atoms[idx].id, (long) pid);
        return 0;
}

static int on_kick(sd_event_source *s, void *userdata) {
        struct job *j = userdata;
        struct manager *m = j->manager; /* job_progress() may free the job */
        j->kick = sd_event_source_disable_unref(j->kick);
        job_progress(j);
        manager_schedule(m);
        return 0;
}

void job_cancel(struct job *j) {
        if (j->finished || j->cancelled || j->end_waiting || job_dropped(j))
                return;
        j->cancelled = true;
        j->failed = true;
        (void) diags_add(&j->diags, NULL, 0, 0, NULL, "cancelled on request (codegenctl cancel)");
        job_kill(j, SIGKILL);
        /* killed workers and children end the job from their exit handlers; a job that
         * waits for a worker slot ends from the loop */
        if (j->child_pid <= 0 && j->n_running == 0 && j->runs && !j->kick &&
            sd_event_add_defer(j->manager->event, &j->kick, on_kick, j) < 0)
                log_error("%s: cannot schedule the job's end", j->name);
}

static int on_atom_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        struct atom_run *run = userdata;
        if (run->state == RUN_RUNNING && run->pid > 0) {
                run->timed_out = true;
                (void) kill(run->pid, SIGKILL);
        }
        return 0;
}

static int on_atom_exit(sd_event_source *s, const siginfo_t *si, void *userdata) {
        struct run_ref *ref = userdata;
        struct job *j = ref->job;
        size_t idx = ref->idx;
        struct atom_run *run = &j->runs[idx];
        struct manager *m = j->manager;

        run->end_usec = now_usec(CLOCK_MONOTONIC);
        run->pid = 0;
        run->timer = sd_event_source_disable_unref(run->timer);
        run->child = child_release(run->child, si); /* frees ref after this handler */
        j->n_running--;
        m->running--;
        if (run->model)
                m->running_model[j->model_provider]--;

        if (run->timed_out)
                atom_failed(j, idx, "timed out after %u s (atom_timeout)", j->settings->atom_timeout);
        else if ((si->si_code == CLD_KILLED || si->si_code == CLD_DUMPED) && si->si_status == SIGXCPU)
                atom_failed(j, idx, "worker exceeded its CPU time limit of %u s (limits.worker_cpu_seconds)",
                            j->settings->worker_cpu_seconds);
        else if ((si->si_code == CLD_KILLED || si->si_code == CLD_DUMPED) && si->si_status == SIGXFSZ)
                atom_failed(j, idx, "worker exceeded its output size limit of %llu bytes (limits.worker_output_bytes)",
                            (unsigned long long) j->settings->worker_output_bytes);
        else if (si->si_code == CLD_KILLED || si->si_code == CLD_DUMPED)
                atom_failed(j, idx, "worker killed by signal %d (%s)", si->si_status,
                            strsignal(si->si_status));
        else if (si->si_status > WORKER_ERRNO && si->si_status < WORKER_ERRNO_MAX)
                atom_failed(j, idx, "worker could not write its result: %s", strerror(si->si_status - WORKER_ERRNO));
        else if (si->si_status != 0)
                atom_failed(j, idx, "worker exited with status %d", si->si_status);
        else {
                int r = worker_load_atom_result(j, idx);
                if (r < 0)
                        atom_failed(j, idx, "worker left no readable result: %s", strerror(-r));
                else if (run->error)
                        atom_failed(j, idx, "%s", run->error);
                else {
                        run->state = RUN_OK;
                        j->n_finished++;
                        sched_kind_times_add(&m->kind_times, j->dag->atoms[idx].kind,
                                             (double) (run->end_usec - run->start_usec) / 1e6);
                }
        }
        job_progress(j);
        manager_schedule(m);
        return 0;
}

/* A failed/ entry that is a bundle of the job NAME (an earlier run's). */
static bool bundle_is_named(const char *entry, bool is_dir, const char *name) {
        _cleanup_free_ char *n = NULL;
        enum bundle_form form;
        return bundle_classify(entry, is_dir, &form, &n) == 1 && streq(n, name);
}

static int on_pack_exit(sd_event_source *s, const siginfo_t *si, void *userdata) {
        struct job *j = userdata;
        struct manager *m = j->manager;
        bool exited = si->si_code == CLD_EXITED && si->si_status == 0;

        child_ended(j, si);
        if (job_dropped(j)) {
                job_discard(j);
                manager_job_done(m, j);
                return 0;
        }
        int r = exited ? worker_load_pack_result(j) : 0;
        j->finished_realtime = now_usec(CLOCK_REALTIME);
        j->finished_usec = now_usec(CLOCK_MONOTONIC);

        if (!exited || r < 0) {
                if (j->child_timed_out)
                        (void) diags_add(&j->diags, NULL, 0, 0, NULL, "packing timed out after %u s (limits.unpack_timeout)",
                                         j->settings->unpack_timeout);
                else if (si->si_code == CLD_EXITED && si->si_status == 0)
                        ; /* the result is unreadable: job_fault() below */
                else if (si->si_code != CLD_EXITED)
                        (void) diags_add(&j->diags, NULL, 0, 0, NULL,
                                         "packing process killed by signal %d", si->si_status);
                else if (si->si_status != 0)
                        (void) diags_add(&j->diags, NULL, 0, 0, NULL,
                                         "packing process exited with status %d", si->si_status);
                else
                        job_fault(j, r, "failed to read the packing result");
                if (j->diags.n == 0)
                        (void) diags_add(&j->diags, NULL, 0, 0, NULL, "packing failed");
                job_fail(j);
                if (j->finished)
                        manager_job_done(m, j);
                return 0;
        }
        j->succeeded = true;
        job_publish(j);
        if (j->finished)
                manager_job_done(m, j);
        return 0;
}

/* Publishes a packed job, or fails it when that is impossible; the job may also wait for
 * an older job of its name (job_end_gate()) and is not finished then. */
static void job_publish(struct job *j) {
        struct manager *m = j->manager;
        _cleanup_free_ char *report = NULL, *tarball = NULL;
        size_t len = 0;
        struct report_job rj;
        int r = job_report_view(j, &rj);
        if (r >= 0) {
                r = report_metrics(&rj, &report, &len);
                report_job_clear(&rj);
        }
        if (r >= 0) {
                r = job_end_gate(j);
                if (r > 0 || (r < 0 && j->finished))
                        return; /* waits for an older job of its name, or dropped */
        }
        /* the gate renamed the job directory: the tarball's path is known now */
        if (r >= 0 && asprintf(&tarball, "%s/out/%s.tar.gz", j->dir, j->name) < 0)
                r = -ENOMEM;
        if (r >= 0)
                r = spool_publish(&m->spool, j->name, tarball, report, len, bundle_is_named);
        if (r < 0) {
                j->succeeded = false;
                job_fault(j, r, "failed to publish the outputs");
                job_fail(j);
                return;
        }
        j->finished = true;
        r = spool_job_remove(j->dir);
        if (r < 0)
                log_warning_errno(r, "%s: failed to remove %s: %m", j->name, j->dir);
}

int job_start_packing(struct job *j) {
        j->stage = STAGE_PACKAGING;
        struct worker_env env;
        pid_t pid = fork_child(j, &env, "the packing process");
        if (pid < 0) {
                j->pack_pending = true;
                return pid;
        }
        if (pid == 0)
                worker_pack_main(&env, j);
        j->pack_pending = false;
        return watch_child(j, pid, on_pack_exit);
}

static void print_thousands(FILE *f, uint64_t v) {
        char buf[32];
        int n = snprintf(buf, sizeof(buf), "%llu", (unsigned long long) v);
        for (int i = 0; i < n; i++) {
                if (i > 0 && (n - i) % 3 == 0)
                        fputc(',', f);
                fputc(buf[i], f);
        }
}

static uint64_t content_uint(const struct job *j, const char *section, const char *key) {
        long long v = 0;
        const struct node *n = node_get(node_get(j->content, section), key);
        if (node_as_int(n, &v) < 0 || v < 0)
                return 0;
        return (uint64_t) v;
}

void job_print_summary(const struct job *j, FILE *f) {
        double dur = (double) (j->finished_usec - j->started_usec) / 1e6;
        fprintf(f, "%s: %s in %.1fs\n", j->name, j->succeeded ? "succeeded" : "FAILED", dur);
        if (j->succeeded) {
                fputs("  Files Generated: ", f);
                print_thousands(f, content_uint(j, "files", "total"));
                fputs("\n  Total Lines of Code: ", f);
                print_thousands(f, content_uint(j, "loc", "total"));
                fputs("\n  Syntax Errors: ", f);
                print_thousands(f, content_uint(j, "syntax", "errors"));
                fputc('\n', f);
        }
        if (j->backend && !j->backend->deterministic && j->runs) {
                /* the seed's API lines; a failed job's partial use too */
                struct gen_usage u = { 0 };
                for (size_t i = 0; i < j->dag->n_atoms; i++)
                        gen_usage_add(&u, &j->runs[i].usage);
                fputs("  API Calls: ", f);
                print_thousands(f, u.calls);
                fputs("\n  Total tokens: ", f);
                print_thousands(f, u.input_tokens + u.output_tokens + u.cache_read_input_tokens +
                                           u.cache_creation_input_tokens);
                fprintf(f, "\n  Cost: $%.4f\n", u.cost_usd);
        }
        if (j->dag && j->runs && j->cache) {
                size_t hits = 0;
                for (size_t i = 0; i < j->dag->n_atoms; i++)
                        hits += j->runs[i].cache == CACHE_HIT;
                fprintf(f, "  Cache hits: %zu of %zu atoms\n", hits, j->dag->n_atoms);
        }
        if (j->dag && j->runs)
                for (size_t w = 1; w <= j->dag->n_waves; w++) {
                        uint64_t start = UINT64_MAX, end = 0;
                        size_t n = 0;
                        for (size_t i = 0; i < j->dag->n_atoms; i++) {
                                const struct atom_run *r = &j->runs[i];
                                if (j->dag->atoms[i].wave != w || r->end_usec == 0)
                                        continue;
                                n++;
                                if (r->start_usec < start)
                                        start = r->start_usec;
                                if (r->end_usec > end)
                                        end = r->end_usec;
                        }
                        if (n)
                                fprintf(f, "  Wave %zu: %.2fs (%zu atom%s)\n", w,
                                        (double) (end - start) / 1e6, n, n == 1 ? "" : "s");
                }
        if (j->succeeded)
                fprintf(f, "  Output: outbox/%s.tar.gz, outbox/%s.metrics.yaml\n", j->name, j->name);
        else {
                fprintf(f, "  Stage: %s; see failed/%s.error.yaml\n", job_stage_name(j), j->name);
                diags_print(&j->diags, f);
        }
}
