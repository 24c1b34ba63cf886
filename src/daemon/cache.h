/* cache.h - the atom cache: content-addressed entries in SPOOL/.codegend/cache/
 * (docs/cache.md).
 *
 * An entry is one file named by the 64 hex digits of its key (backend_cache_key()):
 * the line "codegend-atom-cache 1 LEN", then LEN bytes of the atom's result YAML (as
 * the worker writes results/ATOM.yaml: loc, syntax figures, backend, repair, the api
 * usage of the calls that wrote it), then the fragment's text. Workers look entries up
 * and write them (write_file_atomic(): concurrent writers of one key are fine, the last
 * rename wins with the same content); a hit sets the entry's mtime to now, which is what
 * the least-recently-used eviction in the parent (cache_evict()) orders by.
 * Nothing here logs; every function returns 0 (or a documented value) or a negative errno.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "format/node.h"

/* 1 and the entry's result and text (malloc'd) on a hit, 0 on a miss; a malformed entry
 * is a miss (and is removed). */
int cache_lookup(const char *dir, const char *hex, struct node **ret_result, char **ret_text,
                 size_t *ret_len);
int cache_store(const char *dir, const char *hex, const struct node *result, const char *text, size_t len);

struct cache_evict_stats {
        uint64_t entries, bytes;     /* what the cache holds after the pass */
        uint64_t removed, removed_bytes;
};

/* Removes least recently used entries until the cache holds at most max_bytes; looks at
 * no more than max_entries entries (bounded work per pass: the rest wait for the next),
 * and removes temporary files left by a crashed writer when older than an hour. */
int cache_evict(const char *dir, uint64_t max_bytes, size_t max_entries, struct cache_evict_stats *ret);
