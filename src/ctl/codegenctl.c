/* codegenctl.c - submit and follow codegend jobs through the spool alone.
 *
 *   codegenctl [--spool DIR] [--config FILE] [--json] COMMAND [ARGS] [--timeout S]
 *   submit PATH... | submit-dir DIR | list | status JOB | wait JOB... | retry JOB | cancel JOB
 *
 * Options may come before or after the command. The spool is --spool, else the `spool:`
 * key of the daemon's configuration file. Everything is read from and written to the
 * spool's on-disk contract (ctl-spool.h, ctl-ops.h): codegenctl works on any host that
 * mounts the spool, with or without a daemon running there.
 *
 * Exit status: 0 success (wait: every job done), 1 a job failed or an operation failed
 * (wait: a job failed or is unknown), 2 wait or cancel timed out, 64 a usage error.
 * The --json documents are described in codegenctl(1); their keys only ever grow.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ctl-ops.h"
#include "ctl-spool.h"
#include "format/bundle-name.h"
#include "format/conffile.h"
#include "format/diag.h"
#include "format/doc.h"
#include "format/node.h"
#include "shared/fs.h"
#include "shared/log.h"
#include "shared/macro.h"
#include "shared/strbuf.h"

#define EXIT_FAILED 1
#define EXIT_TIMEOUT 2
#define EXIT_USAGE 64
#define CANCEL_TIMEOUT_DEFAULT 30.0

static bool arg_json;
static double arg_timeout = -1; /* seconds; < 0: the command's default */

static void help(void) {
        printf("Usage: codegenctl [OPTIONS] COMMAND [ARGS]\n"
               "\n"
               "Submit and follow codegend jobs through the spool.\n"
               "\n"
               "Commands:\n"
               "  submit PATH...     copy bundles (files or directories) into the inbox atomically\n"
               "  submit-dir DIR     submit every bundle in DIR (the nightly regeneration)\n"
               "  list               every job: queued, running, done, failed, with times\n"
               "  status JOB         one job's state, times and report\n"
               "  wait JOB...        until the jobs have ended (0 all done, 1 one failed,\n"
               "                     2 timed out)\n"
               "  retry JOB          put a failed job's bundle back into the inbox\n"
               "  cancel JOB         withdraw a queued job, or ask the daemon to stop a running one\n"
               "\n"
               "Options (before or after the command):\n"
               "  -s, --spool DIR      the spool (default: 'spool:' in the configuration)\n"
               "  -c, --config FILE    the daemon's configuration (default %s/codegend.yaml)\n"
               "  -t, --timeout S      wait/cancel: give up after S seconds (2 is the status)\n"
               "  -j, --json           print JSON documents (see codegenctl(1))\n"
               "  -V, --version        print the version and exit\n"
               "  -h, --help           print this help and exit\n",
               SYSCONFDIR);
}

/* The `spool:` key of the daemon's configuration; 0 with *ret NULL when there is none. */
/* The spool the configuration file names (path, or NULL for the default one), or NULL. */
static int config_spool(const char *path, char **ret) {
        _cleanup_node_ struct node *root = NULL;
        struct diags d = DIAGS_INIT;
        int r = conffile_read(path, &root, &d);
        diags_print(&d, stderr);
        diags_clear(&d);
        if (r == -EINVAL)
                return log_error_errno(r, "failed to parse %s", conffile_path(path));
        if (r < 0)
                return log_error_errno(r, "failed to read %s: %m", conffile_path(path));
        const struct node *s = node_get(root, "spool");
        *ret = NULL;
        if (s && node_is_string(s) && !(*ret = strdup(s->value)))
                return log_error_errno(ENOMEM, "out of memory");
        return 0;
}

