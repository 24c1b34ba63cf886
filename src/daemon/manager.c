/* manager.c - the sd-event loop; see manager.h.
 *
 * The parent is single-threaded and never waits: children are reaped by child event
 * sources, timeouts are timer sources, the inbox is watched by an inotify source. A
 * bundle is claimed (renamed into the spool's state area) before anything reads it.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "bundle/intake.h"
#include "cache.h"
#include "job.h"
#include "manager.h"
#include "backend/model/limits.h"
#include "output/report.h"
#include "shared/fs.h"
#include "shared/log.h"
#include "shared/macro.h"
#include "shared/strbuf.h"

#define USEC_PER_SEC UINT64_C(1000000)
/* bundles one rescan claims (or rejects), and the time it spends, before the loop runs
 * again (watchdog, signals, children) */
#define RESCAN_BATCH 32
#define RESCAN_BATCH_USEC (250 * UINT64_C(1000))

static uint64_t now_monotonic(void) {
        struct timespec ts;
        if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
                return 0;
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000;
}

static void manager_readmit(struct manager *m);

static int manager_add_job(struct manager *m, const char *jobdir) {
        struct job *j;
        int r = job_new(m, jobdir, &j);
        if (r < 0)
                return log_error_errno(r, "failed to set up job %s: %m", jobdir);
        struct job **tail = &m->jobs;
        while (*tail)
                tail = &(*tail)->next;
        *tail = j;
        m->n_jobs++;
        r = job_start(j);
        if (r < 0)
                log_error_errno(r, "job %s: internal error during intake: %m", j->name ? j->name : jobdir);
        if (j->finished)
                manager_job_done(m, j);
        else
                manager_schedule(m);
        return 0;
}

/* A bundle ENTRY is complete and may be taken now. */
static bool ready_marker_present(struct manager *m, const char *entry, const char *name) {
        char *paths[2] = { NULL, NULL };
        bool found = false;
        if (asprintf(&paths[0], "%s/%s.ready", m->spool.inbox, entry) < 0)
                paths[0] = NULL;
        if (asprintf(&paths[1], "%s/%s.ready", m->spool.inbox, name) < 0)
                paths[1] = NULL;
        for (size_t i = 0; i < 2; i++) {
                if (paths[i] && !found && access(paths[i], F_OK) == 0)
                        found = true;
        }
        free(paths[0]);
        free(paths[1]);
        return found;
}

static void remove_ready_markers(struct manager *m, const char *entry, const char *name) {
        const char *bases[] = { entry, name };
        for (size_t i = 0; i < ELEMENTSOF(bases); i++) {
                _cleanup_free_ char *p = NULL;
                if (asprintf(&p, "%s/%s.ready", m->spool.inbox, bases[i]) < 0)
                        continue;
                if (unlink(p) < 0 && errno != ENOENT)
                        log_warning_errno(errno, "failed to remove %s: %m", p);
        }
}

static void reject_entry(struct manager *m, const char *entry, bool is_dir) {
        _cleanup_free_ char *report = NULL, *name = NULL, *why = bundle_refusal(entry, is_dir);
        size_t len = 0;
        int r = why ? report_reject(entry, why, &report, &len) : -ENOMEM;
        if (r >= 0)
                r = spool_reject(&m->spool, entry, report, len, &name);
        if (r < 0) {
                log_error_errno(r, "failed to move %s to failed/: %m", entry);
                return;
        }
        m->failed++;
        m->n_claimed++; /* taken: counts against the rescan's batch like a claim */
        log_warning("%s: not a job bundle (see failed/%s.error.yaml)", entry, name);
}

/* Asks for one more rescan once settle_time has passed. */
static void manager_arm_settle(struct manager *m) {
        int r = sd_event_source_set_time_relative(m->settle, m->settings->settle_time * USEC_PER_SEC);
        if (r >= 0)
                r = sd_event_source_set_enabled(m->settle, SD_EVENT_ONESHOT);
        if (r < 0)
                log_warning_errno(r, "failed to arm the settle timer (the periodic rescan will "
                                  "look again): %m");
}

#define SETTLE_MAX_DEPTH 64
#define SETTLE_MAX_ENTRIES 100000

static int look_entry(const struct fs_entry *e, void *userdata) {
        struct look *t = userdata;
        time_t c = e->st->st_mtime > e->st->st_ctime ? e->st->st_mtime : e->st->st_ctime;
        if (c > t->newest)
                t->newest = c;
        t->bytes += (uint64_t) e->st->st_size;
        if (S_ISREG(e->st->st_mode) && fs_file_being_written(e->dfd, e->name) > 0)
                t->writing = true;
        if (++t->entries > SETTLE_MAX_ENTRIES)
                return -E2BIG; /* intake refuses it anyway: what was seen is enough */
        return S_ISDIR(e->st->st_mode) ? FS_WALK_DESCEND : 0;
}

