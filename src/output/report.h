/* report.h - the metrics and error reports (job-format.md section 5), built as node
 * trees and written with libyaml's emitter (doc_emit_yaml), never with printf.
 *
 * report_metrics(): outbox/NAME.metrics.yaml for a succeeded job.
 * report_error():   failed/NAME.error.yaml: job, status, stage, errors (every diagnostic
 *                   with message, file, line, column, path) and, once generation started,
 *                   the partial metrics.
 * report_reject():  the error report for an inbox entry that is no bundle at all.
 * report_content_atoms(): the per-atom part of the tarball's .codegen/metrics.yaml.
 * Each returns 0 with a malloc'd YAML text, or a negative errno.
 */
#pragma once

#include <stddef.h>

#include "daemon/job.h"
#include "format/node.h"

int report_metrics(const struct job *j, char **ret, size_t *ret_len);
int report_error(const struct job *j, const char *stage, char **ret, size_t *ret_len);
int report_reject(const char *entry, char **ret, size_t *ret_len);

/* [{message, file, line, column, path}] as in the error report. */
int report_errors_node(const struct diags *d, struct node **ret);
/* The diagnostic for an inbox entry that has none of the bundle forms. */
int report_not_a_bundle(struct diags *d, const char *entry);

/* The success criteria's thresholds from the daemon's settings. */
struct analyze_thresholds;
struct settings;
void report_thresholds(const struct settings *s, struct analyze_thresholds *ret);

/* {calls, retries, input_tokens, ..., cost_usd} as in the report's api: key. */
struct node *report_usage_node(const struct gen_usage *u, int cost_decimals);

/* A number as a plain scalar with the given decimals ("0.412"). */
struct node *node_new_real(double v, int decimals);
/* [{id, kind, wave, target, loc, syntax_errors}] for the tarball's metrics. */
struct node *report_content_atoms(const struct job *j);
