/* spec-internal.h - what the files of the spec validator share; no other module
 * includes it.
 *
 * spec.c holds the entry point, the document root, the enum names, naming and the
 * validation helpers below; spec-entity.c validates entities with their fields and
 * relationships, spec-api.c endpoints and validation rules. The validators never stop at
 * the first problem: each one adds a diagnostic through verr(), which counts it in
 * struct vctx; allocation failures set vctx.oom.
 */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "shared/macro.h"
#include "spec.h"

/* Identifiers of the spec: PostgreSQL keeps 63 bytes of a table's or a column's name and
 * cuts the rest, so a longer one would not be the name the generated code uses. */
#define IDENT_MAX 63

extern const char *const spec_field_type_names[_FT_MAX];
extern const char *const spec_rel_kind_names[_RK_MAX];
extern const char *const spec_op_kind_names[_OP_MAX];
extern const char *const spec_rule_kind_names[_RULE_MAX];
extern const char *const spec_auth_kind_names[_AUTH_MAX];

/* Index of s in names (NULL entries, left by a failed allocation, never match), or -1. */
static inline int lookup(const char *const *names, size_t n, const char *s) {
        for (size_t i = 0; i < n; i++)
                if (names[i] && streq(names[i], s))
                        return (int) i;
        return -1;
}

bool spec_is_pascal(const char *s);

struct vctx {
        const char *file;
        struct diags *d;
        size_t errors;
        bool oom;
        /* entity names in document order (NULL where invalid), for reference checks */
        const char **entity_names;
        size_t n_entity_names;
};

char *spec_pkey(struct vctx *c, const char *base, const char *key);
char *spec_pidx(struct vctx *c, const char *base, size_t i);

/* One diagnostic at node's position with path base.key (base alone when key is NULL). */
_printf_(5, 6) static inline void verr(struct vctx *c, const struct node *at, const char *base,
                                       const char *key, const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL, *path = NULL;
        va_list ap;
        int k;

        c->errors++;
        va_start(ap, fmt);
        k = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (k < 0 || !(path = spec_pkey(c, base ? base : "", key))) {
                c->oom = true;
                return;
        }
        if (diags_add(c->d, c->file, at ? at->line : 0, at ? at->column : 0, path, "%s", msg) < 0)
                c->oom = true;
}

char *spec_vdup(struct vctx *c, const char *s);
/* The prologue of every mapping the validators read: reports n unless it is a mapping
 * ("<what> must be a mapping (found <kind>)"), else every key of it that is not in known
 * and does not start with "x-"; returns whether n is a mapping. */
bool spec_check_map(struct vctx *c, const struct node *n, const char *path, const char *what,
                    const char *const *known, size_t n_known);

/* The value of key, or NULL when absent or null. */
static inline const struct node *get(const struct node *map, const char *key) {
        const struct node *v = node_get(map, key);
        return node_is_null(v) ? NULL : v;
}

/* The value of key, or NULL after a diagnostic when it is absent or null (why is
 * appended to the message). */
const struct node *spec_need(struct vctx *c, const struct node *map, const char *path,
                             const char *key, const char *why);
/* The text of v when it is a string, else NULL (after a diagnostic unless v is NULL). */
const char *spec_as_str(struct vctx *c, const struct node *v, const char *path, const char *key);

static inline const char *opt_str(struct vctx *c, const struct node *map, const char *path,
                                  const char *key) {
        return spec_as_str(c, get(map, key), path, key);
}

static inline const char *req_str(struct vctx *c, const struct node *map, const char *path,
                                  const char *key) {
        return spec_as_str(c, spec_need(c, map, path, key, ""), path, key);
}

void spec_opt_bool(struct vctx *c, const struct node *map, const char *path, const char *key,
                   bool *ret);
/* The optional numbers 'min' and 'max' of map (each flag set when read), and a
 * diagnostic when min > max. */
void spec_parse_min_max(struct vctx *c, const struct node *map, const char *path,
                        double *min, bool *has_min, double *max, bool *has_max);
/* A non-empty sequence, or NULL after a diagnostic (none when absent and optional). */
const struct node *spec_get_seq(struct vctx *c, const struct node *map, const char *path,
                                const char *key, bool required);

/* ID_FIELD: snake_case, and a Python keyword is allowed: field names become columns and
 * JSON keys as written, and the backend renames the Python attribute ("class" -> class_). */
enum ident_style { ID_SNAKE, ID_PASCAL, ID_FIELD };

/* Checks a name that becomes a Python identifier; what is e.g. "field name". */
bool spec_check_ident(struct vctx *c, const struct node *at, const char *path, const char *key,
                      const char *what, const char *s, enum ident_style style);
/* Reports an unknown entity name; returns whether it is known. */
bool spec_check_entity_ref(struct vctx *c, const struct node *at, const char *path,
                           const char *key, const char *name);
/* Whether pattern is a valid POSIX extended regular expression; reports it if not. */
bool spec_check_regex(struct vctx *c, const struct node *at, const char *path, const char *key,
                      const char *pattern);

static inline bool type_is_stringlike(enum field_type t) {
        return t == FT_STRING || t == FT_TEXT || t == FT_EMAIL || t == FT_URL;
}

static inline bool type_is_numeric(enum field_type t) {
        return t == FT_INTEGER || t == FT_FLOAT || t == FT_DECIMAL;
}

struct dup {
        size_t i, first;
};

/* Every later occurrence of a repeated key (NULL keys skipped), in document order, with
 * the index of the first occurrence; sorting keeps large inputs O(n log n). */
struct dup *spec_find_duplicates(struct vctx *c, const char *const *keys, size_t n,
                                 size_t *ret_n);

/* spec-entity.c: the entities with their fields and relationships, and the checks that
 * need all of them (duplicate names, back_populates pairs, foreign keys relationships
 * rely on). */
void spec_parse_entities(struct vctx *c, const struct node *root, struct spec *s);

/* spec-api.c */
void spec_parse_endpoint(struct vctx *c, const struct spec *s, const struct node *n,
                         const char *path, struct endpoint *ep);
void spec_check_endpoint_duplicates(struct vctx *c, struct spec *s, const struct node *eps);
void spec_parse_rule(struct vctx *c, const struct spec *s, const struct node *n,
                     const char *path, struct rule *r);
