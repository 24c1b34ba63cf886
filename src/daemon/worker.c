/* worker.c - the forked children: one per atom, one per job for packing; see worker.h.
 *
 * Children share the parent's memory image (the parsed spec and plan) read-only, never
 * touch its sd-event objects, write their outputs atomically into the job's work area and
 * leave with _exit(). Their results go back to the parent as small YAML files.
 *
 * Files in the work area are written atomically but not fsynced: a crash discards the
 * whole work area (a resumed job starts over), so no promise rests on them. The tarball
 * is fsynced before the parent publishes it; outbox/ and failed/ are written durably.
 *
 * Test hook: CODEGEND_FAULT_INJECT="ATOM_ID=crash|hang|exit|slow|sleep:N" makes that atom's
 * worker crash (SIGSEGV), hang until killed, exit 3 before writing anything, take 2 seconds
 * longer than it would and then succeed (slow), or sleep N seconds and then work as usual;
 * "spin", "eatmem" and "bigout" make it burn CPU, allocate memory or write a file until its
 * limit (limits.worker_cpu_seconds, worker_memory, worker_output_bytes) stops it
 * ("@unpack=..." and "@pack=..." do the same to a job's unpacking and packing children;
 * "@publish=slow", read by the manager, pauses between the steps of claims and
 * publications; '@' is in no atom id); it is how the end-to-end tests prove that such
 * children fail the job with the right reason, and that no dependent of a slow atom starts
 * before it ends.
 *
 * Benchmark hook: CODEGEND_ATOM_DELAY_MS="BASE[+JITTER]" makes every atom's worker sleep
 * BASE plus (a hash of the atom's id modulo JITTER+1) milliseconds before it generates,
 * the same for an atom in every run: a stand-in for a model's latency (bench/run uses it
 * to compare `schedule: dag` with `waves`). The sleep is not part of the atom's work_s.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analysis/analyze.h"
#include "format/doc.h"
#include "bundle/intake.h"
#include "analysis/merge.h"
#include "output/pack.h"
#include "output/report.h"
#include "shared/fs.h"
#include "shared/macro.h"
#include "shared/sha256.h"
#include "shared/strbuf.h"
#include "cache.h"
#include "worker.h"

#define MAX_ATOM_OUTPUT (16u << 20)
#define MAX_RESULT (4u << 20)

/* Address-space limits break the sanitizers' shadow memory: not applied under them. */
#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

static void set_limit(int resource, uint64_t soft, uint64_t hard) {
        struct rlimit rl;
        if (soft == 0)
                return; /* none configured */
        if (getrlimit(resource, &rl) < 0)
                _exit(WORKER_FAILED);
        /* a lower limit set from outside (the unit's LimitCPU=, ulimit) stays in force */
        if (rl.rlim_max != RLIM_INFINITY && (rlim_t) hard > rl.rlim_max)
                hard = rl.rlim_max;
        if (soft > hard)
                soft = hard;
        rl = (struct rlimit) { .rlim_cur = (rlim_t) soft, .rlim_max = (rlim_t) hard };
        if (setrlimit(resource, &rl) < 0)
                _exit(WORKER_FAILED); /* never run unlimited when a limit is asked for */
}

/* limits: the CPU soft limit sends SIGXCPU (the parent names the limit), the hard one a
 * few seconds later SIGKILL; RLIMIT_FSIZE bounds every file the child writes (SIGXFSZ);
 * RLIMIT_AS makes its allocations fail (reported as out of memory). */
static void child_limits(const struct worker_env *env) {
        set_limit(RLIMIT_CPU, env->cpu_seconds, env->cpu_seconds + 5);
        set_limit(RLIMIT_FSIZE, env->output_bytes, env->output_bytes);
        if (!UNDER_ASAN)
                set_limit(RLIMIT_AS, env->memory, env->memory);
}

