/* job.c - one job's life in the parent; see job.h.
 *
 * Diagnostics about the bundle are collected in j->diags and end in the error report;
 * faults of the daemon itself (ENOMEM, a full disk) are logged here, at the place that
 * decides to fail the job, and also end in the report so the job never vanishes.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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
}

void job_free(struct job *j) {
        if (!j)
                return;
        if (j->runs)
                for (size_t i = 0; i < j->dag->n_atoms; i++)
                        atom_run_clear(&j->runs[i]);
        free(j->runs);
        free(j->chain);
        sd_event_source_disable_unref(j->child_src);
        sd_event_source_disable_unref(j->kick);
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
                        };
                }
        }
        *ret = rj;
        return 0;
}

/* What a child of this job needs of the daemon (worker.h). */
static void worker_env_init(struct worker_env *env, const struct job *j) {
        const struct manager *m = j->manager;
        *env = (struct worker_env) { .parent = m->pid, .lock_fd = m->spool.lock_fd };
        settings_thresholds(j->settings, &env->thresholds);
}

/* Ends the job in failed/ with everything known about why. */
static void job_fail(struct job *j) {
        struct manager *m = j->manager;
        j->finished = true;
        j->succeeded = false;
        j->finished_realtime = now_usec(CLOCK_REALTIME);
        j->finished_usec = now_usec(CLOCK_MONOTONIC);

        _cleanup_free_ char *report = NULL;
        size_t len = 0;
        struct report_job rj;
        int r = job_report_view(j, &rj);
        if (r >= 0) {
                r = report_error(&rj, job_stage_name(j), &report, &len);
                report_job_clear(&rj);
        }
        if (r < 0) {
                log_error_errno(r, "%s: failed to build the error report: %m", j->name);
                return; /* the job stays in the state area and runs again at the next start */
        }
        r = spool_fail(&m->spool, j->dir, j->name, j->entry, report, len);
        if (r < 0) {
                log_error_errno(r, "%s: failed to move the job to failed/: %m", j->name);
                return;
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
        int r = 0;

        if (o && !node_is_null(o)) {
                if (o->kind != NODE_MAP)
                        return diags_add(&j->diags, file, o->line, o->column, "options",
                                         "job options must be a mapping");
                for (size_t i = 0; i < o->n && r >= 0; i++) {
                        const struct node *k = o->keys[i], *v = o->items[i];
                        if (streq(k->value, "backend") || streq(k->value, "model")) {
                                if (!node_is_string(v))
                                        r = diags_add(&j->diags, file, v->line, v->column, k->value,
                                                      "'%s' must be a string", k->value);
                                else if (streq(k->value, "backend"))
                                        backend = v->value, where = v;
                                else
                                        model = v->value;
                        } else if (streq(k->value, "schedule") || streq(k->value, "priority"))
                                r = job_sched_option(j, file, k->value, v);
                        else if (strncmp(k->value, "x-", 2) != 0)
                                r = diags_add(&j->diags, file, k->line, k->column, k->value,
                                              "unknown key '%s' in job options (known: backend, model, "
                                              "schedule, priority)", k->value);
                }
        }
        if (r < 0)
                return r;
        j->backend = backend_find(backend);
        if (!j->backend)
                return diags_add(&j->diags, where ? file : NULL, where ? where->line : 0,
                                 where ? where->column : 0, where ? "backend" : NULL,
                                 "unknown backend '%s' (this build has: pattern)", backend);
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
        j->stage = STAGE_GENERATION;
        log_info("%s: %zu atoms in %zu waves, backend %s, schedule %s, priority %u", j->name,
                 j->dag->n_atoms, j->dag->n_waves, j->backend->name, schedule_mode_name(j->schedule),
                 j->priority);
}

/* From a child source's own handler: reaps the child and drops the source at once. A
 * source kept until its job ends would hold the pid: once the kernel hands that pid to a
 * new worker (pid_max wraps after some 30,000 forks; many long jobs do that),
 * sd_event_add_child() refuses it with EBUSY. sd-event's reap after the handler then finds
 * nothing to do; dropping a source from its own handler is allowed (sd_event_source_unref(3)). */
static void child_source_release(sd_event_source **src, pid_t pid) {
        siginfo_t si;
        if (pid > 0)
                (void) waitid(P_PID, (id_t) pid, &si, WEXITED | WNOHANG);
        *src = sd_event_source_disable_unref(*src);
}

static int on_unpack_exit(sd_event_source *s, const siginfo_t *si, void *userdata) {
        struct job *j = userdata;
        struct manager *m = j->manager;

        child_source_release(&j->child_src, si->si_pid);
        j->child_pid = 0;
        if (si->si_code == CLD_EXITED && si->si_status == WORKER_OK)
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
        struct manager *m = j->manager;
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
                r = report_not_a_bundle(&j->diags, j->entry);
                if (r < 0)
                        return r;
                job_fail(j);
                return 0;
        }
        j->form = form;
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

        /* decompression is the slow part of intake: a child does it, the loop goes on */
        (void) fflush(NULL);
        struct worker_env env;
        worker_env_init(&env, j);
        pid_t pid = fork();
        if (pid < 0) {
                job_fault(j, -errno, "failed to fork the unpacking process");
                job_fail(j);
                return 0;
        }
        if (pid == 0) {
                const struct intake_limits lim = job_limits(j);
                worker_unpack_main(&env, j, &lim);
        }
        j->child_pid = pid;
        r = sd_event_add_child(m->event, &j->child_src, pid, WEXITED, on_unpack_exit, j);
        if (r < 0) {
                (void) kill(pid, SIGKILL);
                log_error_errno(r, "%s: failed to watch the unpacking process: %m", j->name);
                return sd_event_exit(m->event, r);
        }
        return 0;
}

