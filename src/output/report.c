/* report.c - metrics and error reports as node trees; see report.h. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analysis/analyze.h"
#include "format/doc.h"
#include "report.h"
#include "shared/macro.h"
#include "shared/strbuf.h"

#define USEC_PER_SEC 1000000.0

void report_job_clear(struct report_job *rj) {
        free(rj->atoms);
        rj->atoms = NULL;
}

struct node *node_new_real(double v, int decimals) {
        char buf[64];
        if (!isfinite(v))
                v = 0;
        snprintf(buf, sizeof(buf), "%.*f", decimals, v);
        return node_new_scalar(buf, false);
}

static struct node *node_new_uint(uint64_t v) {
        char buf[32];
        snprintf(buf, sizeof(buf), "%llu", (unsigned long long) v);
        return node_new_scalar(buf, false);
}

static struct node *node_new_time(uint64_t usec) {
        char buf[32];
        time_t t = (time_t) (usec / 1000000);
        struct tm tm;
        if (!gmtime_r(&t, &tm))
                return node_new_null();
        strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
        return node_new_string(buf);
}

static int emit(struct node *root, char **ret, size_t *ret_len) {
        _cleanup_strbuf_ struct strbuf out = STRBUF_INIT;
        strbuf_init(&out, 64u << 20);
        int r = doc_emit_yaml(root, &out);
        if (r < 0)
                return r;
        *ret = strbuf_detach(&out, ret_len);
        return *ret ? 0 : -ENOMEM;
}

static const char *run_state_name(enum run_state s) {
        static const char *const names[] = { "not_run", "running", "ok", "failed", "skipped" };
        return names[s];
}

static double run_seconds(const struct report_atom *r) {
        if (r->end_usec <= r->start_usec)
                return 0;
        return (double) (r->end_usec - r->start_usec) / USEC_PER_SEC;
}

static struct node *atoms_node(const struct report_job *j, bool content_only) {
        struct node *seq = node_new_seq();
        if (!seq)
                return NULL;
        for (size_t k = 0; k < j->dag->n_atoms; k++) {
                size_t i = j->dag->order[k];
                const struct atom *a = &j->dag->atoms[i];
                const struct report_atom *run = &j->atoms[i];
                struct node *m = node_new_map();
                int r = m ? 0 : -ENOMEM;
                if (r >= 0)
                        r = node_map_set_string(m, "id", a->id);
                if (r >= 0)
                        r = node_map_set(m, "wave", node_new_uint(a->wave));
                if (r >= 0)
                        r = node_map_set_string(m, "kind", atom_kind_name(a->kind));
                if (r >= 0 && !content_only)
                        r = node_map_set_string(m, "status", run_state_name(run->state));
                if (r >= 0 && !content_only)
                        r = node_map_set(m, "attempts", node_new_uint(run->attempts));
                if (r >= 0 && !content_only)
                        r = node_map_set(m, "duration_s", node_new_real(run_seconds(run), 3));
                if (r >= 0 && !content_only)
                        r = node_map_set(m, "work_s", node_new_real((double) run->work_usec / USEC_PER_SEC, 3));
                /* when it ran, in seconds from the job's start (the schedule made visible) */
                if (r >= 0 && !content_only && run->start_usec >= j->started_usec && run->start_usec)
                        r = node_map_set(m, "start_s", node_new_real(
                                (double) (run->start_usec - j->started_usec) / USEC_PER_SEC, 3));
                if (r >= 0 && !content_only && run->end_usec >= j->started_usec && run->end_usec)
                        r = node_map_set(m, "end_s", node_new_real(
                                (double) (run->end_usec - j->started_usec) / USEC_PER_SEC, 3));
                if (r >= 0)
                        r = node_map_set_string(m, "target", a->target);
                if (r >= 0)
                        r = node_map_set(m, "loc", node_new_uint(run->loc));
                if (r >= 0)
                        r = node_map_set(m, "syntax_errors", node_new_uint(run->syntax_errors));
                if (r >= 0 && run->syntax_list && run->syntax_list->n > 0)
                        r = node_map_set(m, "syntax_error_list", node_dup(run->syntax_list));
                /* model backends: who wrote it, what it cost, what repair did */
                bool model = j->model_backend;
                if (r >= 0 && model)
                        r = node_map_set_string(m, "backend", run->backend);
                /* the tarball's copy names what wrote the text: a hit shows the entry's calls,
                 * so that a re-run from the cache packs the same bytes */
                if (r >= 0 && model)
                        r = node_map_set(m, "api", report_usage_node(content_only && run->cache == CACHE_HIT
                                                                             ? &run->cached_usage : &run->usage, 6));
                if (r >= 0 && !content_only && run->cache != CACHE_OFF)
                        r = node_map_set_string(m, "cache", run->cache == CACHE_HIT ? "hit" : "miss");
                if (r >= 0 && run->refused && run->refused->n > 0)
                        r = node_map_set(m, "refused", node_dup(run->refused));
                if (r >= 0 && run->syntax_errors_before >= 0) {
                        struct node *rep = node_new_map();
                        if ((r = node_map_set(m, "repair", rep)) >= 0 &&
                            (r = node_map_set(rep, "calls", node_new_uint(run->repair_calls))) >= 0 &&
                            (r = node_map_set(rep, "syntax_errors_before", node_new_uint((uint64_t) run->syntax_errors_before))) >= 0)
                                r = node_map_set(rep, "syntax_errors_after", node_new_uint(run->syntax_errors));
                }
                if (r >= 0 && run->error && !content_only)
                        r = node_map_set_string(m, "error", run->error);
                if (r < 0 || node_seq_append(seq, m) < 0) {
                        if (r < 0)
                                node_free(m);
                        node_free(seq);
                        return NULL;
                }
        }
        return seq;
}