static void looks_free(struct look *v, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(v[i].entry);
        free(v);
}

/* A rescan's entry is settled when no member is open for writing (where the daemon can
 * tell: as the files' owner or with CAP_LEASE), nothing in its whole tree (the newest mtime
 * or ctime of any member) changed for settle_time, and the previous rescan saw the same
 * tree (size, member count, newest time): a writer that keeps a file open and pauses is
 * not taken. */
static bool entry_settled(struct manager *m, const char *entry, const char *path) {
        struct stat st;
        struct timespec now;
        struct look t = { 0 };
        if (lstat(path, &st) < 0 || clock_gettime(CLOCK_REALTIME, &now) < 0)
                return false;
        t.newest = st.st_mtime > st.st_ctime ? st.st_mtime : st.st_ctime;
        t.bytes = (uint64_t) st.st_size;
        if (S_ISDIR(st.st_mode)) {
                _cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd >= 0)
                        (void) fs_walk(fd, SETTLE_MAX_DEPTH, look_entry, &t, NULL);
        } else if (S_ISREG(st.st_mode))
                t.writing = fs_file_being_written(AT_FDCWD, path) > 0;
        if (!t.writing && now.tv_sec - t.newest >= (time_t) m->settings->settle_time) {
                if (m->settings->settle_time == 0)
                        return true;
                for (size_t i = 0; i < m->n_looks; i++)
                        if (streq(m->looks[i].entry, entry))
                                if (m->looks[i].bytes == t.bytes && m->looks[i].entries == t.entries &&
                                    m->looks[i].newest == t.newest)
                                        return true;
        }
        /* remembered for the next rescan's look (forgotten on ENOMEM: looked at again) */
        struct look *nv = realloc(m->next_looks, (m->n_next_looks + 1) * sizeof(*nv));
        if (!nv)
                return false;
        m->next_looks = nv;
        if ((t.entry = strdup(entry)))
                m->next_looks[m->n_next_looks++] = t;
        return false;
}

/* Looks at one inbox entry; claims and starts it when it is a complete bundle.
 * from_event: inotify saw it closed or renamed in, so it is complete; a rescan's entries
 * younger than settle_time may still be being written and wait for the settle timer. */
static void manager_consider(struct manager *m, const char *entry, bool from_event) {
        _cleanup_free_ char *path = path_join(m->spool.inbox, entry);
        _cleanup_free_ char *name = NULL;
        enum bundle_form form;
        struct stat st;

        if (!path || m->shutting_down)
                return;
        if (lstat(path, &st) < 0)
                return; /* gone already */
        int r = bundle_classify(entry, S_ISDIR(st.st_mode), &form, &name);
        if (r == 0)
                return; /* being written, a marker, or hidden */
        if (r < 0) {
                reject_entry(m, entry, S_ISDIR(st.st_mode));
                return;
        }
        if (m->settings->require_ready_marker && !ready_marker_present(m, entry, name))
                return;
        if (m->n_jobs >= m->settings->max_jobs) {
                /* admission: it waits in inbox/ until a job ends (manager_job_done) */
                m->admission_blocked = true;
                return;
        }
        if (!from_event && !m->once && !m->settings->require_ready_marker && !entry_settled(m, entry, path)) {
                manager_arm_settle(m); /* maybe still being written */
                return;
        }

        _cleanup_free_ char *jobdir = NULL;
        r = spool_claim(&m->spool, entry, &jobdir);
        if (r == -ENOENT)
                return;
        if (r < 0) {
                log_error_errno(r, "failed to claim %s: %m", entry);
                return;
        }
        if (m->settings->require_ready_marker)
                remove_ready_markers(m, entry, name);
        m->n_claimed++;
        log_info("%s: claimed", entry);
        (void) manager_add_job(m, jobdir);
        if (!m->scanning) /* the start-up scan reports once, at READY=1 */
                manager_update_status(m);
}

