/* context-values.c - the values of the generated tests.
 *
 * Interface: context-internal.h. A field's valid samples obey its type, its length and
 * range limits, its pattern and its rules (range, regex, not_in_past, not_in_future);
 * for a pattern the plain sample is kept when POSIX regexec() shows that it matches, else
 * one is derived from the pattern (context_regex_sample_filtered()). Also the value
 * Pydantic must refuse for each type, and the distinct samples a unique field needs.
 * No diagnostics: a field no sample can be derived for gets NULL with *err set (-EINVAL,
 * -EOPNOTSUPP, -ENOMEM); context_check() turns that into a diagnostic.
 */
#include "config.h"

#include <regex.h>
#include <string.h>

#include "context-internal.h"

#define N_VARIANTS 16u

/* ---- test samples ---- */

static bool looks_like_email(const char *s) {
        const char *at = strchr(s, '@');
        if (!at || at == s || strchr(at + 1, '@') || strpbrk(s, " \t\"(),:;<>[\\]"))
                return false;
        const char *dot = strrchr(at + 1, '.');
        return dot && dot > at + 1 && dot[1] && !strstr(at, "..") && s[0] != '.' &&
               at[-1] != '.';
}

static bool looks_like_url(const char *s) {
        const char *host = strncmp(s, "https://", 8) == 0 ? s + 8
                         : strncmp(s, "http://", 7) == 0  ? s + 7
                                                          : NULL;
        return host && *host && *host != '/' && !strpbrk(s, " \t\"<>\\^`{|}");
}

void context_sample_spec_init(const struct spec *s, const struct entity *e, const struct field *f,
                              struct sample_spec *ss) {
        *ss = (struct sample_spec) { .f = f, .has_min = f->has_min, .has_max = f->has_max,
                                     .min = f->min, .max = f->max, .pattern = f->pattern };
        ss->min_len = f->has_min_length ? (size_t) f->min_length : 0;
        switch (f->type) {
        case FT_STRING:
                ss->max_len = f->has_max_length ? (size_t) f->max_length : 255;
                break;
        case FT_EMAIL:
                ss->max_len = f->has_max_length ? (size_t) f->max_length : 320;
                break;
        case FT_URL:
                ss->max_len = f->has_max_length ? (size_t) f->max_length : 2048;
                break;
        default:
                ss->max_len = f->has_max_length ? (size_t) f->max_length : 1000;
        }
        if (ss->max_len > 1000)
                ss->max_len = 1000;
        for (size_t i = 0; i < s->n_rules; i++) {
                const struct rule *r = &s->rules[i];
                if (!streq_ptr(r->entity, e->name) || !streq_ptr(r->field, f->name))
                        continue;
                if (r->kind == RULE_RANGE) {
                        if (r->has_min && (!ss->has_min || r->min > ss->min))
                                ss->min = r->min, ss->has_min = true;
                        if (r->has_max && (!ss->has_max || r->max < ss->max))
                                ss->max = r->max, ss->has_max = true;
                } else if (r->kind == RULE_REGEX && !ss->pattern) {
                        ss->pattern = r->pattern;
                        ss->search = true;
                } else if (r->kind == RULE_REGEX && ss->n_also < ELEMENTSOF(ss->also))
                        ss->also[ss->n_also++] = r->pattern;
                else if (r->kind == RULE_NOT_IN_PAST)
                        ss->date_dir = 1;
                else if (r->kind == RULE_NOT_IN_FUTURE)
                        ss->date_dir = -1;
        }
}

static int integer_sample(const struct sample_spec *ss, unsigned v, long long *ret) {
        if ((ss->has_min && dabs(ss->min) > 1e15) || (ss->has_max && dabs(ss->max) > 1e15))
                return -EINVAL;
        long long lo = ss->has_min ? (long long) dceil(ss->min)
                     : ss->has_max && ss->max < 1 ? (long long) dfloor(ss->max)
                                                  : 1;
        long long hi = ss->has_max ? (long long) dfloor(ss->max) : lo + 1000;
        if (hi < lo)
                return -EINVAL;
        *ret = lo + (long long) v % (hi - lo + 1);
        return 0;
}

