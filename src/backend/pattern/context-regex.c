/* context-regex.c - strings derived from a regular expression, for test samples.
 *
 * Interface: context_regex_sample() (context.h) and context_regex_sample_filtered()
 * (context-internal.h), which also takes a predicate the string must pass. The generator
 * follows a practical subset of Python's re syntax: it walks the pattern once per attempt,
 * takes the variant-th alternative and character, and hands out repetitions beyond the
 * minimum until the length fits. Patterns are bounded (RX_MAX_PATTERN characters,
 * RX_MAX_STEPS atoms, nesting 64).
 * Errors: -EOPNOTSUPP for constructs it cannot follow (lookarounds, back-references),
 * -E2BIG past the step limit, -EINVAL for a malformed pattern or no string within the
 * limits, -ENOMEM. No diagnostics.
 */
#include "config.h"

#include <limits.h>
#include <stdbool.h>
#include <string.h>

#include "context-internal.h"

/* ---- regular expression samples ---- */

/* Printable ASCII in the order samples prefer: letters, digits, then the rest. */
static char pref_order[95];

static void init_pref_order(void) {
        size_t n = 0;
        if (pref_order[0])
                return;
        for (char c = 'a'; c <= 'z'; c++)
                pref_order[n++] = c;
        for (char c = 'A'; c <= 'Z'; c++)
                pref_order[n++] = c;
        for (char c = '0'; c <= '9'; c++)
                pref_order[n++] = c;
        for (int c = 32; c < 127; c++)
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
                        pref_order[n++] = (char) c;
}

#define RX_MAX_PATTERN 1000   /* longer patterns get no derived samples */
#define RX_MAX_STEPS 100000u  /* atoms generated per attempt, zero-width ones included */

struct rx {
        unsigned variant;
        size_t extra; /* repetitions beyond the minimum still to hand out */
        struct strbuf *out;
        int err;
        unsigned depth;
        unsigned steps;
};

static const char *rx_fail(struct rx *r, int err) {
        if (r->err == 0)
                r->err = err;
        return NULL;
}

static void set_range(bool set[128], int lo, int hi) {
        for (int c = lo; c <= hi; c++)
                set[c] = true;
}

/* \d \w \s and their negations as a set; false when c is not a class escape. */
static bool class_escape(char c, bool set[128]) {
        bool tmp[128] = { false };
        bool neg = c == 'D' || c == 'W' || c == 'S';
        switch (c) {
        case 'd':
        case 'D':
                set_range(tmp, '0', '9');
                break;
        case 'w':
        case 'W':
                set_range(tmp, 'a', 'z');
                set_range(tmp, 'A', 'Z');
                set_range(tmp, '0', '9');
                tmp['_'] = true;
                break;
        case 's':
        case 'S':
                tmp[' '] = tmp['\t'] = tmp['\n'] = tmp['\r'] = tmp['\f'] = tmp['\v'] = true;
                break;
        default:
                return false;
        }
        for (int i = 32; i < 127; i++)
                if (tmp[i] != neg)
                        set[i] = true;
        if (!neg)
                for (int i = 0; i < 32; i++)
                        set[i] = set[i] || tmp[i];
        return true;
}

static int hexval(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* A single-character escape at p (after the backslash): its value, or -1. */
static int char_escape(const char **p) {
        char c = **p;
        static const char from[] = "ntrfv0", to[] = "\n\t\r\f\v";
        const char *k = strchr(from, c);
        if (c && k) {
                (*p)++;
                return k - from < 5 ? to[k - from] : 0;
        }
        if (c == 'x') {
                int a = hexval((*p)[1]), b = a >= 0 ? hexval((*p)[2]) : -1;
                if (a < 0 || b < 0 || a * 16 + b >= 128)
                        return -1;
                *p += 3;
                return a * 16 + b;
        }
        if ((unsigned char) c < 128 && c && !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                                (c >= '0' && c <= '9'))) {
                (*p)++;
                return c;
        }
        return -1;
}

static int pick(struct rx *r, const bool set[128]) {
        init_pref_order();
        unsigned n = 0;
        for (size_t i = 0; i < sizeof(pref_order); i++)
                n += set[(unsigned char) pref_order[i]];
        if (n == 0) {
                /* only control characters: take the first */
                for (int c = 0; c < 32; c++)
                        if (set[c])
                                return strbuf_addc(r->out, (char) c);
                return -EINVAL;
        }
        unsigned want = r->variant % n;
        for (size_t i = 0; i < sizeof(pref_order); i++)
                if (set[(unsigned char) pref_order[i]] && want-- == 0)
                        return strbuf_addc(r->out, pref_order[i]);
        return -EINVAL;
}

