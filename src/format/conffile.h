/* conffile.h - the configuration file codegend and codegenctl read (codegend.yaml(5)).
 *
 * Both programs take --config FILE and otherwise read the default file, which need not be
 * installed; codegend reads all of it (daemon/settings.c), codegenctl only its spool.
 */
#pragma once

#include "diag.h"
#include "node.h"

#define CONFFILE_MAX_BYTES (1u << 20)

/* The file a --config of path (NULL when none was given) names: path or the default. */
const char *conffile_path(const char *path);

/* Reads the configuration file path (NULL: the default one) as a YAML mapping into *ret,
 * which stays NULL (all defaults) when the file holds nothing but comments or null, or when
 * path is NULL and the default file is missing. 0; -EINVAL with diagnostics in d when it is
 * not one YAML mapping; a negative errno (-ENOENT: a given file is missing). */
int conffile_read(const char *path, struct node **ret, struct diags *d);
