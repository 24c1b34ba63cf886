/* intake.c - bundle forms, the checks of a directory bundle, and the bundle's documents;
 * see intake.h for the interface and the diagnostics.
 *
 * Archives are unpacked by unpack.c (under the same limits, into the scratch directory);
 * their documents are then read like a directory bundle's, from the archive's top or
 * from its one top-level folder. Internal helpers return 0, -EINVAL after adding
 * diagnostics (stop), or another -errno.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "format/doc.h"
#include "intake.h"
#include "shared/fs.h"
#include "shared/macro.h"
#include "unpack.h"

#define INTAKE_MAX_DEPTH 128

void intake_limits_default(struct intake_limits *l) {
        *l = (struct intake_limits) {
                .max_bundle_bytes = INTAKE_MAX_BUNDLE_BYTES,
                .max_entries = INTAKE_MAX_ENTRIES,
                .max_unpacked_bytes = INTAKE_MAX_UNPACKED_BYTES,
                .max_doc_bytes = INTAKE_MAX_DOC_BYTES,
        };
}

void bundle_free(struct bundle *b) {
        if (!b)
                return;
        free(b->name);
        node_free(b->spec);
        free(b->spec_file);
        node_free(b->dag);
        free(b->dag_file);
        node_free(b->options);
        free(b->options_file);
        free(b);
}

/* Adds a diagnostic, at node n of a document when n is given; 0 or -ENOMEM. */
static _printf_(5, 0) int vnote(struct diags *d, const char *file, const struct node *n,
                                const char *path, const char *fmt, va_list ap) {
        _cleanup_free_ char *msg = NULL;
        if (vasprintf(&msg, fmt, ap) < 0)
                return -ENOMEM;
        return diags_add(d, file, n ? n->line : 0, n ? n->column : 0, path, "%s", msg);
}

/* A diagnostic about a whole file, after which the caller goes on: 0 or -ENOMEM. */
static _printf_(3, 4) int note(struct diags *d, const char *file, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        int r = vnote(d, file, NULL, NULL, fmt, ap);
        va_end(ap);
        return r;
}

/* A diagnostic about a whole file that stops the caller: -EINVAL or -ENOMEM. */
static _printf_(3, 4) int fail(struct diags *d, const char *file, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        int r = vnote(d, file, NULL, NULL, fmt, ap);
        va_end(ap);
        return r < 0 ? r : -EINVAL;
}

/* A diagnostic about node n of a document (path: where it is): -EINVAL or -ENOMEM. */
static _printf_(5, 6) int fail_at(struct diags *d, const char *file, const struct node *n,
                                  const char *path, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        int r = vnote(d, file, n, path, fmt, ap);
        va_end(ap);
        return r < 0 ? r : -EINVAL;
}

/* ---- the documents of a bundle, once it is a directory on disk ---- */

static const char *const spec_names[] = { "spec.yaml", "spec.yml", "spec.json" };

/* Finds which of names[] exist in root; *ret_found is the index or -1. */
static int find_doc(const char *root, const char *const *names, size_t n, const char *bundle_label,
                    int *ret_found, struct diags *d) {
        int found = -1;
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *p = path_join(root, names[i]);
                struct stat st;
                if (!p)
                        return -ENOMEM;
                if (lstat(p, &st) < 0) {
                        if (errno == ENOENT)
                                continue;
                        return -errno;
                }
                if (found >= 0)
                        return fail(d, bundle_label, "both %s and %s", names[found], names[i]);
                found = (int) i;
        }
        *ret_found = found;
        return 0;
}

static int load_doc(const char *root, const char *name, const char *label,
                    const struct intake_limits *lim, struct node **ret, struct diags *d) {
        _cleanup_free_ char *p = path_join(root, name);
        _cleanup_node_ struct node *n = NULL;
        if (!p)
                return -ENOMEM;
        int r = doc_load(p, label, (size_t) lim->max_doc_bytes, &n, d);
        if (r < 0)
                return r;
        if (!n)
                return fail(d, label, "empty document");
        if (n->kind == NODE_NULL)
                return fail_at(d, label, n, NULL, "empty document");
        *ret = TAKE_PTR(n);
        return 0;
}

/* Loads one kind of document (spec, dag or job options) from root, whose files are
 * labelled prefix + file name. missing: the error when none is there, NULL if optional. */