static int manager_rescan(struct manager *m) {
        DIR *d = opendir(m->spool.inbox);
        if (!d)
                return log_error_errno(errno, "failed to open %s: %m", m->spool.inbox);
        char **names = NULL;
        size_t n = 0, alloc = 0;
        int r = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                if (n == alloc) {
                        alloc = alloc ? alloc * 2 : 16;
                        char **nn = realloc(names, alloc * sizeof(*nn));
                        if (!nn) {
                                r = -ENOMEM;
                                break;
                        }
                        names = nn;
                }
                if (!(names[n] = strdup(de->d_name))) {
                        r = -ENOMEM;
                        break;
                }
                n++;
        }
        (void) closedir(d);
        /* oldest name first is as good as any order; sorted keeps runs reproducible */
        if (n)
                qsort(names, n, sizeof(*names), strcmp_ptr);
        unsigned claimed = m->n_claimed;
        uint64_t until = now_monotonic() + RESCAN_BATCH_USEC;
        /* a job that ends while the scan goes on must not end a --once run: the caller
         * decides afterwards (manager_maybe_exit) */
        bool was_scanning = m->scanning;
        m->scanning = true;
        for (size_t i = 0; i < n; i++) {
                if (r >= 0 && m->n_claimed - claimed < RESCAN_BATCH && now_monotonic() < until)
                        manager_consider(m, names[i], false);
                else if (r >= 0) {
                        /* the rest in the next loop iteration: the watchdog, signals and
                         * children are served between batches */
                        m->admission_blocked = true;
                        manager_readmit(m);
                        r = 1;
                }
                free(names[i]);
        }
        free(names);
        m->scanning = was_scanning;
        if (r != 1) {
                /* a whole pass: what it did not see again is forgotten */
                looks_free(m->looks, m->n_looks);
                m->looks = TAKE_PTR(m->next_looks);
                m->n_looks = m->n_next_looks;
                m->n_next_looks = 0;
        }
        if (r < 0)
                return log_error_errno(r, "failed to scan %s: %m", m->spool.inbox);
        return 0;
}

static int on_inotify(sd_event_source *s, const struct inotify_event *ev, void *userdata) {
        struct manager *m = userdata;
        if (ev->mask & IN_Q_OVERFLOW) {
                log_notice("inotify queue overflow: rescanning %s", m->spool.inbox);
                (void) manager_rescan(m);
                return 0;
        }
        if (ev->len == 0 || ev->name[0] == '\0')
                return 0;
        const char *name = ev->name;
        size_t len = strlen(name);
        if (len > 6 && streq(name + len - 6, ".ready")) {
                /* a marker: the bundle it names (by entry or by job name) is complete */
                _cleanup_free_ char *entry = strndup(name, len - 6);
                _cleanup_free_ char *path = entry ? path_join(m->spool.inbox, entry) : NULL;
                if (path && access(path, F_OK) == 0)
                        manager_consider(m, entry, true);
                else
                        (void) manager_rescan(m);
                return 0;
        }
        manager_consider(m, name, true);
        return 0;
}

/* Acts on the requests in .codegend/cancel/ (codegenctl cancel): each names a job; a
 * running job of that name is cancelled, and the request is removed either way (a job
 * that is not running has ended already, or was never claimed). */
static void manager_process_cancels(struct manager *m) {
        DIR *d = opendir(m->spool.cancel);
        if (!d) {
                log_error_errno(errno, "failed to open %s: %m", m->spool.cancel);
                return;
        }
        struct dirent *de;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                bool found = false;
                for (struct job *j = m->jobs; j; j = j->next)
                        if (j->name && streq(j->name, de->d_name) && !j->finished) {
                                log_notice("%s: cancel requested: stopping its workers", j->name);
                                job_cancel(j);
                                found = true;
                        }
                /* a job of that name held by another daemon of the spool: the request is
                 * left for that one (or for whoever takes the job over) */
                if (!found && spool_name_in_flight(&m->spool, de->d_name) != 0)
                        continue;
                if (!found)
                        log_info("%s: cancel requested, but no such job is running", de->d_name);
                if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT)
                        log_warning_errno(errno, "failed to remove the cancel request %s/%s: %m",
                                          m->spool.cancel, de->d_name);
        }
        (void) closedir(d);
}

static int on_cancel_request(sd_event_source *s, const struct inotify_event *ev, void *userdata) {
        manager_process_cancels(userdata);
        return 0;
}

static int on_rescan(sd_event_source *s, uint64_t usec, void *userdata) {
        struct manager *m = userdata;
        (void) manager_rescan(m); /* logs its own failure */
        manager_process_cancels(m); /* inotify sees no request written on another host */
        int r = sd_event_source_set_time_relative(s, m->settings->rescan_interval * USEC_PER_SEC);
        if (r >= 0)
                r = sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
        if (r < 0)
                log_error_errno(r, "failed to re-arm the rescan timer: periodic rescans stop: %m");
        return 0;
}

static int on_settle(sd_event_source *s, uint64_t usec, void *userdata) {
        (void) manager_rescan(userdata);
        return 0;
}