struct node *report_content_atoms(const struct report_job *j) {
        return atoms_node(j, true);
}

static struct node *waves_node(const struct report_job *j) {
        struct node *seq = node_new_seq();
        for (size_t w = 1; seq && w <= j->dag->n_waves; w++) {
                uint64_t start = UINT64_MAX, end = 0, n = 0;
                for (size_t i = 0; i < j->dag->n_atoms; i++) {
                        const struct report_atom *r = &j->atoms[i];
                        if (j->dag->atoms[i].wave != w)
                                continue;
                        n++;
                        if (r->end_usec == 0)
                                continue;
                        if (r->start_usec < start)
                                start = r->start_usec;
                        if (r->end_usec > end)
                                end = r->end_usec;
                }
                struct node *m = node_new_map();
                double d = end > start ? (double) (end - start) / USEC_PER_SEC : 0;
                if (!m || node_map_set(m, "index", node_new_uint(w)) < 0 ||
                    node_map_set(m, "atoms", node_new_uint(n)) < 0 ||
                    node_map_set(m, "duration_s", node_new_real(d, 3)) < 0 ||
                    node_seq_append(seq, m) < 0) {
                        node_free(seq);
                        return NULL;
                }
        }
        return seq;
}

static struct node *time_by_kind_node(const struct report_job *j) {
        double t[_AK_MAX] = { 0 };
        bool seen[_AK_MAX] = { false };
        for (size_t i = 0; i < j->dag->n_atoms; i++) {
                t[j->dag->atoms[i].kind] += run_seconds(&j->atoms[i]);
                seen[j->dag->atoms[i].kind] = true;
        }
        struct node *m = node_new_map();
        for (int k = 0; m && k < _AK_MAX; k++)
                if (seen[k] && node_map_set(m, atom_kind_name((enum atom_kind) k), node_new_real(t[k], 3)) < 0) {
                        node_free(m);
                        return NULL;
                }
        return m;
}

struct node *report_usage_node(const struct gen_usage *u, int cost_decimals) {
        struct node *m = node_new_map();
        if (!m || node_map_set(m, "calls", node_new_uint(u->calls)) < 0 ||
            node_map_set(m, "retries", node_new_uint(u->retries)) < 0 ||
            node_map_set(m, "input_tokens", node_new_uint(u->input_tokens)) < 0 ||
            node_map_set(m, "output_tokens", node_new_uint(u->output_tokens)) < 0 ||
            node_map_set(m, "cache_read_input_tokens", node_new_uint(u->cache_read_input_tokens)) < 0 ||
            node_map_set(m, "cache_creation_input_tokens", node_new_uint(u->cache_creation_input_tokens)) < 0 ||
            node_map_set(m, "cost_usd", node_new_real(u->cost_usd, cost_decimals)) < 0) {
                node_free(m);
                return NULL;
        }
        return m;
}

