/* pack.h - the deterministic output tarball (job-format.md section 5).
 *
 * pack_tree() writes the tree at root_dir as a gzip'd tar (POSIX pax, extended headers
 * only where ustar cannot hold a name) to out_fd, every entry under `top/`:
 *   - one entry for `top/` and one for every directory, then the files; all entries
 *     sorted by their full path with strcmp(), which lists a directory before its contents;
 *   - uid/gid 0, uname/gname "root", mode 0755 for directories, 0644 for files (0755
 *     when the source file has any execute bit), mtime PACK_MTIME for every entry, no
 *     atime/ctime/birthtime, no xattrs, ACLs or file flags;
 *   - a gzip header without file name and with mtime 0, compression level PACK_GZIP_LEVEL.
 * The same tree therefore always gives the same bytes, whatever the files' own times,
 * owners and modes.
 * Returns 0 with *ret_bytes (bytes written) and ret_sha256 (SHA-256 of those bytes), or
 * -ELOOP (a symbolic link in root_dir), -EINVAL (a device, fifo or socket in root_dir, or
 * top not a safe one-component name), -EIO (a file changed size while packed), another
 * -errno from the file system or the writer. Outputs are untouched on failure; out_fd is
 * left open and may hold a partial archive then.
 */
#pragma once

#include <stdint.h>

/* 2000-01-01T00:00:00Z */
#define PACK_MTIME 946684800
#define PACK_GZIP_LEVEL 6

int pack_tree(const char *root_dir, const char *top, int out_fd, uint64_t *ret_bytes,
              uint8_t ret_sha256[32]);