static void manager_maybe_exit(struct manager *m);

/* Takes over the jobs of the spool that are free (an earlier run's on this host, or whose
 * holder's lease expired), as far as admission allows (all of them at start). */
static void manager_take_free(struct manager *m, bool at_start) {
        size_t max = at_start ? SIZE_MAX : m->n_jobs < m->settings->max_jobs ? m->settings->max_jobs - m->n_jobs : 0;
        _cleanup_free_ char **jobdirs = NULL;
        size_t removed = 0;
        if (max == 0)
                return;
        int r = spool_take_free(&m->spool, max, &jobdirs, &removed);
        if (r < 0) {
                log_error_errno(r, "failed to look for unfinished jobs in %s: %m", m->spool.jobs);
                return;
        }
        if (removed > 0)
                log_debug("removed %zu abandoned job directories (claims that never completed, "
                          "superseded jobs)", removed);
        for (size_t i = 0; jobdirs[i]; i++) {
                if (at_start)
                        log_info("resuming %s", jobdirs[i]);
                else
                        log_notice("took over %s: its holder's lease expired", jobdirs[i]);
                (void) manager_add_job(m, jobdirs[i]);
                free(jobdirs[i]);
        }
}

/* Every third of lease_seconds: our jobs' leases are renewed (a job whose directory is
 * gone was superseded or taken over by another daemon: it is stopped and forgotten);
 * then the jobs other daemons left are looked at. */
static int on_lease(sd_event_source *s, uint64_t usec, void *userdata) {
        struct manager *m = userdata;
        for (struct job *j = m->jobs; j; j = j->next) {
                if (j->finished || job_dropped(j))
                        continue;
                int r = lease_write(j->dir, &m->spool.self, m->spool.lease_seconds);
                if (r == -ENOENT) {
                        log_warning("%s: its job directory %s is gone (superseded or taken over by "
                                    "another daemon): stopping it here", j->name ? j->name : j->dir, j->dir);
                        job_lost(j);
                } else if (r < 0)
                        log_warning_errno(r, "%s: failed to renew the lease of %s: %m",
                                          j->name ? j->name : j->dir, j->dir);
        }
        if (!m->once && !m->shutting_down) {
                unsigned before = m->n_jobs;
                manager_take_free(m, false);
                if (m->n_jobs != before)
                        manager_process_cancels(m);
        }
        int r = sd_event_source_set_time_relative(s, m->spool.lease_seconds * USEC_PER_SEC / 3);
        if (r >= 0)
                r = sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
        if (r < 0) {
                /* without renewals other daemons would take our jobs over: stop loudly */
                log_error_errno(r, "failed to re-arm the lease timer: %m");
                return sd_event_exit(m->event, r);
        }
        return 0;
}

static int on_readmit(sd_event_source *s, uint64_t usec, void *userdata) {
        struct manager *m = userdata;
        m->admission_blocked = false;
        (void) manager_rescan(m); /* may block again */
        manager_maybe_exit(m);
        return 0;
}

/* Entries wait in inbox/: look again from the loop (never from inside a job's handler). */
static void manager_readmit(struct manager *m) {
        int r = sd_event_source_set_time(m->readmit, 0);
        if (r >= 0)
                r = sd_event_source_set_enabled(m->readmit, SD_EVENT_ONESHOT);
        if (r < 0)
                log_warning_errno(r, "failed to arm the admission rescan (the periodic rescan "
                                  "will look again): %m");
}

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata) {
        manager_schedule(userdata);
        return 0;
}

void manager_retry_later(struct manager *m) {
        int enabled = 0;
        if (sd_event_source_get_enabled(m->retry, &enabled) >= 0 && enabled != SD_EVENT_OFF)
                return; /* armed already */
        int r = sd_event_source_set_time_relative(m->retry, USEC_PER_SEC);
        if (r >= 0)
                r = sd_event_source_set_enabled(m->retry, SD_EVENT_ONESHOT);
        if (r < 0)
                log_error_errno(r, "failed to arm the retry timer: %m");
}

static void manager_maybe_exit(struct manager *m) {
        /* while the inbox is being scanned more jobs may come: decide afterwards */
        if (m->jobs || m->scanning || (m->admission_blocked && !m->shutting_down))
                return;
        if (m->once || m->shutting_down)
                (void) sd_event_exit(m->event, 0);
}

static uint64_t now_monotonic_usec(void) {
        struct timespec ts;
        if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
                return 0;
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000;
}