static void format_time(int64_t t, char buf[static 32]) {
        time_t tt = (time_t) t;
        struct tm tm;
        if (!gmtime_r(&tt, &tm) || strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                snprintf(buf, 32, "%lld", (long long) t);
}

static struct node *node_string_or_null(const char *s) {
        return s ? node_new_string(s) : node_new_null();
}

/* The one JSON object for a job (codegenctl(1), JSON OUTPUT). */
static struct node *job_node(const struct ctl_job *j) {
        char since[32], dur[32];
        format_time(j->since, since);
        snprintf(dur, sizeof(dur), "%.3f", j->duration_s);
        struct node *m = node_new_map();
        if (!m || node_map_set_string(m, "name", j->name) < 0 ||
            node_map_set_string(m, "state", ctl_state_name(j->state)) < 0 ||
            node_map_set(m, "entry", node_string_or_null(j->entry)) < 0 ||
            node_map_set_string(m, "path", j->path) < 0 ||
            node_map_set_string(m, "since", since) < 0 ||
            node_map_set(m, "started_at", node_string_or_null(j->started_at)) < 0 ||
            node_map_set(m, "finished_at", node_string_or_null(j->finished_at)) < 0 ||
            node_map_set(m, "duration_s", j->duration_s >= 0 ? node_new_scalar(dur, false) : node_new_null()) < 0 ||
            node_map_set(m, "stage", node_string_or_null(j->stage)) < 0) {
                node_free(m);
                return NULL;
        }
        return m;
}

static int print_json(struct node *doc) {
        _cleanup_node_ struct node *n = doc;
        _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
        if (!n)
                return log_error_errno(ENOMEM, "out of memory");
        int r = doc_emit_json(n, &sb);
        if (r < 0)
                return log_error_errno(r, "failed to format JSON: %m");
        fputs(strbuf_str(&sb), stdout);
        if (sb.len == 0 || sb.buf[sb.len - 1] != '\n')
                putchar('\n');
        return 0;
}

static void print_job_line(const struct ctl_job *j) {
        char since[32], dur[32] = "-";
        format_time(j->since, since);
        if (j->duration_s >= 0)
                snprintf(dur, sizeof(dur), "%.1fs", j->duration_s);
        printf("%-8s %-24s %-20s %8s %s\n", ctl_state_name(j->state), j->name, since, dur,
               j->stage ? j->stage : "");
}

static int cmd_list(const struct ctl_spool *sp) {
        struct ctl_job *v;
        size_t n;
        int r = ctl_list(sp, &v, &n);
        if (r < 0)
                return log_error_errno(r, "failed to read the spool %s: %m", sp->root), EXIT_FAILED;
        if (arg_json) {
                struct node *doc = node_new_map(), *jobs = node_new_seq();
                if (doc && node_map_set_string(doc, "spool", sp->root) >= 0 &&
                    node_map_set(doc, "jobs", jobs) >= 0) {
                        for (size_t i = 0; i < n && r >= 0; i++)
                                r = node_seq_append(jobs, job_node(&v[i]));
                } else {
                        r = -ENOMEM;
                        if (!doc)
                                node_free(jobs);
                }
                r = r < 0 ? (node_free(doc), print_json(NULL)) : print_json(doc);
        } else {
                printf("%-8s %-24s %-20s %8s %s\n", "STATE", "JOB", "SINCE", "DURATION", "STAGE");
                for (size_t i = 0; i < n; i++)
                        print_job_line(&v[i]);
        }
        ctl_jobs_free(v, n);
        return r < 0 ? EXIT_FAILED : 0;
}

static int find_job(const struct ctl_spool *sp, const char *name, struct ctl_job *ret) {
        if (!bundle_name_is_valid(name)) {
                log_error("'%s' is not a job name", name);
                return -EINVAL;
        }
        int r = ctl_find(sp, name, ret);
        if (r == -ENOENT)
                log_error("no job '%s' in %s", name, sp->root);
        else if (r < 0)
                log_error_errno(r, "failed to read the spool %s: %m", sp->root);
        return r;
}

static int print_job(const struct ctl_job *j) {
        if (arg_json)
                return print_json(job_node(j));
        char since[32];
        format_time(j->since, since);
        printf("job:         %s\nstate:       %s\n", j->name, ctl_state_name(j->state));
        if (j->entry)
                printf("entry:       %s\n", j->entry);
        printf("%-12s %s\n", j->state == CTL_QUEUED    ? "queued_at:"
                             : j->state == CTL_RUNNING ? "claimed_at:"
                                                       : "reported_at:",
               since);
        if (j->started_at)
                printf("started_at:  %s\n", j->started_at);
        if (j->finished_at)
                printf("finished_at: %s\n", j->finished_at);
        if (j->duration_s >= 0)
                printf("duration_s:  %.3f\n", j->duration_s);
        if (j->stage)
                printf("stage:       %s\n", j->stage);
        printf("path:        %s\n", j->path);
        return 0;
}

static int cmd_status(const struct ctl_spool *sp, const char *name) {
        struct ctl_job j = {};
        if (find_job(sp, name, &j) < 0)
                return EXIT_FAILED;
        int r = print_job(&j);
        ctl_job_clear(&j);
        return r < 0 ? EXIT_FAILED : 0;
}

static int cmd_submit(const struct ctl_spool *sp, char **paths, size_t n) {
        int status = 0;
        struct node *list = arg_json ? node_new_seq() : NULL;
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *entry = NULL, *failed = NULL, *name = NULL;
                int r = ctl_submit(sp, paths[i], &entry, &failed);
                if (r < 0) {
                        if (r == -EINVAL)
                                log_error("%s: not a job bundle (a directory, an archive .tar, .tar.gz, "
                                          ".tgz, .tar.xz, .tar.zst, .zip, or a NAME.job.yaml/.job.json file)",
                                          paths[i]);
                        else if (r == -EEXIST)
                                log_error("%s: a bundle of that name is already queued", paths[i]);
                        else if (failed)
                                log_error_errno(r, "failed to submit %s: at %s: %m", paths[i], failed);
                        else
                                log_error_errno(r, "failed to submit %s: %m", paths[i]);
                        status = EXIT_FAILED;
                        continue;
                }
                bool dir = is_dir(paths[i]);
                if (bundle_classify(entry, dir, NULL, &name) <= 0)
                        name = strdup(entry);
                if (!name)
                        return log_error_errno(ENOMEM, "out of memory"), EXIT_FAILED;
                if (list) {
                        struct node *m = node_new_map();
                        _cleanup_free_ char *p = path_join(sp->inbox, entry);
                        if (!m || !p || node_map_set_string(m, "name", name) < 0 ||
                            node_map_set_string(m, "entry", entry) < 0 ||
                            node_map_set_string(m, "path", p) < 0 || node_seq_append(list, m) < 0)
                                status = EXIT_FAILED;
                } else
                        printf("submitted %s (inbox/%s)\n", name, entry);
        }
        if (arg_json) {
                struct node *doc = node_new_map();
                if (!doc || node_map_set(doc, "submitted", list) < 0) {
                        if (!doc)
                                node_free(list);
                        node_free(doc);
                        return log_error_errno(ENOMEM, "out of memory"), EXIT_FAILED;
                }
                if (print_json(doc) < 0)
                        status = EXIT_FAILED;
        }
        return status;
}

