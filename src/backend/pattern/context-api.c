/* context-api.c - validation rules and endpoints as template context.
 *
 * Interface: context_rule_ctx() and context_endpoint_ctx() (context-internal.h). A rule
 * gets its check function's name, its condition and the rejected and the accepted case its
 * generated test tries; an endpoint gets its handler and service names, summary, status
 * code, the URL expression of its test, its filters (query parameters, with a second row
 * each filter must leave out) and, for route fragments, the imports of the fragment.
 * No diagnostics: builders return 0, -EINVAL for a rule or endpoint naming an unknown
 * entity or field (a validated spec has none), -ENOMEM.
 */
#include "config.h"

#include <string.h>

#include "context-internal.h"

#define MISSING_ID "999999"

/* ---- rules ---- */

static const char *const rule_flags[_RULE_MAX] = {
        "is_unique", "is_exists", "is_not_in_past", "is_not_in_future", "is_range", "is_regex",
        "is_transitions", "is_custom",
};

/* check_<entity>_<field>_<kind> (entities may share a validation module), numbered when
 * an entity has two such rules. */
static char *rule_func(const struct spec *s, const struct rule *r) {
        unsigned nth = 0, total = 0;
        for (size_t i = 0; i < s->n_rules; i++) {
                const struct rule *o = &s->rules[i];
                if (o->kind != r->kind || !streq_ptr(o->entity, r->entity) ||
                    !streq_ptr(o->field, r->field))
                        continue;
                total++;
                if (o < r)
                        nth++;
        }
        const struct entity *e = spec_find_entity(s, r->entity);
        const char *snake = e ? e->snake : "";
        if (total > 1)
                return strf("check_%s_%s_%s_%u", snake, r->field, rule_kind_name(r->kind), nth + 1);
        return strf("check_%s_%s_%s", snake, r->field, rule_kind_name(r->kind));
}

/* A value of the field's type as a Python expression, for range tests. */
static char *range_value(const struct field *f, double x) {
        if (f->type == FT_DECIMAL) {
                _cleanup_free_ char *n = context_num_str(x);
                return n ? strf("Decimal(\"%s\")", n) : NULL;
        }
        return context_num_str(x);
}

/* For a regex rule on a field with more regex rules: a text that breaks this one and
 * provably meets the others (which validate_x() may check first), in *ret; NULL when the
 * field has no other regex rule or no such text is found (not_matching() then picks one
 * at test time). */
static int regex_breaking_value(const struct spec *s, const struct rule *r, char **ret) {
        static const char *const plain[] = { "", "!", " ", "~~~", "0", "a", "A", "-", "zz zz", "@@" };
        const char *others[8];
        char *smp[ELEMENTSOF(others)] = { NULL };
        size_t n = 0;
        int res = 0;

        *ret = NULL;
        for (size_t i = 0; i < s->n_rules && n < ELEMENTSOF(others); i++) {
                const struct rule *o = &s->rules[i];
                if (o != r && o->kind == RULE_REGEX && o->pattern && streq_ptr(o->entity, r->entity) &&
                    streq_ptr(o->field, r->field))
                        others[n++] = o->pattern;
        }
        for (size_t i = 0; i < n && res >= 0; i++)
                if (context_regex_sample_filtered(others[i], 0, 0, 1000, NULL, NULL, &smp[i]) == -ENOMEM)
                        res = -ENOMEM;
        /* candidates: the plain texts, the others' samples, and pairs of those samples */
        size_t n_cand = ELEMENTSOF(plain) + n + n * n;
        for (size_t c = 0; n > 0 && c < n_cand && res >= 0 && !*ret; c++) {
                _cleanup_free_ char *t = NULL;
                if (c < ELEMENTSOF(plain))
                        t = strdup(plain[c]);
                else if (c < ELEMENTSOF(plain) + n) {
                        const char *x = smp[c - ELEMENTSOF(plain)];
                        if (!x)
                                continue;
                        t = strdup(x);
                } else {
                        size_t a = (c - ELEMENTSOF(plain) - n) / n, b = (c - ELEMENTSOF(plain) - n) % n;
                        if (a == b || !smp[a] || !smp[b])
                                continue;
                        t = strf("%s%s", smp[a], smp[b]);
                }
                if (!t) {
                        res = -ENOMEM;
                        break;
                }
                bool ok = context_posix_matches(r->pattern, t, true) == 0;
                for (size_t i = 0; i < n && ok; i++)
                        ok = context_posix_matches(others[i], t, true) == 1;
                if (ok)
                        *ret = TAKE_PTR(t);
        }
        for (size_t i = 0; i < n; i++)
                free(smp[i]);
        return res;
}

/* The values of a rule's tests through the API (JSON values as Python code, "" when the
 * case has no test): a create and an update that break the rule and that keep it, the
 * state a row is put in before an update (transitions), and for date rules a value the
 * row holds although the rule refuses it now, which an update may send again unchanged.
 * reject_rule_only: the rejected value passes the schema, so the rule itself refuses it
 * (with its message); otherwise the schema may refuse it first, for the same field.
 * Unique rules are tested by the conflict tests of every create and update. */
struct api_cases {
        char *create_reject, *create_accept, *patch_reject, *patch_accept;
        char *patch_reject_from, *patch_accept_from, *unchanged_stored, *unchanged_sent;
        char *race_from, *race_a, *race_b;
        bool rule_only;
};

static void api_cases_clear(struct api_cases *c) {
        free(c->create_reject);
        free(c->create_accept);
        free(c->patch_reject);
        free(c->patch_accept);
        free(c->patch_reject_from);
        free(c->patch_accept_from);
        free(c->unchanged_stored);
        free(c->unchanged_sent);
        free(c->race_from);
        free(c->race_a);
        free(c->race_b);
}

/* Whether a number passes the field's own bounds (the schema's ge/le). */
static bool within_field(const struct field *f, double x) {
        return (!f->has_min || x >= f->min) && (!f->has_max || x <= f->max);
}

