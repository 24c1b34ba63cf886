/* faults.c - retry policy and the servers' rate-limit headers; see faults.h.
 * Pure functions: no I/O, no logging, unit-tested in tests/unit/test-model.c.
 */
#include "config.h"

#define _GNU_SOURCE 1
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "faults.h"
#include "shared/macro.h"

bool fault_status_retryable(long status) {
        static const long retry[] = { 408, 409, 429, 500, 502, 503, 504, 529 };
        for (size_t i = 0; i < ELEMENTSOF(retry); i++)
                if (status == retry[i])
                        return true;
        return false;
}

int fault_parse_time(const char *s, time_t *ret) {
        struct tm tm = { 0 };
        const char *end;
        if ((end = strptime(s, "%a, %d %b %Y %H:%M:%S GMT", &tm)) && !*end) {
                *ret = timegm(&tm);
                return 0;
        }
        memset(&tm, 0, sizeof(tm));
        end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
        if (!end)
                return -EINVAL;
        if (*end == '.') /* fractions of a second: rounded up below */
                for (end++; isdigit((unsigned char) *end); end++)
                        ;
        time_t t = timegm(&tm);
        if (*end == 'Z' || *end == 'z')
                end++;
        else if ((*end == '+' || *end == '-') && isdigit((unsigned char) end[1]) &&
                 isdigit((unsigned char) end[2]) && end[3] == ':' && isdigit((unsigned char) end[4]) &&
                 isdigit((unsigned char) end[5])) {
                long off = ((end[1] - '0') * 10 + (end[2] - '0')) * 3600 +
                           ((end[4] - '0') * 10 + (end[5] - '0')) * 60;
                t += *end == '+' ? -off : off;
                end += 6;
        }
        if (*end)
                return -EINVAL;
        *ret = t;
        return 0;
}

int fault_parse_duration_ms(const char *s, uint64_t *ret) {
        double total = 0;
        const char *p = s;
        if (!*p)
                return -EINVAL;
        while (*p) {
                char *end;
                if (!isdigit((unsigned char) *p) && *p != '.')
                        return -EINVAL;
                double v = strtod(p, &end);
                if (end == p || v < 0)
                        return -EINVAL;
                p = end;
                if (strncmp(p, "ms", 2) == 0)
                        total += v, p += 2;
                else if (*p == 's')
                        total += v * 1000, p++;
                else if (*p == 'm')
                        total += v * 60000, p++;
                else if (*p == 'h')
                        total += v * 3600000, p++;
                else if (!*p && p == end && total == 0)
                        total = v * 1000; /* plain seconds */
                else
                        return -EINVAL;
        }
        if (total > 1e12)
                return -ERANGE;
        *ret = (uint64_t) (total + 0.999);
        return 0;
}

static void take(uint64_t *best, uint64_t v) {
        if (v > *best)
                *best = v;
}

uint64_t fault_server_delay_ms(const struct http_response *r, time_t now, uint64_t max_ms) {
        uint64_t best = 0, v;
        time_t t;
        for (size_t i = 0; i < r->n_headers; i++) {
                const char *n = r->header_names[i], *val = r->header_values[i];
                if (streq(n, "retry-after-ms")) {
                        if (fault_parse_duration_ms(val, &v) == 0)
                                take(&best, v / 1000); /* plain number: read as seconds above */
                } else if (streq(n, "retry-after")) {
                        if (fault_parse_duration_ms(val, &v) == 0)
                                take(&best, v);
                        else if (fault_parse_time(val, &t) == 0 && t > now)
                                take(&best, (uint64_t) (t - now) * 1000);
                } else if (strncmp(n, "anthropic-ratelimit-", 20) == 0 &&
                           strlen(n) > 6 && streq(n + strlen(n) - 6, "-reset")) {
                        if (fault_parse_time(val, &t) == 0 && t > now)
                                take(&best, (uint64_t) (t - now) * 1000);
                } else if (strncmp(n, "x-ratelimit-reset-", 18) == 0) {
                        if (fault_parse_duration_ms(val, &v) == 0)
                                take(&best, v);
                }
        }
        return best > max_ms ? max_ms : best;
}

uint64_t fault_backoff_ms(unsigned attempt, uint64_t base_ms, uint64_t cap_ms, uint32_t jitter) {
        uint64_t d = base_ms;
        for (unsigned i = 0; i < attempt && d < cap_ms; i++)
                d *= 2;
        if (d > cap_ms)
                d = cap_ms;
        uint64_t half = d / 2;
        return half + (half ? jitter % (half + 1) : 0);
}