static size_t count_queued(struct manager *m) {
        DIR *d = opendir(m->spool.inbox);
        if (!d)
                return 0;
        size_t n = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                struct stat st;
                enum bundle_form form;
                _cleanup_free_ char *name = NULL;
                if (de->d_name[0] != '.' && fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                    bundle_classify(de->d_name, S_ISDIR(st.st_mode), &form, &name) == 1)
                        n++;
        }
        (void) closedir(d);
        return n;
}

/* STATUS= for systemctl status: "2 running, 5 queued, 134 done, 1 failed". */
void manager_update_status(struct manager *m) {
        size_t running = 0;
        for (struct job *j = m->jobs; j; j = j->next)
                running++;
        (void) sd_notifyf(false, "STATUS=%zu running, %zu queued, %u done, %u failed%s", running,
                          count_queued(m), m->succeeded, m->failed,
                          m->shutting_down ? " (stopping)" : "");
}

/* Frees the configurations that neither the manager nor any job uses any more. */
static void manager_prune_generations(struct manager *m) {
        size_t k = 0;
        for (size_t i = 0; i < m->n_generations; i++) {
                struct settings *g = m->generations[i];
                bool used = g == m->settings;
                for (struct job *j = m->jobs; j && !used; j = j->next)
                        used = j->settings == g;
                if (used)
                        m->generations[k++] = g;
                else {
                        settings_clear(g);
                        free(g);
                }
        }
        m->n_generations = k;
}

static int on_sighup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        struct manager *m = userdata;
        struct settings *next = NULL;

        (void) sd_notifyf(false, "RELOADING=1\nMONOTONIC_USEC=%" PRIu64, now_monotonic_usec());
        int r = m->reload ? m->reload(m->reload_userdata, &next) : -EOPNOTSUPP;
        if (r >= 0 && !streq(next->spool, m->settings->spool)) {
                log_warning("the spool cannot change while the daemon runs: keeping %s (restart "
                            "the daemon to use %s)", m->settings->spool, next->spool);
                char *keep = strdup(m->settings->spool);
                if (keep) {
                        free(next->spool);
                        next->spool = keep;
                } else
                        r = -ENOMEM;
        }
        struct settings **v = r >= 0 ? realloc(m->generations, (m->n_generations + 1) * sizeof(*v)) : NULL;
        if (r >= 0 && !v)
                r = log_error_errno(ENOMEM, "out of memory: keeping the current configuration");
        if (r < 0 && next) {
                settings_clear(next);
                free(next);
        }
        if (r >= 0) {
                m->generations = v;
                m->generations[m->n_generations++] = next;
                m->settings = next;
                log_set_max_level(next->log_level);
                manager_prune_generations(m);
                log_notice("configuration reloaded: jobs claimed from now on use it");
                manager_schedule(m); /* workers may have grown */
        }
        (void) sd_notify(false, "READY=1");
        manager_update_status(m);
        return 0;
}

static int on_drain_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        struct manager *m = userdata;
        log_warning("drain_timeout (%u s) passed with %u atoms still running: killing them; "
                    "their jobs resume at the next start", m->settings->drain_timeout, m->running);
        return sd_event_exit(m->event, 0); /* manager_free() kills what still runs */
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        struct manager *m = userdata;
        /* Claimed jobs stay in the spool's state area and run again at the next start, so
         * stopping is bounded: nothing new starts, running atoms get drain_timeout seconds,
         * then they are killed, nothing is lost. */
        if (m->shutting_down) {
                log_notice("received %s again: stopping now", strsignal((int) si->ssi_signo));
                return sd_event_exit(m->event, 0);
        }
        m->shutting_down = true;
        (void) sd_notify(false, "STOPPING=1");
        if (m->running == 0 || m->settings->drain_timeout == 0) {
                log_notice("received %s: stopping; unfinished jobs resume at the next start",
                           strsignal((int) si->ssi_signo));
                return sd_event_exit(m->event, 0);
        }
        log_notice("received %s: stopping; waiting up to %u s for %u running atoms, unfinished "
                   "jobs resume at the next start",
                   strsignal((int) si->ssi_signo), m->settings->drain_timeout, m->running);
        int r = sd_event_add_time_relative(m->event, &m->drain, CLOCK_MONOTONIC,
                                           m->settings->drain_timeout * USEC_PER_SEC, 0,
                                           on_drain_timeout, m);
        if (r < 0) {
                log_error_errno(r, "failed to arm the drain timer: stopping now: %m");
                return sd_event_exit(m->event, 0);
        }
        manager_update_status(m);
        return 0;
}

/* Workers and children on the `workers` (CPU) slots: all but the model atoms'. */
static unsigned cpu_running(const struct manager *m) {
        unsigned n = m->running;
        for (size_t p = 0; p < LIMITS_PROVIDERS; p++)
                n -= m->running_model[p];
        return n;
}

