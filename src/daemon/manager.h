/* manager.h - the daemon's parent: one sd-event loop that watches inbox/ (inotify plus
 * rescans at start, on queue overflow and every rescan_interval), claims bundles, runs
 * jobs and their atoms' workers within the worker limit, reaps children through child
 * event sources, handles SIGTERM/SIGINT and the systemd watchdog.
 *
 * manager_new() sets up the loop, signals, spool lock and recovery in one place;
 * manager_run() returns the process exit status (0, 1 when a job failed in --once mode).
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "backend/backend.h"
#include "settings.h"
#include "spool.h"

struct job;

struct manager {
        pid_t pid; /* the daemon's: workers check their parent is still it */
        sd_event *event;
        const struct settings *settings;
        struct limits *limits; /* model backends' limits, shared with the workers (MAP_SHARED) */
        struct spool spool;
        bool once;
        bool shutting_down;
        bool scanning; /* the start-up recovery and scan are still claiming jobs */
        struct job *jobs; /* FIFO: atoms of older jobs start first */
        unsigned running;
        unsigned succeeded, failed;
        sd_event_source *inotify, *rescan, *settle, *sigterm, *sigint;
};

int manager_new(const struct settings *s, bool once, struct manager **ret);
int manager_run(struct manager *m);
void manager_free(struct manager *m);

/* Called by jobs: a worker slot freed or atoms became ready. */
void manager_schedule(struct manager *m);
/* Called by a job when it has been published or failed. */
void manager_job_done(struct manager *m, struct job *j);
