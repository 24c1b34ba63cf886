/* worker.h - what one forked child does for one atom (and the packing child for one
 * job), then _exit(); and how the parent reads what it left behind.
 *
 * A child never touches the parent's sd-event objects. It resets its signal mask,
 * generates, writes its outputs atomically into the job's work area and exits 0 when a
 * result file was written (whatever the result), non-zero when even that failed.
 *
 * Layout inside the job directory:
 *   frags/ATOM_ID            the atom's text (a file, or its fragment of a shared one)
 *   results/ATOM_ID.yaml     {status: ok|error, error, loc, syntax_errors, errors, api}
 *   project/NAME/...         the assembled project (packing child)
 *   out/NAME.tar.gz          the tarball (packing child)
 *   results/pack.yaml        {tarball: {bytes, sha256}, content: {...}} (packing child)
 *   scratch/                 an archive bundle, unpacked (unpacking child)
 *   results/unpack.yaml      {errors: [...]} when the unpacking child refused the bundle
 */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include "analysis/analyze.h"
#include "bundle/intake.h"
#include "job.h"

/* What a child needs of the daemon, handed over at fork: a child never reads the manager. */
struct worker_env {
        pid_t parent;                         /* the daemon: a child dies with it */
        int lock_fd;                          /* the spool's lock, closed in the child (-1: none) */
        struct analyze_thresholds thresholds; /* the success criteria (packing child) */
        uint64_t cpu_seconds;                 /* limits.worker_*: setrlimit in the child (0: none) */
        uint64_t memory;
        uint64_t output_bytes;
        const char *cache_dir;                /* the atom cache (cache.h), NULL: not for this job */
};

/* Exit statuses of the children. */
enum {
        WORKER_OK = 0,       /* done; its result is written */
        WORKER_FAILED = 1,   /* it could not even write a result */
        WORKER_REFUSED = 3,  /* unpacking: the bundle was refused, results/unpack.yaml says why */
        WORKER_ERRNO = 100,  /* + errno (below 150): it could not write its result, for that
                              * reason (a full disk: ENOSPC), which the parent reports */
        WORKER_ERRNO_MAX = 150,
};

_Noreturn void worker_atom_main(const struct worker_env *env, struct job *j, size_t idx);
_Noreturn void worker_pack_main(const struct worker_env *env, struct job *j);
/* Unpacks an archive bundle into the job's scratch/ (the slow part of intake). */
_Noreturn void worker_unpack_main(const struct worker_env *env, struct job *j,
                                  const struct intake_limits *lim);

/* Parent side: adds the diagnostics a child left in results/WHAT.yaml to j->diags. */
int worker_load_diags(struct job *j, const char *what);

/* Parent side: fills run from results/ATOM_ID.yaml; -ENOENT when there is none. */
int worker_load_atom_result(struct job *j, size_t idx);
/* Parent side: reads results/pack.yaml into j->content, j->tarball_*. */
int worker_load_pack_result(struct job *j);
