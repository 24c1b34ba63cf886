/* context-fields.c - one field of an entity as template context.
 *
 * Interface: context_field_ctx() and the field helpers in context-internal.h. Per field:
 * the Python attribute and its alias, the SQLAlchemy column and migration column, the
 * Pydantic annotations and Field() arguments of the create, update and read schemas, checks
 * that Field() cannot apply to EmailStr and AnyUrl, enum values, the foreign key's target,
 * the documentation line and the test data (context-values.c).
 * No diagnostics: builders return 0, -ENOMEM or, when no test value exists, what
 * context-values.c said.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "context-internal.h"
#include "format/doc.h"

/* ---- fields ---- */

bool context_field_conflicts(const struct spec *s, const struct entity *e, const struct field *f) {
        if (f->unique)
                return true;
        for (size_t i = 0; i < s->n_rules; i++)
                if (s->rules[i].kind == RULE_UNIQUE && streq_ptr(s->rules[i].entity, e->name) &&
                    streq_ptr(s->rules[i].field, f->name))
                        return true;
        return false;
}

bool context_field_has_rule(const struct spec *s, const struct entity *e, const struct field *f,
                            enum rule_kind kind) {
        for (size_t i = 0; i < s->n_rules; i++)
                if (s->rules[i].kind == kind && streq_ptr(s->rules[i].entity, e->name) &&
                    streq_ptr(s->rules[i].field, f->name))
                        return true;
        return false;
}

const char *context_transitions_start(const struct field *f, const struct rule *r) {
        const char *d = f->default_value ? f->default_value->value : NULL;
        for (size_t i = 0; d && i < f->n_values; i++)
                if (streq(f->values[i], d))
                        return d;
        if (d && f->n_values == 0)
                return d;
        if (r->n_transitions > 0)
                return r->transitions[0].from;
        return f->n_values > 0 ? f->values[0] : NULL;
}

bool context_transitions_allow(const struct rule *r, const char *from, const char *to) {
        for (size_t i = 0; i < r->n_transitions; i++) {
                if (!streq_ptr(r->transitions[i].from, from))
                        continue;
                for (size_t j = 0; j < r->transitions[i].n_to; j++)
                        if (streq_ptr(r->transitions[i].to[j], to))
                                return true;
        }
        return false;
}

bool context_transitions_race(const struct field *f, const struct rule *r, const char **from,
                              const char **a, const char **b) {
        *from = *a = *b = NULL;
        for (size_t i = 0; i < f->n_values; i++)
                for (size_t j = 0; j < f->n_values; j++)
                        for (size_t k = j + 1; k < f->n_values; k++) {
                                const char *s = f->values[i], *x = f->values[j], *y = f->values[k];
                                if (streq(s, x) || streq(s, y) || !context_transitions_allow(r, s, x) ||
                                    !context_transitions_allow(r, s, y) ||
                                    context_transitions_allow(r, x, y) || context_transitions_allow(r, y, x))
                                        continue;
                                *from = s, *a = x, *b = y;
                                return true;
                        }
        return false;
}

bool context_transitions_initial(const struct field *f, const struct rule *r, const char *state) {
        const char *start = context_transitions_start(f, r);
        return start && (streq(start, state) || context_transitions_allow(r, start, state));
}

static const char *sa_base_type(const struct field *f, char *buf, size_t size) {
        switch (f->type) {
        case FT_STRING:
                snprintf(buf, size, "sa.String(%lld)", f->has_max_length ? f->max_length : 255);
                return buf;
        case FT_EMAIL:
                snprintf(buf, size, "sa.String(%lld)", f->has_max_length ? f->max_length : 320);
                return buf;
        case FT_URL:
                snprintf(buf, size, "sa.String(%lld)", f->has_max_length ? f->max_length : 2048);
                return buf;
        case FT_TEXT:
                return "sa.Text()";
        case FT_INTEGER:
        case FT_FOREIGN_KEY:
                return "sa.Integer()";
        case FT_FLOAT:
                return "sa.Float()";
        case FT_DECIMAL:
                return "sa.Numeric(12, 2)";
        case FT_BOOLEAN:
                return "sa.Boolean()";
        case FT_DATE:
                return "sa.Date()";
        case FT_DATETIME:
                return "sa.DateTime()";
        case FT_UUID:
                return "sa.String(36)";
        case FT_JSON:
                return "sa.JSON()";
        default:
                return NULL;
        }
}