/* Whether a text passes the field's own schema: a plain string without pattern, within
 * its lengths. */
static bool text_within_field(const struct field *f, const char *t) {
        size_t n = 0;
        for (const unsigned char *q = (const unsigned char *) t; *q; q++)
                n += (*q & 0xC0) != 0x80; /* Pydantic counts characters */
        return (f->type == FT_STRING || f->type == FT_TEXT) && !f->pattern &&
               (!f->has_min_length || (long long) n >= f->min_length) &&
               (!f->has_max_length || (long long) n <= f->max_length);
}

static int transitions_cases(const struct field *f, const struct rule *r, struct api_cases *c) {
        const char *start = context_transitions_start(f, r);
        const char *cacc = start, *crej = NULL, *rf = NULL, *rt = NULL, *af = NULL, *at = NULL;
        if (!start || f->n_values == 0)
                return 0;
        for (size_t i = 0; i < f->n_values; i++) {
                const char *v = f->values[i];
                if (!context_transitions_initial(f, r, v))
                        crej = crej ? crej : v;
                else if (!streq(v, start) && cacc == start)
                        cacc = v;
                for (size_t j = 0; j < f->n_values; j++) {
                        const char *to = f->values[j];
                        if (streq(v, to))
                                continue;
                        bool ok = context_transitions_allow(r, v, to);
                        if (ok && !af)
                                af = v, at = to;
                        if (!ok && !rf)
                                rf = v, rt = to;
                }
        }
        c->rule_only = true;
        if (!(c->create_accept = context_py_str(cacc)))
                return -ENOMEM;
        if (crej && !(c->create_reject = context_py_str(crej)))
                return -ENOMEM;
        if (af && (!(c->patch_accept = context_py_str(at)) || !(c->patch_accept_from = context_py_str(af))))
                return -ENOMEM;
        if (rf && (!(c->patch_reject = context_py_str(rt)) || !(c->patch_reject_from = context_py_str(rf))))
                return -ENOMEM;
        const char *sf, *sa, *sb;
        if (context_transitions_race(f, r, &sf, &sa, &sb) &&
            (!(c->race_from = context_py_str(sf)) || !(c->race_a = context_py_str(sa)) ||
             !(c->race_b = context_py_str(sb))))
                return -ENOMEM;
        return 0;
}

static int api_cases_of(const struct spec *s, const struct entity *e, const struct rule *r,
                        const struct field *f, struct api_cases *c) {
        int err = 0;
        _cleanup_free_ char *rej = NULL, *acc = NULL;
        switch (r->kind) {
        case RULE_EXISTS: {
                const struct entity *t = spec_find_entity(s, f->target);
                if (!t)
                        return 0;
                rej = strdup(MISSING_ID);
                acc = strf("make_%s(db_session).id", t->snake);
                c->rule_only = true;
                break;
        }
        case RULE_NOT_IN_PAST:
        case RULE_NOT_IN_FUTURE: {
                bool date = f->type == FT_DATE, np = r->kind == RULE_NOT_IN_PAST;
                const char *past = date ? "\"2000-01-01\"" : "\"2000-01-01T00:00:00\"";
                const char *future = date ? "\"2999-12-31\"" : "\"2999-12-31T00:00:00\"";
                const char *past_t = date ? "dt.date(2000, 1, 1)" : "dt.datetime(2000, 1, 1, 0, 0)";
                const char *future_t = date ? "dt.date(2999, 12, 31)" : "dt.datetime(2999, 12, 31, 0, 0)";
                if (!date && f->type != FT_DATETIME)
                        return 0;
                rej = strdup(np ? past : future);
                acc = strdup(np ? future : past);
                if (!(c->unchanged_stored = strdup(np ? past_t : future_t)) ||
                    !(c->unchanged_sent = strdup(np ? past : future)))
                        return -ENOMEM;
                c->rule_only = true;
                break;
        }
        case RULE_RANGE: {
                bool integer = f->type == FT_INTEGER;
                double x;
                if (f->type != FT_INTEGER && f->type != FT_FLOAT && f->type != FT_DECIMAL)
                        return 0;
                if (r->has_min)
                        x = integer ? dceil(r->min) - 1 : r->min - 1;
                else
                        x = integer ? dfloor(r->max) + 1 : r->max + 1;
                /* NUMERIC(12,2): two places (1 away from the bound, rounding cannot cross it) */
                _cleanup_free_ char *n = f->type == FT_DECIMAL ? strf("\"%.2f\"", x) : context_num_str(x);
                if (!n)
                        return -ENOMEM;
                rej = strdup(n);
                c->rule_only = within_field(f, x);
                acc = context_payload_value(s, e, f, 1, false, &err);
                break;
        }
        case RULE_REGEX: {
                static const char *const plain[] = { "", "!", " ", "~~~", "0", "a", "A", "-", "zz zz", "@@" };
                _cleanup_free_ char *other = NULL;
                bool others = false;
                for (size_t i = 0; i < s->n_rules; i++)
                        others = others || (&s->rules[i] != r && s->rules[i].kind == RULE_REGEX &&
                                            streq_ptr(s->rules[i].entity, r->entity) &&
                                            streq_ptr(s->rules[i].field, r->field));
                TRY(regex_breaking_value(s, r, &other));
                const char *t = other;
                for (size_t i = 0; !t && !others && i < ELEMENTSOF(plain); i++)
                        if (context_posix_matches(r->pattern, plain[i], true) == 0)
                                t = plain[i];
                if (t) {
                        rej = context_py_str(t);
                        if (!rej)
                                return -ENOMEM;
                        c->rule_only = text_within_field(f, t);
                }
                acc = context_payload_value(s, e, f, 1, false, &err);
                break;
        }
        case RULE_TRANSITIONS:
                return transitions_cases(f, r, c);
        default:
                return 0;
        }
        if (!acc && err == -ENOMEM)
                return -ENOMEM;
        if (rej && (!(c->create_reject = strdup(rej)) || !(c->patch_reject = strdup(rej))))
                return -ENOMEM;
        if (acc && (!(c->create_accept = strdup(acc)) || !(c->patch_accept = strdup(acc))))
                return -ENOMEM;
        return 0;
}

