/* node.h - the in-memory document tree that YAML and JSON inputs are parsed into.
 *
 * One tree type serves the spec, the DAG, job options, the daemon's configuration and
 * the template engine's context, so validation is written once for both input formats.
 * A node is NULL-kind (YAML ~/null/empty, JSON null), a scalar (text plus whether it was
 * quoted: a quoted scalar is always a string, never a number or boolean), a map (ordered
 * keys, duplicates refused by the parsers) or a sequence. line/column are 1-based
 * positions in the source file (0 when unknown, as for JSON values).
 * Constructors return NULL on ENOMEM; node_map_set()/node_seq_append() take ownership
 * of the child even on failure (they free it) and return 0 or -ENOMEM.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

enum node_kind {
        NODE_NULL,
        NODE_SCALAR,
        NODE_MAP,
        NODE_SEQ,
};

struct node {
        enum node_kind kind;
        bool quoted;
        char *value;          /* NODE_SCALAR */
        size_t n;             /* NODE_MAP: pairs, NODE_SEQ: items */
        size_t alloc;
        struct node **keys;   /* NODE_MAP: scalar key nodes (with their positions) */
        struct node **items;  /* NODE_MAP: values, NODE_SEQ: items */
        unsigned line;
        unsigned column;
};

struct node *node_new_null(void);
struct node *node_new_scalar(const char *value, bool quoted);
struct node *node_new_scalarn(const char *value, size_t len, bool quoted);
struct node *node_new_string(const char *value); /* quoted scalar */
struct node *node_new_bool(bool b);               /* plain "true"/"false" */
struct node *node_new_int(long long v);
struct node *node_new_map(void);
struct node *node_new_seq(void);
void node_free(struct node *n);
static inline void node_freep(struct node **n) {
        node_free(*n);
}
#define _cleanup_node_ __attribute__((cleanup(node_freep)))

int node_map_set(struct node *map, const char *key, struct node *value);
/* As node_map_set, with the key node given (the parsers keep key positions). */
int node_map_set_node(struct node *map, struct node *key, struct node *value);
int node_seq_append(struct node *seq, struct node *item);
/* Convenience: map[key] = string / bool / int. */
int node_map_set_string(struct node *map, const char *key, const char *value);
int node_map_set_bool(struct node *map, const char *key, bool value);
int node_map_set_int(struct node *map, const char *key, long long value);

/* Lookup in a map; NULL when absent or when map is not a map. */
const struct node *node_get(const struct node *map, const char *key);
/* Position of key in a map, for "unknown key" diagnostics; -1 when absent. */
long node_key_index(const struct node *map, const char *key);

/* Type tests following YAML 1.2 core schema on plain scalars. */
bool node_is_null(const struct node *n);       /* absent, NODE_NULL, plain null/~ */
bool node_is_string(const struct node *n);     /* scalar that is not null/bool/number, or quoted */
int node_as_bool(const struct node *n, bool *ret);      /* plain true/false; -EINVAL */
int node_as_int(const struct node *n, long long *ret);  /* plain decimal integer; -EINVAL/-ERANGE */
int node_as_double(const struct node *n, double *ret);  /* plain number; -EINVAL */
const char *node_kind_name(const struct node *n);       /* "null", "string", "number", "boolean", "mapping", "sequence" */

struct node *node_dup(const struct node *n);