static const char *rx_class(struct rx *r, const char *p, bool set[128]) {
        bool neg = false, first = true;
        memset(set, 0, 128 * sizeof(bool));
        if (*p == '^') {
                neg = true;
                p++;
        }
        while (*p && (*p != ']' || first)) {
                int lo, hi;
                first = false;
                if (*p == '\\') {
                        p++;
                        if (class_escape(*p, set)) {
                                p++;
                                continue;
                        }
                        if ((lo = char_escape(&p)) < 0)
                                return rx_fail(r, -EOPNOTSUPP);
                } else if ((unsigned char) *p >= 128)
                        return rx_fail(r, -EOPNOTSUPP);
                else
                        lo = *p++;
                if (*p == '-' && p[1] && p[1] != ']') {
                        p++;
                        if (*p == '\\') {
                                p++;
                                if ((hi = char_escape(&p)) < 0)
                                        return rx_fail(r, -EOPNOTSUPP);
                        } else if ((unsigned char) *p >= 128)
                                return rx_fail(r, -EOPNOTSUPP);
                        else
                                hi = *p++;
                        if (hi < lo)
                                return rx_fail(r, -EINVAL);
                        set_range(set, lo, hi);
                } else
                        set[lo] = true;
        }
        if (*p != ']')
                return rx_fail(r, -EINVAL);
        if (neg)
                for (int c = 0; c < 128; c++)
                        set[c] = c >= 32 && c < 127 && !set[c];
        return p + 1;
}

static const char *rx_alt(struct rx *r, const char *p, bool emit);

/* One atom (without its quantifier); generates it when emit. */
static const char *rx_atom(struct rx *r, const char *p, bool emit) {
        bool set[128] = { false };
        int k;

        if (++r->steps > RX_MAX_STEPS)
                return rx_fail(r, -E2BIG);
        switch (*p) {
        case '(':
                p++;
                if (*p == '?') {
                        p++;
                        if (*p == ':')
                                p++;
                        else if ((*p == 'P' && p[1] == '<') || (*p == '<' && p[1] != '=' && p[1] != '!')) {
                                const char *gt = strchr(p, '>');
                                if (!gt)
                                        return rx_fail(r, -EINVAL);
                                p = gt + 1;
                        } else if (*p && strchr("aiLmsux-", *p)) {
                                while (*p && strchr("aiLmsux-", *p))
                                        p++;
                                if (*p == ')')
                                        return p + 1; /* inline flags: no text */
                                if (*p != ':')
                                        return rx_fail(r, -EINVAL);
                                p++;
                        } else
                                return rx_fail(r, -EOPNOTSUPP); /* lookarounds, (?P=name) */
                }
                p = rx_alt(r, p, emit);
                if (!p)
                        return NULL;
                if (*p != ')')
                        return rx_fail(r, -EINVAL);
                return p + 1;
        case '[':
                p = rx_class(r, p + 1, set);
                if (p && emit && (k = pick(r, set)) < 0)
                        return rx_fail(r, k);
                return p;
        case '.':
                set_range(set, 'a', 'z');
                if (emit && (k = pick(r, set)) < 0)
                        return rx_fail(r, k);
                return p + 1;
        case '^':
        case '$':
                return p + 1;
        case '\\':
                p++;
                if (*p && strchr("AbBZz", *p))
                        return p + 1;
                if (class_escape(*p, set)) {
                        if (emit && (k = pick(r, set)) < 0)
                                return rx_fail(r, k);
                        return p + 1;
                }
                if ((k = char_escape(&p)) < 0)
                        return rx_fail(r, -EOPNOTSUPP); /* back-references, \u, \N */
                if (emit && (k = strbuf_addc(r->out, (char) k)) < 0)
                        return rx_fail(r, k);
                return p;
        case '*':
        case '+':
        case '?':
        case '\0':
                return rx_fail(r, -EINVAL);
        default: {
                size_t n = 1;
                while (((unsigned char) p[n] & 0xC0) == 0x80)
                        n++;
                if (emit && (k = strbuf_add(r->out, p, n)) < 0)
                        return rx_fail(r, k);
                return p + n;
        }
        }
}