/* Every bundle entry of dir, sorted, as paths for cmd_submit(). Entries being written,
 * hidden ones and markers are left out, as the daemon would leave them. */
static int cmd_submit_dir(const struct ctl_spool *sp, const char *dir) {
        DIR *d = opendir(dir);
        if (!d)
                return log_error_errno(errno, "failed to open %s: %m", dir), EXIT_FAILED;
        char **paths = NULL;
        size_t n = 0;
        int r = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                struct stat st;
                _cleanup_free_ char *name = NULL;
                if (fstatat(dirfd(d), de->d_name, &st, 0) < 0 ||
                    bundle_classify(de->d_name, S_ISDIR(st.st_mode), NULL, &name) <= 0)
                        continue;
                char **v = realloc(paths, (n + 1) * sizeof(*v));
                if (!v || !(v[n] = path_join(dir, de->d_name))) {
                        paths = v ? v : paths;
                        r = -ENOMEM;
                        break;
                }
                paths = v;
                n++;
        }
        (void) closedir(d);
        int status = r < 0 ? (log_error_errno(r, "out of memory"), EXIT_FAILED) : 0;
        if (status == 0 && n) {
                qsort(paths, n, sizeof(*paths), strcmp_ptr);
                status = cmd_submit(sp, paths, n);
        } else if (status == 0 && arg_json)
                status = cmd_submit(sp, NULL, 0);
        else if (status == 0)
                printf("%s: no bundles to submit\n", dir);
        for (size_t i = 0; i < n; i++)
                free(paths[i]);
        free(paths);
        return status;
}

