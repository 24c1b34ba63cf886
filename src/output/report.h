/* report.h - the metrics and error reports (job-format.md section 5), built as node
 * trees and written with libyaml's emitter (doc_emit_yaml), never with printf.
 *
 * report_metrics(): outbox/NAME.metrics.yaml for a succeeded job.
 * report_error():   failed/NAME.error.yaml: job, status, stage, errors (every diagnostic
 *                   with message, file, line, column, path) and, once generation started,
 *                   the partial metrics.
 * report_reject():  the error report for an inbox entry that is no bundle at all (why: the
 *                   reason, from bundle_refusal()).
 * report_content_atoms(): the per-atom part of the tarball's .codegen/metrics.yaml.
 * Each returns 0 with a malloc'd YAML text, or a negative errno.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analysis/analyze.h"
#include "backend/backend.h"
#include "format/dag.h"
#include "format/diag.h"
#include "format/node.h"

enum run_state { RUN_PENDING, RUN_RUNNING, RUN_OK, RUN_FAILED, RUN_SKIPPED };
/* The atom cache (docs/cache.md): not used for the atom, its text came from it, or not. */
enum report_cache { CACHE_OFF, CACHE_HIT, CACHE_MISS };

/* One atom's run, as the reports show it. */
struct report_atom {
        enum run_state state;
        unsigned attempts;
        uint64_t start_usec, end_usec;   /* CLOCK_MONOTONIC; end 0 while not ended */
        uint64_t work_usec;              /* the worker's own generation + analysis */
        const char *error;               /* why it failed, or NULL */
        uint64_t loc;
        uint64_t syntax_errors;
        const struct node *syntax_list;  /* [{line, column, excerpt}], or NULL */
        struct gen_usage usage;
        const char *backend;             /* the backend that wrote it, NULL before */
        long syntax_errors_before;       /* before repair calls; -1 when none were made */
        unsigned repair_calls;
        const struct node *refused;      /* files a model's reply offered for other paths */
        enum report_cache cache;
        struct gen_usage cached_usage;   /* a hit: the usage of the calls that wrote the entry */
};

/* Everything the reports write about one job: plain figures, filled by the job that owns
 * them (daemon/job.c), so that this module knows nothing of jobs, workers or the loop. */
struct report_job {
        const char *name;
        const char *entry;               /* the bundle's name in inbox/, or NULL */
        const char *backend;             /* NULL before validation chose one */
        bool model_backend;              /* not deterministic: per-atom backend, api, repair */
        const char *model;
        const struct dag *dag;           /* NULL before planning */
        struct report_atom *atoms;       /* one per dag atom (malloc'd); NULL before generation */
        uint64_t started_realtime;       /* usec since the epoch */
        uint64_t started_usec;           /* CLOCK_MONOTONIC: the atoms' start_s/end_s count from it */
        const char *schedule;            /* dag or waves (the daemon's scheduler), or NULL */
        unsigned priority;
        uint64_t finished_realtime;
        double duration_s;
        const struct node *content;      /* content metrics from the packing child, or NULL */
        struct analyze_thresholds thresholds;
        uint64_t tarball_bytes;
        const char *tarball_sha256;
        const struct diags *diags;
};

/* Frees what the filler allocated (the atoms). */
void report_job_clear(struct report_job *rj);

int report_metrics(const struct report_job *rj, char **ret, size_t *ret_len);
int report_error(const struct report_job *rj, const char *stage, char **ret, size_t *ret_len);
int report_reject(const char *entry, const char *why, char **ret, size_t *ret_len);

/* [{message, file, line, column, path}] as in the error report. */
int report_errors_node(const struct diags *d, struct node **ret);
/* The diagnostic for an inbox entry that has none of the bundle forms. */
int report_not_a_bundle(struct diags *d, const char *entry, const char *why);

/* {calls, retries, input_tokens, ..., cost_usd} as in the report's api: key. */
struct node *report_usage_node(const struct gen_usage *u, int cost_decimals);

/* A number as a plain scalar with the given decimals ("0.412"). */
struct node *node_new_real(double v, int decimals);
/* [{id, kind, wave, target, loc, syntax_errors}] for the tarball's metrics. */
struct node *report_content_atoms(const struct report_job *rj);