static int load_kind(const char *root, const char *prefix, const char *bundle_label,
                     const char *const *names, size_t n, const char *missing,
                     const struct intake_limits *lim, struct node **ret, char **ret_file,
                     struct diags *d) {
        int found = -1, r;
        r = find_doc(root, names, n, bundle_label, &found, d);
        if (r < 0)
                return r;
        if (found < 0)
                return missing ? fail(d, bundle_label, "%s", missing) : 0;
        _cleanup_free_ char *label = NULL;
        if (asprintf(&label, "%s%s", prefix, names[found]) < 0)
                return -ENOMEM;
        r = load_doc(root, names[found], label, lim, ret, d);
        if (r < 0)
                return r;
        *ret_file = TAKE_PTR(label);
        return 0;
}

/* Loads spec, dag and options, reporting the problems of all three. */
static int load_docs(struct bundle *b, const char *root, const char *prefix,
                     const char *bundle_label, const struct intake_limits *lim, struct diags *d) {
        static const char *const dag_names[] = { "dag.yaml", "dag.yml", "dag.json" };
        static const char *const job_names[] = { "job.yaml", "job.yml" };
        int r, ret = 0;

        r = load_kind(root, prefix, bundle_label, spec_names, ELEMENTSOF(spec_names),
                      "no spec.yaml or spec.json in the bundle", lim,
                      &b->spec, &b->spec_file, d);
        if (r == -EINVAL)
                ret = r;
        else if (r < 0)
                return r;
        r = load_kind(root, prefix, bundle_label, dag_names, ELEMENTSOF(dag_names), NULL, lim,
                      &b->dag, &b->dag_file, d);
        if (r == -EINVAL)
                ret = r;
        else if (r < 0)
                return r;
        r = load_kind(root, prefix, bundle_label, job_names, ELEMENTSOF(job_names), NULL, lim,
                      &b->options, &b->options_file, d);
        if (r < 0)
                return r;
        return ret;
}

/* ---- directory bundles ---- */

struct walk {
        const struct intake_limits *lim;
        const char *label;
        struct diags *d;
        uint64_t entries;
        uint64_t bytes;
        bool bad;
};

static const char *special_kind(mode_t mode) {
        if (S_ISLNK(mode))
                return "a symbolic link";
        if (S_ISCHR(mode) || S_ISBLK(mode))
                return "a device";
        if (S_ISFIFO(mode))
                return "a fifo";
        if (S_ISSOCK(mode))
                return "a socket";
        return "not a regular file or directory";
}

/* Checks one entry of a directory bundle: special files are reported and the walk goes
 * on; the limits stop it. */
static int check_entry(const struct fs_entry *e, void *userdata) {
        struct walk *w = userdata;
        if (++w->entries > w->lim->max_entries)
                return fail(w->d, w->label, "bundle has more than %llu entries",
                            (unsigned long long) w->lim->max_entries);
        if (S_ISDIR(e->st->st_mode))
                return FS_WALK_DESCEND;
        if (S_ISREG(e->st->st_mode)) {
                w->bytes += (uint64_t) e->st->st_size;
                if (w->bytes > w->lim->max_bundle_bytes)
                        return fail(w->d, w->label, "bundle size exceeds %llu bytes",
                                    (unsigned long long) w->lim->max_bundle_bytes);
                return 0;
        }
        _cleanup_free_ char *shown = display_name(e->rel);
        w->bad = true;
        return shown ? note(w->d, w->label, "bundle entry '%s' is %s", shown, special_kind(e->st->st_mode))
                     : -ENOMEM;
}

static int load_directory(struct bundle *b, const char *path, const char *label,
                          const struct intake_limits *lim, struct diags *d) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
                if (errno == ELOOP || errno == ENOTDIR)
                        return fail(d, label, "'%s' is not a directory", label);
                return -errno;
        }
        struct walk w = { .lim = lim, .label = label, .d = d };
        int r = fs_walk(fd, INTAKE_MAX_DEPTH, check_entry, &w, NULL);
        if (r == -ELOOP)
                return fail(d, label, "bundle nests deeper than %d levels", INTAKE_MAX_DEPTH);
        if (r < 0)
                return r;
        if (w.bad)
                return -EINVAL;
        _cleanup_free_ char *prefix = NULL;
        if (asprintf(&prefix, "%s/", label) < 0)
                return -ENOMEM;
        return load_docs(b, path, prefix, label, lim, d);
}