static double now_seconds(void) {
        struct timespec ts;
        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* Sleeps until something changes in the spool's state directories or a second passes
 * (inotify sees no writes from other hosts: polling covers them), at most until end. */
static void wait_for_change(int ifd, double end) {
        double left = end < 0 ? 1.0 : end - now_seconds();
        int ms = left <= 0 ? 0 : left > 1.0 ? 1000 : (int) (left * 1000) + 1;
        struct pollfd p = { .fd = ifd, .events = POLLIN };
        if (ifd >= 0 && poll(&p, 1, ms) > 0) {
                char buf[4096];
                while (read(ifd, buf, sizeof(buf)) > 0)
                        ;
        } else if (ifd < 0)
                (void) poll(NULL, 0, ms);
}

static int watch_spool(const struct ctl_spool *sp) {
        int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (fd < 0)
                return -1; /* polling alone still works */
        const char *dirs[] = { sp->inbox, sp->outbox, sp->failed, sp->jobs };
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++)
                (void) inotify_add_watch(fd, dirs[i], IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE |
                                                              IN_CLOSE_WRITE | IN_ONLYDIR);
        return fd;
}

/* Waits until none of names is queued or running; their final records in ret (n). */
static int wait_jobs(const struct ctl_spool *sp, char **names, size_t n, double timeout,
                     struct ctl_job *ret, bool *ret_timed_out) {
        _cleanup_close_ int ifd = watch_spool(sp);
        double end = timeout >= 0 ? now_seconds() + timeout : -1;
        for (;;) {
                size_t pending = 0;
                for (size_t i = 0; i < n; i++) {
                        ctl_job_clear(&ret[i]);
                        int r = ctl_find(sp, names[i], &ret[i]);
                        if (r == -ENOENT)
                                continue; /* unknown: the caller says so */
                        if (r < 0)
                                return log_error_errno(r, "failed to read the spool %s: %m", sp->root);
                        if (ret[i].state < CTL_DONE)
                                pending++;
                }
                if (pending == 0 || (end >= 0 && now_seconds() >= end)) {
                        *ret_timed_out = pending > 0;
                        return 0;
                }
                wait_for_change(ifd, end);
        }
}

static int report_waited(struct ctl_job *v, char **names, size_t n, bool timed_out) {
        int status = timed_out ? EXIT_TIMEOUT : 0;
        struct node *doc = arg_json ? node_new_map() : NULL, *jobs = arg_json ? node_new_seq() : NULL;
        int r = 0;
        for (size_t i = 0; i < n; i++) {
                if (!v[i].name) {
                        log_error("no job '%s' in the spool", names[i]);
                        if (status == 0)
                                status = EXIT_FAILED;
                        continue;
                }
                if (v[i].state == CTL_FAILED && status == 0)
                        status = EXIT_FAILED;
                if (jobs)
                        r = r < 0 ? r : node_seq_append(jobs, job_node(&v[i]));
                else
                        print_job_line(&v[i]);
        }
        if (arg_json) {
                const char *result = status == 0 ? "done" : status == EXIT_TIMEOUT ? "timeout" : "failed";
                if (!doc || node_map_set_string(doc, "result", result) < 0 ||
                    node_map_set(doc, "jobs", TAKE_PTR(jobs)) < 0 || r < 0 || print_json(TAKE_PTR(doc)) < 0)
                        status = EXIT_FAILED;
                node_free(jobs);
                node_free(doc);
        } else if (timed_out)
                fprintf(stderr, "codegenctl: timed out\n");
        return status;
}

