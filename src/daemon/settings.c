/* settings.c - defaults and the YAML configuration file; see settings.h.
 *
 * Keys are described by one table: name, type, where the value goes, and its bounds, so
 * the parser, the validator and the documentation in etc/codegend.yaml cannot drift.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "analysis/analyze.h"
#include "format/conffile.h"
#include "format/doc.h"
#include "settings.h"
#include "shared/fs.h"
#include "shared/macro.h"

enum key_type { KEY_STRING, KEY_UINT, KEY_SIZE, KEY_BOOL, KEY_RATIO, KEY_LOGLEVEL, KEY_PYVERSION, KEY_USD,
                KEY_TEMPERATURE, KEY_PRICES, KEY_SCHEDULE };

struct key {
        const char *name;
        enum key_type type;
        size_t offset;
        uint64_t min, max; /* KEY_UINT, KEY_SIZE */
};

#define K(n, t, f, lo, hi) { n, t, offsetof(struct settings, f), lo, hi }

static const struct key keys[] = {
        K("spool", KEY_STRING, spool, 0, 0),
        K("workers", KEY_UINT, workers, 1, 256),
        K("atom_timeout", KEY_UINT, atom_timeout, 1, 86400),
        K("atom_attempts", KEY_UINT, atom_attempts, 1, 10),
        K("rescan_interval", KEY_UINT, rescan_interval, 1, 86400),
        K("settle_time", KEY_UINT, settle_time, 0, 3600),
        K("require_ready_marker", KEY_BOOL, require_ready_marker, 0, 0),
        K("max_jobs", KEY_UINT, max_jobs, 1, 100000),
        /* several daemons on one spool (docs/reliability.md section 6) */
        K("lease_seconds", KEY_UINT, lease_seconds, 1, 3600),
        K("lease_grace", KEY_UINT, lease_grace, 0, 3600),
        K("exclusive", KEY_BOOL, exclusive, 0, 0),
        K("backend", KEY_STRING, backend, 0, 0),
        K("model", KEY_STRING, model, 0, 0),
        K("patterns_dir", KEY_STRING, patterns_dir, 0, 0),
        K("log_level", KEY_LOGLEVEL, log_level, 0, 0),
        /* operations */
        K("drain_timeout", KEY_UINT, drain_timeout, 0, 86400),
        K("metrics_textfile", KEY_STRING, metrics_textfile, 0, 0),
        K("cache", KEY_BOOL, cache, 0, 0),
        K("cache_max_bytes", KEY_SIZE, cache_max_bytes, 0, UINT64_C(1) << 50),
        /* scheduling (issue 15) */
        K("schedule", KEY_SCHEDULE, schedule, 0, 0),
};

static const struct key limit_keys[] = {
        K("max_bundle_bytes", KEY_SIZE, max_bundle_bytes, 1024, UINT64_C(1) << 40),
        K("max_archive_entries", KEY_UINT, max_archive_entries, 1, 1000000),
        K("max_unpacked_bytes", KEY_SIZE, max_unpacked_bytes, 1024, UINT64_C(1) << 40),
        K("max_document_bytes", KEY_SIZE, max_document_bytes, 1024, UINT64_C(1) << 30),
        K("max_atoms", KEY_UINT, max_atoms, 1, 100000),
        K("worker_cpu_seconds", KEY_UINT, worker_cpu_seconds, 0, 86400),
        K("worker_memory", KEY_SIZE, worker_memory, 0, UINT64_C(1) << 50),
        K("worker_output_bytes", KEY_SIZE, worker_output_bytes, 0, UINT64_C(1) << 50),
        K("unpack_timeout", KEY_UINT, unpack_timeout, 1, 86400),
};

static const struct key criteria_keys[] = {
        K("loc_min", KEY_UINT, loc_min, 0, UINT32_MAX),
        K("type_hints_min", KEY_RATIO, type_hints_min, 0, 0),
        K("docstrings_min", KEY_RATIO, docstrings_min, 0, 0),
        K("syntax_errors_max", KEY_UINT, syntax_errors_max, 0, UINT32_MAX),
};

/* python_version: which Python's syntax the analysis counts as valid (issue 14). */
static const struct key python_keys[] = {
        K("python_version", KEY_PYVERSION, python_minor, PY_MINOR_MIN, PY_MINOR_MAX),
};

