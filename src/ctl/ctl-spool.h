/* ctl-spool.h - codegenctl's view of a spool, read from its on-disk contract only
 * (docs/job-format.md section 4, codegenctl(1) FILES), never from the daemon's memory, so
 * it works on any host that mounts the spool.
 *
 *   queued   SPOOL/inbox/ENTRY                    a bundle not yet claimed
 *   running  SPOOL/.codegend/jobs/ID/bundle/ENTRY  claimed by the daemon
 *   done     SPOOL/outbox/NAME.metrics.yaml        published (the tarball is beside it)
 *   failed   SPOOL/failed/NAME.error.yaml          failed, rejected or cancelled
 *
 * A job's NAME is its bundle entry's name without the form's extension (job-format.md
 * section 1). A name in more than one state is in the earliest of them (a resubmitted job
 * is queued even though its last run is in the outbox); a name both done and failed is in
 * whichever report is newer. Functions return 0 or a negative errno and never print.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ctl_state { CTL_QUEUED, CTL_RUNNING, CTL_DONE, CTL_FAILED, _CTL_STATE_MAX };

struct ctl_job {
        char *name;
        enum ctl_state state;
        char *entry;       /* the bundle's entry name (queued, running; failed when kept) */
        char *path;        /* the inbox entry, the claimed bundle, or the report */
        int64_t since;     /* seconds since the epoch: queued at, claimed at, or finished at */
        char *started_at;  /* from the report (done, failed), when it says */
        char *finished_at;
        double duration_s; /* from the report, -1 when unknown */
        char *stage;       /* failed: intake, validation, generation, packaging, cancelled */
};

struct ctl_spool {
        char *root, *inbox, *outbox, *failed, *jobs, *cancel;
};

const char *ctl_state_name(enum ctl_state s);

/* Fills sp's paths; -ENOTDIR when root has no inbox/ (not a spool). */
int ctl_spool_open(struct ctl_spool *sp, const char *root);
void ctl_spool_close(struct ctl_spool *sp);


/* Every job of the spool, sorted by state then name. */
int ctl_list(const struct ctl_spool *sp, struct ctl_job **ret, size_t *ret_n);
/* One job by name; -ENOENT when the spool does not know it. */
int ctl_find(const struct ctl_spool *sp, const char *name, struct ctl_job *ret);
/* The bundle entry of job NAME in failed/ (malloc'd); -ENOENT when none is kept. */
int ctl_failed_entry(const struct ctl_spool *sp, const char *name, char **ret_entry);

void ctl_job_clear(struct ctl_job *j);
void ctl_jobs_free(struct ctl_job *v, size_t n);