static const char *parse_uint(const char *p, unsigned *ret) {
        unsigned v = 0;
        const char *s = p;
        while (*p >= '0' && *p <= '9' && v < 100000)
                v = v * 10 + (unsigned) (*p++ - '0');
        *ret = v;
        return p == s ? NULL : p;
}

/* A quantifier at p, or {1,1} when there is none. */
static const char *rx_quant(const char *p, unsigned *min, unsigned *max) {
        *min = *max = 1;
        if (*p == '*')
                *min = 0, *max = UINT_MAX, p++;
        else if (*p == '+')
                *max = UINT_MAX, p++;
        else if (*p == '?')
                *min = 0, p++;
        else if (*p == '{') {
                unsigned a = 0, b;
                const char *q = parse_uint(p + 1, &a);
                bool has_a = q != NULL;
                if (!q)
                        q = p + 1;
                if (*q == '}' && has_a) {
                        b = a;
                        q++;
                } else if (*q == ',') {
                        const char *q2 = parse_uint(q + 1, &b);
                        if (!q2) {
                                b = UINT_MAX;
                                q2 = q + 1;
                        }
                        if (*q2 != '}' || (!has_a && b == UINT_MAX))
                                return p; /* a literal '{' */
                        q = q2 + 1;
                } else
                        return p;
                if (b < a)
                        return p;
                *min = a, *max = b, p = q;
        } else
                return p;
        if (*p == '?' || *p == '+')
                p++;
        return p;
}

static const char *rx_seq(struct rx *r, const char *p, bool emit) {
        while (*p && *p != '|' && *p != ')') {
                const char *a = p;
                const char *e = rx_atom(r, p, false);
                unsigned mn, mx;
                if (!e)
                        return NULL;
                p = rx_quant(e, &mn, &mx);
                if (!emit)
                        continue;
                size_t reps = mn;
                if (mx > mn && r->extra > 0) {
                        size_t room = mx - mn > 64 ? 64 : mx - mn;
                        size_t take = room < r->extra ? room : r->extra;
                        reps += take;
                        r->extra -= take;
                }
                for (size_t i = 0; i < reps; i++)
                        if (!rx_atom(r, a, true))
                                return NULL;
        }
        return p;
}

static const char *rx_alt(struct rx *r, const char *p, bool emit) {
        const char *starts[64];
        size_t n = 0;
        const char *q = p;

        if (++r->depth > 64)
                return rx_fail(r, -EINVAL);
        for (;;) {
                if (n == ELEMENTSOF(starts))
                        return rx_fail(r, -EOPNOTSUPP);
                starts[n++] = q;
                q = rx_seq(r, q, false);
                if (!q)
                        return NULL;
                if (*q != '|')
                        break;
                q++;
        }
        if (emit && !rx_seq(r, starts[r->variant % n], true))
                return NULL;
        r->depth--;
        return q;
}

int context_regex_sample_filtered(const char *pattern, unsigned variant, size_t min_len,
                                  size_t max_len, sample_accept accept, const void *userdata,
                                  char **ret) {
        struct strbuf out;
        if (strlen(pattern) > RX_MAX_PATTERN)
                return -EOPNOTSUPP;
        strbuf_init(&out, 4096);
        for (size_t extra = 0; extra <= 300; extra++) {
                struct rx r = { .variant = variant, .extra = extra, .out = &out };
                strbuf_reset(&out);
                const char *e = rx_alt(&r, pattern, true);
                if (!e) {
                        strbuf_free(&out);
                        return r.err ? r.err : -EINVAL;
                }
                if (*e != '\0') {
                        strbuf_free(&out);
                        return -EINVAL; /* an unbalanced ')' */
                }
                if (out.len >= min_len && out.len <= max_len &&
                    memchr(strbuf_str(&out), '\0', out.len) == NULL &&
                    (!accept || accept(strbuf_str(&out), userdata))) {
                        *ret = strbuf_detach(&out, NULL);
                        return 0;
                }
                if (out.len > max_len || (extra > 0 && r.extra == extra))
                        break; /* more repetitions cannot help */
        }
        strbuf_free(&out);
        return -EINVAL;
}

int context_regex_sample(const char *pattern, unsigned variant, size_t min_len, size_t max_len,
                         char **ret) {
        return context_regex_sample_filtered(pattern, variant, min_len, max_len, NULL, NULL, ret);
}