static int cmd_wait(const struct ctl_spool *sp, char **names, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (!bundle_name_is_valid(names[i]))
                        return log_error("'%s' is not a job name", names[i]), EXIT_USAGE;
        struct ctl_job *v = calloc(n, sizeof(*v));
        if (!v)
                return log_error_errno(ENOMEM, "out of memory"), EXIT_FAILED;
        bool timed_out = false;
        int status = wait_jobs(sp, names, n, arg_timeout, v, &timed_out) < 0
                             ? EXIT_FAILED
                             : report_waited(v, names, n, timed_out);
        ctl_jobs_free(v, n);
        return status;
}

static int cmd_retry(const struct ctl_spool *sp, const char *name) {
        struct ctl_job j = {};
        if (find_job(sp, name, &j) < 0)
                return EXIT_FAILED;
        int status = EXIT_FAILED;
        if (j.state != CTL_FAILED)
                log_error("%s is %s, not failed: nothing to retry", name, ctl_state_name(j.state));
        else if (!j.entry)
                log_error("%s: failed/ keeps no bundle of it to retry", name);
        else {
                int r = ctl_retry(sp, name, j.entry);
                if (r == -EEXIST)
                        log_error("%s: a bundle named %s is already queued", name, j.entry);
                else if (r < 0)
                        log_error_errno(r, "failed to move failed/%s back into inbox/: %m", j.entry);
                else {
                        ctl_job_clear(&j);
                        status = find_job(sp, name, &j) < 0 || print_job(&j) < 0 ? EXIT_FAILED : 0;
                }
        }
        ctl_job_clear(&j);
        return status;
}

static int cmd_cancel(const struct ctl_spool *sp, const char *name) {
        struct ctl_job j = {};
        int r;
        for (;;) {
                if (find_job(sp, name, &j) < 0)
                        return EXIT_FAILED;
                if (j.state != CTL_QUEUED)
                        break;
                r = ctl_dequeue(sp, j.entry);
                if (r == -ENOENT) { /* claimed meanwhile: now it is running */
                        ctl_job_clear(&j);
                        continue;
                }
                if (r < 0) {
                        ctl_job_clear(&j);
                        return log_error_errno(r, "failed to withdraw inbox/%s: %m", name), EXIT_FAILED;
                }
                if (arg_json) {
                        struct node *doc = job_node(&j);
                        if (doc && node_map_set_string(doc, "state", "cancelled") < 0)
                                doc = NULL;
                        r = print_json(doc);
                } else
                        printf("%s: withdrawn from the inbox (it had not started)\n", name);
                ctl_job_clear(&j);
                return r < 0 ? EXIT_FAILED : 0;
        }
        if (j.state != CTL_RUNNING) {
                log_error("%s has ended already (%s)", name, ctl_state_name(j.state));
                ctl_job_clear(&j);
                return EXIT_FAILED;
        }
        ctl_job_clear(&j);
        r = ctl_request_cancel(sp, name);
        if (r < 0)
                return log_error_errno(r, "failed to write the cancel request: %m"), EXIT_FAILED;
        bool timed_out = false;
        char *names[] = { (char *) name };
        if (wait_jobs(sp, names, 1, arg_timeout >= 0 ? arg_timeout : CANCEL_TIMEOUT_DEFAULT, &j,
                      &timed_out) < 0) {
                ctl_job_clear(&j);
                return EXIT_FAILED;
        }
        int status = 0;
        if (timed_out) {
                log_error("%s: still running; the request stays in .codegend/cancel/ for the daemon", name);
                status = EXIT_TIMEOUT;
        } else if (!j.name || j.state != CTL_FAILED || !streq_ptr(j.stage, "cancelled")) {
                log_error("%s ended before the daemon could cancel it (%s)", name,
                          j.name ? ctl_state_name(j.state) : "unknown");
                status = EXIT_FAILED;
        }
        if (j.name && print_job(&j) < 0)
                status = EXIT_FAILED;
        ctl_job_clear(&j);
        return status;
}

