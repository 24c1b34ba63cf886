/* settings.h - the daemon's configuration: built-in defaults, then the YAML file
 * (etc/codegend.yaml documents every key), then command-line flags.
 *
 * settings_load() reads the file (path, or NULL for the default one, which may be missing:
 * format/conffile.h) into s, adding a diagnostic with file:line:column for every unknown
 * key or bad value; it returns 0, -EINVAL (diagnostics added) or another negative errno
 * (-ENOENT when a given file is missing).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "analysis/analyze.h"
#include "backend/model/model.h"
#include "format/diag.h"
#include "sched.h"

struct settings {
        char *spool;
        unsigned workers;          /* concurrent atom workers, all jobs together */
        unsigned atom_timeout;     /* seconds an atom's worker may run */
        unsigned atom_attempts;    /* tries per atom before the job fails (>= 1) */
        unsigned rescan_interval;  /* seconds between full inbox rescans */
        unsigned settle_time;      /* a rescan leaves entries younger than this alone */
        bool require_ready_marker; /* wait for NAME.ready before taking a bundle */
        unsigned max_jobs;         /* jobs claimed at once; the rest wait in inbox/ */
        unsigned lease_seconds;    /* a claimed job's lease, renewed every third of it */
        unsigned lease_grace;      /* how long past its lease another daemon waits to take a job */
        bool exclusive;            /* the spool alone: a second daemon exits (the spool's lock) */
        char *backend;
        char *model;
        char *patterns_dir;        /* a user's templates, searched before the built-in ones */
        char *datadir;             /* built-in data (patterns/); $CODEGEND_DATADIR overrides */
        int log_level;             /* syslog level */
        /* limits (job-format.md section 1) */
        uint64_t max_bundle_bytes;
        uint64_t max_archive_entries;
        uint64_t max_unpacked_bytes;
        uint64_t max_document_bytes;
        uint64_t max_atoms;
        /* limits of the daemon's children (setrlimit; 0 = none) and of its own children */
        unsigned worker_cpu_seconds;   /* RLIMIT_CPU of every child */
        uint64_t worker_memory;        /* RLIMIT_AS of every child */
        uint64_t worker_output_bytes;  /* RLIMIT_FSIZE of every child: its largest file */
        unsigned unpack_timeout;       /* seconds an unpacking or packing child may run */
        /* success criteria thresholds (metrics.yaml) */
        uint64_t loc_min;
        double type_hints_min;
        double docstrings_min;
        uint64_t syntax_errors_max;
        /* python_version: valid Python is 3.python_minor's (issue 14) */
        unsigned python_minor;
        /* operations: stopping, monitoring */
        unsigned drain_timeout;    /* seconds running atoms get on SIGTERM before the kill */
        char *metrics_textfile;    /* node_exporter textfile written after every job */
        bool cache;                /* the atom cache (docs/cache.md); --no-cache, job option cache */
        uint64_t cache_max_bytes;  /* its size limit: least recently used entries go first */
        /* ---- model backends (docs/backends.md) ---- */
        struct model_settings anthropic, openai; /* the anthropic: and openai: sections */
        char *prompts_dir;         /* a user's prompt templates, searched before the built-in ones */
        double daily_cost_usd;     /* all jobs of a UTC day together; 0: no ceiling */
        double max_cost_usd;       /* job budgets' defaults (job options override); 0: none */
        uint64_t max_tokens;
        unsigned max_calls;
        bool repair;               /* model backends: repair calls for syntax errors (job option) */
        char *hybrid_model_backend; /* hybrid's model: anthropic (NULL) or openai */
        unsigned repair_attempts;
        /* scheduling (issue 15): a job's `schedule` option overrides it */
        enum schedule_mode schedule;
};

void settings_init(struct settings *s);
void settings_clear(struct settings *s);
int settings_load(struct settings *s, const char *path, struct diags *d);
/* The success criteria's thresholds (analysis) from the settings. */
void settings_thresholds(const struct settings *s, struct analyze_thresholds *ret);
/* Parses "1048576", "64K", "64M", "2G" (binary units). */
int parse_size(const char *text, uint64_t *ret);
