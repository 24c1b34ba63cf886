/* unpack.h - archives unpacked under limits into a scratch directory, and where their
 * files are once unpacked. Used by intake.c (job bundles) and analyze-cmd.c (projects).
 *
 * archive_unpack() reads tar (in all its variants) or zip, with gzip, xz, zstd or no
 * compression, and writes each member below the scratch directory itself: every header
 * is checked before anything of it is written, the bytes really written are counted
 * against the limit, nothing outside the scratch directory is ever created, and once a
 * member has been refused nothing more is written (the rest is only checked, so the
 * report lists every bad member). unpack_locate_root() finds the files' root in the
 * unpacked tree: the tree itself, or its one top-level folder.
 *
 * Diagnostics (file: the label given, usually the archive's name):
 *   "archive member '../evil' leaves the bundle", "archive member '/x' has an absolute
 *   path", "... has an unsafe name", "... is a symbolic link", "... is a hard link",
 *   "... is a device" (also: a fifo, a socket), "... clashes with another member",
 *   "archive member with an unreadable name", "archive has more than N entries",
 *   "unpacked size exceeds N bytes", "not a readable archive: <libarchive's message>",
 *   "archive has more than one top-level folder ('a', 'b')",
 *   "archive holds 'x' beside its top-level folder 'y'"
 * Names in messages go through display_name(). This module is the one place that wraps
 * libarchive's reader. It never logs.
 */
#pragma once

#include "format/diag.h"
#include "limits.h"

/* Unpacks the archive open at fd (read from its current offset) below scratch, which is
 * created when missing; the caller removes it. Only lim->max_entries and
 * lim->max_unpacked_bytes apply here (the archive's own size is the caller's to check);
 * lim NULL means the defaults. Returns 0, -EINVAL when diagnostics were added to d (what
 * was written before the refusal stays for the caller to remove), or another -errno. */
int archive_unpack(int fd, const char *scratch, const char *label, const struct intake_limits *lim,
                   struct diags *d);

enum unpack_root {
        /* a job bundle: the top when it holds no folder, else its only entry must be one
         * folder (several folders, or a folder beside other names, are diagnostics) */
        UNPACK_ROOT_BUNDLE,
        /* any tree: its one top-level folder when that is all there is, else the top */
        UNPACK_ROOT_TREE,
};

/* Finds the root of an unpacked tree. Names starting with '.' and __MACOSX (resource
 * forks that macOS adds to zip files) are not looked at. *ret_root is scratch or
 * scratch/FOLDER, *ret_prefix "" or "FOLDER/" (for labels of the files below it).
 * Returns 0, -EINVAL after adding a diagnostic (UNPACK_ROOT_BUNDLE only; d may be NULL
 * with UNPACK_ROOT_TREE), or another -errno; outputs are untouched on failure. */
int unpack_locate_root(const char *scratch, const char *label, enum unpack_root mode,
                       char **ret_root, char **ret_prefix, struct diags *d);

/* A member or file name fit for quoting in a message: control characters become '?' and
 * names past 300 bytes are cut with "..." so a hostile name cannot garble the report.
 * Malloc'd; NULL on ENOMEM. */
char *display_name(const char *s);