/* The kinds of slots free for j's atoms (SCHED_SLOT_*). */
static unsigned free_slots(const struct manager *m, const struct job *j) {
        unsigned slots = cpu_running(m) < m->settings->workers ? SCHED_SLOT_CPU : 0;
        if (j->model_provider >= 0 && m->running_model[j->model_provider] < j->model_slots)
                slots |= SCHED_SLOT_MODEL;
        return slots;
}

void manager_schedule(struct manager *m) {
        if (m->shutting_down) {
                if (m->running == 0) /* drained */
                        (void) sd_event_exit(m->event, 0);
                return;
        }
        /* nothing here frees a job: a failed fork only leaves it waiting (retry timer) */
        for (struct job *j = m->jobs; j; j = j->next) {
                if (j->pack_pending && job_start_packing(j) < 0)
                        return;
                if (cpu_running(m) >= m->settings->workers)
                        continue;
                if (j->unpack_pending && !job_dropped(j) && job_start_unpack(j) < 0)
                        return;
        }
        /* atoms: each free slot goes to the job the share puts first (sched.h), and within
         * it to the ready atom with the longest remaining chain among those whose kind of
         * slot (CPU or its provider's) is free */
        for (;;) {
                struct job *best = NULL;
                long best_idx = -1;
                struct sched_share best_share;
                for (struct job *j = m->jobs; j; j = j->next) {
                        unsigned slots = j->finished ? 0 : free_slots(m, j);
                        long idx = slots ? job_next_atom(j, slots) : -1;
                        if (idx < 0)
                                continue;
                        struct sched_share share;
                        job_share(j, &share);
                        if (!best || sched_share_before(&share, &best_share))
                                best = j, best_idx = idx, best_share = share;
                }
                if (!best)
                        break;
                if (job_spawn_atom(best, (size_t) best_idx) < 0)
                        return;
        }
}

/* The one line that ends a job, with its figures (the journal gets them as fields too). */
static void log_job_end(const struct job *j, const struct job_figures *f) {
        const char *name = j->name ? j->name : j->dir;
        char figures[512];
        uint64_t atoms = f->atoms[ATOM_OK] + f->atoms[ATOM_FAILED] + f->atoms[ATOM_SKIPPED] +
                         f->atoms[ATOM_NOT_RUN];
        snprintf(figures, sizeof(figures),
                 "%.1f s, %" PRIu64 "/%" PRIu64 " atoms ok, %" PRIu64 " files, %" PRIu64 " LOC, backend %s, "
                 "%u model calls, %" PRIu64 " tokens, $%.4f, %" PRIu64 " cache hits",
                 f->duration_s, f->atoms[ATOM_OK], atoms, f->files, f->loc, f->backend, f->usage.calls,
                 f->usage.input_tokens + f->usage.output_tokens, f->usage.cost_usd, f->cache_hits);
        if (j->succeeded)
                log_job(LOG_INFO, name, "published", "%s: succeeded in %s: outbox/%s.tar.gz", name,
                        figures, name);
        else if (j->cancelled)
                log_job(LOG_NOTICE, name, "cancelled", "%s: cancelled after %s: see failed/%s.error.yaml",
                        name, figures, name);
        else
                log_job(LOG_WARNING, name, job_stage_name(j),
                        "%s: failed at %s (%zu errors) after %s: see failed/%s.error.yaml", name,
                        job_stage_name(j), j->diags.n, figures, name);
}

/* metrics_textfile: replaced atomically, so node_exporter never reads half a file */
static void manager_write_textfile(struct manager *m) {
        const char *path = m->settings->metrics_textfile;
        if (!path)
                return;
        size_t running = 0;
        for (struct job *j = m->jobs; j; j = j->next)
                running++;
        _cleanup_strbuf_ struct strbuf out = STRBUF_INIT;
        int r = stats_format_prometheus(&m->stats, count_queued(m), running, &out);
        if (r >= 0)
                r = write_file_atomic(path, out.buf, out.len, 0644);
        if (r < 0)
                log_warning_errno(r, "failed to write the metrics textfile %s: %m", path);
}

/* The atom cache's size limit, after every job: least recently used entries go first;
 * bounded work per pass (the rest waits for the next job's end). */