/* The job's calls (real ones only) and how many atoms came from the atom cache. */
static struct node *api_node(const struct report_job *j) {
        struct gen_usage u = { 0 };
        uint64_t hits = 0;
        for (size_t i = 0; j->atoms && i < j->dag->n_atoms; i++) {
                gen_usage_add(&u, &j->atoms[i].usage);
                hits += j->atoms[i].cache == CACHE_HIT;
        }
        struct node *m = report_usage_node(&u, 4);
        if (m && node_map_set(m, "cache_hits", node_new_uint(hits)) < 0) {
                node_free(m);
                return NULL;
        }
        return m;
}

static struct node *backend_node(const struct report_job *j) {
        struct node *m = node_new_map();
        if (!m || node_map_set_string(m, "name", j->backend) < 0 ||
            node_map_set_string(m, "model", j->model) < 0) {
                node_free(m);
                return NULL;
        }
        return m;
}

/* Copies key from the packing child's content metrics (or an empty map). */
static int set_content(struct node *m, const struct report_job *j, const char *key) {
        const struct node *v = node_get(j->content, key);
        return node_map_set(m, key, v ? node_dup(v) : node_new_map());
}

/* Everything about the run, for the metrics report and a failed job's partial metrics. */
static int add_run_metrics(struct node *m, const struct report_job *j) {
        int r = 0;
        if (r >= 0)
                r = node_map_set(m, "started_at", node_new_time(j->started_realtime));
        if (r >= 0)
                r = node_map_set(m, "finished_at", node_new_time(j->finished_realtime));
        if (r >= 0)
                r = node_map_set(m, "duration_s", node_new_real(j->duration_s, 3));
        if (r >= 0 && j->content)
                r = set_content(m, j, "files");
        if (r >= 0 && j->content)
                r = set_content(m, j, "loc");
        if (r >= 0 && j->schedule) {
                struct node *sc = node_new_map();
                r = sc ? node_map_set_string(sc, "mode", j->schedule) : -ENOMEM;
                if (r >= 0)
                        r = node_map_set(sc, "priority", node_new_uint(j->priority));
                if (r >= 0)
                        r = node_map_set(m, "schedule", sc); /* frees sc on failure */
                else
                        node_free(sc);
        }
        if (r >= 0)
                r = node_map_set(m, "waves", waves_node(j));
        if (r >= 0)
                r = node_map_set(m, "time_by_kind", time_by_kind_node(j));
        if (r >= 0 && j->content)
                r = set_content(m, j, "syntax");
        if (r >= 0)
                r = node_map_set(m, "api", api_node(j));
        if (r >= 0 && j->content)
                r = set_content(m, j, "quality");
        if (r >= 0 && j->content)
                r = set_content(m, j, "success_criteria");
        if (r >= 0 && j->content) {
                struct node *t = NULL;
                r = analyze_thresholds_to_node(&j->thresholds, &t);
                if (r >= 0)
                        r = node_map_set(m, "success_thresholds", t);
        }
        if (r >= 0)
                r = node_map_set(m, "atoms", atoms_node(j, false));
        return r;
}

