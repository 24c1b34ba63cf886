/* ctl-ops.h - the changes codegenctl makes to a spool, each safe against a daemon that
 * claims bundles at the same moment:
 *
 * ctl_submit():  copies a bundle (file or directory tree) into inbox/ under a hidden
 *                temporary name (".NAME.PID.N.tmp", which the daemon never touches), fsyncs
 *                every file and directory, then renames it to its name in one step.
 *                Directories get mode 2770 and files 0660 whatever the umask, so the
 *                daemon's group can move and remove them. Symbolic links, devices, fifos
 *                and sockets are refused (-ELOOP, -EPERM). A directory of the same name
 *                already queued: -EEXIST. *ret_failed names the path that failed.
 * ctl_retry():   renames failed/ENTRY back into inbox/ (-EEXIST when one is queued), then
 *                removes failed/NAME.error.yaml.
 * ctl_dequeue(): takes inbox/ENTRY away from the daemon by renaming it to a hidden name
 *                (-ENOENT when the daemon claimed it first), then removes it.
 * ctl_request_cancel(): writes .codegend/cancel/NAME (atomically) for the daemon.
 * All return 0 or a negative errno and never print.
 */
#pragma once

#include "ctl-spool.h"

int ctl_submit(const struct ctl_spool *sp, const char *path, char **ret_entry, char **ret_failed);
int ctl_retry(const struct ctl_spool *sp, const char *name, const char *entry);
int ctl_dequeue(const struct ctl_spool *sp, const char *entry);
int ctl_request_cancel(const struct ctl_spool *sp, const char *name);
