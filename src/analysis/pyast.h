/* pyast.h - the one place that knows tree-sitter: parse Python source and read facts off it.
 *
 * pyast_parse() builds a tree-sitter-python syntax tree over a borrowed buffer (which must
 * outlive the tree). On top of the tree:
 *   pyast_parser_errors()  outermost ERROR regions and MISSING tokens;
 *   pyast_inspect()        what CPython 3.11 rejects although tree-sitter accepts it, and
 *                          the figures the quality metrics need (functions, annotations,
 *                          docstrings, error handling, ORM classes, route decorators);
 *   pyast_layout()         the module docstring and the top-level imports, for merge.c.
 * docs/metrics.md defines every figure and lists every check.
 *
 * pyast_check_source() runs them all on one file, with the line-level checks CPython's
 * tokenizer makes (pyast-lex.c) in between.
 *
 * struct py_errors counts every error
 * and keeps the PY_ERRORS_KEEP first ones by position, each with a short excerpt. A finding
 * added with py_errors_add_extra() is dropped when its line already has an error, so one
 * mistake seen by several checks counts once.
 *
 * Functions return 0 or a negative errno (-ENOMEM; -EFBIG for a source over 4 GiB; -EIO
 * when the parser gives up) and never log.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Which Python's syntax is valid: 3.minor (3.12 adds `type X = ...` and PEP 701 f-strings). */
#define PY_MINOR_MIN 8
#define PY_MINOR_MAX 14
#define PY_MINOR_DEFAULT 11

#define PY_ERRORS_KEEP 20
#define PY_EXCERPT_CHARS 60

struct py_error {
        size_t offset;        /* byte offset of the error in the source */
        unsigned line;        /* 1-based */
        unsigned column;      /* 1-based, counted in characters (code points) */
        const char *message;  /* static text, e.g. "unexpected indent" */
        char excerpt[PY_EXCERPT_CHARS * 4 + 1]; /* <= 60 characters of the line, UTF-8 */
};

struct py_range {
        size_t start, end; /* bytes, end exclusive */
};

struct py_errors {
        size_t count;                       /* every error found */
        size_t n;                           /* kept, sorted by offset */
        struct py_error v[PY_ERRORS_KEEP];
        unsigned char *lines;               /* bitmap: lines with an error (while checking) */
        size_t lines_bytes;
};

void py_errors_init(struct py_errors *e);
/* Frees the line bitmap; the count and the kept errors stay. */
void py_errors_done(struct py_errors *e);
/* Records a parser error at byte offset in src; line (1-based) and line_start (byte offset
 * of that line) are given by the caller, who knows them; lines first_line..last_line are
 * marked as reported. Returns 0 or -ENOMEM. */
int py_errors_add(struct py_errors *e, const char *src, size_t len, size_t offset, unsigned line,
                  size_t line_start, unsigned last_line, const char *message);
/* A finding of an extra check: counted only when its line has no error yet, so one
 * mistake seen by several checks counts once. */
int py_errors_add_extra(struct py_errors *e, const char *src, size_t len, size_t offset,
                        unsigned line, size_t line_start, const char *message);
bool py_errors_on_line(const struct py_errors *e, unsigned line);

struct py_route {
        char method[8]; /* "GET", "POST", "PUT", "PATCH", "DELETE" */
        char *path;     /* the decorator's path joined to its router's prefix */
        unsigned line;
};

struct py_facts {
        unsigned long functions;        /* function_definition nodes, methods and async included */
        unsigned long annotated;        /* ... with every parameter and the return annotated */
        unsigned long doc_candidates;   /* non-empty module + classes + functions */
        unsigned long docstrings;       /* ... whose first statement is a string */
        unsigned long try_blocks;
        unsigned long raises;
        unsigned long http_exceptions;  /* calls of HTTPException + bare `raise HTTPException` */
        unsigned long exception_handlers; /* calls of add_exception_handler / exception_handler */
        char **orm_classes;             /* names of classes with `Base` among their bases */
        size_t n_orm_classes;
        struct py_route *routes;
        size_t n_routes;
};

void py_facts_clear(struct py_facts *f);

struct pyast;

int pyast_parse(const char *data, size_t len, struct pyast **ret);
void pyast_free(struct pyast *a);
static inline void pyast_freep(struct pyast **a) {
        pyast_free(*a);
}
#define _cleanup_pyast_ __attribute__((cleanup(pyast_freep)))

/* Adds the parser's findings to *errors: one per outermost ERROR node, one per MISSING
 * token. Call it first: the other checks skip lines it reported. */
int pyast_parser_errors(const struct pyast *a, struct py_errors *errors);
/* Adds what CPython 3.minor rejects but tree-sitter accepts to *errors (when not NULL) and
 * the tree's figures to *facts (when not NULL; counters are added to, lists appended).
 * minor 0 means PY_MINOR_DEFAULT. Regions inside ERROR nodes are not inspected. */
int pyast_inspect(const struct pyast *a, unsigned minor, struct py_errors *errors, struct py_facts *facts);

/* The syntax errors and facts of one Python source file, as CPython 3.minor reads it
 * (minor 0: PY_MINOR_DEFAULT). The bytes are decoded first as CPython does: a UTF-8 byte
 * order mark, a PEP 263 coding declaration on line 1 or 2 (decoded with iconv(3)), UTF-8
 * otherwise; a file that does not decode is one error. Then the parser's errors, the
 * tokenizer's line-level checks and pyast_inspect(), each skipping lines the previous ones
 * reported. Positions refer to the UTF-8 text (the same lines). facts may be NULL. */
int pyast_check_source(const char *data, size_t len, unsigned minor, struct py_errors *errors,
                       struct py_facts *facts);

enum py_import_kind {
        PY_IMPORT,        /* import a.b as c */
        PY_IMPORT_FROM,   /* from m import a, b as c / from . import x / from m import * */
        PY_IMPORT_FUTURE, /* from __future__ import annotations */
};

struct py_import_name {
        char *name;  /* dotted name, whitespace removed */
        char *alias; /* NULL without "as" */
};

struct py_import {
        enum py_import_kind kind;
        size_t start, end;  /* the statement, plus a comment that follows it on its line */
        char *module;       /* from-imports: "pkg.mod", ".", "..pkg"; NULL for PY_IMPORT */
        bool wildcard;      /* from m import * */
        struct py_import_name *names;
        size_t n_names;
        char *comment;      /* comments inside or after the statement, joined by a space */
};

struct py_layout {
        bool has_docstring;          /* the first statement is a plain string */
        size_t doc_start, doc_end;   /* that statement */
        struct py_import *imports;   /* direct children of the module, in order */
        size_t n_imports;
        struct py_range *strings;    /* string literals spanning lines: their text is data */
        size_t n_strings;
        bool has_errors;             /* the tree has ERROR or MISSING nodes */
};

int pyast_layout(const struct pyast *a, struct py_layout **ret);
void py_layout_free(struct py_layout *l);
static inline void py_layout_freep(struct py_layout **l) {
        py_layout_free(*l);
}
#define _cleanup_py_layout_ __attribute__((cleanup(py_layout_freep)))
