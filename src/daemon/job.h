/* job.h - one claimed job in the parent: intake, validation, planning, the atoms'
 * workers, packaging and publication, as a small state machine driven by sd-event.
 *
 * The manager creates a job for a job directory (spool.h) and calls job_start(). An archive
 * is unpacked by a child process (the slow part of intake: decompression under the
 * limits); then, in the parent, the bundle's documents are read and validated (bounded by
 * the limits) and the job either fails or is left with atoms to run. The manager then asks job_next_atom()/job_spawn_atom() as
 * worker slots free up. When the last atom ends the job forks its packing child; when
 * that ends it publishes (or fails) and tells the manager through manager_job_done().
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "backend/backend.h"
#include "format/dag.h"
#include "format/diag.h"
#include "format/node.h"
#include "format/spec.h"
#include "output/report.h"
#include "sched.h"

struct manager;
struct bundle;
struct settings;

struct atom_run {
        enum run_state state;
        pid_t pid;
        sd_event_source *child;
        sd_event_source *timer;
        bool timed_out;
        unsigned attempts;
        uint64_t start_usec, end_usec; /* CLOCK_MONOTONIC */
        uint64_t work_usec; /* the worker's own generation and analysis (its result) */
        char *error;
        uint64_t loc;
        uint64_t syntax_errors;
        struct node *syntax_list; /* [{line, column, excerpt}] */
        struct gen_usage usage;
        const char *backend;       /* the backend that wrote it (static), NULL before */
        long syntax_errors_before; /* before repair calls; -1 when none were made */
        unsigned repair_calls;
        struct node *refused;      /* files the model's reply offered for other paths */
        enum report_cache cache;   /* the atom cache: off, hit or miss */
        struct gen_usage cached_usage; /* a hit: what the calls that wrote the entry used */
        bool model;                /* its worker waits on a model: a model slot (sched.h) */
};

enum job_stage { STAGE_INTAKE, STAGE_VALIDATION, STAGE_GENERATION, STAGE_PACKAGING };

struct job {
        struct manager *manager;
        const struct settings *settings; /* as they were when the job was claimed (SIGHUP
                                          * changes the manager's, not a running job's) */
        struct job *next;
        char *dir;
        char *entry; /* the bundle's name in inbox/ */
        char *name;  /* the job's name: outputs are NAME.tar.gz, NAME.metrics.yaml */
        int form;    /* enum bundle_form */
        struct bundle *bundle;
        struct spec *spec;
        struct dag *dag;
        const struct backend *backend;
        struct backend_options bopts;
        char *model;
        struct gen_budget budget;  /* model calls: job options over the daemon's defaults */
        bool repair;
        bool cache;                /* the atom cache: settings, --no-cache, job option cache */
        const char *hybrid_model;  /* static: "anthropic" or "openai" */
        struct atom_run *runs;
        size_t n_running, n_finished;
        bool failed;   /* an atom failed: start no more, finish when the running end */
        bool finished; /* published or failed; the manager frees it */
        bool succeeded;
        bool cancelled; /* codegenctl cancel: fails with stage `cancelled` */
        enum job_stage stage;
        struct diags diags;
        pid_t child_pid;           /* the job's own child: unpacking, then packing */
        sd_event_source *child_src;
        sd_event_source *child_timer; /* limits.unpack_timeout for that child */
        bool child_timed_out;
        bool unpack_pending; /* an archive waiting for a worker slot (or a fork) to unpack */
        bool pack_pending;   /* its packing child could not be forked yet */
        bool superseded;     /* a newer job of the same name ended first: this one is dropped */
        bool lost;           /* another daemon took the job over: dropped here, nothing touched */
        bool end_waiting;    /* ready to end, waits for an older job of its name (job_end_gate) */
        sd_event_source *end_retry;
        sd_event_source *kick; /* deferred progress after a failure to fork */
        sd_event_source *fail_retry; /* job_fail() again after a fault of the machine */
        unsigned fail_delay;         /* its current back-off, seconds */
        uint64_t started_realtime, finished_realtime; /* usec */
        uint64_t started_usec, finished_usec;          /* CLOCK_MONOTONIC */
        struct node *content;      /* content metrics from the packing child */
        uint64_t tarball_bytes;
        char *tarball_sha256;
        /* scheduling (sched.h): the job's options, the atoms' remaining chains, and the
         * atoms started so far (the cross-job share) */
        enum schedule_mode schedule;
        unsigned priority;
        double *chain;
        uint64_t n_started;
        /* model atoms (runs[i].model) take a slot of this provider (limits.h's index, -1:
         * the backend calls none), at most model_slots at once (its `concurrency`) */
        int model_provider;
        unsigned model_slots;
        void *prepared; /* the backend's prepare(): shared by the workers through fork */
};

int job_new(struct manager *m, const char *jobdir, struct job **ret);
/* JOBDIR/bundle/ENTRY (malloc'd), NULL on ENOMEM. */
char *job_bundle_path(const struct job *j);
void job_free(struct job *j);
/* Intake + validation + planning, or the start of an unpacking child that continues
 * them. Returns 0 (the job may have failed already: check j->finished) or a negative
 * errno for a fault of the daemon's own. */
int job_start(struct job *j);
/* The atom to start next among those whose kind of slot is free (SCHED_SLOT_*:
 * sched_pick_in() under the job's schedule and chains), or -1. */
long job_next_atom(struct job *j, unsigned slots);
/* Forks the atom's worker; a negative errno when that failed for now (the atom stays
 * pending and the manager tries again later). */
int job_spawn_atom(struct job *j, size_t idx);
/* The job's claim on worker slots (sched_share_before()). */
void job_share(const struct job *j, struct sched_share *ret);
/* intake, validation, generation, packaging, or cancelled */
const char *job_stage_name(const struct job *j);
/* Forks an archive's unpacking child (j->unpack_pending), or the packing child again
 * (j->pack_pending); a negative errno when the fork failed (tried again later). */
int job_start_unpack(struct job *j);
int job_start_packing(struct job *j);
/* SIGTERM to every worker of the job (shutdown). */
void job_kill(struct job *j, int sig);
/* The report's view of the job (report_job_clear() frees it); 0 or -ENOMEM. */
int job_report_view(const struct job *j, struct report_job *ret);
/* Stops the job's workers and children; the job then ends in failed/ with stage
 * `cancelled` (from the event loop, never from inside this call). */
void job_cancel(struct job *j);
/* The job's directory is gone (its lease could not be renewed): another daemon superseded
 * it or took it over. Its workers are stopped and it is dropped from the loop. */
void job_lost(struct job *j);
static inline bool job_dropped(const struct job *j) {
        return j->superseded || j->lost;
}
/* One human summary ("Files Generated: 52 / ...") for --once. */
void job_print_summary(const struct job *j, FILE *f);