static int put_api_cases(const struct spec *s, const struct entity *e, const struct rule *r,
                         const struct field *f, struct node *m) {
        struct api_cases c = { .rule_only = false };
        int k = api_cases_of(s, e, r, f, &c);
        const struct {
                const char *key, *value;
        } keys[] = {
                { "create_reject", c.create_reject },         { "create_accept", c.create_accept },
                { "patch_reject", c.patch_reject },           { "patch_accept", c.patch_accept },
                { "patch_reject_from", c.patch_reject_from }, { "patch_accept_from", c.patch_accept_from },
                { "unchanged_stored", c.unchanged_stored },   { "unchanged_sent", c.unchanged_sent },
                { "race_from", c.race_from },                 { "race_a", c.race_a },
                { "race_b", c.race_b },
        };
        for (size_t i = 0; k >= 0 && i < ELEMENTSOF(keys); i++)
                k = put_str(m, keys[i].key, keys[i].value ? keys[i].value : "");
        if (k >= 0)
                k = put_bool(m, "reject_rule_only", c.rule_only);
        api_cases_clear(&c);
        return k;
}

static int rule_tests(const struct spec *s, const struct entity *e, const struct rule *r,
                      const struct field *f, const char *attr, struct node *m) {
        _cleanup_free_ char *rej = NULL, *acc = NULL, *rej_cur = NULL, *acc_cur = NULL, *ov = NULL;
        _cleanup_free_ char *cls = context_class_name_of(e);
        bool existing = false;
        if (!cls)
                return -ENOMEM;
        switch (r->kind) {
        case RULE_UNIQUE: {
                /* payloads leave optional foreign keys empty, and empty values never
                 * clash: the existing row gets a target of its own */
                const struct entity *t = f->type == FT_FOREIGN_KEY && !f->required
                                                 ? spec_find_entity(s, f->target) : NULL;
                if (t && !(ov = strf(", **{\"%s\": make_%s(db_session).id}", f->name, t->snake)))
                        return -ENOMEM;
                existing = true;
                rej = strf("existing.%s", attr);
                acc = strf("existing.%s", attr);
                acc_cur = strdup("existing");
                break;
        }
        case RULE_EXISTS: {
                const struct entity *t = spec_find_entity(s, f->target);
                rej = strdup(MISSING_ID);
                acc = t ? strf("make_%s(db_session).id", t->snake) : NULL;
                break;
        }
        case RULE_NOT_IN_PAST:
        case RULE_NOT_IN_FUTURE: {
                const char *past = f->type == FT_DATE ? "dt.date(2000, 1, 1)" : "dt.datetime(2000, 1, 1, 0, 0)";
                const char *future = f->type == FT_DATE ? "dt.date(2999, 12, 31)"
                                                        : "dt.datetime(2999, 12, 31, 0, 0)";
                bool np = r->kind == RULE_NOT_IN_PAST;
                rej = strdup(np ? past : future);
                acc = strdup(np ? future : past);
                break;
        }
        case RULE_RANGE: {
                bool integer = f->type == FT_INTEGER;
                if (r->has_min) {
                        double a = integer ? dceil(r->min) : r->min;
                        rej = range_value(f, integer ? a - 1 : r->min - 1);
                        acc = range_value(f, a);
                } else {
                        double a = integer ? dfloor(r->max) : r->max;
                        rej = range_value(f, integer ? a + 1 : r->max + 1);
                        acc = range_value(f, a);
                }
                break;
        }
        case RULE_REGEX: {
                _cleanup_free_ char *pat = context_py_str(r->pattern), *smp = NULL, *other = NULL;
                int k = context_regex_sample_filtered(r->pattern, 0, 0, 1000, NULL, NULL, &smp);
                if (k == -ENOMEM || !pat)
                        return -ENOMEM;
                TRY(regex_breaking_value(s, r, &other));
                rej = other ? context_py_str(other) : strf("not_matching(%s)", pat);
                acc = k >= 0 ? context_py_str(smp) : strdup("None");
                break;
        }
        case RULE_TRANSITIONS: {
                const char *rf = NULL, *rt = NULL, *af = NULL, *at = NULL;
                for (size_t i = 0; i < f->n_values && (!rf || !af); i++) {
                        const char *from = f->values[i];
                        const struct transition *tr = NULL;
                        for (size_t j = 0; j < r->n_transitions; j++)
                                if (streq_ptr(r->transitions[j].from, from))
                                        tr = &r->transitions[j];
                        for (size_t j = 0; j < f->n_values; j++) {
                                const char *to = f->values[j];
                                bool allowed = false;
                                for (size_t k = 0; tr && k < tr->n_to; k++)
                                        allowed = allowed || streq(tr->to[k], to);
                                if (streq(to, from))
                                        continue;
                                if (allowed && !af)
                                        af = from, at = to;
                                if (!allowed && !rf)
                                        rf = from, rt = to;
                        }
                }
                if (!af)
                        af = at = f->values[0]; /* staying put is always allowed */
                if (!rf)
                        rf = f->values[0], rt = "__not_a_state__";
                _cleanup_free_ char *qrf = context_py_str(rf), *qaf = context_py_str(af);
                rej = context_py_str(rt);
                acc = context_py_str(at);
                rej_cur = qrf ? strf("%s(%s=%s)", cls, attr, qrf) : NULL;
                acc_cur = qaf ? strf("%s(%s=%s)", cls, attr, qaf) : NULL;
                if (!rej_cur || !acc_cur)
                        return -ENOMEM;
                break;
        }
        default:
                return 0;
        }
        if (!rej || !acc)
                return -ENOMEM;
        TRY(put_bool(m, "needs_existing", existing));
        TRY(put_str(m, "existing_overrides", ov ? ov : ""));
        TRY(put_strf(m, "rejected_data", "{\"%s\": %s}", attr, rej));
        TRY(put_strf(m, "accepted_data", "{\"%s\": %s}", attr, acc));
        TRY(put_str(m, "rejected_current", rej_cur ? rej_cur : "None"));
        TRY(put_str(m, "accepted_current", acc_cur ? acc_cur : "None"));
        return put_api_cases(s, e, r, f, m);
}

