/* codegend.c - main: arguments, configuration, then manager_run().
 *
 *   codegend [--config FILE] [--spool DIR] [--once] [--backend NAME] [--workers N]
 *            [--exclusive] [--log-target auto|stderr|journal] [--verbose] [--version] [--help]
 *   codegend analyze PATH [--format yaml|json] [--spec SPEC]   (analyze-cmd.c)
 *
 * Exit status: 0 success (with --once: every job succeeded), 1 a job failed (--once) or
 * the daemon failed at run time, 2 a usage or configuration error, or the spool is held
 * by a daemon of the other kind (exclusive: or not).
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze-cmd.h"
#include "backend/backend.h"
#include "format/conffile.h"
#include "format/diag.h"
#include "manager.h"
#include "settings.h"
#include "backend/model/http.h"
#include "shared/fs.h"
#include "shared/log.h"
#include "shared/macro.h"

#define EXIT_USAGE 2

static void help(void) {
        printf("Usage: codegend [OPTIONS]\n"
               "       codegend analyze PATH [--format yaml|json] [--spec SPEC]\n"
               "\n"
               "Spool-driven code generation daemon: takes job bundles from SPOOL/inbox,\n"
               "writes SPOOL/outbox/NAME.tar.gz + NAME.metrics.yaml, or SPOOL/failed/.\n"
               "\n"
               "  -c, --config FILE    configuration file (default %s/codegend.yaml)\n"
               "  -s, --spool DIR      spool directory (overrides the configuration)\n"
               "  -1, --once           process what is in the inbox now, then exit\n"
               "                       (exit 0 when every job succeeded, 1 otherwise)\n"
               "  -b, --backend NAME   default backend (pattern)\n"
               "  -j, --workers N      concurrent atom workers (default: CPUs)\n"
               "      --no-cache       generate every atom: neither read nor write the atom cache\n"
               "      --exclusive      keep the spool to this daemon alone (exclusive: true);\n"
               "                       by default several daemons may share it (leases)\n"
               "      --log-target T   auto (the journal when stderr is the journal), stderr,\n"
               "                       or journal (structured fields; see codegend(8))\n"
               "  -v, --verbose        log debug messages\n"
               "  -V, --version        print the version and exit\n"
               "  -h, --help           print this help and exit\n"
               "\n"
               "codegend analyze prints the metrics of an existing project directory or\n"
               "tarball (see codegend analyze --help).\n"
               "\n"
               "Environment: CODEGEND_DATADIR overrides the data directory (%s).\n",
               SYSCONFDIR, DATADIR);
}

static int parse_uint(const char *s, unsigned lo, unsigned hi, unsigned *ret) {
        char *end;
        errno = 0;
        unsigned long v = strtoul(s, &end, 10);
        if (errno || end == s || *end || *s == '-' || v < lo || v > hi)
                return -EINVAL;
        *ret = (unsigned) v;
        return 0;
}

static int replace_string(char **dst, const char *src) {
        char *c = strdup(src);
        if (!c)
                return -ENOMEM;
        free(*dst);
        *dst = c;
        return 0;
}

/* What the command line says; applied over the file at start and at every reload. */
struct cmdline {
        const char *config; /* NULL: the default path, which may be missing */
        const char *spool, *backend;
        unsigned workers;
        bool verbose;
        bool no_cache;
        bool exclusive;
};

/* The file (defaults when the default file is missing), then the command line's flags.
 * 0, -EINVAL (diagnostics in d, or an unknown backend or no spool), or a negative errno. */
static int load_settings(const struct cmdline *c, struct settings *s, struct diags *d) {
        const char *path = conffile_path(c->config);
        int r = settings_load(s, c->config, d);
        if (r < 0)
                return r;
        if ((c->spool && replace_string(&s->spool, c->spool) < 0) ||
            (c->backend && replace_string(&s->backend, c->backend) < 0))
                return -ENOMEM;
        if (c->workers)
                s->workers = c->workers;
        if (c->verbose)
                s->log_level = LOG_DEBUG;
        if (c->no_cache)
                s->cache = false;
        if (c->exclusive)
                s->exclusive = true;
        const char *datadir = getenv("CODEGEND_DATADIR");
        if (replace_string(&s->datadir, datadir && *datadir ? datadir : DATADIR) < 0)
                return -ENOMEM;
        if (!s->spool)
                return diags_add(d, path, 0, 0, NULL, "no spool directory: use --spool DIR or 'spool:'") < 0
                               ? -ENOMEM
                               : -EINVAL;
        if (s->backend && !backend_find(s->backend))
                return diags_add(d, path, 0, 0, "backend", "unknown backend '%s'", s->backend) < 0
                               ? -ENOMEM
                               : -EINVAL;
        /* the model backends' keys and URLs (model.h): the keys' environment variables are
         * removed at the first load, so no child and nothing exec'd later sees a key */
        static const char *const providers[] = { "anthropic", "openai" };
        for (size_t i = 0; i < ELEMENTSOF(providers); i++) {
                _cleanup_free_ char *error = NULL;
                int r2 = model_settings_finish(i == 0 ? &s->anthropic : &s->openai, providers[i], &error);
                if (r2 == -ENOMEM)
                        return r2;
                if (r2 < 0)
                        return diags_add(d, path, 0, 0, providers[i], "%s",
                                         error ? error : "failed to read the key") < 0 ? -ENOMEM : -EINVAL;
        }
        return 0;
}

