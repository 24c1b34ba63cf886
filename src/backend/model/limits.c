/* limits.c - shared limits across the forked workers; see limits.h. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "limits.h"
#include "model.h"
#include "shared/macro.h"
#include "shared/sha256.h"

struct provider_state {
        pid_t slots[LIMITS_MAX_SLOTS];
        double req_tokens, tok_tokens;  /* token buckets */
        uint64_t refilled_ms;
        uint64_t paused_until_ms;
        bool refused;
        uint8_t refused_key[32];
};

struct limits {
        pthread_mutex_t lock;
        struct provider_state p[LIMITS_PROVIDERS];
        long day;          /* days since the epoch (UTC) of daily_cost */
        double daily_cost;
};

static uint64_t now_ms(void) {
        struct timespec ts;
        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

int limits_new(struct limits **ret) {
        pthread_mutexattr_t a;
        struct limits *l = mmap(NULL, sizeof(*l), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (l == MAP_FAILED)
                return -errno;
        memset(l, 0, sizeof(*l));
        int r = pthread_mutexattr_init(&a);
        if (r == 0 && (r = pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED)) == 0 &&
            (r = pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST)) == 0)
                r = pthread_mutex_init(&l->lock, &a);
        (void) pthread_mutexattr_destroy(&a);
        if (r != 0) {
                (void) munmap(l, sizeof(*l));
                return -r;
        }
        for (unsigned i = 0; i < LIMITS_PROVIDERS; i++)
                l->p[i].req_tokens = l->p[i].tok_tokens = -1; /* full at first use */
        *ret = l;
        return 0;
}

void limits_free(struct limits *l) {
        if (!l)
                return;
        (void) pthread_mutex_destroy(&l->lock);
        (void) munmap(l, sizeof(*l));
}

static void lock(struct limits *l) {
        /* a worker killed while holding the lock: the state is counters only, still usable */
        if (pthread_mutex_lock(&l->lock) == EOWNERDEAD)
                (void) pthread_mutex_consistent(&l->lock);
}

static void unlock(struct limits *l) {
        (void) pthread_mutex_unlock(&l->lock);
}

static void refill(struct provider_state *p, const struct model_settings *ms, uint64_t now) {
        double rpm = ms->requests_per_minute, tpm = ms->tokens_per_minute;
        if (p->req_tokens < 0 || p->tok_tokens < 0) {
                p->req_tokens = rpm;
                p->tok_tokens = tpm;
        } else {
                double dt = (double) (now - p->refilled_ms) / 60000.0;
                p->req_tokens = p->req_tokens + dt * rpm > rpm ? rpm : p->req_tokens + dt * rpm;
                p->tok_tokens = p->tok_tokens + dt * tpm > tpm ? tpm : p->tok_tokens + dt * tpm;
        }
        p->refilled_ms = now;
}

static long today(void) {
        return (long) (time(NULL) / 86400);
}

int limits_acquire(struct limits *l, unsigned provider, const struct model_settings *ms,
                   double daily_cost_usd, uint64_t est_tokens) {
        struct provider_state *p = &l->p[provider];
        unsigned conc = ms->concurrency ? ms->concurrency : LIMITS_MAX_SLOTS;
        pid_t self = getpid();
        uint8_t key[32];

        sha256_buf(ms->key ? ms->key : "", ms->key ? strlen(ms->key) : 0, key);
        if (conc > LIMITS_MAX_SLOTS)
                conc = LIMITS_MAX_SLOTS;
        for (;;) {
                uint64_t wait = 0, now = now_ms();
                lock(l);
                if (p->refused && memcmp(p->refused_key, key, sizeof(key)) == 0) {
                        unlock(l);
                        return -EACCES;
                }
                if (l->day != today()) {
                        l->day = today();
                        l->daily_cost = 0;
                }
                if (daily_cost_usd > 0 && l->daily_cost >= daily_cost_usd) {
                        unlock(l);
                        return -EDQUOT;
                }
                refill(p, ms, now);
                size_t free_slot = SIZE_MAX;
                for (size_t i = 0; i < conc; i++) {
                        if (p->slots[i] && kill(p->slots[i], 0) < 0 && errno == ESRCH)
                                p->slots[i] = 0; /* its worker died holding it */
                        if (!p->slots[i] && free_slot == SIZE_MAX)
                                free_slot = i;
                }
                double need = ms->tokens_per_minute && est_tokens > ms->tokens_per_minute
                                      ? ms->tokens_per_minute
                                      : (double) est_tokens;
                if (p->paused_until_ms > now)
                        wait = p->paused_until_ms - now;
                else if (free_slot == SIZE_MAX)
                        wait = 100;
                else if (ms->requests_per_minute && p->req_tokens < 1)
                        wait = (uint64_t) ((1 - p->req_tokens) * 60000.0 / ms->requests_per_minute) + 1;
                else if (ms->tokens_per_minute && p->tok_tokens < need)
                        wait = (uint64_t) ((need - p->tok_tokens) * 60000.0 / ms->tokens_per_minute) + 1;
                else {
                        p->slots[free_slot] = self;
                        if (ms->requests_per_minute)
                                p->req_tokens -= 1;
                        if (ms->tokens_per_minute)
                                p->tok_tokens -= need;
                }
                unlock(l);
                if (!wait)
                        return 0;
                if (wait > 1000)
                        wait = 1000; /* look again: the pause may end, a key may be refused */
                struct timespec ts = { .tv_sec = (time_t) (wait / 1000), .tv_nsec = (long) (wait % 1000) * 1000000 };
                (void) nanosleep(&ts, NULL);
        }
}

void limits_release(struct limits *l, unsigned provider, uint64_t est_tokens, uint64_t used_tokens,
                    double cost_usd) {
        struct provider_state *p = &l->p[provider];
        pid_t self = getpid();
        lock(l);
        for (size_t i = 0; i < LIMITS_MAX_SLOTS; i++)
                if (p->slots[i] == self) {
                        p->slots[i] = 0;
                        break;
                }
        p->tok_tokens += (double) est_tokens - (double) used_tokens;
        if (l->day != today()) {
                l->day = today();
                l->daily_cost = 0;
        }
        l->daily_cost += cost_usd;
        unlock(l);
}

void limits_pause(struct limits *l, unsigned provider, uint64_t ms) {
        uint64_t until = now_ms() + ms;
        lock(l);
        if (until > l->p[provider].paused_until_ms)
                l->p[provider].paused_until_ms = until;
        unlock(l);
}

void limits_refuse_key(struct limits *l, unsigned provider, const char *key) {
        lock(l);
        l->p[provider].refused = true;
        sha256_buf(key ? key : "", key ? strlen(key) : 0, l->p[provider].refused_key);
        unlock(l);
}

bool limits_key_refused(struct limits *l, unsigned provider, const char *key) {
        uint8_t d[32];
        sha256_buf(key ? key : "", key ? strlen(key) : 0, d);
        lock(l);
        bool r = l->p[provider].refused && memcmp(d, l->p[provider].refused_key, 32) == 0;
        unlock(l);
        return r;
}

double limits_daily_cost(struct limits *l) {
        lock(l);
        double c = l->daily_cost;
        unlock(l);
        return c;
}
