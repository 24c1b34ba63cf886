/* stats.h - a finished job's figures and the daemon's running totals.
 *
 * job_figures_get() sums one finished job (status, atoms by state, model usage, files,
 * LOC, duration); stats_add() adds them to the totals since the daemon started;
 * stats_format_prometheus() renders the totals in the Prometheus text format (version
 * 0.0.4) for node_exporter's textfile collector (docs/metrics.md lists every series);
 * the manager writes that atomically to `metrics_textfile` after every job.
 * Nothing here logs; stats_format_prometheus() returns 0 or a negative errno.
 */
#pragma once

#include <stdint.h>

#include "backend/backend.h"
#include "shared/strbuf.h"

struct job;

enum job_outcome { OUTCOME_SUCCEEDED, OUTCOME_FAILED, OUTCOME_CANCELLED, _OUTCOME_MAX };
enum { ATOM_OK, ATOM_FAILED, ATOM_SKIPPED, ATOM_NOT_RUN, _ATOM_STATUS_MAX };

struct job_figures {
        enum job_outcome outcome;
        const char *backend; /* static (the backend table's), "none" before validation */
        double duration_s;
        uint64_t atoms[_ATOM_STATUS_MAX];
        uint64_t files, loc;
        struct gen_usage usage;
        uint64_t cache_hits; /* atoms taken from the atom cache */
};

#define STATS_BACKENDS_MAX 8
#define STATS_BUCKETS 11

struct stats {
        uint64_t jobs[_OUTCOME_MAX];
        struct {
                const char *name;
                uint64_t atoms[_ATOM_STATUS_MAX];
                struct gen_usage usage;
        } backends[STATS_BACKENDS_MAX];
        unsigned n_backends;
        uint64_t duration_buckets[STATS_BUCKETS]; /* cumulative counts per upper bound */
        double duration_sum;
        uint64_t duration_count;
        uint64_t cache_hits;
};

const char *job_outcome_name(enum job_outcome o);
void job_figures_get(const struct job *j, struct job_figures *ret);
void stats_add(struct stats *s, const struct job_figures *f);
/* queued, running: the gauges at this moment. */
int stats_format_prometheus(const struct stats *s, uint64_t queued, uint64_t running, struct strbuf *out);