/* The Python type of a model attribute (Mapped[...]): what SQLAlchemy 2.0 loads. */
const char *context_model_py_type(enum field_type t) {
        switch (t) {
        case FT_INTEGER:
        case FT_FOREIGN_KEY:
                return "int";
        case FT_FLOAT:
                return "float";
        case FT_DECIMAL:
                return "decimal.Decimal";
        case FT_BOOLEAN:
                return "bool";
        case FT_DATE:
                return "dt.date";
        case FT_DATETIME:
                return "dt.datetime";
        case FT_JSON:
                return "Any";
        default:
                return "str";
        }
}

/* sa.Enum("a", "b", name=..., native_enum=False, create_constraint=True), or the plain
 * type. The enum's CHECK constraint is named after the type: in the model "<field>_enum",
 * which the naming convention turns into ck_<table>_<field>_enum, and in the migration
 * (no naming convention there) that final name. */
static char *sa_type(const struct entity *e, const struct field *f, bool model) {
        char buf[64];
        if (f->type != FT_ENUM) {
                const char *t = sa_base_type(f, buf, sizeof(buf));
                return t ? strdup(t) : NULL;
        }
        struct strbuf sb;
        int r;
        strbuf_init(&sb, 0);
        r = strbuf_adds(&sb, "sa.Enum(");
        for (size_t i = 0; i < f->n_values && r >= 0; i++) {
                r = strbuf_adds(&sb, i ? ", " : "");
                if (r >= 0)
                        r = context_add_py_str(&sb, f->values[i]);
        }
        if (r >= 0 && model)
                r = strbuf_addf(&sb, ", name=\"%s_enum\"", f->name);
        else if (r >= 0) {
                _cleanup_free_ char *name = context_db_name("ck_%s_%s_enum", e->table, f->name);
                r = name ? strbuf_addf(&sb, ", name=op.f(\"%s\")", name) : -ENOMEM;
        }
        if (r >= 0)
                r = strbuf_adds(&sb, ", native_enum=False, create_constraint=True)");
        if (r < 0) {
                strbuf_free(&sb);
                return NULL;
        }
        return strbuf_detach(&sb, NULL);
}

const char *context_py_type_of(enum field_type t) {
        switch (t) {
        case FT_STRING:
        case FT_TEXT:
                return "str";
        case FT_INTEGER:
        case FT_FOREIGN_KEY:
                return "int";
        case FT_FLOAT:
                return "float";
        case FT_DECIMAL:
                return "Decimal";
        case FT_BOOLEAN:
                return "bool";
        case FT_DATE:
                return "dt.date";
        case FT_DATETIME:
                return "dt.datetime";
        case FT_EMAIL:
                return "EmailStr";
        case FT_URL:
                return "AnyUrl";
        case FT_UUID:
                return "UUID";
        case FT_JSON:
                return "Dict[str, Any]";
        default:
                return "str";
        }
}

/* The default as a Python expression, for the model (schema = false) or a Pydantic
 * schema; NULL with *err = 0 when the field has none. */