static int rule_fill(const struct spec *s, const struct rule *r, struct node *m) {
        const struct entity *e = spec_find_entity(s, r->entity);
        const struct field *f = e ? entity_find_field(e, r->field) : NULL;
        if (!e || !f)
                return -EINVAL;
        _cleanup_free_ char *attr = context_member_attr(e, f->name), *func = rule_func(s, r);
        _cleanup_free_ char *cls = context_class_name_of(e);
        _cleanup_free_ char *cname = func ? context_upper(func + strlen("check")) : NULL;
        _cleanup_free_ char *msg = context_one_line(r->message);
        if (!attr || !func || !cls || !cname || !msg)
                return -ENOMEM;

        TRY(put_str(m, "entity_name", e->name));
        TRY(put_str(m, "class_name", cls));
        TRY(put_str(m, "snake", e->snake));
        TRY(put_str(m, "kind", rule_kind_name(r->kind)));
        for (int k = 0; k < _RULE_MAX; k++)
                TRY(put_bool(m, rule_flags[k], (int) r->kind == k));
        TRY(put_str(m, "field", f->name));
        TRY(put_str(m, "attr", attr));
        TRY(put_str(m, "message", r->message));
        {
                _cleanup_free_ char *mp = context_py_str(r->message);
                if (!mp)
                        return -ENOMEM;
                TRY(put_str(m, "message_py", mp));
        }
        TRY(put_str(m, "message_line", msg));
        TRY(put_str(m, "func", func));
        {
                _cleanup_free_ char *ps = strf("db: Session, data: Dict[str, Any], current: Optional[%s] = None", cls);
                _cleanup_free_ char *def = ps ? context_black_def(0, func, ps, "None") : NULL;
                if (!def)
                        return -ENOMEM;
                TRY(put_str(m, "def", def));
        }
        TRY(put_str(m, "const_name", cname));
        TRY(put_str(m, "exception", r->kind == RULE_UNIQUE ? "ConflictError" : "ValidationFailed"));
        {
                /* the rule's raise statement, in the check function's if (column 8) */
                _cleanup_free_ char *mpy = context_py_str(r->message), *fpy = context_py_str(f->name);
                _cleanup_free_ char *call = mpy && fpy ? strf("%s(%s, %s)",
                                                              r->kind == RULE_UNIQUE ? "ConflictError" : "ValidationFailed",
                                                              mpy, fpy)
                                                       : NULL;
                TRY(put_black_stmt(m, "raise_stmt", 8, "raise ", call));
        }
        TRY(put_bool(m, "is_date_field", f->type == FT_DATE));
        TRY(put_bool(m, "case_insensitive", r->kind == RULE_UNIQUE && f->type == FT_EMAIL));
        if (r->kind == RULE_UNIQUE) {
                /* the unique rule's query (column 4), laid out as black does */
                _cleanup_free_ char *q = f->type == FT_EMAIL
                                                 ? strf("db.query(%s).filter(func.lower(%s.%s) == str(value).lower())",
                                                        cls, cls, attr)
                                                 : strf("db.query(%s).filter(%s.%s == value)", cls, cls, attr);
                TRY(put_black_stmt(m, "query_stmt", 4, "query = ", q));
        }
        TRY(put_bool(m, "is_datetime_field", f->type == FT_DATETIME));
        TRY(put_str(m, "pattern", r->pattern));

        /* exists */
        const struct entity *t = r->kind == RULE_EXISTS ? spec_find_entity(s, f->target) : NULL;
        _cleanup_free_ char *tc = t ? context_class_name_of(t) : NULL;
        if (t && !tc)
                return -ENOMEM;
        TRY(put_str(m, "target_class", tc));
        TRY(put_str(m, "target_snake", t ? t->snake : NULL));

        /* range */
        /* a Decimal compares exactly with a float: 0.01 as a float is not 0.01 */
        bool dec = f && f->type == FT_DECIMAL;
        _cleanup_free_ char *mn = r->has_min ? context_num_str(r->min) : NULL;
        _cleanup_free_ char *mx = r->has_max ? context_num_str(r->max) : NULL;
        _cleanup_free_ char *mnq = mn && dec ? strf("Decimal(\"%s\")", mn) : NULL;
        _cleanup_free_ char *mxq = mx && dec ? strf("Decimal(\"%s\")", mx) : NULL;
        TRY(put_bool(m, "has_min", r->has_min));
        TRY(put_bool(m, "has_max", r->has_max));
        TRY(put_str(m, "min", mn));
        TRY(put_str(m, "max", mx));
        if ((mn && dec && !mnq) || (mx && dec && !mxq))
                return -ENOMEM;
        if (r->kind == RULE_RANGE) {
                const char *lo = mnq ? mnq : mn, *hi = mxq ? mxq : mx;
                if (lo && hi)
                        TRY(put_strf(m, "condition", "value < %s or value > %s", lo, hi));
                else
                        TRY(put_strf(m, "condition", "value %s %s", lo ? "<" : ">", lo ? lo : hi));
        } else
                TRY(put_str(m, "condition", NULL));

        /* transitions */
        _cleanup_node_ struct node *trs = node_new_seq();
        if (!trs)
                return -ENOMEM;
        for (size_t i = 0; i < r->n_transitions; i++) {
                const struct transition *tr = &r->transitions[i];
                _cleanup_node_ struct node *tm = node_new_map();
                struct strbuf sb;
                int k;
                if (!tm)
                        return -ENOMEM;
                strbuf_init(&sb, 0);
                k = strbuf_addc(&sb, '(');
                for (size_t j = 0; j < tr->n_to && k >= 0; j++) {
                        k = strbuf_adds(&sb, j ? ", " : "");
                        if (k >= 0)
                                k = context_add_py_str(&sb, tr->to[j]);
                }
                if (k >= 0)
                        k = strbuf_adds(&sb, tr->n_to == 1 ? ",)" : ")");
                if (k >= 0)
                        k = put_str(tm, "to_tuple", strbuf_str(&sb));
                {
                        /* `"from": (...),` in the dict (column 4), laid out as black does */
                        _cleanup_free_ char *fpy = k >= 0 ? context_py_str(tr->from) : NULL;
                        _cleanup_free_ char *pre = fpy ? strf("%s: ", fpy) : NULL;
                        _cleanup_free_ char *it = pre ? context_black_item(4, pre, strbuf_str(&sb), ",") : NULL;
                        if (k >= 0)
                                k = it ? put_str(tm, "entry", it) : -ENOMEM;
                }
                strbuf_free(&sb);
                TRY(k);
                TRY(put_str(tm, "from", tr->from));
                TRY(node_seq_append(trs, TAKE_PTR(tm)));
        }
        TRY(put(m, "transitions", TAKE_PTR(trs)));
        {
                const char *start = r->kind == RULE_TRANSITIONS ? context_transitions_start(f, r) : NULL;
                struct strbuf sb;
                size_t n = 0;
                int k;
                strbuf_init(&sb, 0);
                k = strbuf_addc(&sb, '(');
                if (start && k >= 0) {
                        k = context_add_py_str(&sb, start);
                        n++;
                }
                for (size_t i = 0; start && i < r->n_transitions && k >= 0; i++) {
                        const struct transition *tr = &r->transitions[i];
                        for (size_t j = 0; streq_ptr(tr->from, start) && j < tr->n_to && k >= 0; j++) {
                                if (streq(tr->to[j], start))
                                        continue;
                                k = strbuf_adds(&sb, ", ");
                                if (k >= 0)
                                        k = context_add_py_str(&sb, tr->to[j]);
                                n++;
                        }
                }
                if (k >= 0)
                        k = strbuf_adds(&sb, n == 1 ? ",)" : ")");
                if (k >= 0)
                        k = put_str(m, "initial_tuple", strbuf_str(&sb));
                if (k >= 0)
                        k = put_strf(m, "initial_const", "%s_INITIAL", cname);
                {
                        /* the constant's statement (column 0), laid out as black does */
                        _cleanup_free_ char *pre = k >= 0 ? strf("%s_INITIAL: Tuple[str, ...] = ", cname) : NULL;
                        _cleanup_free_ char *st = pre ? context_black_stmt(0, pre, strbuf_str(&sb)) : NULL;
                        if (k >= 0)
                                k = st ? put_str(m, "initial_stmt", st) : -ENOMEM;
                }
                strbuf_free(&sb);
                TRY(k);
        }
        return rule_tests(s, e, r, f, attr, m);
}

