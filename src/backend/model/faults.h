/* faults.h - which failures of a model server are retried, and how long to wait.
 *
 * fault_status_retryable(): 408, 409, 429, 500, 502, 503, 504 and 529 are; 400, 401, 403,
 * 404, 413, 422 and everything else are not (a 429 whose error is insufficient_quota is
 * not either: the caller checks that). fault_server_delay_ms() reads what the server
 * asked for: retry-after-ms, retry-after (seconds or an HTTP date),
 * anthropic-ratelimit-*-reset (RFC 3339 times) and x-ratelimit-reset-* (durations such
 * as "1s", "6m0s", "250ms"); the largest wins, 0 when none, bounded by max_ms.
 * fault_backoff_ms(): exponential backoff with full jitter, base * 2^attempt, capped.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "http.h"

bool fault_status_retryable(long status);
/* Seconds since the epoch of an HTTP date or an RFC 3339 time; -EINVAL when neither. */
int fault_parse_time(const char *s, time_t *ret);
/* Milliseconds of a Go-style duration ("1m30s", "250ms", "2.5s") or plain seconds. */
int fault_parse_duration_ms(const char *s, uint64_t *ret);
uint64_t fault_server_delay_ms(const struct http_response *r, time_t now, uint64_t max_ms);
/* jitter: a random number (e.g. from random()); the result is in [base*2^attempt/2, base*2^attempt]. */
uint64_t fault_backoff_ms(unsigned attempt, uint64_t base_ms, uint64_t cap_ms, uint32_t jitter);
