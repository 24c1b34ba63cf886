/* limits.h - limits that hold for all forked workers of the daemon together.
 *
 * One MAP_SHARED anonymous mapping, made by limits_new() in the parent before the first
 * fork, holds per provider: concurrency permits (slots tagged with the holder's pid, so a
 * crashed worker's permit is taken back), token buckets for requests and tokens per
 * minute, the time until which a 429 paused the provider, and the fingerprint of a key
 * the server refused (401/403: no further call with that key). Plus the day's total cost
 * against daily_cost_usd. A process-shared robust mutex guards it.
 *
 * limits_acquire() waits (sleeping, in a worker) for a permit, a request and the
 * estimated tokens; it returns 0, -EACCES (the key was refused) or -EDQUOT (the daily
 * ceiling is reached). limits_release() returns the permit and corrects the token
 * estimate by what the reply used.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define LIMITS_PROVIDERS 2
#define LIMITS_MAX_SLOTS 64

struct limits;
struct model_settings;

int limits_new(struct limits **ret);
void limits_free(struct limits *l);
int limits_acquire(struct limits *l, unsigned provider, const struct model_settings *ms,
                   double daily_cost_usd, uint64_t est_tokens);
void limits_release(struct limits *l, unsigned provider, uint64_t est_tokens, uint64_t used_tokens,
                    double cost_usd);
void limits_pause(struct limits *l, unsigned provider, uint64_t ms);
void limits_refuse_key(struct limits *l, unsigned provider, const char *key);
bool limits_key_refused(struct limits *l, unsigned provider, const char *key);
double limits_daily_cost(struct limits *l);