static const char *map_value(const struct node *m, const char *key) {
        const struct node *v = node_get(m, key);
        return v ? v->value : NULL;
}

/* The rule tests' calls (test_validations.py): the rejected one inside `with pytest.raises`
 * (column 8), the accepted one at column 4, laid out as black does. */
static int rule_test_calls(struct node *m) {
        const char *snake = map_value(m, "snake"), *func = map_value(m, "func");
        const char *rd = map_value(m, "rejected_data"), *rc = map_value(m, "rejected_current");
        const char *ad = map_value(m, "accepted_data"), *ac = map_value(m, "accepted_current");
        if (!snake || !func)
                return 0;
        {
                /* `assert info.value.message == "..."`, parenthesised and split at == as
                 * black does when it does not fit */
                const char *msg = map_value(m, "message");
                _cleanup_free_ char *py = msg ? context_py_str(msg) : NULL;
                if (msg && !py)
                        return -ENOMEM;
                if (py) {
                        size_t n = strlen(py);
                        _cleanup_free_ char *st =
                                4 + strlen("assert info.value.message == ") + n <= CONTEXT_LINE_LENGTH
                                        ? strf("assert info.value.message == %s", py)
                                : 8 + strlen("info.value.message == ") + n <= CONTEXT_LINE_LENGTH
                                        ? strf("assert (\n        info.value.message == %s\n    )", py)
                                        : strf("assert (\n        info.value.message\n        == %s\n    )", py);
                        if (!st)
                                return -ENOMEM;
                        TRY(put_str(m, "message_assert", st));
                }
        }
        if (rd && rc) {
                _cleanup_free_ char *call = strf("%s_rules.validate_%s(db_session, %s, %s)", snake, snake, rd, rc);
                TRY(put_black_stmt(m, "rejected_call", 8, "", call));
        }
        if (ad && ac) {
                _cleanup_free_ char *call = strf("%s_rules.%s(db_session, %s, %s)", snake, func, ad, ac);
                TRY(put_black_stmt(m, "accepted_call", 4, "", call));
        }
        return 0;
}

int context_rule_ctx(const struct spec *s, const struct rule *r, struct node **ret) {
        _cleanup_node_ struct node *m = node_new_map();
        if (!m)
                return -ENOMEM;
        TRY(rule_fill(s, r, m));
        TRY(rule_test_calls(m));
        *ret = TAKE_PTR(m);
        return 0;
}

/* ---- endpoints ---- */

static const char *const op_flags[_OP_MAX] = {
        "is_list", "is_create", "is_get", "is_update", "is_delete", "is_custom",
};

static const char *query_type(const struct field *f, const struct field_parts *p) {
        switch (f->type) {
        case FT_EMAIL:
        case FT_URL:
                return "str";
        case FT_ENUM:
                return p->enum_alias;
        default:
                return context_py_type_of(f->type);
        }
}

/* The names the list function binds or uses besides its filters (and <snake>_service). */
static const char *const filter_taken[] = {
        "db", "limit", "offset", "filters", "rows", "error_responses", NULL,
};

static bool filter_name_taken(const struct entity *e, const char *name) {
        size_t n = strlen(e->snake);
        return context_in_list(filter_taken, name) ||
               (strncmp(name, e->snake, n) == 0 && streq(name + n, "_service"));
}