/* ---- model backends: top-level keys and one section per provider ---- */
static const struct key model_keys[] = {
        K("prompts_dir", KEY_STRING, prompts_dir, 0, 0),
        K("daily_cost_usd", KEY_USD, daily_cost_usd, 0, 0),
        K("max_cost_usd", KEY_USD, max_cost_usd, 0, 0),
        K("max_tokens", KEY_UINT, max_tokens, 0, UINT64_C(1) << 40),
        K("max_calls", KEY_UINT, max_calls, 0, 1000000),
        K("repair", KEY_BOOL, repair, 0, 0),
        K("repair_attempts", KEY_UINT, repair_attempts, 0, 10),
        K("hybrid_model_backend", KEY_STRING, hybrid_model_backend, 0, 0),
};

#define PROVIDER_KEYS(p)                                                                           \
        K("base_url", KEY_STRING, p.base_url, 0, 0),                                               \
        K("model", KEY_STRING, p.model, 0, 0),                                                     \
        K("max_tokens", KEY_UINT, p.max_tokens, 1, 1000000),                                       \
        K("temperature", KEY_TEMPERATURE, p.temperature, 0, 0),                                    \
        K("connect_timeout", KEY_UINT, p.connect_timeout, 1, 3600),                                \
        K("timeout", KEY_UINT, p.timeout, 1, 86400),                                               \
        K("max_retries", KEY_UINT, p.max_retries, 0, 20),                                          \
        K("concurrency", KEY_UINT, p.concurrency, 0, 64),                                          \
        K("requests_per_minute", KEY_UINT, p.requests_per_minute, 0, 1000000),                     \
        K("tokens_per_minute", KEY_UINT, p.tokens_per_minute, 0, 1000000000),                      \
        K("api_key_file", KEY_STRING, p.api_key_file, 0, 0),                                       \
        K("prices", KEY_PRICES, p, 0, 0)

static const struct key anthropic_keys[] = { PROVIDER_KEYS(anthropic) };
static const struct key openai_keys[] = {
        PROVIDER_KEYS(openai),
        K("token_param", KEY_STRING, openai.token_param, 0, 0),
};

void settings_init(struct settings *s) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        *s = (struct settings) {
                .workers = n > 0 ? (unsigned) n : 1,
                .atom_timeout = 300,
                .cache = true,
                .cache_max_bytes = UINT64_C(1) << 30,
                .atom_attempts = 1,
                .rescan_interval = 30,
                .settle_time = 2,
                .log_level = LOG_INFO,
                .max_bundle_bytes = UINT64_C(64) << 20,
                .max_archive_entries = 1000,
                .max_unpacked_bytes = UINT64_C(256) << 20,
                .max_document_bytes = UINT64_C(4) << 20,
                .max_atoms = 2000,
                .max_jobs = 16,
                .lease_seconds = 30,
                .lease_grace = 30,
                .worker_cpu_seconds = 600,
                .worker_memory = UINT64_C(4) << 30,
                .worker_output_bytes = UINT64_C(1) << 30,
                .unpack_timeout = 300,
                .loc_min = 1000,
                .type_hints_min = 0.95,
                .docstrings_min = 0.95,
                .syntax_errors_max = 0,
                .python_minor = PY_MINOR_DEFAULT,
                .drain_timeout = 30,
                .repair = true,
                .repair_attempts = 2,
                .schedule = SCHEDULE_DAG,
        };
        model_settings_init(&s->anthropic, "anthropic");
        model_settings_init(&s->openai, "openai");
}

void settings_clear(struct settings *s) {
        free(s->spool);
        free(s->backend);
        free(s->model);
        free(s->patterns_dir);
        free(s->datadir);
        free(s->metrics_textfile);
        free(s->prompts_dir);
        free(s->hybrid_model_backend);
        model_settings_clear(&s->anthropic);
        model_settings_clear(&s->openai);
        settings_init(s);
}

int parse_size(const char *text, uint64_t *ret) {
        char *end;
        if (!text || !*text || *text == '-')
                return -EINVAL;
        errno = 0;
        unsigned long long v = strtoull(text, &end, 10);
        if (errno == ERANGE || end == text)
                return -ERANGE;
        unsigned shift = 0;
        if (*end) {
                switch (*end) {
                case 'K': shift = 10; break;
                case 'M': shift = 20; break;
                case 'G': shift = 30; break;
                case 'T': shift = 40; break;
                default: return -EINVAL;
                }
                end++;
                if (*end == 'i')
                        end++;
                if (*end == 'B')
                        end++;
                if (*end)
                        return -EINVAL;
        }
        if (shift && v > (UINT64_MAX >> shift))
                return -ERANGE;
        *ret = (uint64_t) v << shift;
        return 0;
}

