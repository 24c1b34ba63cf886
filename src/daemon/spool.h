/* spool.h - the spool's state directories and every rename between them (Postfix style:
 * a directory is a state, a job moves between states by rename()).
 *
 *   SPOOL/inbox/                  dropped bundles (users)
 *   SPOOL/outbox/                 NAME.tar.gz, then NAME.metrics.yaml (published)
 *   SPOOL/failed/                 the original bundle, then NAME.error.yaml
 *   SPOOL/.codegend/lock          flock()ed shared by every daemon of the spool, or
 *                                 exclusively by one that wants it alone (exclusive:)
 *   SPOOL/.codegend/jobs/ID/      one claimed job (ID names its holder: lease.h):
 *                                 lease (renewed by the holder), bundle/ENTRY (the
 *                                 original, moved here by rename before any work), and
 *                                 the job's work area (scratch/, frags/, results/,
 *                                 project/, out/)
 *   SPOOL/.codegend/cancel/NAME   a request (codegenctl cancel) to stop the running job
 *                                 NAME; the daemon that holds it acts on it and removes it
 *   SPOOL/.codegend/cache/KEY     an entry of the atom cache (cache.h)
 *   SPOOL/.codegend/clock-TAG     touched to read the spool's clock (lease.h)
 *
 * A claimed job lives only under .codegend/jobs until it is published or failed, so a
 * crash at any point leaves it there, and spool_take_free() hands it to the next daemon
 * that starts on this host, or to any daemon once its lease has expired. Every change of
 * a job directory's holder or state is a rename of the directory: exactly one wins.
 * Functions return 0 or a negative errno and never log.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "lease.h"

struct spool {
        char *root;
        char *inbox;
        char *outbox;
        char *failed;
        char *jobs;
        char *cancel;
        char *cache;  /* SPOOL/.codegend/cache/: the atom cache (cache.h) */
        char *clock;  /* SPOOL/.codegend/clock-TAG: spool_clock() */
        int lock_fd;
        struct instance self;
        unsigned lease_seconds, lease_grace;
        /* test hook (CODEGEND_FAULT_INJECT=@publish=slow): a pause between the steps of a
         * claim, a publication or a failure, so that a crash test's random SIGKILLs land
         * between them */
        unsigned step_delay_ms;
};

struct spool_options {
        bool exclusive;          /* the spool's lock exclusively: no other daemon may run */
        unsigned lease_seconds;  /* a job's lease: renewed every third of it */
        unsigned lease_grace;    /* how long past its lease a job is left to its holder */
};

/* Sets up this daemon's identity (lease.h), creates the directories when missing and takes
 * the spool's lock, shared or exclusive (-EBUSY when a daemon of the other kind runs);
 * then removes the temporary files (".NAME.PID[@TAG].N.tmp") in outbox/, failed/ and the
 * cache whose writers are surely gone: dead processes of this host, or files of another
 * host older than a lease and its grace. */
int spool_open(struct spool *s, const char *root, const struct spool_options *o);
void spool_close(struct spool *s);

/* Moves inbox/ENTRY into a new job directory; *ret_jobdir is that directory.
 * -ENOENT when the entry is gone (taken by someone else or removed). */
int spool_claim(struct spool *s, const char *entry, char **ret_jobdir);

/* The spool's "now": the mtime of SPOOL/.codegend/clock-TAG touched now. */
int spool_clock(struct spool *s, struct timespec *ret);

/* Takes over up to max job directories that are free (lease_takeable(): an earlier run's
 * of this host, or whose lease expired), oldest claim first: each is renamed to a new ID of
 * ours with its claim key and its lease renewed; *ret_jobdirs lists them (NULL-terminated).
 * Free directories with nothing in bundle/ (a crash during a claim) and free superseded
 * ones are removed (*ret_removed counts them); one whose bundle/ cannot be read for
 * another reason (EACCES, EMFILE) is skipped, never removed. */
int spool_take_free(struct spool *s, size_t max, char ***ret_jobdirs, size_t *ret_removed);
/* Whether the job directory is this daemon's (its name says so). */
bool spool_jobdir_is_own(const struct spool *s, const char *jobdir);

/* Before a job of NAME publishes or fails: its directory is renamed to "ID+ending"
 * (*jobdir changes), then every older job of NAME in flight is superseded (renamed to
 * "+superseded"; on_superseded(userdata, old, new) for each, its holder stops it when it
 * notices). 0: go ahead; -EAGAIN: an older job of NAME is ending: call again later;
 * -ESTALE: the directory is no longer ours (taken over or superseded). */
int spool_end_begin(struct spool *s, char **jobdir, const char *name,
                    void (*on_superseded)(void *userdata, const char *old, const char *new), void *userdata);
/* 1 when a job of NAME is in the state area (any daemon's), 0 when none. */
int spool_name_in_flight(struct spool *s, const char *name);

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
