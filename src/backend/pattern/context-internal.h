/* context-internal.h - what the files of the context module share; no other module
 * includes it.
 *
 * The module (interface: context.h) is one file per part of the context: context.c
 * (the project and the whole tree), context-entity.c, context-fields.c, context-rels.c
 * (relationships and association tables), context-api.c (rules and endpoints),
 * context-db.c (what the database enforces on a field), context-black.c (statements laid
 * out as black does), context-layout.c (module paths from the DAG's targets),
 * context-values.c (test values), context-regex.c (strings derived from patterns),
 * context-python.c (literals, identifiers and import lists) and context-check.c (what the
 * generated code cannot express). Builders return 0 or a negative errno (-ENOMEM, or
 * -EINVAL for what a validated spec cannot contain), functions that return a string NULL
 * on ENOMEM; nothing here logs.
 */
#pragma once

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "context.h"
#include "shared/macro.h"
#include "shared/strbuf.h"

#define TRY(expr)                                                                          \
        do {                                                                               \
                int _r_ = (expr);                                                          \
                if (_r_ < 0)                                                               \
                        return _r_;                                                        \
        } while (0)

/* ---- small builders ---- */

static inline int put(struct node *m, const char *k, struct node *v) {
        return node_map_set(m, k, v) < 0 ? -ENOMEM : 0;
}

static inline int put_str(struct node *m, const char *k, const char *v) {
        return node_map_set_string(m, k, v);
}

/* m[k] = prefix + code laid out as black does at indent (context_black_stmt()); a NULL
 * prefix or code (a failed allocation of the caller's) is -ENOMEM. */
static inline int put_black_stmt(struct node *m, const char *k, size_t indent, const char *prefix,
                                 const char *code) {
        _cleanup_free_ char *st = prefix && code ? context_black_stmt(indent, prefix, code) : NULL;
        return st ? put_str(m, k, st) : -ENOMEM;
}

static inline int put_strf(struct node *m, const char *k, const char *fmt, ...) _printf_(3, 4);
static inline int put_strf(struct node *m, const char *k, const char *fmt, ...) {
        _cleanup_free_ char *s = NULL;
        va_list ap;
        va_start(ap, fmt);
        int n = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (n < 0)
                return -ENOMEM;
        return node_map_set_string(m, k, s);
}

static inline int put_bool(struct node *m, const char *k, bool v) {
        return node_map_set_bool(m, k, v);
}

static inline int put_int(struct node *m, const char *k, long long v) {
        return node_map_set_int(m, k, v);
}

static inline int append_str(struct node *seq, const char *s) {
        return node_seq_append(seq, node_new_string(s));
}

/* Marks the last item of every map in a sequence with last: true (others false), for
 * separators in templates. */
static inline int mark_last(struct node *seq) {
        for (size_t i = 0; i < seq->n; i++)
                if (seq->items[i]->kind == NODE_MAP)
                        TRY(put_bool(seq->items[i], "last", i + 1 == seq->n));
        return 0;
}

static inline char *strf(const char *fmt, ...) _printf_(1, 2);
static inline char *strf(const char *fmt, ...) {
        char *s;
        va_list ap;
        va_start(ap, fmt);
        int n = vasprintf(&s, fmt, ap);
        va_end(ap);
        return n < 0 ? NULL : s;
}

/* ---- numbers (without libm, which the build does not link) ---- */

static inline double dfloor(double x) {
        double t = (double) (long long) x;
        return t > x ? t - 1 : t;
}

static inline double dceil(double x) {
        return -dfloor(-x);
}

static inline double dabs(double x) {
        return x < 0 ? -x : x;
}

/* ---- context-black.c: statements laid out as black does ---- */

/* black's line length in the generated projects (pyproject.toml.tmpl's [tool.black]) */
#define CONTEXT_LINE_LENGTH 100

/* context_black_stmt() is in context.h */

/* ---- context-db.c: what the database enforces ---- */

/* Whether the column is NOT NULL: the field is required or has a (non-null) default. */
bool context_field_not_null(const struct field *f);

/* context_db_name() is in context.h */
/* Whether the model tests write a value the database refuses into the field's column
 * (*any), and whether one of them is refused as a DataError (*data_error); sets them, never
 * clears them. */
void context_field_db_violations(const struct spec *s, const struct entity *e, const struct field *f,
                                 bool *any, bool *data_error);
/* Appends ", " and a formatted part to a comma-separated list; errors stick in *r
 * (context-fields.c). */
void context_add_part(struct strbuf *sb, int *r, const char *fmt, ...) _printf_(3, 4);

/* ---- context-python.c: literals, names, import lists ---- */

