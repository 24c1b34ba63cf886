/* sched.c - the scheduling policy; see sched.h. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "job.h"
#include "sched.h"
#include "shared/macro.h"

static const char *const mode_names[_SCHEDULE_MAX] = {
        [SCHEDULE_DAG] = "dag",
        [SCHEDULE_WAVES] = "waves",
};

const char *schedule_mode_name(enum schedule_mode m) {
        return m < _SCHEDULE_MAX ? mode_names[m] : NULL;
}

int schedule_mode_from_name(const char *s) {
        for (int m = 0; s && m < _SCHEDULE_MAX; m++)
                if (streq(s, mode_names[m]))
                        return m;
        return -EINVAL;
}

void sched_kind_times_add(struct sched_kind_times *t, enum atom_kind k, double seconds) {
        if (k >= _AK_MAX || seconds < 0)
                return;
        t->seconds[k] += seconds;
        t->count[k]++;
}

/* The weights: measured means when every kind of the DAG has one, else 1 each. */
static bool kind_weights(const struct dag *dag, const struct sched_kind_times *times,
                         double w[_AK_MAX]) {
        if (!times)
                return false;
        for (size_t i = 0; i < dag->n_atoms; i++) {
                enum atom_kind k = dag->atoms[i].kind;
                if (times->count[k] == 0)
                        return false;
                w[k] = times->seconds[k] / (double) times->count[k];
        }
        return true;
}

int sched_chains(const struct dag *dag, const struct sched_kind_times *times, double **ret) {
        double w[_AK_MAX] = { 0 };
        bool measured = kind_weights(dag, times, w);
        double *chain = calloc(dag->n_atoms ? dag->n_atoms : 1, sizeof(*chain));
        if (!chain)
                return -ENOMEM;
        /* reverse topological order: every dependent is final before its dependencies */
        for (size_t k = dag->n_atoms; k-- > 0;) {
                size_t i = dag->order[k];
                const struct atom *a = &dag->atoms[i];
                /* a tiny floor keeps an instant kind from erasing the chain's length */
                chain[i] += measured ? w[a->kind] + 1e-6 : 1.0;
                for (size_t d = 0; d < a->n_deps; d++) {
                        size_t p = a->dep_idx[d];
                        if (chain[i] > chain[p])
                                chain[p] = chain[i];
                }
        }
        *ret = chain;
        return 0;
}

/* The lowest wave with an atom that has not succeeded (waves mode's barrier). */
static unsigned open_wave(const struct dag *dag, const struct atom_run *runs) {
        unsigned w = 0;
        for (size_t i = 0; i < dag->n_atoms; i++)
                if (runs[i].state != RUN_OK && (w == 0 || dag->atoms[i].wave < w))
                        w = dag->atoms[i].wave;
        return w;
}

long sched_pick(const struct dag *dag, const struct atom_run *runs, const double *chain,
                enum schedule_mode mode) {
        return sched_pick_in(dag, runs, chain, mode, SCHED_SLOT_CPU | SCHED_SLOT_MODEL);
}

long sched_pick_in(const struct dag *dag, const struct atom_run *runs, const double *chain,
                   enum schedule_mode mode, unsigned slots) {
        unsigned wave = mode == SCHEDULE_WAVES ? open_wave(dag, runs) : 0;
        long best = -1;
        for (size_t k = 0; k < dag->n_atoms; k++) {
                size_t i = dag->order[k];
                const struct atom *a = &dag->atoms[i];
                if (runs[i].state != RUN_PENDING || (wave && a->wave != wave) ||
                    !(slots & (runs[i].model ? SCHED_SLOT_MODEL : SCHED_SLOT_CPU)))
                        continue;
                bool ready = true;
                for (size_t d = 0; d < a->n_deps && ready; d++)
                        ready = runs[a->dep_idx[d]].state == RUN_OK;
                if (!ready)
                        continue;
                if (!chain)
                        return (long) i;
                if (best < 0 || chain[i] > chain[best])
                        best = (long) i;
        }
        return best;
}

bool sched_share_before(const struct sched_share *a, const struct sched_share *b) {
        /* running/priority compared without division: a.r * b.p < b.r * a.p */
        uint64_t ra = (uint64_t) a->running * b->priority, rb = (uint64_t) b->running * a->priority;
        if (ra != rb)
                return ra < rb;
        uint64_t sa = a->started * b->priority, sb = b->started * a->priority;
        return sa < sb;
}
