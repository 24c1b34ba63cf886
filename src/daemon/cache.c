/* cache.c - the atom cache's entries; see cache.h. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "format/doc.h"
#include "shared/fs.h"
#include "shared/macro.h"
#include "shared/strbuf.h"

#define CACHE_MAGIC "codegend-atom-cache 2 "
#define MAX_ENTRY (40u << 20)
#define STALE_TMP_SECONDS 3600

static bool valid_name(const char *name) {
        if (strlen(name) != 64)
                return false;
        for (size_t i = 0; i < 64; i++)
                if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f')))
                        return false;
        return true;
}

int cache_lookup(const char *dir, const char *hex, struct node **ret_result, char **ret_text,
                 size_t *ret_len) {
        _cleanup_free_ char *path = path_join(dir, hex), *data = NULL;
        size_t len = 0;
        if (!path)
                return -ENOMEM;
        if (!valid_name(hex))
                return -EINVAL;
        int r = read_file_bounded(path, MAX_ENTRY, &data, &len);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        /* "MAGIC YAMLLEN TEXTLEN\n" YAML TEXT: both lengths must match what is there */
        size_t m = strlen(CACHE_MAGIC);
        char *end = NULL, *mid = NULL;
        unsigned long long rlen = 0, tlen = 0;
        if (len > m && memcmp(data, CACHE_MAGIC, m) == 0) {
                errno = 0;
                rlen = strtoull(data + m, &mid, 10);
                if (!errno && mid && *mid == ' ')
                        tlen = strtoull(mid + 1, &end, 10);
        }
        if (!end || errno || *end != '\n' || rlen > len - (size_t) (end + 1 - data) ||
            tlen != len - (size_t) (end + 1 - data) - rlen) {
                (void) unlink(path); /* not one of ours, or cut short: generate again */
                return 0;
        }
        const char *res = end + 1;
        struct diags d = DIAGS_INIT;
        _cleanup_node_ struct node *result = NULL;
        r = doc_parse_yaml(res, (size_t) rlen, path, &result, &d);
        diags_clear(&d);
        if (r < 0 || !result || result->kind != NODE_MAP) {
                (void) unlink(path);
                return r == -ENOMEM ? r : 0;
        }
        size_t off = (size_t) (res + rlen - data);
        char *text = malloc(len - off + 1);
        if (!text)
                return -ENOMEM;
        memcpy(text, data + off, len - off);
        text[len - off] = '\0';
        /* least recently used: a hit is a use */
        (void) utimensat(AT_FDCWD, path, NULL, 0);
        *ret_result = TAKE_PTR(result);
        *ret_text = text;
        *ret_len = len - off;
        return 1;
}

int cache_store(const char *dir, const char *hex, const struct node *result, const char *text, size_t len) {
        _cleanup_free_ char *path = path_join(dir, hex);
        _cleanup_strbuf_ struct strbuf yaml = STRBUF_INIT, out = STRBUF_INIT;
        int r;
        if (!path)
                return -ENOMEM;
        if (!valid_name(hex))
                return -EINVAL;
        strbuf_init(&yaml, MAX_ENTRY);
        strbuf_init(&out, MAX_ENTRY);
        if ((r = doc_emit_yaml(result, &yaml)) < 0)
                return r;
        if ((r = strbuf_addf(&out, CACHE_MAGIC "%zu %zu\n", yaml.len, len)) < 0 ||
            (r = strbuf_add(&out, yaml.buf, yaml.len)) < 0 || (r = strbuf_add(&out, text, len)) < 0)
                return r;
        if ((r = mkdir_p(dir, 0755)) < 0)
                return r;
        /* atomic, not fsynced: a crash can only cut an entry, which a lookup finds
         * malformed, counts as a miss and removes */
        return write_file_atomic_volatile(path, out.buf, out.len, 0644);
}

struct entry {
        struct timespec used;
        uint64_t bytes;
        char name[65];
};

static int by_use(const void *a, const void *b) {
        const struct entry *x = a, *y = b;
        if (x->used.tv_sec != y->used.tv_sec)
                return x->used.tv_sec < y->used.tv_sec ? -1 : 1;
        if (x->used.tv_nsec != y->used.tv_nsec)
                return x->used.tv_nsec < y->used.tv_nsec ? -1 : 1;
        return strcmp(x->name, y->name);
}

int cache_evict(const char *dir, uint64_t max_bytes, size_t max_entries, struct cache_evict_stats *ret) {
        _cleanup_free_ struct entry *e = NULL;
        struct cache_evict_stats st = { 0 };
        size_t n = 0, cap = 0;
        int r = 0;

        DIR *d = opendir(dir);
        if (!d) {
                if (ret)
                        *ret = st;
                return errno == ENOENT ? 0 : -errno;
        }
        int dfd = dirfd(d);
        time_t now = time(NULL);
        while (n < max_entries) {
                errno = 0;
                struct dirent *de = readdir(d);
                if (!de) {
                        if (errno)
                                r = -errno;
                        break;
                }
                struct stat s;
                if (fstatat(dfd, de->d_name, &s, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(s.st_mode))
                        continue;
                if (de->d_name[0] == '.') {
                        /* a writer's temporary file (fs.h): removed once surely abandoned */
                        if (now - s.st_mtime > STALE_TMP_SECONDS)
                                (void) unlinkat(dfd, de->d_name, 0);
                        continue;
                }
                if (!valid_name(de->d_name))
                        continue;
                if (n == cap) {
                        size_t ncap = cap ? cap * 2 : 256;
                        struct entry *ne = reallocarray(e, ncap, sizeof(*e));
                        if (!ne) {
                                r = -ENOMEM;
                                break;
                        }
                        e = ne, cap = ncap;
                }
                e[n].used = s.st_mtim;
                e[n].bytes = (uint64_t) s.st_size;
                memcpy(e[n].name, de->d_name, 65);
                st.bytes += e[n].bytes;
                n++;
        }
        if (r >= 0) {
                if (n > 0) /* qsort's array must not be NULL, even when empty */
                        qsort(e, n, sizeof(*e), by_use);
                for (size_t i = 0; i < n && st.bytes > max_bytes; i++) {
                        if (unlinkat(dfd, e[i].name, 0) < 0) {
                                if (errno == ENOENT)
                                        continue;
                                r = -errno;
                                break;
                        }
                        st.bytes -= e[i].bytes;
                        st.removed++;
                        st.removed_bytes += e[i].bytes;
                }
                if (r >= 0 && st.removed > 0)
                        r = fsync_dir(dir);
        }
        st.entries = n - st.removed;
        (void) closedir(d);
        if (ret)
                *ret = st;
        return r;
}