static void log_diags(const struct diags *d) {
        for (size_t i = 0; i < d->n; i++) {
                const struct diag *g = &d->v[i];
                if (g->line)
                        log_error("%s:%u:%u: %s%s%s", g->file ? g->file : "?", g->line, g->column,
                                  g->path ? g->path : "", g->path ? ": " : "", g->message);
                else
                        log_error("%s: %s%s%s", g->file ? g->file : "?", g->path ? g->path : "",
                                  g->path ? ": " : "", g->message);
        }
}

/* SIGHUP: a new configuration for the jobs that start from now on (manager.h). */
static int reload_settings(void *userdata, struct settings **ret) {
        const struct cmdline *c = userdata;
        struct diags d = DIAGS_INIT;
        struct settings *s = malloc(sizeof(*s));
        if (!s)
                return log_error_errno(ENOMEM, "out of memory");
        settings_init(s);
        int r = load_settings(c, s, &d);
        if (r == -EINVAL) {
                log_diags(&d);
                log_error("invalid configuration in %s: keeping the current one",
                          conffile_path(c->config));
        } else if (r < 0)
                log_error_errno(r, "failed to read %s: %m; keeping the current configuration",
                                conffile_path(c->config));
        diags_clear(&d);
        if (r < 0) {
                settings_clear(s);
                free(s);
                return r;
        }
        *ret = s;
        return 0;
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "config", required_argument, NULL, 'c' },
                { "spool", required_argument, NULL, 's' },
                { "once", no_argument, NULL, '1' },
                { "backend", required_argument, NULL, 'b' },
                { "workers", required_argument, NULL, 'j' },
                { "no-cache", no_argument, NULL, 'C' },
                { "exclusive", no_argument, NULL, 'X' },
                { "verbose", no_argument, NULL, 'v' },
                { "log-target", required_argument, NULL, 'L' },
                { "version", no_argument, NULL, 'V' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        struct cmdline cl = {};
        enum log_target target;
        bool once = false;
        struct settings s;
        struct diags d = DIAGS_INIT;
        int c, r;

        if (argc > 1 && streq(argv[1], "analyze"))
                return analyze_main(argc - 1, argv + 1);

        settings_init(&s);
        while ((c = getopt_long(argc, argv, "c:s:1b:j:vVh", options, NULL)) >= 0) {
                switch (c) {
                case 'c': cl.config = optarg; break;
                case 's': cl.spool = optarg; break;
                case '1': once = true; break;
                case 'b': cl.backend = optarg; break;
                case 'j':
                        if (parse_uint(optarg, 1, 256, &cl.workers) < 0) {
                                log_error("--workers takes a number from 1 to 256, not '%s'", optarg);
                                return EXIT_USAGE;
                        }
                        break;
                case 'v': cl.verbose = true; break;
                case 'C': cl.no_cache = true; break;
                case 'X': cl.exclusive = true; break;
                case 'L':
                        if (log_target_from_string(optarg, &target) < 0) {
                                log_error("--log-target takes auto, stderr or journal, not '%s'", optarg);
                                return EXIT_USAGE;
                        }
                        log_set_target(target);
                        break;
                case 'V': printf("codegend %s\n", PACKAGE_VERSION); return 0;
                case 'h': help(); return 0;
                default: return EXIT_USAGE;
                }
        }
        if (optind < argc) {
                log_error("unexpected argument '%s' (see --help)", argv[optind]);
                return EXIT_USAGE;
        }

        r = load_settings(&cl, &s, &d);
        if (r == -EINVAL) {
                diags_print(&d, stderr);
                log_error("invalid configuration in %s", conffile_path(cl.config));
        } else if (r < 0)
                log_error_errno(r, "failed to read %s: %m", conffile_path(cl.config));
        diags_clear(&d);
        if (r < 0) {
                settings_clear(&s);
                return r == -ENOMEM ? 1 : EXIT_USAGE;
        }
        log_set_max_level(s.log_level);

        /* libraries that need it are set up once, before the first fork */
        if (http_global_init() < 0) {
                log_error("failed to initialise libcurl");
                settings_clear(&s);
                return 1;
        }

        struct manager *m = NULL;
        r = manager_new(&s, once, &m);
        int status;
        if (r < 0)
                status = r == -EBUSY ? EXIT_USAGE : 1;
        else {
                m->reload = reload_settings;
                m->reload_userdata = &cl;
                status = manager_run(m);
                if (status < 0)
                        status = 1;
        }
        manager_free(m);
        http_global_cleanup();
        settings_clear(&s);
        return status;
}