/* ---- archives ---- */

/* Opens a bundle that must be a regular file and checks its size. */
static int open_bundle_file(const char *path, const char *label, const struct intake_limits *lim,
                            struct diags *d) {
        /* O_NONBLOCK: a FIFO must not block the open; the type is checked right after */
        _cleanup_close_ int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
        struct stat st;
        if (fd < 0) {
                if (errno == ELOOP)
                        return fail(d, label, "'%s' is a symbolic link", label);
                if (errno == ENXIO) /* a socket: open() refuses before any type check */
                        return fail(d, label, "'%s' is not a regular file", label);
                if (errno == EACCES || errno == EPERM) /* the bundle's, not the daemon's, fault */
                        return fail(d, label, "'%s' cannot be read: %s", label, strerror(errno));
                return -errno;
        }
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return fail(d, label, "'%s' is not a regular file", label);
        if ((uint64_t) st.st_size > lim->max_bundle_bytes)
                return fail(d, label, "bundle size exceeds %llu bytes",
                            (unsigned long long) lim->max_bundle_bytes);
        return TAKE_FD(fd);
}

/* A spec at the archive's top makes the top the bundle's root, whatever else is there. */
static int spec_at_top(const char *scratch, bool *ret) {
        for (size_t i = 0; i < ELEMENTSOF(spec_names); i++) {
                _cleanup_free_ char *p = path_join(scratch, spec_names[i]);
                struct stat st;
                if (!p)
                        return -ENOMEM;
                if (lstat(p, &st) == 0) {
                        *ret = true;
                        return 0;
                }
                if (errno != ENOENT)
                        return -errno;
        }
        *ret = false;
        return 0;
}

static int unpack_bundle(const char *path, const char *scratch, const char *label,
                         const struct intake_limits *lim, struct diags *d) {
        _cleanup_close_ int fd = open_bundle_file(path, label, lim, d);
        if (fd < 0)
                return fd;
        return archive_unpack(fd, scratch, label, lim, d);
}

/* unpacked: unpack_bundle() already ran (in another process) into scratch */
static int load_archive(struct bundle *b, const char *path, const char *scratch, bool unpacked,
                        const char *label, const struct intake_limits *lim, struct diags *d) {
        int r = unpacked ? 0 : unpack_bundle(path, scratch, label, lim, d);
        if (r < 0)
                return r;
        _cleanup_free_ char *root = NULL, *prefix = NULL;
        bool top;
        r = spec_at_top(scratch, &top);
        if (r < 0)
                return r;
        if (top)
                return load_docs(b, scratch, "", label, lim, d);
        r = unpack_locate_root(scratch, label, UNPACK_ROOT_BUNDLE, &root, &prefix, d);
        if (r < 0)
                return r;
        return load_docs(b, root, prefix, label, lim, d);
}

/* ---- single-file bundles ---- */

static int take_subtree(struct node *root, size_t i, const char *label, const char *key,
                        struct node **ret, char **ret_file, struct diags *d) {
        const struct node *k = root->keys[i];
        struct node *v = root->items[i];
        if (!v || v->kind != NODE_MAP)
                return fail_at(d, label, v && v->line ? v : k, key,
                               "'%s' must be a mapping, not %s%s", key,
                               node_is_null(v) ? "" : "a ", node_kind_name(v));
        if (*ret)
                return 0; /* the parser refuses duplicate keys; keep the first anyway */
        char *file = strdup(label);
        if (!file)
                return -ENOMEM;
        *ret = v;
        root->items[i] = NULL;
        *ret_file = file;
        return 0;
}

