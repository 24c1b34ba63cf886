/* context-values.c - the values of the generated tests.
 *
 * Interface: context-internal.h. A field's valid samples obey its type, its length and
 * range limits, its pattern and its rules (range, regex, not_in_past, not_in_future);
 * for a pattern the plain sample is kept when POSIX regexec() shows that it matches, else
 * one is derived from the pattern (context_regex_sample_filtered()), padded to a minimum
 * length, or, when the field's patterns must all hold, combined from samples of each and
 * checked with regexec() (context_posix_matches()). Also the value
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

/* What email-validator takes (without deliverability checks), conservatively: a local
 * part of letters, digits and ._+- without leading, trailing or double dots, and a domain
 * of letter-digit-hyphen labels whose last is at least two letters. */
static bool looks_like_email(const char *s) {
        const char *at = strchr(s, '@');
        if (!at || at == s || s[0] == '.' || at[-1] == '.' || strstr(s, ".."))
                return false;
        for (const char *p = s; p < at; p++)
                if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-", *p))
                        return false;
        const char *label = at + 1;
        size_t n_labels = 0;
        for (const char *p = label;; p++) {
                if (*p == '.' || *p == '\0') {
                        size_t len = (size_t) (p - label);
                        if (len == 0 || len > 63 || label[0] == '-' || p[-1] == '-')
                                return false;
                        n_labels++;
                        if (*p == '\0')
                                break;
                        label = p + 1;
                } else if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                             (*p >= '0' && *p <= '9') || *p == '-'))
                        return false;
        }
        if (n_labels < 2 || strlen(label) < 2)
                return false;
        for (const char *p = label; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
                        return false;
        return true;
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
                else if (r->kind == RULE_TRANSITIONS && !ss->state &&
                         (f->type == FT_ENUM || f->type == FT_STRING || f->type == FT_TEXT))
                        ss->state = context_transitions_start(f, r);
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
int context_posix_matches(const char *pattern, const char *text, bool anywhere) {
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
                if (context_posix_matches(ss->also[i], s, true) == 0)
                        return false;
        return true;
}

/* Whether s provably meets the field's own pattern (or rule pattern) and every further
 * regex rule, its length limits and its type: every pattern checked by regexec(). */
static bool combo_ok(const struct sample_spec *ss, const char *s) {
        if (context_posix_matches(ss->pattern, s, ss->search) != 1 || !length_ok(ss, s) || !sample_ok(s, ss))
                return false;
        for (size_t i = 0; i < ss->n_also; i++)
                if (context_posix_matches(ss->also[i], s, true) != 1)
                        return false;
        return true;
}

/* t with its "%u" (if any) replaced by n. */
static char *with_number(const char *t, unsigned n) {
        const char *at = strstr(t, "%u");
        return at ? strf("%.*s%u%s", (int) (at - t), t, n, at + 2) : strdup(t);
}

/* Adds to *mids (n_mids of them) the text x, or x followed by y, or x with its start or
 * its end replaced by y. */
static int add_middles(char ***mids, size_t *n_mids, const char *x, const char *y) {
        size_t lx = strlen(x), ly = y ? strlen(y) : 0;
        char *c[4] = { NULL };
        size_t n = 0;
        if (!y)
                c[n++] = strdup(x);
        else {
                c[n++] = strf("%s%s", x, y);
                if (ly > 0 && ly < lx) {
                        c[n++] = strf("%s%s", y, x + ly);
                        c[n++] = strf("%.*s%s", (int) (lx - ly), x, y);
                }
        }
        char **nv = realloc(*mids, (*n_mids + n) * sizeof(char *));
        bool oom = !nv;
        for (size_t i = 0; i < n; i++)
                oom = oom || !c[i];
        if (oom) {
                for (size_t i = 0; i < n; i++)
                        free(c[i]);
                if (nv)
                        *mids = nv;
                return -ENOMEM;
        }
        *mids = nv;
        for (size_t i = 0; i < n; i++)
                nv[(*n_mids)++] = c[i];
        return 0;
}

/* When no single pattern's samples meet all the others (an email field with a rule
 * "^[a-z]+@", a string with rules "^ab" and "c$", a pattern "^[A-Z]{2}[0-9]{6}$" with a
 * rule "^(AB|CD)"): samples of the patterns, alone, two in a row, one with its start or
 * end replaced by another, or three in a row, with a prefix and suffix of the type's
 * usual text around them; the v-th string found that provably meets everything, so
 * variants differ where they can. -EINVAL when none is found. */
static int combo_sample(const struct sample_spec *ss, unsigned v, char **ret) {
        static const char *const prefixes[] = {
                "", "u%u", "u%u@", "u%u@example", "https://", "https://example.com/", "x%u ",
        };
        static const char *const suffixes[] = {
                "", "example.com", "@example.com", ".com", "example.com/%u", "/%u", " x%u",
        };
        const char *pats[1 + ELEMENTSOF(ss->also)];
        char *smp[ELEMENTSOF(pats)] = { NULL };
        char **mids = NULL, *found = NULL;
        size_t n = 0, n_mids = 0, n_found = 0;
        int r = 0;

        pats[n++] = ss->pattern;
        for (size_t i = 0; i < ss->n_also; i++)
                pats[n++] = ss->also[i];
        for (size_t i = 0; i < n && r >= 0; i++)
                if (context_regex_sample_filtered(pats[i], v, 0, ss->max_len, NULL, NULL, &smp[i]) == -ENOMEM)
                        r = -ENOMEM;
        for (size_t x = 0; x < n && r >= 0; x++)
                if (smp[x])
                        r = add_middles(&mids, &n_mids, smp[x], NULL);
        for (size_t x = 0; x < n && r >= 0; x++)
                for (size_t y = 0; y < n && r >= 0; y++)
                        if (x != y && smp[x] && smp[y])
                                r = add_middles(&mids, &n_mids, smp[x], smp[y]);
        for (size_t x = 0; x < n && r >= 0; x++)
                for (size_t y = 0; y < n && r >= 0; y++)
                        for (size_t z = 0; z < n && r >= 0; z++)
                                if (x != y && y != z && smp[x] && smp[y] && smp[z]) {
                                        _cleanup_free_ char *xy = strf("%s%s", smp[x], smp[y]);
                                        r = xy ? add_middles(&mids, &n_mids, xy, smp[z]) : -ENOMEM;
                                }
        for (size_t m = 0; m < n_mids && r >= 0 && n_found <= v; m++)
                for (size_t p = 0; p < ELEMENTSOF(prefixes) && r >= 0 && n_found <= v; p++)
                        for (size_t q = 0; q < ELEMENTSOF(suffixes) && n_found <= v; q++) {
                                _cleanup_free_ char *pre = with_number(prefixes[p], v + 1);
                                _cleanup_free_ char *suf = with_number(suffixes[q], v + 1);
                                char *c = pre && suf ? strf("%s%s%s", pre, mids[m], suf) : NULL;
                                if (!c) {
                                        r = -ENOMEM;
                                        break;
                                }
                                if (combo_ok(ss, c) && (!found || !streq(found, c))) {
                                        free(found);
                                        found = c;
                                        n_found++;
                                } else
                                        free(c);
                        }
        for (size_t i = 0; i < n; i++)
                free(smp[i]);
        for (size_t i = 0; i < n_mids; i++)
                free(mids[i]);
        free(mids);
        if (r < 0 || !found) {
                free(found);
                return r < 0 ? r : -EINVAL;
        }
        *ret = found;
        return 0;
}

static char *text_sample(const struct sample_spec *ss, unsigned v, int *err) {
        const struct field *f = ss->f;
        char *s = plain_text_sample(ss, v);
        *err = 0;
        if (!s) {
                *err = -ENOMEM;
                return NULL;
        }
        if (ss->pattern && !(context_posix_matches(ss->pattern, s, ss->search) == 1 && length_ok(ss, s) &&
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
                                s = open_start ? strf("https://example.com/%u%s", v + 1, mid)
                                               : strf("%sexample.com/%u", mid, v + 1);
                                *err = !s ? -ENOMEM : length_ok(ss, s) && sample_ok(s, ss) ? 0 : -EINVAL;
                        }
                }
                /* a pattern that only asks for a part of the text gives every variant a
                 * word of its own ("a", "a 2", "a 3"), so unique fields differ */
                if (*err == 0 && s && v > 0) {
                        _cleanup_free_ char *t = !end_anchored(ss->pattern) ? strf("%s %u", s, v + 1)
                                                 : ss->search && !start_anchored(ss->pattern) ? strf("%u %s", v + 1, s)
                                                                                              : NULL;
                        if (t && length_ok(ss, t) && sample_ok(t, ss) &&
                            context_posix_matches(ss->pattern, t, ss->search) != 0) {
                                free(s);
                                s = TAKE_PTR(t);
                        }
                }
                /* a text too short for its minimum length, where the pattern allows
                 * more after it: padded with a word of its own ("final" -> "final xxx") */
                if (*err == -EINVAL && ss->min_len > 0 && !end_anchored(ss->pattern)) {
                        _cleanup_free_ char *mid = NULL;
                        free(s);
                        s = NULL;
                        if (context_regex_sample_filtered(ss->pattern, v, 0, ss->max_len, NULL, NULL, &mid) >= 0 &&
                            strlen(mid) + 1 < ss->min_len) {
                                _cleanup_free_ char *sp = strf("%s ", mid);
                                s = sp ? pad_to(TAKE_PTR(sp), ss->min_len, 'x') : NULL;
                                *err = !s ? -ENOMEM
                                       : length_ok(ss, s) && sample_ok(s, ss) &&
                                                 context_posix_matches(ss->pattern, s, ss->search) != 0
                                               ? 0
                                               : -EINVAL;
                        }
                }
                if (*err == -EINVAL) {
                        free(s);
                        s = NULL;
                        *err = combo_sample(ss, v, &s);
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
        if (ss->state && v == 0) /* a new row starts where the transitions rule allows */
                return context_py_str(ss->state);
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
