/* intake.h - what a dropped job bundle is and how it is read (job-format.md section 1).
 *
 * An inbox entry's form and job name come from its name alone (format/bundle-name.h,
 * shared with codegenctl); bundle_load() reads a claimed bundle into its documents: a directory as it is, an archive after unpacking it
 * under limits into a scratch directory, a single file by splitting its `spec:`, `dag:`
 * and `options:` keys. Nothing is validated beyond the bundle's shape; the spec and DAG
 * validators take the documents from here.
 *
 * Diagnostics (file label, then message):
 *   directory  "NAME/spec.yaml" etc. for documents, the entry's name for the bundle:
 *              "bundle entry 'sub/x' is a symbolic link" (also: a device, a fifo, a
 *              socket), "bundle has more than N entries", "bundle size exceeds N bytes"
 *   archive    member paths such as "taskmanager/spec.yaml" for documents, the entry's
 *              name for the archive: "archive member '../evil' leaves the bundle",
 *              "archive member '/x' has an absolute path", "... has an unsafe name",
 *              "... is a symbolic link", "... is a hard link", "... is a device",
 *              "... clashes with another member", "archive has more than N entries",
 *              "unpacked size exceeds N bytes", "not a readable archive: <libarchive>",
 *              "archive has more than one top-level folder ('a', 'b')",
 *              "archive holds 'x' beside its top-level folder 'y'"
 *   any form   "no spec.yaml or spec.json in the bundle", "both spec.yaml and spec.json"
 *              (likewise dag.yaml/dag.yml/dag.json and job.yaml/job.yml), "empty
 *              document", and whatever doc_load() reports ("file is larger than N bytes",
 *              "not a regular file", syntax errors)
 *   single     "unknown key 'x'" (keys starting with "x-" are allowed), "missing key
 *              'spec'", "'dag' must be a mapping, not a sequence"
 * This module is the one place that wraps libarchive's reader. It never logs.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "format/bundle-name.h"
#include "format/diag.h"
#include "format/node.h"
#include "limits.h"

struct bundle {
        enum bundle_form form;
        char *name;
        struct node *spec;    /* the spec document (single files: the `spec:` subtree) */
        char *spec_file;      /* label for diagnostics: "taskmanager/spec.yaml",
                                 "spec.json" (archive top level), "taskmanager.job.yaml" */
        struct node *dag;     /* NULL when the bundle has none */
        char *dag_file;       /* NULL when dag is */
        struct node *options; /* job.yaml or the `options:` subtree; NULL when absent */
        char *options_file;   /* NULL when options is */
};

/* Loads the bundle at path (a directory, an archive or a single file, as classified; its
 * last component is the entry's name as dropped and is used in labels). Archives are
 * unpacked below scratch_dir (created when missing; the caller removes it). lim NULL, or a
 * zero field, means the defaults. Returns 0 with *ret, -EINVAL when diagnostics were added
 * to d (nothing returned), or another -errno for the daemon's own failures (I/O, ENOMEM). */
int bundle_load(const char *path, enum bundle_form form, const char *name,
                const char *scratch_dir, const struct intake_limits *lim,
                struct bundle **ret, struct diags *d);
/* The two halves of bundle_load(), so that the slow one can run in a child process:
 * bundle_unpack() unpacks an archive bundle below scratch_dir (other forms: nothing to do,
 * 0) and returns 0, -EINVAL (diagnostics added) or another -errno; bundle_load_unpacked()
 * is bundle_load() for a bundle that bundle_unpack() has already unpacked there. */
int bundle_unpack(const char *path, enum bundle_form form, const char *scratch_dir,
                  const struct intake_limits *lim, struct diags *d);
int bundle_load_unpacked(const char *path, enum bundle_form form, const char *name,
                         const char *scratch_dir, const struct intake_limits *lim,
                         struct bundle **ret, struct diags *d);
void bundle_free(struct bundle *b);
static inline void bundle_freep(struct bundle **b) {
        bundle_free(*b);
}
#define _cleanup_bundle_ __attribute__((cleanup(bundle_freep)))
