/* spec.h - the validated service spec (job-format.md section 2, SpecRequirements).
 *
 * spec_from_node() turns a parsed document into a struct spec, adding one diagnostic per
 * problem found (it does not stop at the first): unknown keys (except "x-" ones), wrong
 * types, bad names, unknown field types, unknown FK/relationship targets, rules naming
 * unknown entities or fields, and so on. It returns 0 with *ret set when the spec is
 * valid, -EINVAL when diagnostics were added (nothing returned), -ENOMEM.
 * Every string below is owned by the spec; optional ones are NULL when absent.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"
#include "node.h"

enum field_type {
        FT_STRING, FT_TEXT, FT_INTEGER, FT_FLOAT, FT_DECIMAL, FT_BOOLEAN, FT_DATE,
        FT_DATETIME, FT_EMAIL, FT_URL, FT_UUID, FT_ENUM, FT_FOREIGN_KEY, FT_JSON,
        _FT_MAX,
};

enum rel_kind { RK_ONE_TO_MANY, RK_MANY_TO_ONE, RK_ONE_TO_ONE, RK_MANY_TO_MANY, _RK_MAX };

enum op_kind { OP_LIST, OP_CREATE, OP_GET, OP_UPDATE, OP_DELETE, OP_CUSTOM, _OP_MAX };

/* config.auth: who may call the generated API's write endpoints (and its reads, with
 * config.auth_reads). */
enum auth_kind { AUTH_NONE, AUTH_API_KEY, AUTH_JWT, _AUTH_MAX };

enum rule_kind {
        RULE_UNIQUE, RULE_EXISTS, RULE_NOT_IN_PAST, RULE_NOT_IN_FUTURE, RULE_RANGE,
        RULE_REGEX, RULE_TRANSITIONS, RULE_CUSTOM, _RULE_MAX,
};

struct src_pos {
        unsigned line, column; /* 1-based; 0 when unknown */
};

struct field {
        char *name;
        enum field_type type;
        bool required, unique, index;
        struct node *default_value; /* scalar as written, NULL when absent */
        bool has_min_length, has_max_length, has_min, has_max;
        long long min_length, max_length;
        double min, max;
        char *pattern;
        char **values; /* enum */
        size_t n_values;
        char *target; /* foreign_key: entity name */
        char *description;
        struct src_pos pos;
};

struct relationship {
        char *name;
        enum rel_kind kind;
        char *target;
        char *back_populates;
        struct src_pos pos;
};

struct entity {
        char *name;  /* PascalCase */
        char *snake; /* derived: snake_case of name */
        char *table; /* given, or snake_case plural */
        char *description;
        struct field *fields;
        size_t n_fields;
        struct relationship *rels;
        size_t n_rels;
        struct src_pos pos;
};

struct endpoint {
        char *entity;
        enum op_kind op;
        char *name; /* custom operations */
        char *method; /* upper case */
        char *path;   /* below config.api_prefix */
        char **filters;
        size_t n_filters;
        char *description;
        struct src_pos pos;
};

struct transition {
        char *from;
        char **to;
        size_t n_to;
};

struct rule {
        char *entity;
        enum rule_kind kind;
        char *field;
        char *message;
        bool has_min, has_max;
        double min, max;    /* range */
        char *pattern;      /* regex */
        struct transition *transitions;
        size_t n_transitions;
        char *description;  /* custom */
        struct src_pos pos;
};

struct spec {
        char *file; /* the label diagnostics about the spec name (e.g. "taskmanager/spec.yaml") */
        long long format;
        char *name;
        char *title;
        char *description;
        char *api_prefix;   /* default "/api" */
        char *database_url; /* default "sqlite:///./app.db" */
        enum auth_kind auth; /* default AUTH_NONE */
        bool auth_reads;     /* reads need credentials too; only with auth */
        struct entity *entities;
        size_t n_entities;
        struct endpoint *endpoints;
        size_t n_endpoints;
        struct rule *rules;
        size_t n_rules;
};

int spec_from_node(const struct node *root, const char *file, struct spec **ret, struct diags *d);
void spec_free(struct spec *s);
static inline void spec_freep(struct spec **s) {
        spec_free(*s);
}
#define _cleanup_spec_ __attribute__((cleanup(spec_freep)))

const struct entity *spec_find_entity(const struct spec *s, const char *name);
const struct field *entity_find_field(const struct entity *e, const char *name);
/* Whether the endpoint asks for credentials: with config.auth, every method but GET and
 * HEAD, and those too with config.auth_reads. */
bool spec_endpoint_needs_auth(const struct spec *s, const struct endpoint *ep);
/* true when the spec needs a backend that can write code from prose (custom ops/rules). */
bool spec_needs_custom(const struct spec *s);

const char *field_type_name(enum field_type t);
const char *rel_kind_name(enum rel_kind k);
const char *op_kind_name(enum op_kind k);
const char *rule_kind_name(enum rule_kind k);
const char *auth_kind_name(enum auth_kind k);

/* "TaskItem" -> "task_item"; NULL on ENOMEM. */
char *snake_case(const char *pascal);
/* The longest enum value, in bytes (the column is a VARCHAR of the longest value). */
#define ENUM_VALUE_MAX 255
/* The Python member name of an enum value: letters and digits upper-cased, every other
 * run of characters one "_", no "_" at either end ("checked-in" -> "CHECKED_IN",
 * "no show" -> "NO_SHOW"); "VALUE_" before a leading digit ("1st" -> "VALUE_1ST") and
 * "VALUE" for a value without letters or digits. NULL on ENOMEM. */
char *spec_enum_member(const char *value);
/* "task_item" -> "task_items", "category" -> "categories", "box" -> "boxes". */
char *plural(const char *snake);
/* The candidate closest to word (edit distance at most 2, transpositions counting 1),
 * for "did you mean" hints; NULL entries are skipped; NULL when none is close. */
const char *spec_suggest(const char *word, const char *const *candidates, size_t n);