static double number_sample(const struct sample_spec *ss, unsigned v, bool cents) {
        double x;
        if (ss->has_min && ss->has_max)
                x = ss->min + (ss->max - ss->min) * (v + 1) / (N_VARIANTS + 1);
        else if (ss->has_min)
                x = ss->min + 1.5 + v;
        else if (ss->has_max)
                x = ss->max - 1.5 - v;
        else
                x = 1.5 + v;
        if (cents) {
                x = dfloor(x * 100 + 0.5) / 100;
                if (ss->has_min && x < ss->min)
                        x = dceil(ss->min * 100) / 100;
                if (ss->has_max && x > ss->max)
                        x = dfloor(ss->max * 100) / 100;
        }
        return x;
}

static char *pad_to(char *s, size_t min_len, char with) {
        size_t len = strlen(s);
        if (len >= min_len)
                return s;
        char *p = realloc(s, min_len + 1);
        if (!p) {
                free(s);
                return NULL;
        }
        memset(p + len, with, min_len - len);
        p[min_len] = '\0';
        return p;
}

/* The text of a string-like sample (before quoting), or NULL with *err. */
/* Whether text matches pattern at its start (re.match, as Pydantic applies field
 * patterns) or anywhere (re.search, as regex rules do), decided with POSIX extended
 * regular expressions: 1 or 0, or -1 when the pattern uses escapes whose meaning
 * differs between Python and POSIX. */
static int posix_matches(const char *pattern, const char *text, bool anywhere) {
        for (const char *p = pattern; *p; p++)
                if (*p == '\\' && p[1] && ((p[1] >= 'a' && p[1] <= 'z') || (p[1] >= 'A' && p[1] <= 'Z') ||
                                            (p[1] >= '0' && p[1] <= '9')))
                        return -1;
        regex_t re;
        regmatch_t m;
        if (regcomp(&re, pattern, REG_EXTENDED) != 0)
                return -1;
        int r = regexec(&re, text, 1, &m, 0) == 0 && (anywhere || m.rm_so == 0);
        regfree(&re);
        return r;
}

static bool start_anchored(const char *pattern) {
        return pattern[0] == '^' || strncmp(pattern, "\\A", 2) == 0;
}

static bool end_anchored(const char *pattern) {
        size_t n = strlen(pattern);
        return (n >= 1 && pattern[n - 1] == '$' && !(n >= 2 && pattern[n - 2] == '\\')) ||
               (n >= 2 && pattern[n - 2] == '\\' && (pattern[n - 1] == 'Z' || pattern[n - 1] == 'z'));
}

/* The sample of a string-like field as if it had no pattern. */
static char *plain_text_sample(const struct sample_spec *ss, unsigned v) {
        const struct field *f = ss->f;
        char *s = NULL;
        switch (f->type) {
        case FT_EMAIL:
                s = strf("%s%u@example.com", f->name, v + 1);
                if (s && strlen(s) > ss->max_len) {
                        free(s);
                        s = strf("u%u@x.io", v + 1);
                }
                if (s && strlen(s) < ss->min_len) {
                        _cleanup_free_ char *local = strf("%s%u", f->name, v + 1);
                        free(s);
                        s = local ? pad_to(TAKE_PTR(local), ss->min_len > 12 ? ss->min_len - 12 : 1, 'x') : NULL;
                        if (s) {
                                char *t = strf("%s@example.com", s);
                                free(s);
                                s = t;
                        }
                }
                return s;
        case FT_URL:
                s = strf("https://example.com/%s/%u", f->name, v + 1);
                if (s && strlen(s) > ss->max_len) {
                        free(s);
                        s = strf("http://x.io/%u", v + 1);
                }
                return s ? pad_to(s, ss->min_len, 'x') : NULL;
        default: {
                _cleanup_free_ char *w = context_words_of(f->name);
                s = w ? strf("%s %u", w, v + 1) : NULL;
                if (s && strlen(s) > ss->max_len) {
                        free(s);
                        s = strf("%c%u", 'a' + (int) (v % 26), v + 1);
                        if (s && strlen(s) > ss->max_len)
                                s[ss->max_len] = '\0';
                }
                return s ? pad_to(s, ss->min_len, 'x') : NULL;
        }
        }
}