int context_add_py_str(struct strbuf *sb, const char *s);
char *context_py_str(const char *s);
char *context_json_str(const char *s);
char *context_num_str(double x);
char *context_one_line(const char *s);
int context_add_py_literal(struct strbuf *sb, const struct node *n);

bool context_in_list(const char *const *list, const char *s);
bool context_is_py_keyword(const char *s);
/* The Python attribute of field or relationship name of e: context_py_ident(), then
 * lengthened with "_" while it is the name of another member of e. */
char *context_member_attr(const struct entity *e, const char *name);
char *context_class_name_of(const struct entity *e);
/* The class's own name in its model module, which binds no PascalCase name of its own:
 * the entity's name; context_class_name_of() is what the other modules import. */
char *context_model_class_of(const struct entity *e);
/* The conftest function that builds a valid payload: <snake>_payload, or
 * payload_for_<snake> when that would start with "test" (pytest would collect it). */
char *context_payload_fn_of(const struct entity *e);
char *context_upper(const char *s);
char *context_pascal_of(const char *snake);
char *context_words_of(const char *snake);
char *context_title_words(const struct entity *e);

enum { IMP_STDLIB, IMP_THIRD, IMP_LOCAL, _IMP_MAX };

struct import {
        int group;
        char *module;   /* from-imports */
        char **names;
        size_t n_names;
        char *line;     /* plain "import x [as y]" */
};

struct imports {
        struct import *v;
        size_t n, alloc;
};

void context_imports_clear(struct imports *im);
int context_imp_plain(struct imports *im, int group, const char *line);
int context_imp_from(struct imports *im, int group, const char *module, const char *name);
/* Puts the sorted import groups under key and clears *im. */
int context_put_imports(struct node *m, const char *key, struct imports *im);
/* context_put_imports() when r (what filled *im returned) is not an error, else
 * clears *im. */
int context_with_imports(struct node *m, const char *key, int r, struct imports *im);

/* ---- context-layout.c: module paths from the DAG's targets ---- */

enum layout_role {
        ROLE_CONFIG, ROLE_DATABASE, ROLE_ERRORS, ROLE_MAIN, ROLE_CONFTEST, ROLE_MIGRATION_ENV,
        ROLE_ALEMBIC_INI, ROLE_AUTH, ROLE_MAKEFILE, _ROLE_MAX,
};

enum entity_role { EROLE_MODEL, EROLE_SCHEMA, EROLE_VALIDATION, EROLE_SERVICE, _ENTITY_ROLE_MAX };

struct layout {
        char *path[_ROLE_MAX];   /* the target of each role, NULL when the DAG has none */
        char *module[_ROLE_MAX]; /* its dotted module (Python roles) */
        char **emodule[_ENTITY_ROLE_MAX]; /* per entity (spec order): its module or NULL */
        char **epath[_ENTITY_ROLE_MAX];   /* and its target */
        size_t n_entities;
        char **routes;           /* the distinct route modules, in plan order */
        char **route_paths;      /* and their targets */
        size_t n_routes;
        bool *now_like_owner;    /* per entity: its validation module defines _now_like() here */
};

int context_layout_init(const struct spec *s, const struct dag *dag, struct layout *L);
void context_layout_clear(struct layout *L);
const char *context_layout_emodule(const struct layout *L, enum entity_role r,
                                   const struct spec *s, const struct entity *e);
/* An import of a whole module under alias (nothing for a NULL module). */
int context_imp_module(struct imports *im, const char *module, const char *alias);
/* The context of a package atom: module, top_level, reexports ({module, name}: relative
 * imports of the classes of its model or schema modules), has_reexports, all. */
int context_package_ctx(const struct spec *s, const struct dag *dag, const struct layout *L,
                        const struct atom *a, struct node **ret);
/* context_imp_from() into the local group; nothing for a NULL module. */
int context_imp_local(struct imports *im, const char *module, const char *name);

/* ---- context-regex.c ---- */

typedef bool (*sample_accept)(const char *s, const void *userdata);

/* A string of length within [min_len, max_len] that matches pattern, the variant-th
 * choice among alternatives, and that accept (when not NULL) takes; see
 * context_regex_sample(). */
int context_regex_sample_filtered(const char *pattern, unsigned variant, size_t min_len,
                                  size_t max_len, sample_accept accept, const void *userdata,
                                  char **ret);

/* ---- context-values.c: test values ---- */

struct sample_spec {
        const struct field *f;
        bool has_min, has_max;
        double min, max;
        size_t min_len, max_len;
        const char *pattern;
        bool search;  /* pattern from a regex rule: re.search, not re.match */
        const char *also[8]; /* more regex rules on the field (re.search): a sample meets them too */
        size_t n_also;
        int date_dir; /* +1: must not be in the past, -1: not in the future */
        const char *state; /* a transitions rule's start state: a new row's sample (variant 0) */
};

