/* stats.c - job figures and the Prometheus textfile; see stats.h. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "job.h"
#include "shared/macro.h"
#include "stats.h"

#define USEC_PER_SEC 1000000.0

/* job duration histogram: upper bounds in seconds (+Inf is the count) */
static const double bucket_le[STATS_BUCKETS] = { 1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200 };
static const char *const atom_status_names[_ATOM_STATUS_MAX] = { "ok", "failed", "skipped", "not_run" };

const char *job_outcome_name(enum job_outcome o) {
        static const char *const names[_OUTCOME_MAX] = { "succeeded", "failed", "cancelled" };
        return o < _OUTCOME_MAX ? names[o] : "unknown";
}

static uint64_t content_uint(const struct job *j, const char *section, const char *key) {
        long long v = 0;
        if (node_as_int(node_get(node_get(j->content, section), key), &v) < 0 || v < 0)
                return 0;
        return (uint64_t) v;
}

void job_figures_get(const struct job *j, struct job_figures *ret) {
        struct job_figures f = {
                .outcome = j->succeeded ? OUTCOME_SUCCEEDED : j->cancelled ? OUTCOME_CANCELLED : OUTCOME_FAILED,
                .backend = j->backend ? j->backend->name : "none",
        };
        if (j->finished_usec > j->started_usec)
                f.duration_s = (double) (j->finished_usec - j->started_usec) / USEC_PER_SEC;
        if (j->runs && j->dag)
                for (size_t i = 0; i < j->dag->n_atoms; i++) {
                        const struct atom_run *r = &j->runs[i];
                        switch (r->state) {
                        case RUN_OK: f.atoms[ATOM_OK]++; break;
                        case RUN_FAILED: f.atoms[ATOM_FAILED]++; break;
                        case RUN_SKIPPED: f.atoms[ATOM_SKIPPED]++; break;
                        default: f.atoms[ATOM_NOT_RUN]++; break;
                        }
                        gen_usage_add(&f.usage, &r->usage);
                        f.cache_hits += r->cache == CACHE_HIT;
                }
        if (j->content) {
                f.files = content_uint(j, "files", "total");
                f.loc = content_uint(j, "loc", "total");
        }
        *ret = f;
}

void stats_add(struct stats *s, const struct job_figures *f) {
        s->jobs[f->outcome]++;
        s->cache_hits += f->cache_hits;
        unsigned b;
        for (b = 0; b < s->n_backends; b++)
                if (streq(s->backends[b].name, f->backend))
                        break;
        if (b == s->n_backends && b < STATS_BACKENDS_MAX)
                s->backends[s->n_backends++].name = f->backend;
        if (b < s->n_backends) {
                for (size_t k = 0; k < _ATOM_STATUS_MAX; k++)
                        s->backends[b].atoms[k] += f->atoms[k];
                gen_usage_add(&s->backends[b].usage, &f->usage);
        }
        for (size_t k = 0; k < STATS_BUCKETS; k++)
                if (f->duration_s <= bucket_le[k])
                        s->duration_buckets[k]++;
        s->duration_sum += f->duration_s;
        s->duration_count++;
}

#define ADD(...)                                                                           \
        do {                                                                               \
                int _r = strbuf_addf(out, __VA_ARGS__);                                    \
                if (_r < 0)                                                                \
                        return _r;                                                         \
        } while (0)