static bool length_ok(const struct sample_spec *ss, const char *s) {
        size_t n = strlen(s);
        return n >= ss->min_len && n <= ss->max_len;
}

/* The text of a string-like sample (before quoting), or NULL with *err. With a
 * pattern: the plain sample when it provably matches, else one derived from the
 * pattern (for URLs, a pattern open at its end gets a host appended). */
/* What a sample must also be: an email or a URL for those types, and a match of every
 * further regex rule of the field (one that cannot be checked here is assumed to hold). */
static bool sample_ok(const char *s, const void *userdata) {
        const struct sample_spec *ss = userdata;
        if ((ss->f->type == FT_EMAIL && !looks_like_email(s)) ||
            (ss->f->type == FT_URL && !looks_like_url(s)))
                return false;
        for (size_t i = 0; i < ss->n_also; i++)
                if (posix_matches(ss->also[i], s, true) == 0)
                        return false;
        return true;
}

static char *text_sample(const struct sample_spec *ss, unsigned v, int *err) {
        const struct field *f = ss->f;
        char *s = plain_text_sample(ss, v);
        *err = 0;
        if (!s) {
                *err = -ENOMEM;
                return NULL;
        }
        if (ss->pattern && !(posix_matches(ss->pattern, s, ss->search) == 1 && length_ok(ss, s) &&
                             sample_ok(s, ss))) {
                free(s);
                s = NULL;
                *err = context_regex_sample_filtered(ss->pattern, v, ss->min_len, ss->max_len,
                                                     sample_ok, ss, &s);
                /* a URL around what the pattern asks for, where the pattern allows it */
                if (*err == -EINVAL && f->type == FT_URL) {
                        _cleanup_free_ char *mid = NULL;
                        bool open_start = ss->search && !start_anchored(ss->pattern);
                        bool open_end = !end_anchored(ss->pattern);
                        if ((open_start || open_end) &&
                            context_regex_sample_filtered(ss->pattern, v, 0, ss->max_len, NULL,
                                                          NULL, &mid) >= 0) {
                                s = open_start ? strf("https://example.com/%s", mid)
                                               : strf("%sexample.com/%u", mid, v + 1);
                                *err = !s ? -ENOMEM : length_ok(ss, s) && sample_ok(s, ss) ? 0 : -EINVAL;
                        }
                }
                if (*err < 0) {
                        free(s);
                        return NULL;
                }
        }
        if (!length_ok(ss, s) || !sample_ok(s, ss)) {
                free(s);
                *err = -EINVAL;
                return NULL;
        }
        return s;
}

/* A valid value of variant v for a field that is not a foreign key: as a Python
 * expression of JSON data (typed = false: dates and decimals as strings) or of the
 * value the service stores (typed = true). NULL with *err when none can be derived. */
