/* doc.h - YAML (libyaml) and JSON (cJSON) documents to and from struct node.
 *
 * This is the one place that wraps libyaml and cJSON. Parse errors become diagnostics
 * with file:line:column (for JSON the line and column are computed from cJSON's error
 * offset); the YAML parser refuses aliases, duplicate keys, non-scalar keys, more than
 * one document and nesting deeper than 64. Parsers return 0, -EINVAL (diagnostics
 * added) or -ENOMEM; input must be valid UTF-8 (else a diagnostic with its position).
 */
#pragma once

#include <stddef.h>

#include "diag.h"
#include "node.h"
#include "shared/strbuf.h"

int doc_parse_yaml(const char *data, size_t len, const char *file, struct node **ret,
                   struct diags *d);
int doc_parse_json(const char *data, size_t len, const char *file, struct node **ret,
                   struct diags *d);
/* Reads path (at most max bytes; larger is a diagnostic) and parses it by extension:
 * .json as JSON, anything else as YAML. file is the name used in diagnostics. */
int doc_load(const char *path, const char *file, size_t max, struct node **ret, struct diags *d);

/* Emits a tree as one YAML block document with libyaml's emitter. Quoted scalars that
 * would read back as something other than a string are double-quoted. */
int doc_emit_yaml(const struct node *n, struct strbuf *out);
/* Emits a tree as pretty JSON (2-space indent) with cJSON; plain scalars that are numbers,
 * booleans or null are written as such. */
int doc_emit_json(const struct node *n, struct strbuf *out);