/* Whether text matches pattern at its start (anywhere: re.search) as Python would: 1 or
 * 0, or -1 when POSIX regexec() cannot decide it for Python's syntax. */
int context_posix_matches(const char *pattern, const char *text, bool anywhere);
void context_sample_spec_init(const struct spec *s, const struct entity *e, const struct field *f,
                              struct sample_spec *ss);
const char *context_invalid_value(const struct field *f);
char *context_payload_value(const struct spec *s, const struct entity *e, const struct field *f,
                            unsigned v, bool typed, int *err);
int context_variants_node(const struct spec *s, const struct entity *e, const struct field *f,
                          struct node **ret);
int context_count_variants(const struct spec *s, const struct entity *e, const struct field *f,
                           size_t *ret);

/* ---- context-fields.c ---- */

bool context_field_conflicts(const struct spec *s, const struct entity *e, const struct field *f);
bool context_field_has_rule(const struct spec *s, const struct entity *e, const struct field *f,
                            enum rule_kind kind);
const char *context_py_type_of(enum field_type t);
/* Transitions rules: the state a new row starts in (the field's default when it is a
 * state, else the first state the rule's `allowed` names, else the field's first value;
 * NULL when there is none), and whether a new row may have a state: the start, or one
 * the rule allows from it. */
const char *context_transitions_start(const struct field *f, const struct rule *r);
bool context_transitions_initial(const struct field *f, const struct rule *r, const char *state);
/* Whether the rule allows a row to move from one state to another. */
bool context_transitions_allow(const struct rule *r, const char *from, const char *to);
/* Two moves from one state that exclude each other: `from` may move to `a` and to `b`,
 * neither of which may move to the other, so of two concurrent updates to `a` and to `b`
 * only one may succeed. false (and NULLs) when the rule has no such moves. */
bool context_transitions_race(const struct field *f, const struct rule *r, const char **from,
                              const char **a, const char **b);

struct field_parts {
        char *attr;
        char *alias_kw; /* ", alias=\"name\"" or "" */
        char *enum_alias;
        char *py_type;
        char *read_type;
};

void context_field_parts_clear(struct field_parts *p);
int context_field_parts_init(const struct entity *e, const struct field *f, struct field_parts *p);
/* The Python type of a model attribute (Mapped[...]): what SQLAlchemy 2.0 loads. */
const char *context_model_py_type(enum field_type t);
/* The database's part of a field's context (context-db.c): st and mst are its SQLAlchemy
 * type for the migration and the model, mdef its default as model code (or NULL). */
int context_field_db(const struct spec *s, const struct entity *e, const struct field *f,
                     const struct field_parts *p, const char *st, const char *mst, const char *mdef,
                     struct node *m);
int context_field_ctx(const struct spec *s, const struct entity *e, const struct field *f,
                      struct node **ret);

/* ---- context-rels.c ---- */

struct relinfo {
        const struct entity *e, *t;
        const struct relationship *r;
        const struct relationship *back; /* the paired relationship on t */
        const struct field *fk;          /* the foreign key it follows (not many_to_many) */
        bool fk_on_self;                 /* fk is a field of e */
        /* many_to_many */
        char *assoc;
        bool assoc_owner;
        char *left_col, *right_col;      /* owner side, other side */
        const struct entity *owner;
};

void context_relinfo_clear(struct relinfo *ri);
/* -EINVAL when the relationship has no foreign key to follow (or no target). */
int context_relinfo_init(const struct spec *s, const struct entity *e, const struct relationship *r,
                         struct relinfo *ri);
int context_rel_ctx(const struct spec *s, const struct entity *e, const struct relationship *r,
                    struct node **ret);
int context_assoc_ctx(const struct relinfo *ri, struct node **ret);

/* ---- context-api.c: rules and endpoints ---- */

int context_rule_ctx(const struct spec *s, const struct rule *r, struct node **ret);
int context_endpoint_ctx(const struct spec *s, const struct layout *L, const struct endpoint *ep,
                         bool with_imports,
                         bool first, struct node **ret);

/* Adds the imports of ep's handler (with APIRouter when first) to *im. */
int context_route_imports(const struct spec *s, const struct layout *L, const struct entity *e,
                          const struct endpoint *ep, bool first, struct imports *im);

/* ---- context-entity.c ---- */

int context_entity_ctx(const struct spec *s, const struct layout *L, const struct entity *e,
                       struct node **ret);