/* Whether name is the attribute of a filter of ep other than the idx-th, or the
 * parameter of one before it. */
static int filter_name_used(const struct entity *e, const struct endpoint *ep, size_t idx,
                            const char *name, bool *ret);

/* The list function's parameter of ep's idx-th filter: its attribute, or for a name the
 * function binds itself "<attr>_filter", lengthened with "_" while another filter has it. */
static char *filter_param(const struct entity *e, const struct endpoint *ep, size_t idx) {
        const struct field *f = entity_find_field(e, ep->filters[idx]);
        char *param = f ? context_member_attr(e, f->name) : NULL;
        if (!param || !filter_name_taken(e, param))
                return param;
        char *c = strf("%s_filter", param);
        free(param);
        for (;;) {
                bool used;
                if (!c || filter_name_used(e, ep, idx, c, &used) < 0) {
                        free(c);
                        return NULL;
                }
                if (!used && !filter_name_taken(e, c))
                        return c;
                char *longer = strf("%s_", c);
                free(c);
                c = longer;
        }
}

static int filter_name_used(const struct entity *e, const struct endpoint *ep, size_t idx,
                            const char *name, bool *ret) {
        *ret = false;
        for (size_t j = 0; j < ep->n_filters && !*ret; j++) {
                const struct field *g = entity_find_field(e, ep->filters[j]);
                if (j == idx || !g)
                        continue;
                _cleanup_free_ char *other = j < idx ? filter_param(e, ep, j) : context_member_attr(e, g->name);
                if (!other)
                        return -ENOMEM;
                *ret = streq(other, name);
                if (!*ret && j < idx) {
                        _cleanup_free_ char *attr = context_member_attr(e, g->name);
                        if (!attr)
                                return -ENOMEM;
                        *ret = streq(attr, name);
                }
        }
        return 0;
}

static int filter_ctx(const struct spec *s, const struct entity *e, const struct endpoint *ep,
                      size_t idx, const struct field *f, struct node **ret) {
        struct field_parts p = { .attr = NULL };
        _cleanup_node_ struct node *m = node_new_map();
        _cleanup_free_ char *param = NULL, *w = context_words_of(f->name);
        int r;

        if (!m || !w || context_field_parts_init(e, f, &p) < 0) {
                context_field_parts_clear(&p);
                return -ENOMEM;
        }
        param = filter_param(e, ep, idx);
        const struct entity *t = f->type == FT_FOREIGN_KEY ? spec_find_entity(s, f->target) : NULL;
        r = param ? 0 : -ENOMEM;
        if (r >= 0)
                r = put_str(m, "name", f->name);
        if (r >= 0) {
                /* the filter test's check of every row (column 4), laid out as black does */
                _cleanup_free_ char *call = strf("all(row[\"%s\"] == mine[0][\"%s\"] for row in rows)", f->name, f->name);
                _cleanup_free_ char *st = call ? context_black_stmt(4, "assert ", call) : NULL;
                r = st ? put_str(m, "all_equal_stmt", st) : -ENOMEM;
        }
        if (r >= 0)
                r = put_str(m, "attr", p.attr);
        if (r >= 0)
                r = put_str(m, "param", param);
        if (r >= 0)
                r = put_str(m, "type", field_type_name(f->type));
        if (r >= 0)
{
                /* one parameter of the list's signature, laid out with its comma */
                _cleanup_free_ char *pre = strf("%s: ", param);
                _cleanup_free_ char *q = strf("Annotated[Optional[%s], Query(%s%s%sdescription=\"Only rows whose %s equals this value.\")]",
                                              query_type(f, &p),
                                              streq(param, f->name) ? "" : "alias=\"",
                                              streq(param, f->name) ? "" : f->name,
                                              streq(param, f->name) ? "" : "\", ", w);
                _cleanup_free_ char *d = pre && q ? context_black_item(4, pre, q, " = None,") : NULL;
                r = d ? put_str(m, "decl", d) : -ENOMEM;
        }
        if (r >= 0)
                r = f->type == FT_UUID ? put_strf(m, "value", "str(%s) if %s is not None else None", param, param)
                                       : put_str(m, "value", param);
        if (r >= 0)
                r = put_bool(m, "fk_optional", t && !f->required);
        if (r >= 0)
                r = put_strf(m, "make_target", "make_%s", t ? t->snake : "");
        if (r >= 0)
                r = put_bool(m, "is_date", f->type == FT_DATE || f->type == FT_DATETIME);
        /* a second row the filter must leave out, when the field can differ */
        if (r >= 0) {
                _cleanup_free_ char *other = NULL;
                if (t || context_field_conflicts(s, e, f))
                        other = strf("make_%s(db_session)", e->snake);
                else {
                        int err;
                        _cleanup_free_ char *a = context_payload_value(s, e, f, 0, false, &err);
                        _cleanup_free_ char *b =
                                a ? context_payload_value(s, e, f, 1, false, &err) : NULL;
                        if (a && b && !streq(a, b))
                                other = strf("make_%s(db_session, **{\"%s\": %s})", e->snake, f->name, b);
                        else if (!a && err == -ENOMEM)
                                r = err;
                }
                if (r >= 0)
                        r = put_str(m, "other_make", other ? other : "");
                /* `other = make_...(...)` in the filter's test (column 4), laid out as black does */
                _cleanup_free_ char *ost = other ? context_black_stmt(4, "other = ", other) : NULL;
                if (r >= 0 && other && !ost)
                        r = -ENOMEM;
                if (r >= 0)
                        r = put_str(m, "other_stmt", ost ? ost : "");
        }
        context_field_parts_clear(&p);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(m);
        return 0;
}

/* The error statuses an endpoint answers (its `responses` and the test that reads the
 * OpenAPI document): 400 for a body that is not JSON (create, update), 401 without valid
 * credentials, 403 for credentials that may not write (a read-only API key, a token
 * without the write scope: every protected endpoint that is not a read), 404 for an id no
 * row has, 409 when a value must be unique, 422 for an invalid body, query or path
 * parameter (every endpoint has one) or a broken rule, 500 for anything unexpected. */