int report_metrics(const struct report_job *j, char **ret, size_t *ret_len) {
        _cleanup_node_ struct node *m = node_new_map();
        _cleanup_free_ char *file = NULL;
        int r = m ? 0 : -ENOMEM;

        if (asprintf(&file, "%s.tar.gz", j->name) < 0)
                return -ENOMEM;
        if (r >= 0)
                r = node_map_set_string(m, "job", j->name);
        if (r >= 0)
                r = node_map_set_string(m, "status", "succeeded");
        if (r >= 0)
                r = node_map_set(m, "backend", backend_node(j));
        if (r >= 0)
                r = add_run_metrics(m, j);
        struct node *tar = node_new_map();
        if (!tar)
                r = -ENOMEM;
        else if (r >= 0) {
                if ((r = node_map_set_string(tar, "file", file)) >= 0 &&
                    (r = node_map_set(tar, "bytes", node_new_uint(j->tarball_bytes))) >= 0)
                        r = node_map_set_string(tar, "sha256", j->tarball_sha256);
                if (r >= 0)
                        r = node_map_set(m, "tarball", tar);
                else
                        node_free(tar);
        } else
                node_free(tar);
        if (r < 0)
                return r;
        return emit(m, ret, ret_len);
}

static struct node *diag_node(const struct diag *g) {
        struct node *m = node_new_map();
        int r = m ? 0 : -ENOMEM;
        if (r >= 0)
                r = node_map_set_string(m, "message", g->message);
        if (r >= 0 && g->file)
                r = node_map_set_string(m, "file", g->file);
        if (r >= 0 && g->line)
                r = node_map_set(m, "line", node_new_uint(g->line));
        if (r >= 0 && g->line)
                r = node_map_set(m, "column", node_new_uint(g->column));
        if (r >= 0 && g->path && *g->path)
                r = node_map_set_string(m, "path", g->path);
        if (r < 0) {
                node_free(m);
                return NULL;
        }
        return m;
}

int report_errors_node(const struct diags *d, struct node **ret) {
        struct node *seq = node_new_seq();
        for (size_t i = 0; seq && i < d->n; i++)
                if (node_seq_append(seq, diag_node(&d->v[i])) < 0) {
                        node_free(seq);
                        return -ENOMEM;
                }
        if (!seq)
                return -ENOMEM;
        *ret = seq;
        return 0;
}

int report_not_a_bundle(struct diags *d, const char *entry, const char *why) {
        return diags_add(d, entry, 0, 0, NULL, "%s", why);
}

static int add_errors(struct node *m, const struct diags *d) {
        struct node *seq = NULL;
        int r = report_errors_node(d, &seq);
        if (r < 0)
                return r;
        r = node_map_set(m, "errors", seq);
        if (r >= 0 && d->dropped)
                r = node_map_set(m, "errors_not_listed", node_new_uint(d->dropped));
        return r;
}

int report_error(const struct report_job *j, const char *stage, char **ret, size_t *ret_len) {
        _cleanup_node_ struct node *m = node_new_map();
        int r = m ? 0 : -ENOMEM;
        if (r >= 0)
                r = node_map_set_string(m, "job", j->name);
        if (r >= 0)
                r = node_map_set_string(m, "status", "failed");
        if (r >= 0)
                r = node_map_set_string(m, "stage", stage);
        if (r >= 0 && j->entry)
                r = node_map_set_string(m, "bundle", j->entry);
        if (r >= 0)
                r = add_errors(m, j->diags);
        if (r >= 0 && j->atoms) {
                /* generation had started: the partial metrics */
                struct node *p = node_new_map();
                if (!p)
                        r = -ENOMEM;
                else if ((r = node_map_set(p, "backend", backend_node(j))) >= 0 &&
                         (r = add_run_metrics(p, j)) >= 0)
                        r = node_map_set(m, "metrics", p);
                else
                        node_free(p);
        }
        if (r < 0)
                return r;
        return emit(m, ret, ret_len);
}

int report_reject(const char *entry, const char *why, char **ret, size_t *ret_len) {
        _cleanup_node_ struct node *m = node_new_map();
        struct diags d = DIAGS_INIT;
        int r = m ? 0 : -ENOMEM;
        if (r >= 0)
                r = report_not_a_bundle(&d, entry, why);
        if (r >= 0)
                r = node_map_set_string(m, "job", entry);
        if (r >= 0)
                r = node_map_set_string(m, "status", "failed");
        if (r >= 0)
                r = node_map_set_string(m, "stage", "intake");
        if (r >= 0)
                r = add_errors(m, &d);
        diags_clear(&d);
        if (r < 0)
                return r;
        return emit(m, ret, ret_len);
}
