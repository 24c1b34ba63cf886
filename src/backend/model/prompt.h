/* prompt.h - what a model is asked, rendered from template files (the .tmpl files of prompts/).
 *
 * The templates are looked up in options->prompts_dir first, then in
 * options->datadir/prompts (system.tmpl: the job-wide part, identical for every atom of a
 * job so that it can be cached; atom.tmpl: one atom; repair.tmpl: a repair request).
 * Dependencies' files are read from req->work_dir/frags/; past PROMPT_CONTEXT_BUDGET
 * bytes of them, the rest are reduced to their signatures (imports, class and def lines,
 * decorators, module-level names). Returns 0 or a negative errno with *ret_error.
 */
#pragma once

#include "backend/backend.h"
#include "format/node.h"

#define PROMPT_CONTEXT_BUDGET (96u << 10)

int prompt_system(const struct gen_request *req, char **ret, char **ret_error);
/* draft: the pattern backend's text for this atom (hybrid), or NULL */
int prompt_atom(const struct gen_request *req, const char *draft, char **ret, char **ret_error);
/* errors: the analysis' [{line, column, excerpt}] */
int prompt_repair(const struct gen_request *req, const char *text, const struct node *errors,
                  char **ret, char **ret_error);
/* Keeps only a Python file's signature lines (malloc'd). */
char *prompt_signatures(const char *text);
/* The atom cache (backend.h): adds the three templates' texts, the project layout of the
 * system part and the atom's own request text (prompt_atom() with draft) to c; the whole
 * spec of the system part is not added (the common key has the atom's excerpt). */
int prompt_cache_key(const struct gen_request *req, const char *draft, struct sha256_ctx *c, char **ret_error);