long job_next_atom(struct job *j) {
        if (j->finished || j->failed || !j->runs || j->child_pid > 0)
                return -1;
        return sched_pick(j->dag, j->runs, j->chain, j->schedule);
}

void job_share(const struct job *j, struct sched_share *ret) {
        *ret = (struct sched_share) {
                .running = (unsigned) j->n_running,
                .started = j->n_started,
                .priority = j->priority,
        };
}

static void job_start_packing(struct job *j);

/* Called whenever an atom ends: start packing, or finish a failed job. */
static void job_progress(struct job *j) {
        struct manager *m = j->manager;
        if (j->n_running > 0)
                return;
        if (j->failed) {
                for (size_t i = 0; i < j->dag->n_atoms; i++)
                        if (j->runs[i].state == RUN_PENDING)
                                j->runs[i].state = RUN_SKIPPED;
                job_fail(j);
                manager_job_done(m, j);
                return;
        }
        if (j->n_finished == j->dag->n_atoms)
                job_start_packing(j);
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
static int on_kick(sd_event_source *s, void *userdata);
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

        if (!ref)
                return job_fault(j, -ENOMEM, "failed to start a worker");
        run->child = sd_event_source_disable_unref(run->child);
        run->attempts++;
        run->timed_out = false;
        run->start_usec = now_usec(CLOCK_MONOTONIC);
        (void) fflush(NULL);
        struct worker_env env;
        worker_env_init(&env, j);
        pid_t pid = fork();
        if (pid < 0) {
                r = -errno;
                free(ref);
                run->end_usec = now_usec(CLOCK_MONOTONIC);
                atom_failed(j, idx, "failed to fork a worker: %s", strerror(-r));
                /* finish the job from the loop, not from inside the manager's scheduling */
                if (!j->kick && sd_event_add_defer(m->event, &j->kick, on_kick, j) < 0)
                        log_error("%s: cannot schedule the job's end", j->name);
                return r;
        }
        if (pid == 0)
                worker_atom_main(&env, j, idx);

        run->pid = pid;
        run->state = RUN_RUNNING;
        j->n_running++;
        j->n_started++;
        m->running++;
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
        if (r < 0) {
                /* without a child source we could never reap it: stop the daemon loudly */
                (void) kill(pid, SIGKILL);
                log_error_errno(r, "%s: failed to watch worker %ld: %m", j->name, (long) pid);
                return sd_event_exit(m->event, r);
        }
        log_debug("%s: atom %s started (pid %ld)", j->name, j->dag->atoms[idx].id, (long) pid);
        return 0;
}

static int on_kick(sd_event_source *s, void *userdata) {
        struct job *j = userdata;
        j->kick = sd_event_source_disable_unref(j->kick);
        job_progress(j);
        manager_schedule(j->manager);
        return 0;
}

void job_cancel(struct job *j) {
        if (j->finished || j->cancelled)
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
        j->n_running--;
        m->running--;

        if (run->timed_out)
                atom_failed(j, idx, "timed out after %u s (atom_timeout)", j->settings->atom_timeout);
        else if (si->si_code == CLD_KILLED || si->si_code == CLD_DUMPED)
                atom_failed(j, idx, "worker killed by signal %d (%s)", si->si_status,
                            strsignal(si->si_status));
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
        child_source_release(&run->child, si->si_pid); /* ref is gone from here on */
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
        int r = exited ? worker_load_pack_result(j) : 0;

        /* j->child_src stays until the job is freed: sd-event reaps the child after this
         * handler returns */
        j->child_pid = 0;
        j->finished_realtime = now_usec(CLOCK_REALTIME);
        j->finished_usec = now_usec(CLOCK_MONOTONIC);

        if (!exited || r < 0) {
                if (si->si_code != CLD_EXITED)
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
                manager_job_done(m, j);
                return 0;
        }

        _cleanup_free_ char *report = NULL, *tarball = NULL;
        size_t len = 0;
        j->succeeded = true;
        struct report_job rj;
        r = job_report_view(j, &rj);
        if (r >= 0) {
                r = report_metrics(&rj, &report, &len);
                report_job_clear(&rj);
        }
        if (r >= 0 && asprintf(&tarball, "%s/out/%s.tar.gz", j->dir, j->name) < 0)
                r = -ENOMEM;
        if (r >= 0)
                r = spool_publish(&m->spool, j->name, tarball, report, len, bundle_is_named);
        if (r < 0) {
                j->succeeded = false;
                job_fault(j, r, "failed to publish the outputs");
                job_fail(j);
                manager_job_done(m, j);
                return 0;
        }
        j->finished = true;
        r = spool_job_remove(j->dir);
        if (r < 0)
                log_warning_errno(r, "%s: failed to remove %s: %m", j->name, j->dir);
        manager_job_done(m, j);
        return 0;
}

static void job_start_packing(struct job *j) {
        struct manager *m = j->manager;
        int r;

        j->stage = STAGE_PACKAGING;
        (void) fflush(NULL);
        struct worker_env env;
        worker_env_init(&env, j);
        pid_t pid = fork();
        if (pid < 0) {
                job_fault(j, -errno, "failed to fork the packing process");
                job_fail(j);
                manager_job_done(m, j);
                return;
        }
        if (pid == 0)
                worker_pack_main(&env, j);
        j->child_pid = pid;
        j->child_src = sd_event_source_disable_unref(j->child_src); /* the unpacking child's */
        r = sd_event_add_child(m->event, &j->child_src, pid, WEXITED, on_pack_exit, j);
        if (r < 0) {
                (void) kill(pid, SIGKILL);
                log_error_errno(r, "%s: failed to watch the packing process: %m", j->name);
                (void) sd_event_exit(m->event, r);
        }
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
