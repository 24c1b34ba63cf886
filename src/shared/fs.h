/* fs.h - file system helpers that know nothing of jobs.
 *
 * Every function returns 0 (or a documented non-negative value) or a negative errno and
 * never logs. Writes follow the OpenSMTPD pattern: a temporary name opened
 * O_EXCL|O_CLOEXEC in the target's directory, write, fsync, rename, fsync the directory;
 * on error the temporary file is removed.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/* Atomically replace path with data. */
int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode);
/* The same without fsync: readers never see a partial file, but a crash may lose it. Only
 * for work files that are discarded after a crash anyway (a job's work area). */
int write_file_atomic_volatile(const char *path, const void *data, size_t len, mode_t mode);
/* Opens a fresh temporary file beside path for the caller to fill; *ret_tmp is its name,
 * ".BASE.PID.N.tmp", or ".BASE.PID@TAG.N.tmp" after fs_set_tmp_tag(TAG) (whoever cleans up
 * temporary files of dead processes can then tell this host's from another's).
 * Publish it with commit_tmp_file() or drop it with unlink(). */
int open_tmp_beside(const char *path, char **ret_tmp);
/* The owner tag of this process's (and its children's) temporary files from now on: at
 * most FS_TMP_TAG_MAX characters of [0-9a-z] (-EINVAL, -ENAMETOOLONG); "" for none. */
#define FS_TMP_TAG_MAX 8
int fs_set_tmp_tag(const char *tag);
const char *fs_tmp_tag(void);
/* fsync(fd), close(fd), rename(tmp, path), fsync(dirname(path)); unlinks tmp on error. */
int commit_tmp_file(int fd, const char *tmp, const char *path);
int fsync_dir(const char *dir);
/* write() until everything is written (EINTR retried). */
int write_all(int fd, const void *data, size_t len);
int fsync_parent_dir(const char *path);

/* Reads a whole regular file; -E2BIG when it is larger than max, -EISDIR, -EINVAL for a
 * non-regular file. The buffer is NUL-terminated (not counted in *ret_len). */
int read_file_bounded(const char *path, size_t max, char **ret, size_t *ret_len);
/* The same for an open file (which the caller keeps). */
int read_fd_bounded(int fd, size_t max, char **ret, size_t *ret_len);

int mkdir_p(const char *path, mode_t mode);
/* Removes a file or a tree without following symbolic links; ENOENT is success. */
int rm_rf(const char *path);

/* One entry met by fs_walk(): dfd is its directory (valid during the callback), name its
 * name there, rel its path below the walk's root ("a/b"), st its lstat(), depth 0 at the
 * root's own entries. */
struct fs_entry {
        int dfd;
        const char *name;
        const char *rel;
        const struct stat *st;
        unsigned depth;
};

#define FS_WALK_DESCEND 1
/* Returns FS_WALK_DESCEND to walk into a directory, 0 to go on, or a negative errno to stop. */
typedef int (*fs_walk_fn)(const struct fs_entry *e, void *userdata);

/* Calls fn for every entry below the directory open at dirfd (which stays the caller's),
 * in readdir order, never following a symbolic link. Directories nested deeper than
 * max_depth: -ELOOP; paths longer than 4095 bytes: -ENAMETOOLONG. On failure
 * *ret_failed (when not NULL) is the rel of the entry where it happened, or NULL. */
int fs_walk(int dirfd, unsigned max_depth, fs_walk_fn fn, void *userdata, char **ret_failed);

/* Whether some process has the regular file NAME (below dirfd) open for writing: 1 yes,
 * 0 no, a negative errno when it cannot tell (-EACCES: not the file's owner and no
 * CAP_LEASE; -EINVAL: not a regular file). It takes a read lease for an instant, which
 * the kernel refuses while a writer has the file open; a lease break in that instant
 * raises SIGIO, which the caller must ignore. */
int fs_file_being_written(int dirfd, const char *name);

/* A relative path that stays inside its root: not empty, not absolute, no "." or ".."
 * component, no empty component, no control characters or backslashes, at most 1024
 * bytes, each component at most 255 bytes. */
bool path_is_safe(const char *rel);

/* Joins a and b with one '/' (asprintf); NULL on ENOMEM. */
char *path_join(const char *a, const char *b);
/* Last component of a path, pointing into it. */
const char *path_basename(const char *path);

bool is_dir(const char *path);
bool is_regular(const char *path);