static char *default_expr(const struct field *f, bool schema, int *err) {
        const struct node *d = f->default_value;
        bool b;
        *err = 0;
        if (!d || node_is_null(d))
                return NULL;
        char *s = NULL;
        switch (f->type) {
        case FT_INTEGER:
        case FT_FOREIGN_KEY:
        case FT_FLOAT:
                s = strdup(d->value);
                break;
        case FT_DECIMAL:
                s = strf("%s(\"%s\")", schema ? "Decimal" : "decimal.Decimal", d->value);
                break;
        case FT_BOOLEAN:
                s = strdup(node_as_bool(d, &b) == 0 && b ? "True" : "False");
                break;
        case FT_DATE:
        case FT_DATETIME: {
                _cleanup_free_ char *q = context_py_str(d->value);
                s = q ? strf("dt.%s.fromisoformat(%s)", f->type == FT_DATE ? "date" : "datetime", q)
                      : NULL;
                break;
        }
        case FT_UUID: {
                _cleanup_free_ char *q = context_py_str(d->value);
                s = q ? (schema ? strf("UUID(%s)", q) : strdup(q)) : NULL;
                break;
        }
        case FT_JSON: {
                struct diags dg = DIAGS_INIT;
                _cleanup_node_ struct node *parsed = NULL;
                struct strbuf sb;
                strbuf_init(&sb, 0);
                if (doc_parse_json(d->value, strlen(d->value), "default", &parsed, &dg) < 0)
                        parsed = node_new_string(d->value);
                diags_clear(&dg);
                if (parsed && context_add_py_literal(&sb, parsed) >= 0)
                        s = strf("lambda: %s", strbuf_str(&sb));
                strbuf_free(&sb);
                break;
        }
        default:
                s = context_py_str(d->value);
        }
        if (!s)
                *err = -ENOMEM;
        return s;
}

void context_field_parts_clear(struct field_parts *p) {
        free(p->attr);
        free(p->alias_kw);
        free(p->enum_alias);
        free(p->py_type);
        free(p->read_type);
}

int context_field_parts_init(const struct entity *e, const struct field *f, struct field_parts *p) {
        *p = (struct field_parts) { .attr = context_member_attr(e, f->name) };
        if (!p->attr)
                return -ENOMEM;
        bool aliased = !streq(p->attr, f->name);
        p->alias_kw = aliased ? strf(", alias=\"%s\"", f->name) : strdup("");
        if (!p->alias_kw)
                return -ENOMEM;
        if (f->type == FT_ENUM) {
                _cleanup_free_ char *cls = context_class_name_of(e);
                _cleanup_free_ char *fp = context_pascal_of(f->name);
                if (!cls || !fp)
                        return -ENOMEM;
                p->enum_alias = strf("%s%s", cls, fp);
                if (p->enum_alias && (streq(fp, "Create") || streq(fp, "Update") || streq(fp, "Read"))) {
                        free(p->enum_alias);
                        p->enum_alias = strf("%s%sValue", cls, fp);
                }
                if (!p->enum_alias)
                        return -ENOMEM;
                p->py_type = strdup(p->enum_alias);
                p->read_type = strdup(p->enum_alias);
        } else {
                p->py_type = strdup(context_py_type_of(f->type));
                p->read_type = strdup(f->type == FT_EMAIL || f->type == FT_URL
                                              ? "str"
                                              : context_py_type_of(f->type));
        }
        return p->py_type && p->read_type ? 0 : -ENOMEM;
}

/* Field() keyword constraints Pydantic enforces for this type (", ge=1, le=5"). */
static int add_constraints(struct strbuf *sb, const struct field *f) {
        if (f->type == FT_STRING || f->type == FT_TEXT) {
                if (f->has_min_length)
                        TRY(strbuf_addf(sb, ", min_length=%lld", f->min_length));
                if (f->has_max_length || f->type == FT_STRING)
                        TRY(strbuf_addf(sb, ", max_length=%lld", f->has_max_length ? f->max_length : 255));
                if (f->pattern) {
                        TRY(strbuf_adds(sb, ", pattern="));
                        TRY(context_add_py_str(sb, f->pattern));
                }
        }
        if (f->type == FT_INTEGER || f->type == FT_FLOAT || f->type == FT_DECIMAL) {
                _cleanup_free_ char *mn = f->has_min ? context_num_str(f->min) : NULL;
                _cleanup_free_ char *mx = f->has_max ? context_num_str(f->max) : NULL;
                if ((f->has_min && !mn) || (f->has_max && !mx))
                        return -ENOMEM;
                /* a Decimal compares exactly with a float (0.01 as a float is not 0.01) and
                 * Field() takes floats: decimal bounds are checked by the schema's validator */
                if (mn && f->type != FT_DECIMAL)
                        TRY(strbuf_addf(sb, ", ge=%s", mn));
                if (mx && f->type != FT_DECIMAL)
                        TRY(strbuf_addf(sb, ", le=%s", mx));
                if (f->type == FT_DECIMAL)
                        TRY(strbuf_adds(sb, ", max_digits=12, decimal_places=2"));
        }
        return 0;
}