static int endpoint_errors(const struct spec *s, const struct entity *e, const struct endpoint *ep,
                           struct node *m) {
        bool conflicts = false;
        for (size_t i = 0; i < e->n_fields; i++)
                conflicts = conflicts || context_field_conflicts(s, e, &e->fields[i]);
        bool with_id = ep->op == OP_GET || ep->op == OP_UPDATE || ep->op == OP_DELETE;
        bool writes = ep->op == OP_CREATE || ep->op == OP_UPDATE;
        bool auth = spec_endpoint_needs_auth(s, ep);
        bool reads = streq_ptr(ep->method, "GET") || streq_ptr(ep->method, "HEAD");
        const char *st[7];
        size_t n = 0;
        if (writes)
                st[n++] = "400";
        if (auth)
                st[n++] = "401";
        if (auth && !reads)
                st[n++] = "403";
        if (with_id)
                st[n++] = "404";
        if (writes && conflicts)
                st[n++] = "409";
        st[n++] = "422";
        st[n++] = "500";
        struct strbuf list, set;
        int r = 0;
        strbuf_init(&list, 0);
        strbuf_init(&set, 0);
        r = strbuf_addc(&set, '{');
        for (size_t i = 0; i < n && r >= 0; i++) {
                r = strbuf_addf(&list, "%s%s", i ? ", " : "", st[i]);
                if (r >= 0)
                        r = strbuf_addf(&set, "%s\"%s\"", i ? ", " : "", st[i]);
        }
        if (r >= 0)
                r = strbuf_addc(&set, '}');
        if (r >= 0)
                r = put_str(m, "error_statuses", strbuf_str(&list));
        if (r >= 0)
                r = put_str(m, "error_statuses_set", strbuf_str(&set));
        strbuf_free(&list);
        strbuf_free(&set);
        return r;
}

static int endpoint_fill(const struct spec *s, const struct entity *e, const struct endpoint *ep,
                         struct node *m) {
        _cleanup_free_ char *cls = context_class_name_of(e), *words = context_title_words(e);
        _cleanup_free_ char *desc = context_one_line(ep->description);
        if (!cls || !words || !desc)
                return -ENOMEM;
        const char *op = op_kind_name(ep->op);
        bool with_id = ep->op == OP_GET || ep->op == OP_UPDATE || ep->op == OP_DELETE;
        static const char *const summaries[] = { "List ", "Create a ", "Get a ", "Update a ",
                                                 "Delete a ", "" };
        static const int codes[] = { 200, 201, 200, 200, 204, 200 };

        TRY(put_str(m, "entity_name", e->name));
        TRY(put_str(m, "class_name", cls));
        TRY(put_str(m, "snake", e->snake));
        TRY(put_str(m, "table", e->table));
        TRY(put_str(m, "operation", ep->op == OP_CUSTOM ? ep->name : op));
        for (int k = 0; k < _OP_MAX; k++)
                TRY(put_bool(m, op_flags[k], (int) ep->op == k));
        TRY(put_str(m, "method", ep->method));
        {
                _cleanup_free_ char *lower = strdup(ep->method ? ep->method : "get");
                for (char *q = lower; q && *q; q++)
                        *q = (char) (*q >= 'A' && *q <= 'Z' ? *q - 'A' + 'a' : *q);
                if (!lower)
                        return -ENOMEM;
                TRY(put_str(m, "method_lower", lower));
        }
        TRY(put_str(m, "path", ep->path));
        TRY(put_bool(m, "requires_auth", spec_endpoint_needs_auth(s, ep)));
        if (ep->op == OP_LIST) {
                TRY(put_strf(m, "handler", "list_%s", e->table));
                TRY(put_strf(m, "service_fn", "list_%s", e->table));
        } else {
                TRY(put_strf(m, "handler", "%s_%s", ep->op == OP_CUSTOM ? ep->name : op, e->snake));
                TRY(put_strf(m, "service_fn", "%s_%s", op, e->snake));
        }
        if (ep->op == OP_CREATE) {
                /* the create handler's signature, laid out as black does */
                _cleanup_free_ char *h = strf("%s_%s", op, e->snake);
                _cleanup_free_ char *ps = strf("payload: %sCreate, db: DbSession", cls);
                _cleanup_free_ char *ret = strf("%sRead", cls);
                _cleanup_free_ char *def = h && ps && ret ? context_black_def(0, h, ps, ret) : NULL;
                if (!def)
                        return -ENOMEM;
                TRY(put_str(m, "create_def", def));
        }
        if (ep->op == OP_LIST) {
                _cleanup_free_ char *tw = context_words_of(e->table);
                if (!tw)
                        return -ENOMEM;
                TRY(put_strf(m, "summary", "%s%s", summaries[ep->op], tw));
        } else
                TRY(put_strf(m, "summary", "%s%s", summaries[ep->op < _OP_MAX ? ep->op : OP_CUSTOM],
                             ep->op == OP_CUSTOM ? ep->name : words));
        TRY(put_str(m, "description", desc));
        TRY(put_int(m, "status_code", codes[ep->op < _OP_MAX ? ep->op : OP_CUSTOM]));
        TRY(put_bool(m, "with_id", with_id));
        TRY(endpoint_errors(s, e, ep, m));

        /* f"{API}/tasks/{item_id}" with the path's {id} */
        struct strbuf sb;
        int r;
        strbuf_init(&sb, 0);
        r = strbuf_adds(&sb, "f\"{API}");
        for (const char *q = ep->path ? ep->path : ""; *q && r >= 0; q++) {
                if (*q == '{') {
                        const char *end = strchr(q, '}');
                        if (end) {
                                r = strbuf_adds(&sb, "{item_id}");
                                q = end;
                                continue;
                        }
                }
                r = strbuf_addc(&sb, *q);
        }
        if (r >= 0)
                r = strbuf_addc(&sb, '"');
        if (r >= 0)
                r = put_str(m, "url_expr", strbuf_str(&sb));
        strbuf_free(&sb);
        TRY(r);

        _cleanup_node_ struct node *filters = node_new_seq();
        if (!filters)
                return -ENOMEM;
        for (size_t i = 0; i < ep->n_filters; i++) {
                const struct field *f = entity_find_field(e, ep->filters[i]);
                struct node *fc = NULL;
                if (!f)
                        continue;
                TRY(filter_ctx(s, e, ep, i, f, &fc));
                TRY(node_seq_append(filters, fc));
        }
        TRY(mark_last(filters));
        if (ep->op == OP_LIST) {
                /* the list handler's call of its service (column 4), laid out as black does */
                _cleanup_free_ char *call = strf("%s_service.list_%s(db, limit=limit, offset=offset%s)", e->snake,
                                                 e->table, filters->n > 0 ? ", filters=filters" : "");
                TRY(put_black_stmt(m, "list_call_stmt", 4, "rows = ", call));
        }
        TRY(put_bool(m, "has_filters", filters->n > 0));
        TRY(put(m, "filters", TAKE_PTR(filters)));
        return 0;
}

