/* analyze-cmd.c - `codegend analyze PATH [--format yaml|json] [--spec SPEC]`: the content
 * metrics of a project that exists already (a team's hand-edited project, a tarball from a
 * legacy pipeline), the same figures a job's .codegen/metrics.yaml holds.
 *
 * Interface: analyze_main() (analyze-cmd.h), called by main() for `codegend analyze`.
 *
 * PATH is a directory, analysed where it is, or an archive (tar, plain or gzip, xz or zstd
 * compressed, or zip; recognised by its content), unpacked by unpack.c under the intake
 * limits into a fresh mkdtemp() directory. An archive whose only top-level entry is a
 * folder (as a job tarball's is) is analysed from that folder. The temporary directory is
 * always removed before the report is printed; SIGINT, SIGTERM, SIGHUP and SIGQUIT are held
 * back while it exists and take effect once it is gone.
 *
 * The spec, which gives quality.entities/endpoints their expected counts: SPEC when given,
 * else the tree's .codegen/spec.yaml (job tarballs ship theirs), else none (expected 0).
 * Success criteria use the default thresholds.
 *
 * Every file is read once: the walk follows analyze_tree()'s rules (docs/metrics.md, "Analyzing
 * a tree": regular files, no symbolic link followed, caches and .codegen/ skipped, the same
 * limits) and keeps each file's analyze_source() result, so analyze_project() gives the
 * figures and the same results list the Python files with syntax errors:
 *   files_with_errors: [{path, errors: [{line, column, message, excerpt}]}]
 * sorted by path, each with the first errors of its file (PY_ERRORS_KEEP); the key is
 * there only when some file has an error.
 *
 * Diagnostics: this is a deciding layer and logs each failure once, naming the path:
 * "cannot read 'x': No such file or directory", "'x' is not a directory or a regular file",
 * "'x' is larger than N bytes", the archive's diagnostics (unpack.h) then "cannot unpack 'x'",
 * "'x' holds more than N files", "'x' nests deeper than 64 levels", the spec's diagnostics
 * then "invalid spec 'x'". Exit status: 0 analysed, 1 those, 2 usage errors.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analyze-cmd.h"
#include "analysis/analyze.h"
#include "format/diag.h"
#include "format/doc.h"
#include "bundle/intake.h"
#include "format/node.h"
#include "shared/fs.h"
#include "shared/log.h"
#include "shared/macro.h"
#include "shared/strbuf.h"
#include "format/spec.h"
#include "bundle/unpack.h"

#define EXIT_USAGE 2
#define TREE_MAX_DEPTH 64
#define REL_MAX 4096

static void help(void) {
        printf("Usage: codegend analyze PATH [--format yaml|json] [--spec SPEC] [--python-version 3.N]\n"
               "\n"
               "Prints the content metrics of a project (what a job tarball's\n"
               ".codegen/metrics.yaml holds: files, loc, syntax, quality, success_criteria),\n"
               "and the Python files with syntax errors under files_with_errors.\n"
               "PATH is a project directory or an archive (.tar, .tar.gz, .tgz, .tar.xz,\n"
               ".tar.zst, .zip); an archive holding one top-level folder is analysed from it.\n"
               "\n"
               "  -f, --format FMT   yaml (default) or json\n"
               "  -s, --spec SPEC    the spec (YAML or JSON) whose entities and endpoints are\n"
               "                     expected (default: PATH's .codegen/spec.yaml if any)\n"
               "  -p, --python-version 3.N\n"
               "                     the Python whose syntax is valid (default 3.11; 3.12\n"
               "                     accepts `type X = ...` and PEP 701 f-strings); shown\n"
               "                     as python_version in the report\n"
               "  -h, --help         print this help and exit\n"
               "\n"
               "Success criteria use the default thresholds. Exit status: 0 analysed, 1 PATH\n"
               "or SPEC could not be read, 2 usage error. The figures: docs/metrics.md.\n");
}

/* [{path, errors}] for the files with syntax errors, in w's (sorted) order. */
static int files_with_errors(const struct analyze_files *w, struct node **ret) {
        _cleanup_node_ struct node *list = node_new_seq();
        if (!list)
                return -ENOMEM;
        for (size_t i = 0; i < w->n; i++) {
                const struct file_metrics *m = &w->v[i];
                _cleanup_node_ struct node *errors = NULL;
                struct node *f;
                if (m->errors.count == 0)
                        continue;
                int r = analyze_errors_to_node(m, &errors);
                if (r < 0)
                        return r;
                f = node_new_map();
                if (!f || node_seq_append(list, f) < 0 ||
                    node_map_set_string(f, "path", m->relpath) < 0 ||
                    node_map_set(f, "errors", TAKE_PTR(errors)) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(list);
        return 0;
}

/* ---- the command ---- */

struct target {
        const char *path;   /* as given */
        bool archive;
        char *tmp;          /* the mkdtemp() directory, archives only */
        char *root;         /* the project's top directory */
        char *prefix;       /* "" or "FOLDER/": where root is in the archive */
        sigset_t saved;     /* the signal mask before tmp existed */
};

/* Where a file of the project is, for messages: "dir/src/a.py", "x.tar.gz:top/src/a.py". */
static char *where(const struct target *t, const char *rel) {
        char *s = NULL;
        if (t->archive ? asprintf(&s, "%s:%s%s", t->path, t->prefix, rel) < 0
                       : !(s = path_join(t->path, rel)))
                return NULL;
        return s;
}

static void target_done(struct target *t) {
        if (t->tmp) {
                int r = rm_rf(t->tmp);
                if (r < 0)
                        log_warning_errno(r, "failed to remove '%s': %m", t->tmp);
                free(t->tmp);
                t->tmp = NULL;
                (void) sigprocmask(SIG_SETMASK, &t->saved, NULL);
        }
        free(t->root);
        free(t->prefix);
        t->root = t->prefix = NULL;
}

static int unpack_target(struct target *t, int fd) {
        struct intake_limits lim;
        struct diags d = DIAGS_INIT;
        sigset_t block;

        intake_limits_default(&lim);
        const char *tmpdir = getenv("TMPDIR");
        _cleanup_free_ char *tmpl = path_join(tmpdir && *tmpdir ? tmpdir : "/tmp",
                                              "codegend-analyze.XXXXXX");
        if (!tmpl)
                return log_error_errno(ENOMEM, "out of memory");
        sigemptyset(&block);
        sigaddset(&block, SIGINT);
        sigaddset(&block, SIGTERM);
        sigaddset(&block, SIGHUP);
        sigaddset(&block, SIGQUIT);
        if (sigprocmask(SIG_BLOCK, &block, &t->saved) < 0)
                return log_error_errno(errno, "failed to block signals: %m");
        if (!mkdtemp(tmpl)) {
                int r = log_error_errno(errno, "failed to create a directory in '%s': %m",
                                        tmpdir && *tmpdir ? tmpdir : "/tmp");
                (void) sigprocmask(SIG_SETMASK, &t->saved, NULL);
                return r;
        }
        t->tmp = TAKE_PTR(tmpl);

        int r = archive_unpack(fd, t->tmp, t->path, &lim, &d);
        if (r == 0)
                r = unpack_locate_root(t->tmp, t->path, UNPACK_ROOT_TREE, &t->root, &t->prefix, &d);
        if (r == -EINVAL) {
                diags_print(&d, stderr);
                log_error("cannot unpack '%s'", t->path);
        } else if (r < 0)
                log_error_errno(r, "failed to unpack '%s': %m", t->path);
        diags_clear(&d);
        return r;
}

/* Finds what PATH is and makes t->root the project's top directory. */
static int open_target(struct target *t) {
        /* O_NONBLOCK: a fifo must be refused, not waited on */
        _cleanup_close_ int fd = open(t->path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0)
                return log_error_errno(errno, "cannot read '%s': %m", t->path);
        if (S_ISDIR(st.st_mode)) {
                t->root = strdup(t->path);
                t->prefix = strdup("");
                return t->root && t->prefix ? 0 : log_error_errno(ENOMEM, "out of memory");
        }
        if (!S_ISREG(st.st_mode)) {
                log_error("'%s' is not a directory or a regular file", t->path);
                return -EINVAL;
        }
        if ((uint64_t) st.st_size > INTAKE_MAX_BUNDLE_BYTES) {
                log_error("'%s' is larger than %llu bytes", t->path,
                          (unsigned long long) INTAKE_MAX_BUNDLE_BYTES);
                return -EFBIG;
        }
        t->archive = true;
        return unpack_target(t, fd);
}

/* The spec named on the command line, else the project's .codegen/spec.yaml, else none. */
static int load_spec(const struct target *t, const char *spec_path, struct spec **ret) {
        _cleanup_free_ char *own = NULL, *label = NULL;
        _cleanup_node_ struct node *doc = NULL;
        struct diags d = DIAGS_INIT;
        const char *path = spec_path;

        if (!path) {
                own = path_join(t->root, ".codegen/spec.yaml");
                label = where(t, ".codegen/spec.yaml");
                path = own;
        } else
                label = strdup(spec_path);
        if (!path || !label)
                return log_error_errno(ENOMEM, "out of memory");

        int r = doc_load(path, label, (size_t) INTAKE_MAX_DOC_BYTES, &doc, &d);
        if (r == 0 && !doc)
                r = diags_add(&d, label, 0, 0, NULL, "empty document") < 0 ? -ENOMEM : -EINVAL;
        if (r == 0)
                r = spec_from_node(doc, label, ret, &d);
        if (r == -EINVAL) {
                diags_print(&d, stderr);
                log_error("invalid spec '%s'", label);
        } else if (r == -ENOENT && !spec_path)
                r = 0; /* a project without a spec: nothing expected */
        else if (r < 0)
                log_error_errno(r, "cannot read spec '%s': %m", label);
        diags_clear(&d);
        return r;
}

static int analyze_target(const struct target *t, const struct spec *spec, unsigned minor,
                          struct node **ret) {
        struct analyze_thresholds th = ANALYZE_THRESHOLDS_DEFAULT;
        char ver[8];
        _cleanup_(analyze_files_clear) struct analyze_files w = { 0 };
        const struct analyze_limits lim = ANALYZE_LIMITS_DEFAULT;
        _cleanup_node_ struct node *report = NULL, *errors = NULL;

        th.python_minor = minor;
        int r = analyze_tree_files(t->root, &lim, minor, &w);
        if (r < 0) {
                _cleanup_free_ char *at = w.failed ? where(t, w.failed) : strdup(t->path);
                const char *shown = at ? at : t->path;
                if (r == -E2BIG)
                        log_error("'%s' holds more than %zu files", t->path, lim.max_files);
                else if (r == -EFBIG)
                        log_error("'%s' is larger than %zu bytes", shown, lim.max_file_size);
                else if (r == -ELOOP)
                        log_error("'%s' nests deeper than %d levels", t->path, ANALYZE_TREE_MAX_DEPTH);
                else
                        log_error_errno(r, "cannot read '%s': %m", shown);
                return r;
        }
        r = analyze_project(w.v, w.n, spec, &th, &report);
        if (r == 0)
                r = node_map_set_string(report, "python_version", analyze_python_version(minor, ver));
        if (r == 0)
                r = files_with_errors(&w, &errors);
        if (r == 0 && errors->n > 0)
                r = node_map_set(report, "files_with_errors", TAKE_PTR(errors));
        if (r < 0)
                return log_error_errno(r, "failed to analyze '%s': %m", t->path);
        *ret = TAKE_PTR(report);
        return 0;
}

static int print_report(const struct node *report, bool json) {
        _cleanup_strbuf_ struct strbuf out = STRBUF_INIT;
        int r = json ? doc_emit_json(report, &out) : doc_emit_yaml(report, &out);
        if (r == 0 && json)
                r = strbuf_addc(&out, '\n');
        if (r < 0)
                return log_error_errno(r, "failed to format the report: %m");
        if (fwrite(out.buf, 1, out.len, stdout) != out.len || fflush(stdout) != 0)
                return log_error_errno(errno, "failed to write the report: %m");
        return 0;
}

int analyze_main(int argc, char **argv) {
        static const struct option options[] = {
                { "format", required_argument, NULL, 'f' },
                { "spec", required_argument, NULL, 's' },
                { "python-version", required_argument, NULL, 'p' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *spec_path = NULL;
        unsigned minor = PY_MINOR_DEFAULT;
        bool json = false;
        int c;

        opterr = 0;
        while ((c = getopt_long(argc, argv, ":f:s:p:h", options, NULL)) >= 0) {
                switch (c) {
                case 'f':
                        if (streq(optarg, "json"))
                                json = true;
                        else if (streq(optarg, "yaml"))
                                json = false;
                        else {
                                log_error("--format takes yaml or json, not '%s'", optarg);
                                return EXIT_USAGE;
                        }
                        break;
                case 's': spec_path = optarg; break;
                case 'p':
                        if (analyze_parse_python_version(optarg, &minor) < 0) {
                                log_error("--python-version takes 3.%d to 3.%d, not '%s'", PY_MINOR_MIN,
                                          PY_MINOR_MAX, optarg);
                                return EXIT_USAGE;
                        }
                        break;
                case 'h': help(); return 0;
                case ':':
                        log_error("option '%s' needs a value (see codegend analyze --help)",
                                  argv[optind - 1]);
                        return EXIT_USAGE;
                default:
                        log_error("unknown option '%s' (see codegend analyze --help)",
                                  argv[optind - 1]);
                        return EXIT_USAGE;
                }
        }
        if (optind >= argc) {
                log_error("missing PATH (see codegend analyze --help)");
                return EXIT_USAGE;
        }
        if (optind + 1 < argc) {
                log_error("unexpected argument '%s' (see codegend analyze --help)", argv[optind + 1]);
                return EXIT_USAGE;
        }

        struct target t = { .path = argv[optind] };
        _cleanup_node_ struct node *report = NULL;
        _cleanup_spec_ struct spec *spec = NULL;
        int r = open_target(&t);
        if (r == 0)
                r = load_spec(&t, spec_path, &spec);
        if (r == 0)
                r = analyze_target(&t, spec, minor, &report);
        target_done(&t);
        if (r < 0)
                return 1;
        return print_report(report, json) < 0 ? 1 : 0;
}