#define CACHE_EVICT_MAX_ENTRIES 100000
static void manager_evict_cache(struct manager *m) {
        struct cache_evict_stats st;
        int r = cache_evict(m->spool.cache, m->settings->cache_max_bytes, CACHE_EVICT_MAX_ENTRIES, &st);
        if (r < 0)
                log_warning_errno(r, "failed to evict from the atom cache %s: %m", m->spool.cache);
        else if (st.removed > 0)
                log_info("atom cache: removed %llu least recently used entries (%llu bytes); %llu entries, %llu bytes kept",
                         (unsigned long long) st.removed, (unsigned long long) st.removed_bytes,
                         (unsigned long long) st.entries, (unsigned long long) st.bytes);
}

void manager_job_done(struct manager *m, struct job *j) {
        if (!j->finished)
                return; /* job_fail() could not record it yet and tries again (a timer) */
        struct job **pj = &m->jobs;
        while (*pj && *pj != j)
                pj = &(*pj)->next;
        if (*pj) {
                *pj = j->next;
                m->n_jobs--;
        }
        if (job_dropped(j))
                m->superseded++;
        else if (j->succeeded)
                m->succeeded++;
        else
                m->failed++;
        if (!job_dropped(j)) {
                struct job_figures f;
                job_figures_get(j, &f);
                stats_add(&m->stats, &f);
                log_job_end(j, &f);
                if (m->once)
                        job_print_summary(j, stdout);
        }
        job_free(j);
        if (m->admission_blocked && !m->shutting_down)
                manager_readmit(m);
        manager_write_textfile(m);
        manager_evict_cache(m);
        manager_prune_generations(m);
        manager_update_status(m);
        manager_schedule(m);
        manager_maybe_exit(m);
}

int manager_new(const struct settings *s, bool once, struct manager **ret) {
        _cleanup_free_ struct manager *m = calloc(1, sizeof(*m));
        int r;
        if (!m)
                return log_error_errno(ENOMEM, "out of memory");
        m->pid = getpid();
        m->settings = s;
        m->once = once;
        m->spool.lock_fd = -1;

        r = limits_new(&m->limits);
        if (r < 0)
                return log_error_errno(r, "failed to map the shared model limits: %m");
        const struct spool_options so = {
                .exclusive = s->exclusive,
                .lease_seconds = s->lease_seconds,
                .lease_grace = s->lease_grace,
        };
        r = spool_open(&m->spool, s->spool, &so);
        if (r == -EBUSY && s->exclusive)
                return log_error_errno(r, "spool %s is in use by another codegend (exclusive: true "
                                       "wants it alone)", s->spool);
        if (r == -EBUSY)
                return log_error_errno(r, "spool %s is in use by another codegend that holds it "
                                       "exclusively (exclusive: true, or a version before leases)", s->spool);
        if (r < 0)
                return log_error_errno(r, "failed to open spool %s: %m", s->spool);
        const char *fault = getenv("CODEGEND_FAULT_INJECT");
        if (fault && streq(fault, "@publish=slow"))
                m->spool.step_delay_ms = 150; /* the crash test's hook: see spool.h */

        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0) {
                r = log_error_errno(errno, "failed to block signals: %m");
                goto fail;
        }
        /* the settle check's instant read leases (fs_file_being_written) may be broken by a
         * writer opening the file: the kernel then raises SIGIO, which must not kill us */
        if (signal(SIGIO, SIG_IGN) == SIG_ERR) {
                r = log_error_errno(errno, "failed to ignore SIGIO: %m");
                goto fail;
        }
        if ((r = sd_event_new(&m->event)) < 0) {
                log_error_errno(r, "failed to create event loop: %m");
                goto fail;
        }
        if ((r = sd_event_add_signal(m->event, &m->sigterm, SIGTERM, on_signal, m)) < 0 ||
            (r = sd_event_add_signal(m->event, &m->sigint, SIGINT, on_signal, m)) < 0 ||
            (r = sd_event_add_signal(m->event, &m->sighup, SIGHUP, on_sighup, m)) < 0) {
                log_error_errno(r, "failed to watch signals: %m");
                goto fail;
        }
        if ((r = sd_event_set_watchdog(m->event, true)) < 0) {
                log_error_errno(r, "failed to set up the watchdog: %m");
                goto fail;
        }
        r = sd_event_add_time_relative(m->event, &m->lease, CLOCK_MONOTONIC,
                                       m->spool.lease_seconds * USEC_PER_SEC / 3, 0, on_lease, m);
        /* renewals are cheap and must not wait behind a flood of inbox events */
        if (r >= 0)
                r = sd_event_source_set_priority(m->lease, SD_EVENT_PRIORITY_IMPORTANT);
        if (r < 0) {
                log_error_errno(r, "failed to set up the lease timer: %m");
                goto fail;
        }
        r = sd_event_add_time(m->event, &m->readmit, CLOCK_MONOTONIC, 0, 0, on_readmit, m);
        if (r >= 0)
                r = sd_event_source_set_enabled(m->readmit, SD_EVENT_OFF);
        if (r >= 0)
                r = sd_event_add_time(m->event, &m->retry, CLOCK_MONOTONIC, 0, 0, on_retry, m);
        if (r >= 0)
                r = sd_event_source_set_enabled(m->retry, SD_EVENT_OFF);
        if (r < 0) {
                log_error_errno(r, "failed to set up the admission timers: %m");
                goto fail;
        }
        if (!once) {
                r = sd_event_add_inotify(m->event, &m->inotify, m->spool.inbox,
                                         IN_CLOSE_WRITE | IN_MOVED_TO | IN_ONLYDIR, on_inotify, m);
                /* pickup latency: a new bundle is claimed before pending worker exits are
                 * handled (bench/run measures it) */
                if (r >= 0)
                        r = sd_event_source_set_priority(m->inotify, SD_EVENT_PRIORITY_IMPORTANT);
                if (r < 0) {
                        log_error_errno(r, "failed to watch %s: %m", m->spool.inbox);
                        goto fail;
                }
                r = sd_event_add_inotify(m->event, &m->cancel_watch, m->spool.cancel,
                                         IN_CLOSE_WRITE | IN_MOVED_TO | IN_ONLYDIR,
                                         on_cancel_request, m);
                if (r < 0) {
                        log_error_errno(r, "failed to watch %s: %m", m->spool.cancel);
                        goto fail;
                }
                r = sd_event_add_time_relative(m->event, &m->rescan, CLOCK_MONOTONIC,
                                               s->rescan_interval * USEC_PER_SEC, 0, on_rescan, m);
                if (r >= 0)
                        r = sd_event_add_time_relative(m->event, &m->settle, CLOCK_MONOTONIC,
                                                       USEC_PER_SEC, 0, on_settle, m);
                if (r >= 0)
                        r = sd_event_source_set_enabled(m->settle, SD_EVENT_OFF);
                if (r < 0) {
                        log_error_errno(r, "failed to set up rescan timers: %m");
                        goto fail;
                }
        }
        *ret = TAKE_PTR(m);
        return 0;