/* The imports of one route fragment. */
int context_route_imports(const struct spec *s, const struct layout *L, const struct entity *e,
                          const struct endpoint *ep, bool first, struct imports *im) {
        _cleanup_free_ char *cls = context_class_name_of(e);
        const char *schemas = context_layout_emodule(L, EROLE_SCHEMA, s, e);
        _cleanup_free_ char *svc = strf("%s_service", e->snake);
        _cleanup_free_ char *read = strf("%sRead", cls), *create = strf("%sCreate", cls);
        _cleanup_free_ char *update = strf("%sUpdate", cls);
        if (!cls || !svc || !read || !create || !update)
                return -ENOMEM;

        if (first)
                TRY(context_imp_from(im, IMP_THIRD, "fastapi", "APIRouter"));
        TRY(context_imp_local(im, L->module[ROLE_DATABASE], "DbSession"));
        TRY(context_imp_local(im, L->module[ROLE_ERRORS], "error_responses"));
        if (ep->op == OP_LIST || ep->op == OP_GET || ep->op == OP_UPDATE || ep->op == OP_DELETE)
                TRY(context_imp_from(im, IMP_STDLIB, "typing", "Annotated"));
        TRY(context_imp_module(im, context_layout_emodule(L, EROLE_SERVICE, s, e), svc));
        if (spec_endpoint_needs_auth(s, ep)) {
                TRY(context_imp_from(im, IMP_THIRD, "fastapi", "Depends"));
                TRY(context_imp_local(im, L->module[ROLE_AUTH], "require_auth"));
                TRY(context_imp_local(im, L->module[ROLE_AUTH], "AUTH_OPENAPI"));
        }
        switch (ep->op) {
        case OP_LIST:
                TRY(context_imp_from(im, IMP_STDLIB, "typing", "List"));
                TRY(context_imp_from(im, IMP_THIRD, "fastapi", "Query"));
                TRY(context_imp_local(im, schemas, read));
                if (ep->n_filters > 0) {
                        TRY(context_imp_from(im, IMP_STDLIB, "typing", "Any"));
                        TRY(context_imp_from(im, IMP_STDLIB, "typing", "Dict"));
                        TRY(context_imp_from(im, IMP_STDLIB, "typing", "Optional"));
                }
                for (size_t i = 0; i < ep->n_filters; i++) {
                        const struct field *f = entity_find_field(e, ep->filters[i]);
                        if (!f)
                                continue;
                        if (f->type == FT_DATE || f->type == FT_DATETIME)
                                TRY(context_imp_plain(im, IMP_STDLIB, "import datetime as dt"));
                        else if (f->type == FT_DECIMAL)
                                TRY(context_imp_from(im, IMP_STDLIB, "decimal", "Decimal"));
                        else if (f->type == FT_UUID)
                                TRY(context_imp_from(im, IMP_STDLIB, "uuid", "UUID"));
                        else if (f->type == FT_ENUM) {
                                struct field_parts p = { .attr = NULL };
                                int r = context_field_parts_init(e, f, &p);
                                if (r >= 0)
                                        r = context_imp_local(im, schemas, p.enum_alias);
                                context_field_parts_clear(&p);
                                TRY(r);
                        }
                }
                break;
        case OP_CREATE:
                TRY(context_imp_local(im, schemas, create));
                TRY(context_imp_local(im, schemas, read));
                break;
        case OP_GET:
                TRY(context_imp_from(im, IMP_THIRD, "fastapi", "Path"));
                TRY(context_imp_local(im, schemas, read));
                break;
        case OP_UPDATE:
                TRY(context_imp_from(im, IMP_THIRD, "fastapi", "Path"));
                TRY(context_imp_local(im, schemas, update));
                TRY(context_imp_local(im, schemas, read));
                break;
        case OP_DELETE:
                TRY(context_imp_from(im, IMP_THIRD, "fastapi", "Path"));
                TRY(context_imp_from(im, IMP_THIRD, "fastapi", "Response"));
                break;
        default:
                break;
        }
        return 0;
}

int context_endpoint_ctx(const struct spec *s, const struct layout *L, const struct endpoint *ep,
                         bool with_imports, bool first, struct node **ret) {
        const struct entity *e = spec_find_entity(s, ep->entity);
        _cleanup_node_ struct node *m = node_new_map();
        if (!e)
                return -EINVAL;
        if (!m)
                return -ENOMEM;
        TRY(endpoint_fill(s, e, ep, m));
        if (with_imports) {
                struct imports im = { .n = 0 };
                int r = context_route_imports(s, L, e, ep, first, &im);
                if (r < 0) {
                        context_imports_clear(&im);
                        return r;
                }
                TRY(context_put_imports(m, "imports", &im));
        }
        *ret = TAKE_PTR(m);
        return 0;
}
