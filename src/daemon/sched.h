/* sched.h - which atom runs next: the scheduling policy, apart from the job's state
 * machine (job.c) and the loop (manager.c) so that it can be tested on its own.
 *
 * Within a job: `schedule: dag` starts an atom as soon as its dependencies succeeded;
 * `schedule: waves` (the seed's barrier, kept for comparison) starts no atom of wave k+1
 * before every atom of wave k ended. In both modes, among the ready atoms the one with the
 * longest remaining chain starts first (critical path): the chain of an atom is its own
 * weight plus the longest chain of the atoms that depend on it. The weight is 1 per atom,
 * or the mean seconds its kind took so far in this daemon's run once every kind of the
 * job has been measured (sched_kind_times).
 *
 * Two kinds of slots: an atom whose worker waits on a model's reply (the backend's
 * model_atoms(), backend.h) takes one of its provider's `concurrency` slots, any other
 * atom (and an archive's unpacking) one of the `workers` (CPU) slots; a job's ready atoms
 * are picked among those whose kind of slot is free.
 *
 * Across jobs: a free worker slot goes to the job with the fewest running atoms per unit
 * of its `priority` (ties: the job that has started the fewest atoms per unit of
 * priority, then the older job), so slots are shared round-robin, weighted by priority,
 * and a big job cannot starve a small one dropped after it.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "format/dag.h"
#include "output/report.h"

enum schedule_mode { SCHEDULE_DAG, SCHEDULE_WAVES, _SCHEDULE_MAX };

#define SCHED_PRIORITY_MIN 1
#define SCHED_PRIORITY_MAX 100
#define SCHED_PRIORITY_DEFAULT 1

const char *schedule_mode_name(enum schedule_mode m);
/* SCHEDULE_DAG or SCHEDULE_WAVES, or -EINVAL for another name. */
int schedule_mode_from_name(const char *s);

/* Mean measured seconds per atom kind over the daemon's run (seconds of succeeded atoms). */
struct sched_kind_times {
        double seconds[_AK_MAX];
        uint64_t count[_AK_MAX];
};

void sched_kind_times_add(struct sched_kind_times *t, enum atom_kind k, double seconds);

/* The remaining chain of every atom of a checked DAG (dag->order is topological):
 * ret[i] = weight(i) + max(ret[j] for the atoms j depending on i). The weights are the
 * kinds' mean seconds when times (may be NULL) knows every kind of the DAG, else 1 per
 * atom. Returns 0 and a malloc'd array of dag->n_atoms, or -ENOMEM. */
int sched_chains(const struct dag *dag, const struct sched_kind_times *times, double **ret);

struct atom_run; /* job.h */

/* The atom to start next: among the atoms whose run is RUN_PENDING and whose
 * dependencies are all RUN_OK (and, in waves mode, that belong to the lowest wave with an
 * atom not yet RUN_OK), the one with the longest chain; ties go to the earlier atom in
 * dag->order. -1 when none is ready. runs[i] is atom i's run; chain may be NULL (FIFO:
 * the first ready atom in dag->order). */
long sched_pick(const struct dag *dag, const struct atom_run *runs, const double *chain,
                enum schedule_mode mode);
/* The same among the atoms whose slot is free: SCHED_SLOT_CPU for atoms whose run is not
 * `model`, SCHED_SLOT_MODEL for those whose run is (sched_pick(): both). */
enum { SCHED_SLOT_CPU = 1, SCHED_SLOT_MODEL = 2 };
long sched_pick_in(const struct dag *dag, const struct atom_run *runs, const double *chain,
                   enum schedule_mode mode, unsigned slots);

/* One running job as the cross-job policy sees it. */
struct sched_share {
        unsigned running;  /* its atoms running now */
        uint64_t started;  /* atoms it started so far */
        unsigned priority; /* SCHED_PRIORITY_MIN..MAX */
};

/* true when a should get the next free slot before b; false on a tie (callers keep the
 * older job). */
bool sched_share_before(const struct sched_share *a, const struct sched_share *b);
