/* spool.h - the spool's state directories and every rename between them (Postfix style:
 * a directory is a state, a job moves between states by rename()).
 *
 *   SPOOL/inbox/                  dropped bundles (users)
 *   SPOOL/outbox/                 NAME.tar.gz, then NAME.metrics.yaml (published)
 *   SPOOL/failed/                 the original bundle, then NAME.error.yaml
 *   SPOOL/.codegend/lock          flock()ed by the daemon that owns the spool
 *   SPOOL/.codegend/jobs/ID/      one claimed job: bundle/ENTRY (the original, moved
 *                                 here by rename before any work), and the job's work
 *                                 area (scratch/, frags/, results/, project/, out/)
 *   SPOOL/.codegend/cancel/NAME   a request (codegenctl cancel) to stop the running job
 *   SPOOL/.codegend/cache/KEY     an entry of the atom cache (cache.h)
 *                                 NAME; the daemon acts on it and removes it
 *
 * A claimed job lives only under .codegend/jobs until it is published or failed, so a
 * crash at any point leaves it there and spool_recover() hands it back for a new run.
 * Functions return 0 or a negative errno and never log.
 */
#pragma once

#include <stdbool.h>

struct spool {
        char *root;
        char *inbox;
        char *outbox;
        char *failed;
        char *jobs;
        char *cancel;
        char *cache;  /* SPOOL/.codegend/cache/: the atom cache (cache.h) */
        int lock_fd;
        /* test hook (CODEGEND_FAULT_INJECT=@publish=slow): a pause between the steps of a
         * claim, a publication or a failure, so that a crash test's random SIGKILLs land
         * between them */
        unsigned step_delay_ms;
};

/* Creates the directories when missing and takes the spool's lock (-EBUSY when another
 * process holds it); then removes what a killed daemon left of its temporary files
 * (".NAME.PID.N.tmp") in outbox/ and failed/. */
int spool_open(struct spool *s, const char *root);
void spool_close(struct spool *s);

/* Moves inbox/ENTRY into a new job directory; *ret_jobdir is that directory.
 * -ENOENT when the entry is gone (taken by someone else or removed). */
int spool_claim(struct spool *s, const char *entry, char **ret_jobdir);

/* Lists job directories left by an earlier run, oldest first (NULL-terminated).
 * Job directories with nothing in bundle/ (a crash during a claim) are removed; one whose
 * bundle/ cannot be read for another reason (EACCES, EMFILE) is skipped, never removed. */
int spool_recover(struct spool *s, char ***ret_jobdirs);

/* The claimed entry's name inside jobdir/bundle (malloc'd), -ENOENT when empty. */
int spool_job_entry(const char *jobdir, char **ret_entry);

/* Publishes a succeeded job: tarball (a complete file inside the job directory) to
 * outbox/NAME.tar.gz, then the report to outbox/NAME.metrics.yaml, both by rename after
 * fsync; then what an earlier failed run of NAME left in failed/ is removed: its
 * NAME.error.yaml, and the bundles that is_named() says are NAME's. */
int spool_publish(struct spool *s, const char *name, const char *tarball,
                  const char *report, size_t report_len,
                  bool (*is_named)(const char *entry, bool is_dir, const char *name));

/* Fails a job: writes failed/NAME.error.yaml, then moves the original bundle to
 * failed/ENTRY (replacing an earlier one); the outputs of an earlier run of NAME are
 * removed from outbox/ (report first, then tarball). */
int spool_fail(struct spool *s, const char *jobdir, const char *name, const char *entry,
               const char *report, size_t report_len);

/* Moves SRC (an inbox entry that is not a bundle, or a job's bundle that spool_fail()
 * could not place) to failed/ under a name no entry or report holds yet, derived from
 * ENTRY (ENTRY~N when taken, ends in a report's suffix or is too long), with its report
 * as failed/THAT.error.yaml; *ret_name (malloc'd, may be NULL) is that name. Nothing in
 * failed/ is ever replaced. */
int spool_fail_unique(struct spool *s, const char *src, const char *entry, const char *report,
                      size_t report_len, char **ret_name);
/* spool_fail_unique() for inbox/ENTRY. */
int spool_reject(struct spool *s, const char *entry, const char *report, size_t report_len,
                 char **ret_name);

/* Removes a finished job's directory. */
int spool_job_remove(const char *jobdir);