static void child_setup(const struct worker_env *env) {
        sigset_t none;

        /* a worker never outlives the daemon, and never holds the spool's lock: after a
         * crash the next daemon can take the spool at once and run the job again */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != env->parent)
                _exit(WORKER_FAILED);
        if (env->lock_fd >= 0)
                (void) close(env->lock_fd);
        sigemptyset(&none);
        (void) sigprocmask(SIG_SETMASK, &none, NULL);
        (void) signal(SIGPIPE, SIG_DFL);
        (void) signal(SIGTERM, SIG_DFL);
        (void) signal(SIGINT, SIG_DFL);
        (void) signal(SIGXCPU, SIG_DFL);
        (void) signal(SIGXFSZ, SIG_DFL);
        child_limits(env);
}

/* Allocates and touches memory until an allocation fails; -ENOMEM then (or 0 if it never did). */
static int eat_memory(void) {
        struct rlimit rl;
        if (getrlimit(RLIMIT_AS, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
                return 0; /* no limit to meet (a sanitizer build): do not eat the machine */
        void *chain = NULL;
        int r = 0;
        for (size_t total = 0; total < (UINT64_C(1) << 40); total += 16u << 20) {
                void **p = malloc(16u << 20);
                if (!p) {
                        r = -ENOMEM;
                        break;
                }
                memset(p, 1, 16u << 20);
                *p = chain;
                chain = p;
        }
        while (chain) {
                void *next = *(void **) chain;
                free(chain);
                chain = next;
        }
        return r;
}

/* Writes PATH until the file size limit stops it. */
static void write_forever(const char *path) {
        static char block[1 << 16];
        FILE *f = path ? fopen(path, "we") : NULL;
        if (!f)
                _exit(WORKER_FAILED);
        memset(block, 'x', sizeof(block));
        for (;;)
                if (fwrite(block, 1, sizeof(block), f) != sizeof(block) || fflush(f) != 0)
                        _exit(WORKER_FAILED); /* EFBIG when SIGXFSZ is ignored */
}

/* Returns 0, or -ENOMEM for "eatmem" once memory ran out (the atom then reports it). */
static int fault_inject(const struct job *j, const char *atom_id) {
        const char *f = getenv("CODEGEND_FAULT_INJECT");
        size_t n = strlen(atom_id);
        if (!f || strncmp(f, atom_id, n) != 0 || f[n] != '=')
                return 0;
        const char *what = f + n + 1;
        if (streq(what, "spin")) {
                volatile unsigned long x = 0;
                for (;;)
                        x++;
        }
        if (streq(what, "eatmem"))
                return eat_memory();
        if (streq(what, "bigout")) {
                _cleanup_free_ char *p = NULL;
                if (asprintf(&p, "%s/scratch-%s.big", j->dir, atom_id) < 0)
                        p = NULL;
                write_forever(p);
        }
        if (streq(what, "crash")) {
                /* the default action, also under a sanitizer that would catch it */
                (void) signal(SIGSEGV, SIG_DFL);
                (void) raise(SIGSEGV);
        }
        else if (streq(what, "hang"))
                for (;;)
                        (void) pause();
        else if (streq(what, "exit"))
                _exit(3);
        else if (streq(what, "slow")) {
                struct timespec ts = { 2, 0 };
                while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                        ;
        }
        else if (strncmp(what, "sleep:", 6) == 0)
                (void) sleep((unsigned) atoi(what + 6)); /* then works as usual */
        return 0;
}

static int write_node(const char *path, const struct node *n) {
        _cleanup_strbuf_ struct strbuf out = STRBUF_INIT;
        strbuf_init(&out, MAX_RESULT);
        int r = doc_emit_yaml(n, &out);
        if (r < 0)
                return r;
        return write_file_atomic_volatile(path, out.buf, out.len, 0644);
}

static char *job_path(const struct job *j, const char *dir, const char *name, const char *suffix) {
        char *p;
        if (asprintf(&p, "%s/%s/%s%s", j->dir, dir, name, suffix) < 0)
                return NULL;
        return p;
}

/* The atom's own figures: its text's LOC and syntax errors (its fragment, for shared
 * targets; the assembled files are analysed again by the packing child). */
static int atom_result_node(const struct atom *a, const char *text, size_t len, unsigned python_minor,
                            struct node *res) {
        struct file_metrics fm;
        struct node *errors = NULL;
        int r = analyze_source_for(a->target, text, len, python_minor, &fm);
        if (r < 0)
                return r;
        r = node_map_set_int(res, "loc", (long long) fm.loc);
        if (r >= 0)
                r = node_map_set_int(res, "syntax_errors", (long long) fm.errors.count);
        if (r >= 0 && (r = analyze_errors_to_node(&fm, &errors)) >= 0)
                r = node_map_set(res, "errors", errors);
        file_metrics_clear(&fm);
        return r;
}

/* A cache hit: the entry's text becomes the fragment, its result the atom's, with no call
 * made (api: zeros) and the entry's own usage as cached_api, for information. The text's
 * figures are measured again (cheap), since python_version may differ from the run that
 * wrote the entry. */
static int atom_from_cache(const struct worker_env *env, struct job *j, const struct atom *a,
                           const struct node *entry, const char *text, size_t len) {
        _cleanup_free_ char *frag = job_path(j, "frags", a->id, ".frag");
        _cleanup_free_ char *result = job_path(j, "results", a->id, ".yaml");
        _cleanup_node_ struct node *res = node_new_map();
        const struct gen_usage none = { 0 };
        int r;
        if (!frag || !result || !res)
                return -ENOMEM;
        for (size_t i = 0; i < entry->n; i++) {
                const char *k = entry->keys[i]->value;
                if (streq(k, "status") || streq(k, "api") || streq(k, "cache") || streq(k, "cached_api") ||
                    streq(k, "loc") || streq(k, "syntax_errors") || streq(k, "errors"))
                        continue;
                if ((r = node_map_set(res, k, node_dup(entry->items[i]))) < 0)
                        return r;
        }
        const struct node *api = node_get(entry, "api");
        if ((r = atom_result_node(a, text, len, env->thresholds.python_minor, res)) < 0)
                return r;
        if ((r = node_map_set_string(res, "status", "ok")) < 0 ||
            (r = node_map_set(res, "api", report_usage_node(&none, 6))) < 0 ||
            (r = node_map_set(res, "cached_api", api ? node_dup(api) : report_usage_node(&none, 6))) < 0 ||
            (r = node_map_set_string(res, "cache", "hit")) < 0)
                return r;
        if ((r = write_file_atomic_volatile(frag, text, len, 0644)) < 0)
                return r;
        return write_node(result, res);
}

/* Returns the child's exit status; everything it allocated is freed by then, so a leak
 * checker following the children sees only what the parent owns. */
/* The exit status of an atom worker that could not write its result because of R. */
static int failed_with(int r) {
        return r < 0 && -r < WORKER_ERRNO_MAX - WORKER_ERRNO ? WORKER_ERRNO + -r : WORKER_FAILED;
}

static int atom_main(const struct worker_env *env, struct job *j, size_t idx, int fault) {
        const struct atom *a = &j->dag->atoms[idx];
        _cleanup_strbuf_ struct strbuf out = STRBUF_INIT;
        _cleanup_free_ char *error = NULL, *frag = NULL, *result = NULL;
        _cleanup_node_ struct node *res = NULL;
        _cleanup_strbuf_ struct strbuf spec_yaml = STRBUF_INIT;
        struct gen_usage usage = { 0 }, spent = { 0 };
        struct gen_notes notes = { .backend = j->backend->name, .syntax_errors_before = -1 };
        int r;

        strbuf_init(&out, MAX_ATOM_OUTPUT);
        frag = job_path(j, "frags", a->id, ".frag");
        result = job_path(j, "results", a->id, ".yaml");
        res = node_new_map();
        if (!frag || !result || !res)
                return WORKER_FAILED;

        /* the model backends' prompts carry the whole spec; budgets count finished atoms */
        strbuf_init(&spec_yaml, 0);
        if (!j->backend->deterministic && doc_emit_yaml(j->bundle->spec, &spec_yaml) < 0)
                return WORKER_FAILED;
        for (size_t i = 0; i < j->dag->n_atoms; i++)
                gen_usage_add(&spent, &j->runs[i].usage);
        const struct gen_request req = {
                .spec = j->spec,
                .dag = j->dag,
                .atom = a,
                .options = &j->bopts,
                .work_dir = j->dir,
                .spec_text = strbuf_str(&spec_yaml),
                .spec_doc = j->bundle->spec,
                .spent = spent,
                .notes = &notes,
                .prepared = j->prepared,
        };

        /* the atom cache: a hit makes no call; a key that cannot be made is a miss that is
         * not stored */
        char hex[65] = "";
        if (env->cache_dir && fault >= 0) {
                uint8_t key[32];
                _cleanup_node_ struct node *entry = NULL;
                _cleanup_free_ char *text = NULL;
                size_t len = 0;
                r = backend_cache_key(j->backend, &req, key);
                if (r < 0)
                        fprintf(stderr, "codegend: %s: atom %s: no cache key: %s\n", j->name, a->id, strerror(-r));
                else {
                        sha256_hex(key, hex);
                        r = cache_lookup(env->cache_dir, hex, &entry, &text, &len);
                        if (r < 0)
                                fprintf(stderr, "codegend: %s: atom %s: cache entry %s unreadable: %s\n", j->name,
                                        a->id, hex, strerror(-r));
                        if (r > 0) {
                                r = atom_from_cache(env, j, a, entry, text, len);
                                if (r >= 0)
                                        return WORKER_OK;
                                fprintf(stderr, "codegend: %s: atom %s: failed to use cache entry %s: %s\n", j->name,
                                        a->id, hex, strerror(-r));
                                return failed_with(r);
                        }
                }
        }

        struct timespec t0, t1;
        if (clock_gettime(CLOCK_MONOTONIC, &t0) < 0)
                t0 = (struct timespec) { 0 };
        r = fault < 0 ? fault : j->backend->generate(&req, &out, &usage, &error);
        if (r == -ENOMEM && !error && env->memory &&
            asprintf(&error, "out of memory (limits.worker_memory: %llu bytes)",
                     (unsigned long long) env->memory) < 0)
                error = NULL;
        _cleanup_node_ struct node *refused = TAKE_PTR(notes.refused);
        if (r >= 0) {
                r = write_file_atomic_volatile(frag, out.buf ? out.buf : "", out.len, 0644);
                if (r < 0 && !error && asprintf(&error, "failed to write the fragment: %s", strerror(-r)) < 0)
                        error = NULL;
        }
        if (r >= 0) {
                r = atom_result_node(a, strbuf_str(&out), out.len, env->thresholds.python_minor, res);
                if (r < 0 && !error && asprintf(&error, "failed to analyse the output: %s", strerror(-r)) < 0)
                        error = NULL;
        }
        if (r < 0 && !error && asprintf(&error, "generation failed: %s", strerror(-r)) < 0)
                error = NULL;
        /* the atom's own work (backend and analysis), apart from the daemon's fork, reap
         * and bookkeeping: the benchmark's overhead per atom is the difference */
        long long work_us = clock_gettime(CLOCK_MONOTONIC, &t1) == 0 && t0.tv_sec ?
                (long long) (t1.tv_sec - t0.tv_sec) * 1000000 + (t1.tv_nsec - t0.tv_nsec) / 1000 : 0;
        if (node_map_set_int(res, "work_us", work_us) < 0 ||
            node_map_set_string(res, "status", r < 0 ? "error" : "ok") < 0 ||
            (r < 0 && node_map_set_string(res, "error", error ? error : "generation failed") < 0) ||
            node_map_set(res, "api", report_usage_node(&usage, 6)) < 0 ||
            node_map_set_string(res, "backend", notes.backend) < 0)
                return WORKER_FAILED;
        if (refused && node_map_set(res, "refused", TAKE_PTR(refused)) < 0)
                return WORKER_FAILED;
        if (notes.syntax_errors_before >= 0) {
                struct node *rep = node_new_map();
                if (node_map_set(res, "repair", rep) < 0 || node_map_set_int(rep, "calls", notes.repair_calls) < 0 ||
                    node_map_set_int(rep, "syntax_errors_before", notes.syntax_errors_before) < 0)
                        return WORKER_FAILED;
        }
        /* never a failed atom, never a text with syntax errors left */
        long long errors = 1;
        if (r >= 0 && *hex && node_as_int(node_get(res, "syntax_errors"), &errors) == 0 && errors == 0) {
                int k = cache_store(env->cache_dir, hex, res, out.buf ? out.buf : "", out.len);
                if (k < 0)
                        fprintf(stderr, "codegend: %s: atom %s: failed to write cache entry %s: %s\n", j->name, a->id,
                                hex, strerror(-k));
        }
        if (*hex && node_map_set_string(res, "cache", "miss") < 0)
                return WORKER_FAILED;
        r = write_node(result, res);
        return r < 0 ? failed_with(r) : WORKER_OK;
}

/* CODEGEND_ATOM_DELAY_MS (see the top of this file); a malformed value is ignored. */
static void bench_delay(const char *atom_id) {
        const char *v = getenv("CODEGEND_ATOM_DELAY_MS");
        unsigned base = 0, jitter = 0;
        if (!v || sscanf(v, "%u+%u", &base, &jitter) < 1 || base > 600000 || jitter > 600000)
                return;
        uint32_t h = 2166136261u; /* FNV-1a */
        for (const char *p = atom_id; *p; p++)
                h = (h ^ (unsigned char) *p) * 16777619u;
        uint64_t ms = base + h % ((uint32_t) jitter + 1);
        struct timespec ts = { (time_t) (ms / 1000), (long) (ms % 1000) * 1000000L };
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

_Noreturn void worker_atom_main(const struct worker_env *env, struct job *j, size_t idx) {
        child_setup(env);
        int fault = fault_inject(j, j->dag->atoms[idx].id);
        bench_delay(j->dag->atoms[idx].id);
        _exit(atom_main(env, j, idx, fault));
}

static uint64_t node_uint(const struct node *n) {
        long long v;
        return node_as_int(n, &v) == 0 && v > 0 ? (uint64_t) v : 0;
}

/* A child's result file, results/<name>.yaml; -ENOENT when there is none. */
static int load_result(struct job *j, const char *name, struct node **ret) {
        _cleanup_free_ char *path = job_path(j, "results", name, ".yaml");
        struct diags d = DIAGS_INIT;
        if (!path)
                return -ENOMEM;
        int r = doc_load(path, path, MAX_RESULT, ret, &d);
        diags_clear(&d);
        if (r < 0)
                return access(path, F_OK) < 0 ? -ENOENT : r;
        return 0;
}

/* The usage a result records in its api: or cached_api: mapping. */
static struct gen_usage usage_from(const struct node *api) {
        double cost = 0;
        struct gen_usage u = {
                .calls = (unsigned) node_uint(node_get(api, "calls")),
                .retries = (unsigned) node_uint(node_get(api, "retries")),
                .input_tokens = node_uint(node_get(api, "input_tokens")),
                .output_tokens = node_uint(node_get(api, "output_tokens")),
                .cache_read_input_tokens = node_uint(node_get(api, "cache_read_input_tokens")),
                .cache_creation_input_tokens = node_uint(node_get(api, "cache_creation_input_tokens")),
        };
        if (node_as_double(node_get(api, "cost_usd"), &cost) == 0)
                u.cost_usd = cost;
        return u;
}

int worker_load_atom_result(struct job *j, size_t idx) {
        struct atom_run *run = &j->runs[idx];
        _cleanup_node_ struct node *res = NULL;
        int r = load_result(j, j->dag->atoms[idx].id, &res);
        if (r < 0)
                return r;
        const struct node *status = node_get(res, "status");
        if (!status || status->kind != NODE_SCALAR)
                return -EBADMSG;
        free(run->error);
        run->error = NULL;
        if (!streq(status->value, "ok")) {
                const struct node *e = node_get(res, "error");
                run->error = strdup(e && e->kind == NODE_SCALAR ? e->value : "generation failed");
                if (!run->error)
                        return -ENOMEM;
        }
        run->loc = node_uint(node_get(res, "loc"));
        run->syntax_errors = node_uint(node_get(res, "syntax_errors"));
        run->work_usec = node_uint(node_get(res, "work_us"));
        node_free(run->syntax_list);
        run->syntax_list = node_dup(node_get(res, "errors"));
        const struct gen_usage u = usage_from(node_get(res, "api"));
        gen_usage_add(&run->usage, &u); /* over the atom's tries */
        const struct node *b = node_get(res, "backend");
        const struct backend *wrote = b && b->kind == NODE_SCALAR ? backend_find(b->value) : NULL;
        if (wrote)
                run->backend = wrote->name;
        node_free(run->refused);
        run->refused = node_dup(node_get(res, "refused"));
        const struct node *cache = node_get(res, "cache");
        run->cache = !cache || cache->kind != NODE_SCALAR ? CACHE_OFF : streq(cache->value, "hit") ? CACHE_HIT : CACHE_MISS;
        run->cached_usage = usage_from(node_get(res, "cached_api"));
        const struct node *rep = node_get(res, "repair");
        if (rep) {
                run->repair_calls += (unsigned) node_uint(node_get(rep, "calls"));
                run->syntax_errors_before = (long) node_uint(node_get(rep, "syntax_errors_before"));
        }
        return 0;
}

/* ---- the packing child ---- */

/* Writes one target of the project from its atoms' fragments, in the plan's order. */
static int assemble_target(struct job *j, size_t first, const char *projdir) {
        const struct dag *g = j->dag;
        const char *target = g->atoms[first].target;
        size_t n = g->atoms[first].fragment_count ? g->atoms[first].fragment_count : 1;
        _cleanup_free_ char **texts = calloc(n, sizeof(char *));
        _cleanup_free_ size_t *lens = calloc(n, sizeof(size_t));
        _cleanup_strbuf_ struct strbuf out = STRBUF_INIT;
        size_t k = 0;
        int r = 0;

        if (!texts || !lens)
                return -ENOMEM;
        strbuf_init(&out, 64u << 20);
        for (size_t o = 0; o < g->n_atoms && k < n && r >= 0; o++) {
                const struct atom *a = &g->atoms[g->order[o]];
                if (!streq(a->target, target))
                        continue;
                _cleanup_free_ char *frag = job_path(j, "frags", a->id, ".frag");
                r = frag ? read_file_bounded(frag, MAX_ATOM_OUTPUT, &texts[k], &lens[k]) : -ENOMEM;
                if (r >= 0)
                        k++;
        }
        if (r >= 0 && k != n)
                r = -EBADMSG;
        if (r >= 0) {
                if (n == 1)
                        r = strbuf_add(&out, texts[0], lens[0]);
                else
                        r = merge_fragments(target, (const char *const *) texts, lens, n, &out);
        }
        _cleanup_free_ char *path = path_join(projdir, target);
        _cleanup_free_ char *dir = path ? strdup(path) : NULL;
        if (r >= 0 && !dir)
                r = -ENOMEM;
        if (r >= 0) {
                *strrchr(dir, '/') = '\0';
                r = mkdir_p(dir, 0755);
        }
        if (r >= 0)
                r = write_file_atomic_volatile(path, strbuf_str(&out), out.len, 0644);
        for (size_t i = 0; i < k; i++)
                free(texts[i]);
        return r;
}

static int write_codegen_files(struct job *j, const char *projdir, struct node *content) {
        _cleanup_free_ char *dir = path_join(projdir, ".codegen");
        _cleanup_free_ char *spec = dir ? path_join(dir, "spec.yaml") : NULL;
        _cleanup_free_ char *dag = dir ? path_join(dir, "dag.json") : NULL;
        _cleanup_free_ char *metrics = dir ? path_join(dir, "metrics.yaml") : NULL;
        _cleanup_free_ char *json = dag_to_json(j->dag);
        _cleanup_strbuf_ struct strbuf out = STRBUF_INIT;
        int r;

        if (!metrics || !json)
                return -ENOMEM;
        if ((r = mkdir_p(dir, 0755)) < 0)
                return r;
        strbuf_init(&out, 64u << 20);
        if ((r = doc_emit_yaml(j->bundle->spec, &out)) < 0 ||
            (r = write_file_atomic_volatile(spec, out.buf, out.len, 0644)) < 0)
                return r;
        if ((r = write_file_atomic_volatile(dag, json, strlen(json), 0644)) < 0)
                return r;
        return write_node(metrics, content);
}

/* Content metrics: what the tarball's .codegen/metrics.yaml holds. */
static int content_metrics(struct job *j, const struct analyze_thresholds *th,
                           const char *projdir, struct node **ret) {
        _cleanup_node_ struct node *m = node_new_map(), *a = NULL;
        struct node *backend = node_new_map();
        int r;

        r = analyze_tree(projdir, j->spec, th, &a);
        if (!m || !backend || r < 0) {
                node_free(backend);
                return r < 0 ? r : -ENOMEM;
        }
        if ((r = node_map_set_string(backend, "name", j->backend->name)) < 0 ||
            (r = node_map_set_string(backend, "model", j->model)) < 0 ||
            (r = node_map_set(m, "backend", backend)) < 0) {
                if (r < 0 && !node_get(m, "backend"))
                        node_free(backend);
                return r;
        }
        static const char *const keys[] = { "files", "loc", "syntax", "quality", "success_criteria" };
        for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                const struct node *v = node_get(a, keys[i]);
                if ((r = node_map_set(m, keys[i], v ? node_dup(v) : node_new_map())) < 0)
                        return r;
        }
        /* every atom succeeded, or packing would not have started */
        struct node *sc = (struct node *) node_get(m, "success_criteria");
        if (sc && sc->kind == NODE_MAP && (r = node_map_set_bool(sc, "all_atoms_generated", true)) < 0)
                return r;
        struct report_job rj;
        if ((r = job_report_view(j, &rj)) < 0)
                return r;
        r = node_map_set(m, "atoms", report_content_atoms(&rj));
        report_job_clear(&rj);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(m);
        return 0;
}

static int pack_job(struct job *j, const struct analyze_thresholds *th) {
        _cleanup_free_ char *projdir = NULL, *tarball = NULL, *tmp = NULL, *result = NULL;
        _cleanup_node_ struct node *content = NULL, *res = NULL;
        const struct dag *g = j->dag;
        int r;

        if (asprintf(&projdir, "%s/project/%s", j->dir, j->spec->name) < 0 ||
            asprintf(&tarball, "%s/out/%s.tar.gz", j->dir, j->name) < 0 ||
            !(result = job_path(j, "results", "pack", ".yaml")))
                return -ENOMEM;
        if ((r = mkdir_p(projdir, 0755)) < 0)
                return r;
        for (size_t o = 0; o < g->n_atoms; o++) {
                const struct atom *a = &g->atoms[g->order[o]];
                if (a->fragment_index == 0 && (r = assemble_target(j, g->order[o], projdir)) < 0)
                        return r;
        }
        if ((r = content_metrics(j, th, projdir, &content)) < 0)
                return r;
        if ((r = write_codegen_files(j, projdir, content)) < 0)
                return r;

        int fd = open_tmp_beside(tarball, &tmp);
        if (fd < 0)
                return fd;
        uint64_t bytes = 0;
        uint8_t digest[32];
        char hex[65];
        r = pack_tree(projdir, j->spec->name, fd, &bytes, digest);
        if (r >= 0 && fchmod(fd, 0644) < 0)
                r = -errno;
        if (r < 0) {
                (void) close(fd);
                (void) unlink(tmp);
                return r;
        }
        if ((r = commit_tmp_file(fd, tmp, tarball)) < 0)
                return r;
        sha256_hex(digest, hex);

        res = node_new_map();
        struct node *tar = node_new_map();
        if (!res || !tar || node_map_set_int(tar, "bytes", (long long) bytes) < 0 ||
            node_map_set_string(tar, "sha256", hex) < 0) {
                node_free(tar);
                return -ENOMEM;
        }
        if ((r = node_map_set(res, "tarball", tar)) < 0 ||
            (r = node_map_set(res, "content", TAKE_PTR(content))) < 0)
                return r;
        return write_node(result, res);
}

static int unpack_main(struct job *j, const struct intake_limits *lim) {
        _cleanup_free_ char *path = job_bundle_path(j), *scratch = path_join(j->dir, "scratch");
        _cleanup_free_ char *result = job_path(j, "results", "unpack", ".yaml");
        _cleanup_node_ struct node *res = NULL;
        struct diags d = DIAGS_INIT;
        struct node *errors = NULL;

        if (!path || !scratch || !result)
                return WORKER_FAILED;
        int r = bundle_unpack(path, j->form, scratch, lim, &d);
        if (r == 0 || r != -EINVAL) {
                diags_clear(&d);
                if (r < 0)
                        fprintf(stderr, "codegend: %s: unpacking failed: %s\n", j->name, strerror(-r));
                return r == 0 ? WORKER_OK : WORKER_FAILED;
        }
        r = report_errors_node(&d, &errors);
        diags_clear(&d);
        if (r < 0 || !(res = node_new_map()) || node_map_set(res, "errors", errors) < 0)
                return WORKER_FAILED;
        return write_node(result, res) < 0 ? WORKER_FAILED : WORKER_REFUSED;
}

_Noreturn void worker_unpack_main(const struct worker_env *env, struct job *j,
                                  const struct intake_limits *lim) {
        child_setup(env);
        (void) fault_inject(j, "@unpack");
        _exit(unpack_main(j, lim));
}

int worker_load_diags(struct job *j, const char *what) {
        _cleanup_node_ struct node *res = NULL;
        int r = load_result(j, what, &res);
        if (r < 0)
                return r;
        const struct node *errors = node_get(res, "errors");
        if (!errors || errors->kind != NODE_SEQ || errors->n == 0)
                return -EBADMSG;
        for (size_t i = 0; i < errors->n; i++) {
                const struct node *e = errors->items[i], *msg = node_get(e, "message");
                const struct node *file = node_get(e, "file"), *p = node_get(e, "path");
                if (!msg || msg->kind != NODE_SCALAR)
                        return -EBADMSG;
                r = diags_add(&j->diags, file && file->kind == NODE_SCALAR ? file->value : NULL,
                              (unsigned) node_uint(node_get(e, "line")),
                              (unsigned) node_uint(node_get(e, "column")),
                              p && p->kind == NODE_SCALAR ? p->value : NULL, "%s", msg->value);
                if (r < 0)
                        return r;
        }
        return 0;
}

_Noreturn void worker_pack_main(const struct worker_env *env, struct job *j) {
        child_setup(env);
        (void) fault_inject(j, "@pack");
        int r = pack_job(j, &env->thresholds);
        if (r < 0) {
                fprintf(stderr, "codegend: %s: packing failed: %s\n", j->name, strerror(-r));
                _exit(WORKER_FAILED);
        }
        _exit(WORKER_OK);
}

int worker_load_pack_result(struct job *j) {
        _cleanup_free_ char *path = job_path(j, "results", "pack", ".yaml");
        _cleanup_node_ struct node *res = NULL;
        struct diags d = DIAGS_INIT;
        if (!path)
                return -ENOMEM;
        int r = doc_load(path, path, 64u << 20, &res, &d);
        diags_clear(&d);
        if (r < 0)
                return r;
        const struct node *tar = node_get(res, "tarball");
        const struct node *sum = node_get(tar, "sha256");
        const struct node *content = node_get(res, "content");
        if (!sum || sum->kind != NODE_SCALAR || !content)
                return -EBADMSG;
        j->tarball_bytes = node_uint(node_get(tar, "bytes"));
        free(j->tarball_sha256);
        j->tarball_sha256 = strdup(sum->value);
        node_free(j->content);
        j->content = node_dup(content);
        return j->tarball_sha256 && j->content ? 0 : -ENOMEM;
}