fail:
        manager_free(TAKE_PTR(m));
        return r;
}

int manager_run(struct manager *m) {
        int r;
        m->scanning = true;
        log_info("daemon %s (boot %s, pid %ld) on spool %s, %s, lease %u s + %u s grace",
                 m->spool.self.host, m->spool.self.boot, (long) m->spool.self.pid, m->spool.root,
                 m->settings->exclusive ? "exclusive" : "shared with other daemons",
                 m->spool.lease_seconds, m->spool.lease_grace);
        manager_take_free(m, true);
        (void) manager_rescan(m);
        manager_process_cancels(m);
        m->scanning = false;
        manager_write_textfile(m); /* the series exist (at 0) from the start */
        (void) sd_notify(false, "READY=1");
        manager_update_status(m);
        manager_maybe_exit(m);

        r = sd_event_loop(m->event);
        if (r < 0)
                return log_error_errno(r, "event loop failed: %m");
        /* a job's failure is the daemon's failure only in --once mode; so is a stop
         * (SIGINT, SIGTERM) with jobs unfinished or waiting in inbox/ */
        if (m->once && (m->jobs || (m->shutting_down && m->admission_blocked)))
                return 1;
        return m->once && m->failed ? 1 : 0;
}

void manager_free(struct manager *m) {
        if (!m)
                return;
        while (m->jobs) {
                struct job *j = m->jobs;
                m->jobs = j->next;
                job_kill(j, SIGKILL);
                job_free(j);
        }
        sd_event_source_unref(m->inotify);
        sd_event_source_unref(m->cancel_watch);
        sd_event_source_unref(m->rescan);
        sd_event_source_unref(m->settle);
        sd_event_source_unref(m->readmit);
        sd_event_source_unref(m->retry);
        sd_event_source_unref(m->lease);
        looks_free(m->looks, m->n_looks);
        looks_free(m->next_looks, m->n_next_looks);
        sd_event_source_unref(m->sigterm);
        sd_event_source_unref(m->sigint);
        sd_event_source_unref(m->sighup);
        sd_event_source_unref(m->drain);
        sd_event_unref(m->event);
        spool_close(&m->spool);
        for (size_t i = 0; i < m->n_generations; i++) {
                settings_clear(m->generations[i]);
                free(m->generations[i]);
        }
        free(m->generations);
        limits_free(m->limits);
        free(m);
}
