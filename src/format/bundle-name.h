/* bundle-name.h - what an inbox entry's name says (job-format.md section 1): a bundle's
 * form and its job name, an entry to leave alone, or a name that is no bundle. The daemon
 * (through bundle/intake.h) and codegenctl use these one set of rules.
 */
#pragma once

#include <stdbool.h>

enum bundle_form {
        BUNDLE_DIRECTORY,
        BUNDLE_ARCHIVE,
        BUNDLE_SINGLE_FILE,
};

/* The longest job name: NAME.metrics.yaml's temporary name ".NAME.metrics.yaml.PID.N.tmp"
 * must fit in NAME_MAX (255). */
#define BUNDLE_NAME_MAX 200

/* Whether name is a job name: not hidden, at most BUNDLE_NAME_MAX bytes, a plain file
 * name (no '/') without control characters (path_is_safe()). */
bool bundle_name_is_valid(const char *name);

/* Classifies an inbox entry by its name. Returns 1 with *ret_form and *ret_name (the job
 * name: the entry's name without the form's extension; malloc'd) for a bundle; 0 for an
 * entry to leave alone (a name starting with '.', ending with .tmp, .part, .partial,
 * .filepart, .crdownload or .download, or a NAME.ready marker); -EINVAL for anything else
 * (no recognised form, an empty job name or one longer than BUNDLE_NAME_MAX, a name with
 * '/' or control characters, a name ending in .error.yaml or .metrics.yaml, which are the
 * daemon's own); -ENOMEM. A directory may have any name; files are
 * archives (.tar .tar.gz .tgz .tar.xz .tar.zst .zip) or single files (.job.yaml .job.yml
 * .job.json). Outputs are untouched unless 1 is returned; ret_form may be NULL. */
int bundle_classify(const char *entry, bool is_dir, enum bundle_form *ret_form, char **ret_name);
/* Why bundle_classify() refuses entry (-EINVAL): one sentence for the error report,
 * malloc'd; NULL on ENOMEM. */
char *bundle_refusal(const char *entry, bool is_dir);