/* prices: {MODEL: {input, output, cache_write, cache_read}}, looked up before the built-in table */
static int set_prices(struct model_settings *ms, const struct node *v, const char *file, const char *path,
                      struct diags *d) {
        static const char *const fields[] = { "input", "output", "cache_write", "cache_read" };
        if (v->kind != NODE_MAP)
                return diags_add(d, file, v->line, v->column, path,
                                 "'prices' must map model names to {input, output, cache_write, cache_read}");
        struct model_price *t = calloc(v->n ? v->n : 1, sizeof(*t));
        if (!t)
                return -ENOMEM;
        int r = 0;
        size_t n = 0;
        for (size_t i = 0; i < v->n && r >= 0; i++) {
                const struct node *m = v->items[i];
                double *dst[] = { &t[n].input, &t[n].output, &t[n].cache_write, &t[n].cache_read };
                if (m->kind != NODE_MAP) {
                        r = diags_add(d, file, m->line, m->column, path, "price of '%s' must be a mapping",
                                      v->keys[i]->value);
                        continue;
                }
                for (size_t k = 0; k < m->n && r >= 0; k++) {
                        size_t f = 0;
                        while (f < ELEMENTSOF(fields) && !streq(fields[f], m->keys[k]->value))
                                f++;
                        if (f == ELEMENTSOF(fields) || node_as_double(m->items[k], dst[f]) < 0 || *dst[f] < 0)
                                r = diags_add(d, file, m->keys[k]->line, m->keys[k]->column, path,
                                              "price key '%s' of '%s' must be one of input, output, cache_write, "
                                              "cache_read with a number >= 0 (USD per million tokens)",
                                              m->keys[k]->value, v->keys[i]->value);
                }
                if (!(t[n++].model = strdup(v->keys[i]->value)))
                        r = -ENOMEM;
        }
        for (size_t i = 0; i < ms->n_prices; i++)
                free(ms->prices[i].model);
        free(ms->prices);
        ms->prices = t; /* also on a diagnostic: settings_clear() frees it */
        ms->n_prices = n;
        return r;
}

static int set_key(struct settings *s, const struct key *k, const struct node *v, const char *file,
                   const char *path, struct diags *d) {
        void *dst = (char *) s + k->offset;
        long long i;
        uint64_t u;
        double x;
        bool b;

#define BAD(...) diags_add(d, file, v->line, v->column, path, __VA_ARGS__)
        switch (k->type) {
        case KEY_STRING: {
                if (!node_is_string(v))
                        return BAD("'%s' must be a string, not a %s", k->name, node_kind_name(v));
                char *c = strdup(v->value);
                if (!c)
                        return -ENOMEM;
                free(*(char **) dst);
                *(char **) dst = c;
                return 0;
        }
        case KEY_UINT:
                if (node_as_int(v, &i) < 0 || i < 0 || (uint64_t) i < k->min || (uint64_t) i > k->max)
                        return BAD("'%s' must be an integer from %llu to %llu", k->name,
                                   (unsigned long long) k->min, (unsigned long long) k->max);
                if (k->max > UINT_MAX)
                        *(uint64_t *) dst = (uint64_t) i;
                else
                        *(unsigned *) dst = (unsigned) i;
                return 0;
        case KEY_SIZE:
                if (v->kind != NODE_SCALAR || parse_size(v->value, &u) < 0 || u < k->min || u > k->max)
                        return BAD("'%s' must be a size from %llu bytes to %llu bytes (a number, "
                                   "optionally with K, M, G or T)",
                                   k->name, (unsigned long long) k->min, (unsigned long long) k->max);
                *(uint64_t *) dst = u;
                return 0;
        case KEY_BOOL:
                if (node_as_bool(v, &b) < 0)
                        return BAD("'%s' must be true or false", k->name);
                *(bool *) dst = b;
                return 0;
        case KEY_RATIO:
                if (node_as_double(v, &x) < 0 || x < 0 || x > 1)
                        return BAD("'%s' must be a number from 0 to 1", k->name);
                *(double *) dst = x;
                return 0;
        case KEY_USD:
                if (node_as_double(v, &x) < 0 || x < 0)
                        return BAD("'%s' must be a number of US dollars >= 0", k->name);
                *(double *) dst = x;
                return 0;
        case KEY_TEMPERATURE:
                if (node_as_double(v, &x) < 0 || x < 0 || x > 2)
                        return BAD("'%s' must be a number from 0 to 2", k->name);
                *(double *) dst = x;
                return 0;
        case KEY_PRICES:
                return set_prices(dst, v, file, path, d);
        case KEY_LOGLEVEL: {
                static const char *const levels[] = { [LOG_ERR] = "error", [LOG_WARNING] = "warning",
                                                      [LOG_NOTICE] = "notice", [LOG_INFO] = "info",
                                                      [LOG_DEBUG] = "debug" };
                for (size_t j = LOG_ERR; j < ELEMENTSOF(levels); j++)
                        if (v->kind == NODE_SCALAR && streq(v->value, levels[j])) {
                                *(int *) dst = (int) j;
                                return 0;
                        }
                return BAD("'%s' must be one of error, warning, notice, info, debug", k->name);
        }
        case KEY_PYVERSION:
                if (v->kind != NODE_SCALAR || analyze_parse_python_version(v->value, (unsigned *) dst) < 0)
                        return BAD("'%s' must be a Python version from 3.%llu to 3.%llu, like 3.11",
                                   k->name, (unsigned long long) k->min, (unsigned long long) k->max);
                return 0;
        case KEY_SCHEDULE: {
                int m = node_is_string(v) ? schedule_mode_from_name(v->value) : -EINVAL;
                if (m < 0)
                        return BAD("'%s' must be dag or waves", k->name);
                *(enum schedule_mode *) dst = (enum schedule_mode) m;
                return 0;
        }
        }
#undef BAD
        return -EINVAL;
}