static int parse_timeout(const char *s, double *ret) {
        char *end;
        errno = 0;
        double v = strtod(s, &end);
        if (errno || end == s || *end || v < 0 || v > 1e9)
                return -EINVAL;
        *ret = v;
        return 0;
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "spool", required_argument, NULL, 's' },
                { "config", required_argument, NULL, 'c' },
                { "timeout", required_argument, NULL, 't' },
                { "json", no_argument, NULL, 'j' },
                { "version", no_argument, NULL, 'V' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *spool = NULL, *config = NULL;
        int c;

        log_set_program("codegenctl");
        while ((c = getopt_long(argc, argv, "s:c:t:jVh", options, NULL)) >= 0) {
                switch (c) {
                case 's': spool = optarg; break;
                case 'c': config = optarg; break;
                case 't':
                        if (parse_timeout(optarg, &arg_timeout) < 0) {
                                log_error("--timeout takes a number of seconds, not '%s'", optarg);
                                return EXIT_USAGE;
                        }
                        break;
                case 'j': arg_json = true; break;
                case 'V': printf("codegenctl %s\n", PACKAGE_VERSION); return 0;
                case 'h': help(); return 0;
                default: return EXIT_USAGE;
                }
        }
        if (optind >= argc) {
                log_error("no command (see --help)");
                return EXIT_USAGE;
        }
        const char *cmd = argv[optind];
        char **args = argv + optind + 1;
        size_t n = (size_t) (argc - optind - 1);
        static const struct {
                const char *name;
                size_t min, max;
        } commands[] = { { "submit", 1, SIZE_MAX }, { "list", 0, 0 },  { "status", 1, 1 },
                         { "wait", 1, SIZE_MAX },   { "retry", 1, 1 }, { "cancel", 1, 1 },
                         { "submit-dir", 1, 1 } };
        size_t k;
        for (k = 0; k < ELEMENTSOF(commands); k++)
                if (streq(cmd, commands[k].name))
                        break;
        if (k == ELEMENTSOF(commands)) {
                log_error("unknown command '%s' (see --help)", cmd);
                return EXIT_USAGE;
        }
        if (n < commands[k].min || n > commands[k].max) {
                log_error("%s takes %s", cmd,
                          commands[k].max == 0 ? "no arguments" : commands[k].max == 1 ? "one job name"
                                                                                      : "one or more arguments");
                return EXIT_USAGE;
        }

        _cleanup_free_ char *from_config = NULL;
        if (!spool) {
                if (config_spool(config, &from_config) < 0)
                        return EXIT_USAGE;
                spool = from_config;
        }
        if (!spool) {
                log_error("no spool: use --spool DIR or set 'spool:' in %s", conffile_path(config));
                return EXIT_USAGE;
        }
        struct ctl_spool sp;
        int r = ctl_spool_open(&sp, spool);
        if (r == -ENOTDIR) {
                log_error("%s is not a spool (it has no inbox/)", spool);
                return EXIT_USAGE;
        }
        if (r < 0)
                return log_error_errno(r, "failed to open the spool %s: %m", spool), EXIT_FAILED;

        int status;
        switch (k) {
        case 0: status = cmd_submit(&sp, args, n); break;
        case 1: status = cmd_list(&sp); break;
        case 2: status = cmd_status(&sp, args[0]); break;
        case 3: status = cmd_wait(&sp, args, n); break;
        case 4: status = cmd_retry(&sp, args[0]); break;
        case 5: status = cmd_cancel(&sp, args[0]); break;
        default: status = cmd_submit_dir(&sp, args[0]); break;
        }
        if (fflush(stdout) != 0 && status == 0)
                status = EXIT_FAILED;
        ctl_spool_close(&sp);
        return status;
}