/* Checks for constraints Field() cannot apply: lengths and patterns of EmailStr/AnyUrl,
 * bounds of Decimals; [{condition, message}] on a variable "text", the value as str. */
static int text_checks(const struct field *f, struct node **ret) {
        _cleanup_node_ struct node *seq = node_new_seq();
        if (!seq)
                return -ENOMEM;
        for (int k = 0; f->type == FT_DECIMAL && k < 2; k++) {
                bool lo = k == 0;
                if (!(lo ? f->has_min : f->has_max))
                        continue;
                _cleanup_free_ char *v = context_num_str(lo ? f->min : f->max);
                _cleanup_node_ struct node *m = node_new_map();
                if (!v || !m)
                        return -ENOMEM;
                TRY(put_strf(m, "condition", "Decimal(text) %s Decimal(\"%s\")", lo ? "<" : ">", v));
                TRY(put_strf(m, "message", "ensure this value is %s than or equal to %s",
                             lo ? "greater" : "less", v));
                TRY(node_seq_append(seq, TAKE_PTR(m)));
        }
        if (f->type == FT_EMAIL || f->type == FT_URL) {
                for (int k = 0; k < 3; k++) {
                        _cleanup_node_ struct node *m = node_new_map();
                        _cleanup_free_ char *pat = f->pattern ? context_py_str(f->pattern) : NULL;
                        if (!m || (f->pattern && !pat))
                                return -ENOMEM;
                        if (k == 0 && f->has_min_length) {
                                TRY(put_strf(m, "condition", "len(text) < %lld", f->min_length));
                                TRY(put_strf(m, "message", "ensure this value has at least %lld characters",
                                             f->min_length));
                        } else if (k == 1 && f->has_max_length) {
                                TRY(put_strf(m, "condition", "len(text) > %lld", f->max_length));
                                TRY(put_strf(m, "message", "ensure this value has at most %lld characters",
                                             f->max_length));
                        } else if (k == 2 && pat) {
                                TRY(put_strf(m, "condition", "not re.match(%s, text)", pat));
                                TRY(put_strf(m, "message", "string does not match regex '%s'", f->pattern));
                        } else
                                continue;
                        TRY(node_seq_append(seq, TAKE_PTR(m)));
                }
        }
        *ret = TAKE_PTR(seq);
        return 0;
}

static const char *const type_flags[_FT_MAX] = {
        "is_string", "is_text", "is_integer", "is_float", "is_decimal", "is_boolean", "is_date",
        "is_datetime", "is_email", "is_url", "is_uuid", "is_enum", "is_fk", "is_json",
};

static char *doc_type(const struct field *f) {
        switch (f->type) {
        case FT_STRING:
                return strf("string(%lld)", f->has_max_length ? f->max_length : 255);
        case FT_ENUM: {
                struct strbuf sb;
                int r;
                strbuf_init(&sb, 0);
                r = strbuf_adds(&sb, "enum (");
                for (size_t i = 0; i < f->n_values && r >= 0; i++)
                        r = strbuf_addf(&sb, "%s%s", i ? ", " : "", f->values[i]);
                if (r >= 0)
                        r = strbuf_addc(&sb, ')');
                if (r < 0) {
                        strbuf_free(&sb);
                        return NULL;
                }
                return strbuf_detach(&sb, NULL);
        }
        case FT_FOREIGN_KEY:
                return strf("foreign_key to %s", f->target);
        default:
                return strdup(field_type_name(f->type));
        }
}

void context_add_part(struct strbuf *sb, int *r, const char *fmt, ...) {
        va_list ap;
        if (*r < 0)
                return;
        if (sb->len > 0 && (*r = strbuf_adds(sb, ", ")) < 0)
                return;
        va_start(ap, fmt);
        *r = strbuf_vaddf(sb, fmt, ap);
        va_end(ap);
}

