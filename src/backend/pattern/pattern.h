/* pattern.h - what the hybrid backend asks the pattern backend (backend_pattern itself is
 * declared in backend.h).
 *
 * pattern_atom_plan() says who writes an atom under `hybrid`: the bank alone
 * (PATTERN_WRITES), a model extending the bank's draft (PATTERN_DRAFT: a validation atom of
 * an entity with custom rules, which the bank leaves out), or a model alone (PATTERN_MODEL:
 * a custom operation's route, an atom no pattern matches). 0 or a negative errno.
 * pattern_check_hybrid() is the pattern backend's check() without the diagnostics for
 * what a model writes under hybrid.
 */
#pragma once

#include "backend/backend.h"

enum pattern_plan { PATTERN_WRITES, PATTERN_DRAFT, PATTERN_MODEL };

int pattern_atom_plan(const struct backend_options *o, const struct spec *spec, const struct atom *a,
                      enum pattern_plan *ret);
/* pattern_atom_plan() of every atom of dag into ret[i], with the bank read once. */
int pattern_atom_plans(const struct backend_options *o, const struct spec *spec, const struct dag *dag,
                       enum pattern_plan *ret);
int pattern_check_hybrid(const struct backend_options *o, const struct spec *spec, const struct dag *dag,
                         const char *dag_file, struct diags *d);
/* backend_pattern's prepare() and unprepare() (backend.h), shared with hybrid. */
int pattern_prepare(const struct backend_options *o, const struct spec *spec, const struct dag *dag,
                    void **ret);
void pattern_unprepare(void *prepared);
/* The atom cache: adds every file of the bank's directories to c (backend.h). */
int pattern_cache_key(const struct backend_options *o, struct sha256_ctx *c);
