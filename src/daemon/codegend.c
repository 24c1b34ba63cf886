/* codegend.c - main: arguments, configuration, then manager_run().
 *
 *   codegend [--config FILE] [--spool DIR] [--once] [--backend NAME] [--workers N]
 *            [--verbose] [--version] [--help]
 *   codegend analyze PATH [--format yaml|json] [--spec SPEC]   (analyze-cmd.c)
 *
 * Exit status: 0 success (with --once: every job succeeded), 1 a job failed (--once) or
 * the daemon failed at run time, 2 a usage or configuration error.
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

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "config", required_argument, NULL, 'c' },
                { "spool", required_argument, NULL, 's' },
                { "once", no_argument, NULL, '1' },
                { "backend", required_argument, NULL, 'b' },
                { "workers", required_argument, NULL, 'j' },
                { "verbose", no_argument, NULL, 'v' },
                { "version", no_argument, NULL, 'V' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *config = NULL, *spool = NULL, *backend = NULL;
        bool once = false, verbose = false;
        unsigned workers = 0;
        struct settings s;
        struct diags d = DIAGS_INIT;
        int c, r;

        if (argc > 1 && streq(argv[1], "analyze"))
                return analyze_main(argc - 1, argv + 1);

        settings_init(&s);
        while ((c = getopt_long(argc, argv, "c:s:1b:j:vVh", options, NULL)) >= 0) {
                switch (c) {
                case 'c': config = optarg; break;
                case 's': spool = optarg; break;
                case '1': once = true; break;
                case 'b': backend = optarg; break;
                case 'j':
                        if (parse_uint(optarg, 1, 256, &workers) < 0) {
                                log_error("--workers takes a number from 1 to 256, not '%s'", optarg);
                                return EXIT_USAGE;
                        }
                        break;
                case 'v': verbose = true; break;
                case 'V': printf("codegend %s\n", PACKAGE_VERSION); return 0;
                case 'h': help(); return 0;
                default: return EXIT_USAGE;
                }
        }
        if (optind < argc) {
                log_error("unexpected argument '%s' (see --help)", argv[optind]);
                return EXIT_USAGE;
        }

        const char *path = config ? config : SYSCONFDIR "/codegend.yaml";
        r = settings_load(&s, path, &d);
        if (r == -ENOENT && !config)
                r = 0; /* no configuration file installed: the defaults */
        if (r == -EINVAL) {
                diags_print(&d, stderr);
                log_error("invalid configuration in %s", path);
                diags_clear(&d);
                settings_clear(&s);
                return EXIT_USAGE;
        }
        diags_clear(&d);
        if (r < 0) {
                log_error_errno(r, "failed to read %s: %m", path);
                settings_clear(&s);
                return EXIT_USAGE;
        }
        if ((spool && replace_string(&s.spool, spool) < 0) ||
            (backend && replace_string(&s.backend, backend) < 0)) {
                settings_clear(&s);
                return log_error_errno(ENOMEM, "out of memory"), 1;
        }
        if (workers)
                s.workers = workers;
        if (verbose)
                s.log_level = LOG_DEBUG;
        log_set_max_level(s.log_level);
        const char *datadir = getenv("CODEGEND_DATADIR");
        if (replace_string(&s.datadir, datadir && *datadir ? datadir : DATADIR) < 0) {
                settings_clear(&s);
                return 1;
        }
        if (!s.spool) {
                log_error("no spool directory: use --spool DIR or 'spool:' in %s", path);
                settings_clear(&s);
                return EXIT_USAGE;
        }
        if (s.backend && !backend_find(s.backend)) {
                log_error("unknown backend '%s' (this build has: pattern, anthropic, openai, hybrid)", s.backend);
                settings_clear(&s);
                return EXIT_USAGE;
        }

        /* the model backends' keys and URLs; their environment variables are removed here,
         * so no child and nothing exec'd later sees a key */
        static const char *const providers[] = { "anthropic", "openai" };
        for (size_t i = 0; i < ELEMENTSOF(providers); i++) {
                _cleanup_free_ char *error = NULL;
                r = model_settings_finish(i == 0 ? &s.anthropic : &s.openai, providers[i], &error);
                if (r < 0) {
                        log_error_errno(r, "%s: %s", providers[i], error ? error : "failed to read the settings");
                        settings_clear(&s);
                        return EXIT_USAGE;
                }
        }

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
                status = manager_run(m);
                if (status < 0)
                        status = 1;
        }
        manager_free(m);
        http_global_cleanup();
        settings_clear(&s);
        return status;
}