static int load_single(struct bundle *b, const char *path, const char *label,
                       const struct intake_limits *lim, struct diags *d) {
        _cleanup_close_ int fd = open_bundle_file(path, label, lim, d);
        _cleanup_node_ struct node *root = NULL;
        int r, ret = 0;

        if (fd < 0)
                return fd;
        r = doc_load(path, label, (size_t) lim->max_doc_bytes, &root, d);
        if (r < 0)
                return r;
        if (!root)
                return fail(d, label, "empty document");
        if (root->kind == NODE_NULL)
                return fail_at(d, label, root, NULL, "empty document");
        if (root->kind != NODE_MAP)
                return fail_at(d, label, root, NULL,
                               "a job file must be a mapping with the keys 'spec', 'dag' and "
                               "'options', not a %s",
                               node_kind_name(root));

        for (size_t i = 0; i < root->n; i++) {
                const struct node *k = root->keys[i];
                const char *key = k->value ? k->value : "";
                if (streq(key, "spec"))
                        r = take_subtree(root, i, label, key, &b->spec, &b->spec_file, d);
                else if (streq(key, "dag"))
                        r = take_subtree(root, i, label, key, &b->dag, &b->dag_file, d);
                else if (streq(key, "options"))
                        r = take_subtree(root, i, label, key, &b->options, &b->options_file, d);
                else if (strncmp(key, "x-", 2) == 0)
                        r = 0;
                else {
                        _cleanup_free_ char *shown = display_name(key);
                        if (!shown)
                                return -ENOMEM;
                        r = fail_at(d, label, k, shown, "unknown key '%s'", shown);
                }
                if (r == -EINVAL)
                        ret = r;
                else if (r < 0)
                        return r;
        }
        if (node_key_index(root, "spec") < 0)
                return fail_at(d, label, root, NULL, "missing key 'spec'");
        return ret;
}

/* lim with its zero fields (or all of it, when NULL) replaced by the defaults */
static struct intake_limits limits_or_default(const struct intake_limits *lim) {
        struct intake_limits l;
        intake_limits_default(&l);
        if (lim) {
                if (lim->max_bundle_bytes)
                        l.max_bundle_bytes = lim->max_bundle_bytes;
                if (lim->max_entries)
                        l.max_entries = lim->max_entries;
                if (lim->max_unpacked_bytes)
                        l.max_unpacked_bytes = lim->max_unpacked_bytes;
                if (lim->max_doc_bytes)
                        l.max_doc_bytes = lim->max_doc_bytes;
        }
        return l;
}

int bundle_unpack(const char *path, enum bundle_form form, const char *scratch_dir,
                  const struct intake_limits *lim, struct diags *d) {
        const struct intake_limits l = limits_or_default(lim);
        if (form != BUNDLE_ARCHIVE)
                return 0;
        if (!scratch_dir)
                return -EINVAL;
        size_t before = d->n + d->dropped;
        int r = unpack_bundle(path, scratch_dir, path_basename(path), &l, d);
        if (r < 0)
                return r;
        return d->n + d->dropped > before ? -EINVAL : 0;
}

static int load(const char *path, enum bundle_form form, const char *name, const char *scratch_dir,
                bool unpacked, const struct intake_limits *lim, struct bundle **ret,
                struct diags *d) {
        const struct intake_limits l = limits_or_default(lim);

        if (form > BUNDLE_SINGLE_FILE || (form == BUNDLE_ARCHIVE && !scratch_dir))
                return -EINVAL;
        _cleanup_bundle_ struct bundle *b = calloc(1, sizeof(*b));
        if (!b)
                return -ENOMEM;
        b->form = form;
        b->name = strdup(name);

        const char *label = path_basename(path);
        size_t before = d->n + d->dropped;
        int r;
        if (!b->name)
                r = -ENOMEM;
        else if (form == BUNDLE_DIRECTORY)
                r = load_directory(b, path, label, &l, d);
        else if (form == BUNDLE_ARCHIVE)
                r = load_archive(b, path, scratch_dir, unpacked, label, &l, d);
        else
                r = load_single(b, path, label, &l, d);
        if (r < 0)
                return r;
        if (d->n + d->dropped > before)
                return -EINVAL;
        *ret = TAKE_PTR(b);
        return 0;
}

int bundle_load(const char *path, enum bundle_form form, const char *name,
                const char *scratch_dir, const struct intake_limits *lim,
                struct bundle **ret, struct diags *d) {
        return load(path, form, name, scratch_dir, false, lim, ret, d);
}

int bundle_load_unpacked(const char *path, enum bundle_form form, const char *name,
                         const char *scratch_dir, const struct intake_limits *lim,
                         struct bundle **ret, struct diags *d) {
        return load(path, form, name, scratch_dir, true, lim, ret, d);
}