static char *constraints_doc(const struct spec *s, const struct entity *e, const struct field *f) {
        struct strbuf sb;
        int r = 0;
        strbuf_init(&sb, 0);
        if (f->required)
                context_add_part(&sb, &r, "required");
        if (context_field_conflicts(s, e, f))
                context_add_part(&sb, &r, "unique");
        if (f->index)
                context_add_part(&sb, &r, "indexed");
        if (f->has_min_length)
                context_add_part(&sb, &r, "at least %lld characters", f->min_length);
        if (f->has_max_length)
                context_add_part(&sb, &r, "at most %lld characters", f->max_length);
        if (f->has_min)
                context_add_part(&sb, &r, "minimum %g", f->min);
        if (f->has_max)
                context_add_part(&sb, &r, "maximum %g", f->max);
        if (f->pattern)
                context_add_part(&sb, &r, "matches `%s`", f->pattern);
        if (f->default_value && f->default_value->value)
                context_add_part(&sb, &r, "default `%s`", f->default_value->value);
        if (r >= 0 && sb.len == 0)
                r = strbuf_adds(&sb, "optional");
        if (r < 0) {
                strbuf_free(&sb);
                return NULL;
        }
        return strbuf_detach(&sb, NULL);
}

static int field_fill(const struct spec *s, const struct entity *e, const struct field *f,
                      const struct field_parts *p, struct node *m) {
        const struct entity *t = f->type == FT_FOREIGN_KEY ? spec_find_entity(s, f->target) : NULL;
        bool aliased = !streq(p->attr, f->name);
        int err;

        TRY(put_str(m, "name", f->name));
        TRY(put_str(m, "attr", p->attr));
        TRY(put_bool(m, "aliased", aliased));
        TRY(put_str(m, "alias_kw", p->alias_kw));
        TRY(put_str(m, "type", field_type_name(f->type)));
        for (int k = 0; k < _FT_MAX; k++)
                TRY(put_bool(m, type_flags[k], (int) f->type == k));
        TRY(put_bool(m, "required", f->required));
        TRY(put_bool(m, "optional", !f->required));
        TRY(put_bool(m, "unique", f->unique));
        TRY(put_bool(m, "index", f->index));
        TRY(put_bool(m, "conflict", context_field_conflicts(s, e, f)));
        TRY(put_bool(m, "comparable", f->type == FT_STRING || f->type == FT_TEXT ||
                                              f->type == FT_INTEGER || f->type == FT_BOOLEAN ||
                                              f->type == FT_ENUM));
        {
                _cleanup_free_ char *d = context_one_line(f->description);
                _cleanup_free_ char *w = context_words_of(f->name);
                if (!d || !w)
                        return -ENOMEM;
                TRY(put_str(m, "description", d));
                if (*d)
                        TRY(put_str(m, "doc", d));
                else
                        TRY(put_strf(m, "doc", "The %s of the %s.", w, e->name));
        }

        /* SQLAlchemy */
        _cleanup_free_ char *st = sa_type(e, f, false);
        _cleanup_free_ char *mst = sa_type(e, f, true);
        _cleanup_free_ char *mdef = default_expr(f, false, &err);
        if (!st || !mst || err < 0)
                return -ENOMEM;
        TRY(context_field_db(s, e, f, p, st, mst, mdef, m));
        int r;
        TRY(put_bool(m, "has_default", mdef != NULL));
        TRY(put_str(m, "model_default", mdef));
        TRY(put_str(m, "default_doc", f->default_value ? f->default_value->value : NULL));

        /* Pydantic */
        _cleanup_free_ char *sdef = default_expr(f, true, &err);
        if (err < 0)
                return err;
        struct strbuf cons;
        strbuf_init(&cons, 0);
        r = add_constraints(&cons, f);
        _cleanup_free_ char *cs = r < 0 ? NULL : strbuf_detach(&cons, NULL);
        strbuf_free(&cons);
        if (!cs)
                return -ENOMEM;
        TRY(put_str(m, "py_type", p->py_type));
        TRY(put_str(m, "enum_alias", p->enum_alias));
        bool not_null = context_field_not_null(f);
        if (not_null)
                TRY(put_str(m, "create_type", p->py_type));
        else
                TRY(put_strf(m, "create_type", "Optional[%s]", p->py_type));
        if (sdef && f->type == FT_JSON)
                TRY(put_strf(m, "create_field", "Field(default_factory=%s%s%s)", sdef, p->alias_kw, cs));
        else
                TRY(put_strf(m, "create_field", "Field(%s%s%s)",
                             sdef ? sdef : f->required ? "..." : "None", p->alias_kw, cs));
        TRY(put_strf(m, "update_type", "Optional[%s]", p->py_type));
        TRY(put_strf(m, "update_field", "Field(None%s%s)", p->alias_kw, cs));
        if (not_null) {
                TRY(put_str(m, "read_type", p->read_type));
                if (aliased)
                        TRY(put_strf(m, "read_field", " = Field(...%s)", p->alias_kw));
                else
                        TRY(put_str(m, "read_field", ""));
        } else {
                TRY(put_strf(m, "read_type", "Optional[%s]", p->read_type));
                if (aliased)
                        TRY(put_strf(m, "read_field", " = Field(None%s)", p->alias_kw));
                else
                        TRY(put_str(m, "read_field", " = None"));
        }
        struct node *checks = NULL;
        TRY(text_checks(f, &checks));
        TRY(put_bool(m, "has_checks", checks->n > 0));
        TRY(put_str(m, "check_type", f->type == FT_DECIMAL ? "Decimal" : "str"));
        TRY(put(m, "checks", checks));

        /* enums and foreign keys */
        _cleanup_node_ struct node *values = node_new_seq();
        if (!values)
                return -ENOMEM;
        for (size_t i = 0; i < f->n_values; i++) {
                _cleanup_node_ struct node *v = node_new_map();
                if (!v)
                        return -ENOMEM;
                _cleanup_free_ char *member = spec_enum_member(f->values[i]);
                if (!member)
                        return -ENOMEM;
                _cleanup_free_ char *py = context_py_str(f->values[i]);
                if (!py)
                        return -ENOMEM;
                TRY(put_str(v, "value", f->values[i]));
                TRY(put_str(v, "py", py));
                TRY(put_str(v, "member", member));
                TRY(node_seq_append(values, TAKE_PTR(v)));
        }
        TRY(mark_last(values));
        TRY(put(m, "values", TAKE_PTR(values)));
        if (f->n_values > 0) {
                /* `Alias = Literal[...]`, laid out as black does */
                struct strbuf lit;
                strbuf_init(&lit, 0);
                int rl = strbuf_adds(&lit, "Literal[");
                for (size_t i = 0; i < f->n_values && rl >= 0; i++) {
                        if (i > 0)
                                rl = strbuf_adds(&lit, ", ");
                        if (rl >= 0)
                                rl = context_add_py_str(&lit, f->values[i]);
                }
                if (rl >= 0)
                        rl = strbuf_addc(&lit, ']');
                _cleanup_free_ char *pre = rl >= 0 ? strf("%s = ", p->enum_alias) : NULL;
                _cleanup_free_ char *lst = pre ? context_black_stmt(0, pre, strbuf_str(&lit)) : NULL;
                strbuf_free(&lit);
                if (!lst)
                        return -ENOMEM;
                TRY(put_str(m, "literal_stmt", lst));
        }
        /* the values a new row may have: a transitions rule allows only its initial states */
        const struct rule *tr = NULL;
        for (size_t i = 0; i < s->n_rules && !tr; i++)
                if (s->rules[i].kind == RULE_TRANSITIONS && streq_ptr(s->rules[i].entity, e->name) &&
                    streq_ptr(s->rules[i].field, f->name))
                        tr = &s->rules[i];
        _cleanup_node_ struct node *cvalues = node_new_seq();
        if (!cvalues)
                return -ENOMEM;
        for (size_t i = 0; i < f->n_values; i++) {
                if (tr && !context_transitions_initial(f, tr, f->values[i]))
                        continue;
                _cleanup_node_ struct node *v = node_new_map();
                if (!v)
                        return -ENOMEM;
                TRY(put_str(v, "value", f->values[i]));
                TRY(node_seq_append(cvalues, TAKE_PTR(v)));
        }
        TRY(mark_last(cvalues));
        TRY(put(m, "create_values", TAKE_PTR(cvalues)));
        {
                /* the API test's `for value in [...]:` over them (column 4), laid out as black does */
                struct strbuf lst;
                strbuf_init(&lst, 0);
                int rl = strbuf_addc(&lst, '[');
                bool first = true;
                for (size_t i = 0; i < f->n_values && rl >= 0; i++) {
                        if (tr && !context_transitions_initial(f, tr, f->values[i]))
                                continue;
                        if (!first)
                                rl = strbuf_adds(&lst, ", ");
                        if (rl >= 0)
                                rl = context_add_py_str(&lst, f->values[i]);
                        first = false;
                }
                if (rl >= 0)
                        rl = strbuf_addc(&lst, ']');
                _cleanup_free_ char *loop =
                        rl >= 0 ? context_black_item(4, "for value in ", strbuf_str(&lst), ":") : NULL;
                strbuf_free(&lst);
                if (!loop)
                        return -ENOMEM;
                TRY(put_str(m, "create_values_for", loop));
        }
        if (t) {
                _cleanup_free_ char *tc = context_class_name_of(t);
                if (!tc)
                        return -ENOMEM;
                TRY(put_str(m, "fk_entity", t->name));
                TRY(put_str(m, "fk_class", tc));
                TRY(put_str(m, "fk_table", t->table));
                TRY(put_str(m, "fk_snake", t->snake));
                TRY(put_str(m, "ondelete", f->required ? "CASCADE" : "SET NULL"));
        } else {
                TRY(put_str(m, "fk_entity", NULL));
                TRY(put_str(m, "fk_class", NULL));
                TRY(put_str(m, "fk_table", NULL));
                TRY(put_str(m, "fk_snake", NULL));
                TRY(put_str(m, "ondelete", NULL));
        }
        _cleanup_free_ char *dt = doc_type(f), *cd = constraints_doc(s, e, f);
        if (!dt || !cd)
                return -ENOMEM;
        TRY(put_str(m, "doc_type", dt));
        TRY(put_str(m, "constraints_doc", cd));

        /* test data */
        _cleanup_free_ char *s0 = context_payload_value(s, e, f, 0, false, &err);
        _cleanup_free_ char *s1 = s0 ? context_payload_value(s, e, f, 1, false, &err) : NULL;
        _cleanup_free_ char *st0 = s1 ? context_payload_value(s, e, f, 0, true, &err) : NULL;
        if (!s0 && err == -ENOMEM)
                return err;
        _cleanup_node_ struct node *variants = NULL;
        if (st0 && context_field_conflicts(s, e, f) && f->type != FT_FOREIGN_KEY &&
            (err = context_variants_node(s, e, f, &variants)) == -ENOMEM)
                return err;
        bool varies = variants && variants->n > 1;
        _cleanup_free_ char *fu = context_upper(f->name), *eu = context_upper(e->snake);
        if (!fu || !eu)
                return -ENOMEM;
        TRY(put_str(m, "sample", s0 ? s0 : "None"));
        TRY(put_str(m, "sample_alt", s1 ? s1 : "None"));
        TRY(put_str(m, "sample_typed", st0 ? st0 : "None"));
        TRY(put_strf(m, "variants_const", "_%s_%s_VALUES", eu, fu));
        if (varies)
                TRY(put_strf(m, "payload_expr", "_%s_%s_VALUES[n %% %zu]", eu, fu, variants->n));
        else
                TRY(put_str(m, "payload_expr", s0 ? s0 : "None"));
        TRY(put_bool(m, "varies", varies));
        TRY(put(m, "variants", variants && varies ? TAKE_PTR(variants) : node_new_seq()));
        TRY(put_bool(m, "alt_differs", s0 && s1 && !streq(s0, s1)));
        TRY(put_str(m, "invalid", context_invalid_value(f)));
        return 0;
}

int context_field_ctx(const struct spec *s, const struct entity *e, const struct field *f,
                      struct node **ret) {
        _cleanup_node_ struct node *m = node_new_map();
        struct field_parts p = { .attr = NULL };
        if (!m)
                return -ENOMEM;
        int r = context_field_parts_init(e, f, &p);
        if (r >= 0)
                r = field_fill(s, e, f, &p, m);
        context_field_parts_clear(&p);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(m);
        return 0;
}
