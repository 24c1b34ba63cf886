/* pyast-internal.h - what the files of the tree-sitter wrapper share; no other module
 * includes it.
 *
 * pyast.c parses and reports the parser's own errors, pyast-lex.c makes the tokenizer's
 * line-level checks, pyast-inspect.c walks the tree for
 * what CPython rejects, pyast-facts.c gathers the quality facts on that walk and
 * pyast-layout.c reads the import layout for merge.c. These files, and this header, are
 * the only ones that include <tree_sitter/api.h>. Helpers return 0 or -ENOMEM (or NULL
 * on ENOMEM) and never log.
 */
#pragma once

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <tree_sitter/api.h>

#include "pyast.h"
#include "shared/macro.h"

struct pyast {
        TSTree *tree;
        const char *src;
        size_t len;
};

/* Makes room for element n of a growing array (doubling, from 8). */
static inline int grow(void **v, size_t *alloc, size_t n, size_t size) {
        if (n < *alloc)
                return 0;
        size_t na = *alloc ? *alloc * 2 : 8;
        void *nv = realloc(*v, na * size);
        if (!nv)
                return -ENOMEM;
        *v = nv;
        *alloc = na;
        return 0;
}

/* CPython's tokenizer (pyast-lex.c). pyast_decode(): *ret NULL when the source is to be
 * read as UTF-8 as it is; else a malloc()ed UTF-8 copy decoded from its declared encoding;
 * *ret_failed when it cannot be decoded (the error is added to e: CPython reads no
 * further). pyast_lexical_checks(): indentation, strings, bytes. */
int pyast_decode(const char *s, size_t len, struct py_errors *e, char **ret, size_t *ret_len,
                 bool *ret_failed);
int pyast_lexical_checks(const char *s, size_t len, struct py_errors *e);

/* ---- small node helpers ---- */

/* Children in order through a cursor: `_cleanup_kids_ struct kids k = kids_of(n);
 * while (kids_next(&k, &child)) ...` (ts_node_child(n, i) costs O(i) in 0.20). */
struct kids {
        TSTreeCursor cursor;
        bool started, done;
};

static inline struct kids kids_of(TSNode n) {
        return (struct kids) { .cursor = ts_tree_cursor_new(n) };
}

static inline bool kids_next(struct kids *k, TSNode *ret) {
        if (k->done)
                return false;
        bool ok = k->started ? ts_tree_cursor_goto_next_sibling(&k->cursor)
                             : ts_tree_cursor_goto_first_child(&k->cursor);
        k->started = true;
        k->done = !ok;
        if (ok)
                *ret = ts_tree_cursor_current_node(&k->cursor);
        return ok;
}

static inline const char *kids_field(struct kids *k) {
        return ts_tree_cursor_current_field_name(&k->cursor);
}

static inline void kids_done(struct kids *k) {
        ts_tree_cursor_delete(&k->cursor);
}
#define _cleanup_kids_ _cleanup_(kids_done)

static inline bool is(TSNode n, const char *type) {
        return !ts_node_is_null(n) && streq(ts_node_type(n), type);
}

static inline const char *text(const struct pyast *a, TSNode n, size_t *ret_len) {
        uint32_t s = ts_node_start_byte(n), e = ts_node_end_byte(n);
        *ret_len = e > s ? e - s : 0;
        return a->src + s;
}

static inline bool text_is(const struct pyast *a, TSNode n, const char *s) {
        size_t l;
        const char *t = text(a, n, &l);
        return l == strlen(s) && memcmp(t, s, l) == 0;
}

static inline size_t line_start_of(TSNode n) {
        return ts_node_start_byte(n) - ts_node_start_point(n).column;
}

/* The first child of the given type. */
TSNode pyast_child_of_type(TSNode n, const char *type);
TSNode pyast_first_named_non_comment(TSNode n);

/* String literal prefix and quote: returns false for a node that is not a string. */
struct strinfo {
        bool f, b, backtick;
        char quote;
        bool triple;
};

bool pyast_string_info(const struct pyast *a, TSNode str, struct strinfo *si);
/* The content of a plain single string literal without interpolation; NULL otherwise. */
char *pyast_string_value(const struct pyast *a, TSNode n);
bool pyast_is_docstring_stmt(const struct pyast *a, TSNode stmt);
/* `HTTPException` or `<anything>.HTTPException` */
bool pyast_names_http_exception(const struct pyast *a, TSNode n);
bool pyast_names_identifier(const struct pyast *a, TSNode n, const char *name);

/* ---- the walk (pyast-inspect.c) and the facts it gathers (pyast-facts.c) ---- */

struct prefix {
        char *name;
        char *prefix;
};

struct pending_route {
        char method[8];
        char *object; /* decorator's object when it is a plain name, else NULL */
        char *path;
        unsigned line;
};

struct walker {
        const struct pyast *a;
        unsigned minor; /* Python 3.minor's syntax is valid */
        struct py_errors *errors;
        struct py_facts *facts;
        bool module_code_seen;
        struct prefix *prefixes;
        size_t n_prefixes, alloc_prefixes;
        struct pending_route *routes;
        size_t n_routes, alloc_routes;
};

/* Parameter lists: non-default after default, duplicate names. Also says whether every
 * parameter is annotated (self/cls first in a method excepted). */
int pyast_check_parameters(struct walker *w, TSNode params, bool method, bool *ret_annotated);

int pyast_add_docstring_candidate(struct walker *w, TSNode body);
int pyast_facts_function(struct walker *w, TSNode fn, bool method);
int pyast_facts_class(struct walker *w, TSNode cls);
int pyast_facts_assignment(struct walker *w, TSNode as);
int pyast_facts_decorator(struct walker *w, TSNode dec);
/* Joins the routes found to their routers' prefixes, into w->facts. */
int pyast_resolve_routes(struct walker *w);
void pyast_walker_done(struct walker *w);
