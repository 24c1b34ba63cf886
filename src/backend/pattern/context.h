/* context.h - a validated spec (and DAG) as the template context of the pattern backend.
 *
 * Templates are logic-less, so everything a generated file needs that is not a plain
 * copy of the spec is derived here once: safe Python identifiers for keyword names,
 * SQLAlchemy column and relationship arguments, Pydantic annotations and Field()
 * constraints, import lists, tables in foreign-key order, association tables, and the
 * test data of the generated tests (valid samples, invalid values, rejected and accepted
 * cases of every rule). docs/templates.md lists every variable.
 *
 * context_check() reports, as diagnostics, what a spec asks for that the generated code
 * cannot express (a relationship without the foreign key it needs, a pattern no sample
 * can be derived from, an endpoint path shape routes cannot serve, ...). file names the
 * spec in those diagnostics (may be NULL). It returns 0, -EINVAL (diagnostics added) or
 * -ENOMEM.
 * context_new() builds the whole-project context (keys: project, layout, entities,
 * endpoints, rules, association_tables, tables_in_order, tables_in_reverse_order, import
 * groups); every module path in it comes from the DAG's targets (context-layout.c).
 * context_for_atom() builds it and adds the atom's own keys (atom, entity, package and,
 * for route atoms, route_endpoints). Both return 0 with *ret or a negative errno.
 */
#pragma once

#include "format/dag.h"
#include "format/diag.h"
#include "format/node.h"
#include "format/spec.h"
#include "shared/strbuf.h"

int context_check(const struct spec *spec, const char *file, struct diags *d);
/* What the DAG's layout lacks for a working project (a module a file imports, a package
 * atom, an importable target name) and route atoms claiming one endpoint, as
 * diagnostics against file: 0, -EINVAL or -ENOMEM. */
int context_layout_check(const struct spec *spec, const struct dag *dag, const char *file,
                         struct diags *d);
int context_new(const struct spec *spec, const struct dag *dag, struct node **ret);
int context_for_atom(const struct spec *spec, const struct dag *dag, const struct atom *atom,
                     struct node **ret);

/* The same in two parts, for a job's many atoms (the pattern backend's prepare(), built
 * once per job before the workers fork, so that an atom's cost does not grow with the
 * spec): context_job_new() builds the whole-project context once; context_atom_keys()
 * builds only an atom's own keys (atom, entity, route_endpoints, package), which a
 * template looks up before the job's root (template_env.outer). */
struct context_job;
int context_job_new(const struct spec *spec, const struct dag *dag, struct context_job **ret);
void context_job_free(struct context_job *c);
const struct node *context_job_root(const struct context_job *c);
int context_atom_keys(const struct context_job *c, const struct spec *spec, const struct dag *dag,
                      const struct atom *atom, struct node **ret);

/* Whether a route atom writes ep: an endpoint of its entity with its operation, or any
 * non-custom one of its entity when the atom has no operation. */
bool context_route_claims(const struct atom *atom, const struct endpoint *ep);
/* The endpoints a route atom implements (context_route_claims()). */
size_t context_route_endpoints(const struct spec *spec, const struct atom *atom,
                               const struct endpoint **ret, size_t max);

/* A Python identifier for a spec name: keywords and names the generated modules use for
 * their own imports get a trailing underscore ("class" -> "class_"). NULL on ENOMEM. */
char *context_py_ident(const char *name);
/* Derives a string that matches pattern (a practical subset of Python's re syntax), with
 * variant choosing among alternatives and length within [min_len, max_len].
 * Returns 0 with *ret, -EOPNOTSUPP for constructs it cannot follow (lookarounds,
 * back-references), -EINVAL for a malformed pattern or impossible length, -ENOMEM. */
int context_regex_sample(const char *pattern, unsigned variant, size_t min_len, size_t max_len,
                         char **ret);
/* PostgreSQL's limit on identifiers, in bytes: it cuts longer names, so that two of them
 * may collide and none is the name the models and the migration give. */
#define CONTEXT_DB_NAME_MAX 63
/* A constraint's, index's or table's name made of a format: the name itself when it has at
 * most CONTEXT_DB_NAME_MAX bytes, else its first 54 bytes, "_" and the first 8 hex digits
 * of the whole name's SHA-256 (63 bytes). database.py.tmpl's fit_name() computes the same
 * for the naming convention, so the models and the migration agree. NULL on ENOMEM. */
char *context_db_name(const char *fmt, ...) _printf_(1, 2);
/* The statement prefix + expr (a call or bracketed literal) laid out as black lays it out
 * (line length 100) when it starts at column indent: its first line without the
 * indentation (the template writes it), the following lines indented, no final newline.
 * NULL on ENOMEM. */
char *context_black_stmt(size_t indent, const char *prefix, const char *expr);
/* The same for one item of a bracketed list the template splits one per line: suffix
 * (the item's trailing comma) ends its last line and counts in its length. */
char *context_black_item(size_t indent, const char *prefix, const char *expr, const char *suffix);
/* `def name(params) -> ret:` laid out as black lays it out when it starts at column indent:
 * on one line when it fits, else the parameters (top-level commas between them) on one
 * indented line, else one per line with a trailing comma; the lines after the first
 * indented, no final newline. NULL on ENOMEM. */
char *context_black_def(size_t indent, const char *name, const char *params, const char *ret);
/* Copies the rendered Python text to out with every `def NAME(PARAMS) -> RET:` line longer
 * than the line length laid out as context_black_def() does (lines it cannot split as black
 * would — strings, comments, a magic trailing comma in the parameters — are kept as they
 * are): the templates write signatures whose length depends on the spec's names on one line.
 * 0, -ENOMEM or -E2BIG (out's maximum). */
int context_black_defs(const char *text, size_t len, struct strbuf *out);
