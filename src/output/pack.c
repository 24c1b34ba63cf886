/* pack.c - the deterministic output tarball; see pack.h.
 *
 * The tree is walked first (lstat, no link followed) into a list that is sorted, then
 * each entry is written with a header built from scratch, never from the file's own
 * metadata, so only the paths, the execute bits and the contents reach the archive.
 * This file is the one place that wraps libarchive's writer; its errors become -errno.
 * It never logs.
 */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pack.h"
#include "shared/fs.h"
#include "shared/macro.h"
#include "shared/sha256.h"

#define PACK_MAX_DEPTH 256
#define STR_(x) #x
#define STR(x) STR_(x)

struct pack_item {
        char *path; /* "top/rel", "top" for the root */
        char *rel;  /* relative to root_dir, "" for the root */
        bool dir;
};

struct pack_list {
        struct pack_item *v;
        size_t n, alloc;
};

struct pack_out {
        int fd;
        struct sha256_ctx sha;
        uint64_t bytes;
};

static void pack_list_free(struct pack_list *l) {
        for (size_t i = 0; i < l->n; i++) {
                free(l->v[i].path);
                free(l->v[i].rel);
        }
        free(l->v);
}

static int pack_list_add(struct pack_list *l, const char *top, const char *rel, bool dir) {
        if (l->n == l->alloc) {
                size_t na = l->alloc ? l->alloc * 2 : 64;
                struct pack_item *nv = realloc(l->v, na * sizeof(*nv));
                if (!nv)
                        return -ENOMEM;
                l->v = nv;
                l->alloc = na;
        }
        struct pack_item it = { .dir = dir };
        it.rel = strdup(rel);
        it.path = *rel ? path_join(top, rel) : strdup(top);
        if (!it.rel || !it.path) {
                free(it.rel);
                free(it.path);
                return -ENOMEM;
        }
        l->v[l->n++] = it;
        return 0;
}

struct pack_walk {
        struct pack_list *list;
        const char *top;
};

/* Takes every regular file and directory; anything else refuses the tree. */
static int pack_entry(const struct fs_entry *e, void *userdata) {
        struct pack_walk *w = userdata;
        if (S_ISLNK(e->st->st_mode))
                return -ELOOP;
        if (S_ISREG(e->st->st_mode))
                return pack_list_add(w->list, w->top, e->rel, false);
        if (!S_ISDIR(e->st->st_mode))
                return -EINVAL;
        int r = pack_list_add(w->list, w->top, e->rel, true);
        return r < 0 ? r : FS_WALK_DESCEND;
}

static int pack_item_cmp(const void *a, const void *b) {
        return strcmp(((const struct pack_item *) a)->path, ((const struct pack_item *) b)->path);
}

static la_ssize_t pack_write_cb(struct archive *a, void *userdata, const void *buf, size_t len) {
        struct pack_out *o = userdata;
        const char *p = buf;
        size_t left = len;
        while (left > 0) {
                ssize_t n = write(o->fd, p, left);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        archive_set_error(a, errno, "write failed");
                        return -1;
                }
                p += n;
                left -= (size_t) n;
        }
        sha256_update(&o->sha, buf, len);
        o->bytes += len;
        return (la_ssize_t) len;
}

static int archive_to_errno(struct archive *a) {
        int e = archive_errno(a);
        return e > 0 ? -e : -EIO;
}

static void archive_write_freep(struct archive **a) {
        if (*a)
                (void) archive_write_free(*a);
}

static void archive_entry_freep(struct archive_entry **e) {
        if (*e)
                archive_entry_free(*e);
}

static int pack_file_data(struct archive *a, int fd, int64_t size) {
        char buf[32 * 1024];
        int64_t done = 0;
        for (;;) {
                ssize_t n = read(fd, buf, sizeof(buf));
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                if (done + n > size)
                        return -EIO; /* grew while we packed it */
                la_ssize_t w = archive_write_data(a, buf, (size_t) n);
                if (w < 0)
                        return archive_to_errno(a);
                done += n;
        }
        return done == size ? 0 : -EIO;
}

static int pack_item_write(struct archive *a, int root_fd, const struct pack_item *it) {
        _cleanup_(archive_entry_freep) struct archive_entry *e = archive_entry_new();
        _cleanup_free_ char *name = NULL;
        _cleanup_close_ int fd = -1;
        struct stat st = { 0 };

        if (!e)
                return -ENOMEM;
        if (it->dir) {
                if (asprintf(&name, "%s/", it->path) < 0)
                        return -ENOMEM;
        } else {
                fd = openat(root_fd, it->rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
                if (fd < 0)
                        return errno == ELOOP ? -ELOOP : -errno;
                if (fstat(fd, &st) < 0)
                        return -errno;
                if (!S_ISREG(st.st_mode))
                        return -EINVAL;
        }

        archive_entry_set_pathname(e, name ? name : it->path);
        archive_entry_set_filetype(e, it->dir ? AE_IFDIR : AE_IFREG);
        archive_entry_set_perm(e, it->dir || (st.st_mode & 0111) ? 0755 : 0644);
        archive_entry_set_size(e, it->dir ? 0 : (la_int64_t) st.st_size);
        archive_entry_set_uid(e, 0);
        archive_entry_set_gid(e, 0);
        archive_entry_set_uname(e, "root");
        archive_entry_set_gname(e, "root");
        archive_entry_set_mtime(e, PACK_MTIME, 0);

        if (archive_write_header(a, e) != ARCHIVE_OK)
                return archive_to_errno(a);
        if (it->dir)
                return 0;
        return pack_file_data(a, fd, (int64_t) st.st_size);
}

int pack_tree(const char *root_dir, const char *top, int out_fd, uint64_t *ret_bytes,
              uint8_t ret_sha256[32]) {
        _cleanup_(pack_list_free) struct pack_list l = { 0 };
        _cleanup_(archive_write_freep) struct archive *a = NULL;
        _cleanup_close_ int root_fd = -1;
        struct pack_out out = { .fd = out_fd };
        int r;

        if (!path_is_safe(top) || strchr(top, '/'))
                return -EINVAL;
        root_fd = open(root_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (root_fd < 0)
                return errno == ELOOP ? -ELOOP : -errno;
        r = pack_list_add(&l, top, "", true);
        if (r < 0)
                return r;
        struct pack_walk w = { &l, top };
        r = fs_walk(root_fd, PACK_MAX_DEPTH, pack_entry, &w, NULL);
        if (r < 0)
                return r;
        qsort(l.v, l.n, sizeof(*l.v), pack_item_cmp);

        a = archive_write_new();
        if (!a)
                return -ENOMEM;
        if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
            archive_write_add_filter_gzip(a) != ARCHIVE_OK ||
            archive_write_set_filter_option(a, "gzip", "timestamp", NULL) != ARCHIVE_OK ||
            archive_write_set_filter_option(a, "gzip", "compression-level",
                                            STR(PACK_GZIP_LEVEL)) != ARCHIVE_OK ||
            archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK)
                return archive_to_errno(a);

        sha256_init(&out.sha);
        if (archive_write_open(a, &out, NULL, pack_write_cb, NULL) != ARCHIVE_OK)
                return archive_to_errno(a);
        for (size_t i = 0; i < l.n; i++) {
                r = pack_item_write(a, root_fd, &l.v[i]);
                if (r < 0)
                        return r;
        }
        if (archive_write_close(a) != ARCHIVE_OK)
                return archive_to_errno(a);

        sha256_final(&out.sha, ret_sha256);
        *ret_bytes = out.bytes;
        return 0;
}