static int load_section(struct settings *s, const struct node *map, const struct key *table,
                        size_t n_table, const char *prefix, const char *file, struct diags *d) {
        int r = 0;
        for (size_t i = 0; i < map->n; i++) {
                const struct node *key = map->keys[i];
                _cleanup_free_ char *path = NULL;
                if (asprintf(&path, "%s%s", prefix, key->value) < 0)
                        return -ENOMEM;
                const struct key *k = NULL;
                for (size_t j = 0; j < n_table; j++)
                        if (streq(table[j].name, key->value))
                                k = &table[j];
                if (!k) {
                        if (strncmp(key->value, "x-", 2) == 0)
                                continue;
                        r = diags_add(d, file, key->line, key->column, path, "unknown key '%s'",
                                      key->value);
                } else
                        r = set_key(s, k, map->items[i], file, path, d);
                if (r < 0)
                        return r;
        }
        return 0;
}

static bool is_model_key(const char *name) {
        for (size_t j = 0; j < ELEMENTSOF(model_keys); j++)
                if (streq(model_keys[j].name, name))
                        return true;
        return false;
}

int settings_load(struct settings *s, const char *path, struct diags *d) {
        _cleanup_node_ struct node *root = NULL;
        size_t before = d->n;
        int r;

        r = conffile_read(path, &root, d);
        if (r < 0 || !root)
                return r;
        path = conffile_path(path); /* for the diagnostics */

        for (size_t i = 0; i < root->n; i++) {
                const struct node *key = root->keys[i], *v = root->items[i];
                const struct key *table = NULL;
                size_t n_table = 0;
                if (streq(key->value, "limits"))
                        table = limit_keys, n_table = ELEMENTSOF(limit_keys);
                else if (streq(key->value, "success_criteria"))
                        table = criteria_keys, n_table = ELEMENTSOF(criteria_keys);
                else if (streq(key->value, "anthropic"))
                        table = anthropic_keys, n_table = ELEMENTSOF(anthropic_keys);
                else if (streq(key->value, "openai"))
                        table = openai_keys, n_table = ELEMENTSOF(openai_keys);
                if (table) {
                        if (node_is_null(v))
                                continue;
                        if (v->kind != NODE_MAP) {
                                r = diags_add(d, path, v->line, v->column, key->value,
                                              "'%s' must be a mapping", key->value);
                        } else {
                                _cleanup_free_ char *prefix = NULL;
                                if (asprintf(&prefix, "%s.", key->value) < 0)
                                        return -ENOMEM;
                                r = load_section(s, v, table, n_table, prefix, path, d);
                        }
                        if (r < 0)
                                return r;
                        continue;
                }
                _cleanup_node_ struct node *one = node_new_map();
                if (!one || node_map_set_node(one, node_dup(key), node_dup(v)) < 0)
                        return -ENOMEM;
                if (streq(key->value, "python_version"))
                        r = load_section(s, one, python_keys, ELEMENTSOF(python_keys), "", path, d);
                else if (is_model_key(key->value))
                        r = load_section(s, one, model_keys, ELEMENTSOF(model_keys), "", path, d);
                else
                        r = load_section(s, one, keys, ELEMENTSOF(keys), "", path, d);
                if (r < 0)
                        return r;
        }
        return d->n > before ? -EINVAL : 0;
}

void settings_thresholds(const struct settings *s, struct analyze_thresholds *ret) {
        *ret = (struct analyze_thresholds) {
                .loc_min = s->loc_min,
                .type_hints_min = s->type_hints_min,
                .docstrings_min = s->docstrings_min,
                .syntax_errors_max = s->syntax_errors_max,
                .python_minor = s->python_minor,
        };
}