static char *sample_value(const struct sample_spec *ss, unsigned v, bool typed, int *err) {
        const struct field *f = ss->f;
        long long i;
        double x;

        *err = 0;
        switch (f->type) {
        case FT_STRING:
        case FT_TEXT:
        case FT_EMAIL:
        case FT_URL: {
                _cleanup_free_ char *t = text_sample(ss, v, err);
                return t ? context_py_str(t) : NULL;
        }
        case FT_UUID:
                return strf("\"00000000-0000-4000-8000-%012u\"", v + 1);
        case FT_INTEGER:
                if ((*err = integer_sample(ss, v, &i)) < 0)
                        return NULL;
                return strf("%lld", i);
        case FT_FLOAT:
                x = number_sample(ss, v, false);
                return context_num_str(x);
        case FT_DECIMAL:
                x = number_sample(ss, v, true);
                return typed ? strf("Decimal(\"%.2f\")", x) : strf("\"%.2f\"", x);
        case FT_BOOLEAN:
                return strdup(v % 2 ? "False" : "True");
        case FT_DATE: {
                unsigned y = ss->date_dir > 0 ? 2999 : ss->date_dir < 0 ? 2001 : 2030;
                unsigned mo = ss->date_dir > 0 ? 12 : ss->date_dir < 0 ? 1 : 6, d = v % 28 + 1;
                return typed ? strf("dt.date(%u, %u, %u)", y, mo, d)
                             : strf("\"%04u-%02u-%02u\"", y, mo, d);
        }
        case FT_DATETIME: {
                unsigned y = ss->date_dir > 0 ? 2999 : ss->date_dir < 0 ? 2001 : 2030;
                unsigned mo = ss->date_dir > 0 ? 12 : ss->date_dir < 0 ? 1 : 6, d = v % 28 + 1;
                return typed ? strf("dt.datetime(%u, %u, %u, 10, 30)", y, mo, d)
                             : strf("\"%04u-%02u-%02uT10:30:00\"", y, mo, d);
        }
        case FT_ENUM:
                return context_py_str(f->values[v % f->n_values]);
        case FT_JSON:
                return strf("{\"key\": \"value %u\", \"count\": %u}", v + 1, v + 1);
        default:
                *err = -EINVAL;
                return NULL;
        }
}

/* A JSON value Pydantic must refuse for the field. */
const char *context_invalid_value(const struct field *f) {
        switch (f->type) {
        case FT_STRING:
        case FT_TEXT:
                return "[\"not\", \"a\", \"string\"]";
        case FT_INTEGER:
        case FT_FOREIGN_KEY:
        case FT_FLOAT:
        case FT_DECIMAL:
                return "\"not a number\"";
        case FT_BOOLEAN:
                return "\"not a boolean\"";
        case FT_DATE:
                return "\"not a date\"";
        case FT_DATETIME:
                return "\"not a datetime\"";
        case FT_EMAIL:
                return "\"not an email address\"";
        case FT_URL:
                return "\"not a url\"";
        case FT_UUID:
                return "\"not-a-uuid\"";
        case FT_ENUM:
                return "\"__not_one_of_the_values__\"";
        case FT_JSON:
                return "\"not an object\"";
        default:
                return "None";
        }
}

/* Python expression of a valid JSON value for the field in a test payload; variant
 * picks among distinct values. Foreign keys create their target with its factory. */
char *context_payload_value(const struct spec *s, const struct entity *e, const struct field *f,
                            unsigned v, bool typed, int *err) {
        *err = 0;
        if (f->type == FT_FOREIGN_KEY) {
                const struct entity *t = spec_find_entity(s, f->target);
                if (!f->required || !t)
                        return strdup("None");
                return strf("make_%s(db).id", t->snake);
        }
        struct sample_spec ss;
        context_sample_spec_init(s, e, f, &ss);
        return sample_value(&ss, v, typed, err);
}

/* For fields that must be unique: the distinct samples, as a sequence of literals. */
int context_variants_node(const struct spec *s, const struct entity *e, const struct field *f,
                          struct node **ret) {
        _cleanup_node_ struct node *seq = node_new_seq();
        if (!seq)
                return -ENOMEM;
        for (unsigned v = 0; v < N_VARIANTS; v++) {
                int err;
                _cleanup_free_ char *x = context_payload_value(s, e, f, v, false, &err);
                if (!x)
                        return err < 0 ? err : -EINVAL;
                bool dup = false;
                for (size_t i = 0; i < seq->n && !dup; i++)
                        dup = streq(seq->items[i]->value, x);
                if (!dup)
                        TRY(append_str(seq, x));
        }
        *ret = TAKE_PTR(seq);
        return 0;
}

/* How many distinct samples a field has (0 when it has none). */
int context_count_variants(const struct spec *s, const struct entity *e, const struct field *f,
                           size_t *ret) {
        _cleanup_node_ struct node *v = NULL;
        int r = context_variants_node(s, e, f, &v);
        if (r == -ENOMEM)
                return r;
        *ret = r < 0 ? 0 : v->n;
        return 0;
}
