/* doc-internal.h - what the files of the document module share; no other module
 * includes it.
 *
 * doc-yaml.c is the one wrapper of libyaml (parsing and emitting), doc-json.c the one
 * wrapper of cJSON (parsing and emitting); doc.c holds doc_load() and the helpers both
 * parsers use for their diagnostics. Helpers return 0 or -ENOMEM and never log.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "doc.h"

#define DOC_MAX_DEPTH 64

/* 1-based line and column (in characters) of byte offset off in data. */
void doc_offset_position(const char *data, size_t len, size_t off, unsigned *ret_line,
                         unsigned *ret_column);

/* Paths of nodes being built ("a.b[2].c"), for diagnostics. */
int doc_path_push_key(struct strbuf *sb, const char *key);
int doc_path_push_index(struct strbuf *sb, size_t i);
/* Reports every key of map that repeats an earlier one. Sorting keeps this
 * O(n log n) for large maps. */
int doc_check_duplicate_keys(const struct node *map, const char *file, const char *path,
                             struct diags *d, bool *found);
