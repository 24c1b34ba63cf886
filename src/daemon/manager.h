/* manager.h - the daemon's parent: one sd-event loop that watches inbox/ (inotify plus
 * rescans at start, on queue overflow and every rescan_interval), claims bundles, runs
 * jobs and their atoms' workers within the worker limit, reaps children through child
 * event sources, handles signals and the systemd watchdog.
 *
 * Signals: SIGHUP asks reload() for a new configuration (RELOADING=1, then READY=1); jobs
 * claimed from then on use it, running jobs keep the one they were claimed with (a bad
 * file keeps the current one: reload() logs why). SIGTERM/SIGINT: STOPPING=1, nothing new
 * is claimed and no new atom starts, running atoms get drain_timeout seconds, then the
 * workers are killed; unfinished jobs stay in the state area and resume at the next start.
 * A second SIGTERM stops at once.
 *
 * Several daemons may share the spool (spool.h, lease.h): each renews the leases of its
 * jobs every lease_seconds/3 and takes over free jobs (at start: those of an earlier run
 * on this host at once; later, and other hosts', when their lease expired).
 *
 * manager_new() sets up the loop, signals, spool lock and recovery in one place;
 * manager_run() returns the process exit status (0, 1 when a job failed in --once mode).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "backend/backend.h"
#include "backend/model/limits.h"
#include "sched.h"
#include "settings.h"
#include "spool.h"
#include "stats.h"

struct job;

/* What a rescan saw of an inbox entry that was not settled yet. */
struct look {
        char *entry;
        time_t newest; /* the newest mtime or ctime of any member */
        uint64_t bytes, entries;
        bool writing; /* a member is open for writing (fs_file_being_written) */
};

struct manager {
        pid_t pid; /* the daemon's: workers check their parent is still it */
        sd_event *event;
        const struct settings *settings; /* the current configuration, for new jobs */
        /* SIGHUP: 0 and a malloc'd configuration, or a negative errno (reload() logs) */
        int (*reload)(void *userdata, struct settings **ret);
        void *reload_userdata;
        struct settings **generations; /* loaded by reloads, freed when no job uses them */
        size_t n_generations;
        struct limits *limits; /* model backends' limits, shared with the workers (MAP_SHARED) */
        struct spool spool;
        bool once;
        bool shutting_down;
        bool scanning; /* the start-up recovery and scan are still claiming jobs */
        struct job *jobs; /* oldest first; slots are shared between them (sched.h) */
        unsigned n_jobs;  /* in jobs: admission stops at settings->max_jobs */
        unsigned running; /* atom workers and unpacking children */
        /* of those, the workers of model atoms, per provider (limits.h): they count against
         * the provider's concurrency, the others against settings->workers (sched.h) */
        unsigned running_model[LIMITS_PROVIDERS];
        unsigned succeeded, failed, superseded;
        struct stats stats; /* totals since the start, for metrics_textfile */
        bool admission_blocked; /* an inbox entry waits for a job to end, or the next batch */
        unsigned n_claimed; /* entries claimed or rejected so far (a rescan's batches) */
        struct look *looks, *next_looks; /* the last full rescan's, the current one's */
        size_t n_looks, n_next_looks;
        struct sched_kind_times kind_times; /* atoms' seconds per kind: the chains' weights */
        sd_event_source *inotify, *cancel_watch, *rescan, *settle, *sigterm, *sigint, *sighup;
        sd_event_source *drain;   /* SIGTERM: the running atoms' deadline */
        sd_event_source *retry;   /* a fork failed: schedule again a little later */
        sd_event_source *readmit; /* a job ended while entries wait: rescan the inbox */
        sd_event_source *lease;   /* every lease_seconds/3: renew our jobs' leases, take free jobs */
};

int manager_new(const struct settings *s, bool once, struct manager **ret);
int manager_run(struct manager *m);
void manager_free(struct manager *m);

/* Called by jobs: a worker slot freed or atoms became ready. */
void manager_schedule(struct manager *m);
/* STATUS=: jobs running, queued, done and failed. */
void manager_update_status(struct manager *m);
/* Called by a job when it has been published, failed or dropped. */
void manager_job_done(struct manager *m, struct job *j);
/* A fork failed (EAGAIN, ENOMEM): manager_schedule() runs again in a second. */
void manager_retry_later(struct manager *m);