int stats_format_prometheus(const struct stats *s, uint64_t queued, uint64_t running, struct strbuf *out) {
        ADD("# HELP codegend_build_info The codegend build that writes this file.\n"
            "# TYPE codegend_build_info gauge\n"
            "codegend_build_info{version=\"%s\"} 1\n", PACKAGE_VERSION);

        ADD("# HELP codegend_jobs_total Jobs ended since the daemon started, by status.\n"
            "# TYPE codegend_jobs_total counter\n");
        for (size_t o = 0; o < _OUTCOME_MAX; o++)
                ADD("codegend_jobs_total{status=\"%s\"} %llu\n", job_outcome_name((enum job_outcome) o),
                    (unsigned long long) s->jobs[o]);

        ADD("# HELP codegend_queue_depth Bundles waiting in inbox/.\n"
            "# TYPE codegend_queue_depth gauge\n"
            "codegend_queue_depth %llu\n", (unsigned long long) queued);
        ADD("# HELP codegend_jobs_running Jobs claimed and not yet ended.\n"
            "# TYPE codegend_jobs_running gauge\n"
            "codegend_jobs_running %llu\n", (unsigned long long) running);

        ADD("# HELP codegend_atoms_total Atoms of ended jobs, by status and backend.\n"
            "# TYPE codegend_atoms_total counter\n");
        for (unsigned b = 0; b < s->n_backends; b++)
                for (size_t k = 0; k < _ATOM_STATUS_MAX; k++)
                        ADD("codegend_atoms_total{backend=\"%s\",status=\"%s\"} %llu\n", s->backends[b].name,
                            atom_status_names[k], (unsigned long long) s->backends[b].atoms[k]);

        ADD("# HELP codegend_model_calls_total Language-model API calls, by backend.\n"
            "# TYPE codegend_model_calls_total counter\n");
        for (unsigned b = 0; b < s->n_backends; b++)
                ADD("codegend_model_calls_total{backend=\"%s\"} %u\n", s->backends[b].name,
                    s->backends[b].usage.calls);
        ADD("# HELP codegend_model_retries_total Language-model API calls repeated after an error.\n"
            "# TYPE codegend_model_retries_total counter\n");
        for (unsigned b = 0; b < s->n_backends; b++)
                ADD("codegend_model_retries_total{backend=\"%s\"} %u\n", s->backends[b].name,
                    s->backends[b].usage.retries);

        ADD("# HELP codegend_tokens_total Language-model tokens, by backend and kind.\n"
            "# TYPE codegend_tokens_total counter\n");
        for (unsigned b = 0; b < s->n_backends; b++) {
                const struct gen_usage *u = &s->backends[b].usage;
                const struct {
                        const char *kind;
                        uint64_t v;
                } t[] = { { "input", u->input_tokens }, { "output", u->output_tokens },
                          { "cache_read_input", u->cache_read_input_tokens },
                          { "cache_creation_input", u->cache_creation_input_tokens } };
                for (size_t k = 0; k < ELEMENTSOF(t); k++)
                        ADD("codegend_tokens_total{backend=\"%s\",kind=\"%s\"} %llu\n", s->backends[b].name,
                            t[k].kind, (unsigned long long) t[k].v);
        }
        ADD("# HELP codegend_cost_usd_total Language-model cost in US dollars, by backend.\n"
            "# TYPE codegend_cost_usd_total counter\n");
        for (unsigned b = 0; b < s->n_backends; b++)
                ADD("codegend_cost_usd_total{backend=\"%s\"} %.6f\n", s->backends[b].name,
                    s->backends[b].usage.cost_usd);

        ADD("# HELP codegend_cache_hits_total Atoms taken from the atom cache instead of generated.\n"
            "# TYPE codegend_cache_hits_total counter\n"
            "codegend_cache_hits_total %llu\n", (unsigned long long) s->cache_hits);

        ADD("# HELP codegend_job_duration_seconds Time from claim to end of ended jobs.\n"
            "# TYPE codegend_job_duration_seconds histogram\n");
        for (size_t k = 0; k < STATS_BUCKETS; k++)
                ADD("codegend_job_duration_seconds_bucket{le=\"%g\"} %llu\n", bucket_le[k],
                    (unsigned long long) s->duration_buckets[k]);
        ADD("codegend_job_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
            "codegend_job_duration_seconds_sum %.3f\n"
            "codegend_job_duration_seconds_count %llu\n",
            (unsigned long long) s->duration_count, s->duration_sum, (unsigned long long) s->duration_count);
        return 0;
}
