/* context-db.c - what the database of a generated project enforces on one field.
 *
 * Interface: context_field_db(), context_field_not_null() and context_db_name() in
 * context-internal.h. Per field: NOT NULL (required, or a default, which is also the server
 * default), the CHECK constraints of its limits (a number's range: its min/max and the
 * spec's range rules on it, in one constraint; lengths; enums through sa.Enum), UNIQUE or a
 * unique index (e-mails: a unique index on lower()), indexes on foreign keys and list
 * filters, every name as the models' naming convention gives it (at most 63 bytes,
 * context_db_name()); the model's mapped_column() and the migration's sa.Column() laid out
 * as black does, the values the model tests write to see the database refuse them, and
 * the line ENTITIES.md shows.
 * No diagnostics: builders return 0 or -ENOMEM.
 */
#include "config.h"

#include <string.h>

#include "context-internal.h"
#include "shared/sha256.h"

char *context_db_name(const char *fmt, ...) {
        char *name;
        va_list ap;
        va_start(ap, fmt);
        int n = vasprintf(&name, fmt, ap);
        va_end(ap);
        if (n < 0)
                return NULL;
        if ((size_t) n <= CONTEXT_DB_NAME_MAX)
                return name;
        uint8_t digest[32];
        char hex[65];
        sha256_buf(name, (size_t) n, digest);
        sha256_hex(digest, hex);
        /* the names are ASCII (spec identifiers), so no character is cut in two */
        snprintf(name + CONTEXT_DB_NAME_MAX - 9, 10, "_%.8s", hex);
        return name;
}

bool context_field_not_null(const struct field *f) {
        return f->required || (f->default_value && !node_is_null(f->default_value));
}

/* Whether a list endpoint of e filters on f. */
static bool field_filtered(const struct spec *s, const struct entity *e, const struct field *f) {
        for (size_t i = 0; i < s->n_endpoints; i++) {
                const struct endpoint *ep = &s->endpoints[i];
                if (ep->op != OP_LIST || !streq_ptr(ep->entity, e->name))
                        continue;
                for (size_t k = 0; k < ep->n_filters; k++)
                        if (streq_ptr(ep->filters[k], f->name))
                                return true;
        }
        return false;
}

struct db_parts {
        bool not_null;     /* NOT NULL: required, or a default to fall back on */
        bool has_min, has_max; /* a number's range: its min/max and its range rules' */
        double min, max;
        bool db_unique;    /* a UNIQUE constraint or unique index on the column */
        bool db_index;     /* an index: asked for, a foreign key or a list filter */
        bool unique_index; /* db_unique && db_index: one unique index, no constraint */
        bool ci_unique;    /* an e-mail unique whatever its case: a unique index on lower() */
        char *server_default; /* code: the default as the database applies it, or NULL */
        char *checks_model;   /* code: ", sa.CheckConstraint(...)" for the model's column */
        char *checks_mig;     /* the same for the migration, with final names */
};

static void db_parts_clear(struct db_parts *d) {
        free(d->server_default);
        free(d->checks_model);
        free(d->checks_mig);
}

/* The default as a server default: a SQL literal both SQLite and PostgreSQL read as the
 * column's type. */
static char *server_default_expr(const struct field *f) {
        const char *v = f->default_value->value;
        struct strbuf sb;
        bool b;
        int r;
        strbuf_init(&sb, 0);
        switch (f->type) {
        case FT_INTEGER:
        case FT_FOREIGN_KEY:
        case FT_FLOAT:
        case FT_DECIMAL:
                r = strbuf_adds(&sb, "sa.text(");
                if (r >= 0)
                        r = context_add_py_str(&sb, v);
                if (r >= 0)
                        r = strbuf_addc(&sb, ')');
                break;
        case FT_BOOLEAN:
                r = strbuf_adds(&sb, node_as_bool(f->default_value, &b) == 0 && b ? "sa.true()" : "sa.false()");
                break;
        case FT_DATETIME: {
                /* SQLAlchemy reads SQLite's datetimes as "YYYY-MM-DD HH:MM:SS" */
                _cleanup_free_ char *t = strdup(v);
                if (!t)
                        return NULL;
                if (strlen(t) > 10 && t[10] == 'T')
                        t[10] = ' ';
                r = context_add_py_str(&sb, t);
                break;
        }
        default:
                r = context_add_py_str(&sb, v);
        }
        if (r < 0) {
                strbuf_free(&sb);
                return NULL;
        }
        return strbuf_detach(&sb, NULL);
}

/* One CHECK constraint on column f->name with SQL text sql, named <field>_<suffix> in the
 * model, which the naming convention turns into the migration's final name. */
static int add_check(struct strbuf *model, struct strbuf *mig, const struct entity *e,
                     const struct field *f, const char *suffix, const char *sql) {
        _cleanup_free_ char *name = context_db_name("ck_%s_%s_%s", e->table, f->name, suffix);
        if (!name)
                return -ENOMEM;
        TRY(strbuf_adds(model, ", sa.CheckConstraint("));
        TRY(context_add_py_str(model, sql));
        TRY(strbuf_addf(model, ", name=\"%s_%s\")", f->name, suffix));
        TRY(strbuf_adds(mig, ", sa.CheckConstraint("));
        TRY(context_add_py_str(mig, sql));
        return strbuf_addf(mig, ", name=op.f(\"%s\"))", name);
}

/* A number's range as the database checks it: the field's min and max narrowed by every
 * range rule of the spec on it (the service checks both, so a value must meet both). */
static void db_range(const struct spec *s, const struct entity *e, const struct field *f,
                     struct db_parts *d) {
        if (f->type != FT_INTEGER && f->type != FT_FLOAT && f->type != FT_DECIMAL)
                return;
        d->has_min = f->has_min, d->min = f->min;
        d->has_max = f->has_max, d->max = f->max;
        for (size_t i = 0; i < s->n_rules; i++) {
                const struct rule *r = &s->rules[i];
                if (r->kind != RULE_RANGE || !streq_ptr(r->entity, e->name) || !streq_ptr(r->field, f->name))
                        continue;
                if (r->has_min && (!d->has_min || r->min > d->min))
                        d->has_min = true, d->min = r->min;
                if (r->has_max && (!d->has_max || r->max < d->max))
                        d->has_max = true, d->max = r->max;
        }
}

/* The CHECK constraints of a field's limits: a range for numbers (db_range()), a length
 * for strings (min_length, max_length as the spec gives them; String(n) alone does not
 * limit SQLite). Enums check their values through sa.Enum(create_constraint=True). */
static int db_checks(const struct entity *e, const struct field *f, struct db_parts *d) {
        struct strbuf model, mig, sql;
        int r = 0;
        strbuf_init(&model, 0);
        strbuf_init(&mig, 0);
        strbuf_init(&sql, 0);
        _cleanup_free_ char *col = strf("\"%s\"", f->name);
        if (!col)
                r = -ENOMEM;
        bool text = f->type == FT_STRING || f->type == FT_TEXT || f->type == FT_EMAIL || f->type == FT_URL;
        if (r >= 0 && (d->has_min || d->has_max)) {
                _cleanup_free_ char *mn = d->has_min ? context_num_str(d->min) : NULL;
                _cleanup_free_ char *mx = d->has_max ? context_num_str(d->max) : NULL;
                if ((d->has_min && !mn) || (d->has_max && !mx))
                        r = -ENOMEM;
                if (r >= 0 && mn)
                        r = strbuf_addf(&sql, "%s >= %s", col, mn);
                if (r >= 0 && mx)
                        r = strbuf_addf(&sql, "%s%s <= %s", mn ? " AND " : "", col, mx);
                if (r >= 0)
                        r = add_check(&model, &mig, e, f, "range", strbuf_str(&sql));
        }
        strbuf_reset(&sql);
        if (r >= 0 && text && (f->has_min_length || f->has_max_length)) {
                if (f->has_min_length)
                        r = strbuf_addf(&sql, "length(%s) >= %lld", col, f->min_length);
                if (r >= 0 && f->has_max_length)
                        r = strbuf_addf(&sql, "%slength(%s) <= %lld", f->has_min_length ? " AND " : "",
                                        col, f->max_length);
                if (r >= 0)
                        r = add_check(&model, &mig, e, f, "length", strbuf_str(&sql));
        }
        strbuf_free(&sql);
        if (r >= 0) {
                d->checks_model = strbuf_detach(&model, NULL);
                d->checks_mig = strbuf_detach(&mig, NULL);
                if (!d->checks_model || !d->checks_mig)
                        r = -ENOMEM;
        }
        strbuf_free(&model);
        strbuf_free(&mig);
        return r;
}

static int db_parts_init(const struct spec *s, const struct entity *e, const struct field *f,
                         bool has_default, struct db_parts *d) {
        *d = (struct db_parts) { .not_null = f->required || has_default };
        bool conflict = context_field_conflicts(s, e, f);
        d->ci_unique = conflict && f->type == FT_EMAIL;
        d->db_unique = conflict && !d->ci_unique;
        d->db_index = f->index || f->type == FT_FOREIGN_KEY || field_filtered(s, e, f);
        d->unique_index = d->db_unique && d->db_index;
        if (has_default && !(d->server_default = server_default_expr(f)))
                return -ENOMEM;
        db_range(s, e, f, d);
        return db_checks(e, f, d);
}

/* The value just outside one side of the range (side 0: below the minimum, 1: above the
 * maximum) that a model test writes; false when the range has no bound on that side.
 * Whole for integer columns (PostgreSQL would round a fraction), far enough from a huge
 * bound to differ from it; *overflow when PostgreSQL refuses the value itself as a
 * DataError before the CHECK sees it (past INTEGER's 32 bits or NUMERIC(12,2)'s digits). */
static bool range_violation(const struct field *f, const struct db_parts *d, int side, double *ret,
                            bool *overflow) {
        if (!(side ? d->has_max : d->has_min))
                return false;
        bool whole = f->type == FT_INTEGER;
        double b = side ? d->max : d->min, step = dabs(b) > 1e15 ? dabs(b) : 1;
        *ret = side ? (whole ? dfloor(b) : b) + step : (whole ? dceil(b) : b) - step;
        *overflow = whole ? dabs(*ret) > 2147483647.0 : f->type == FT_DECIMAL && dabs(*ret) >= 1e10;
        return true;
}

/* A string too long for a VARCHAR(n), which PostgreSQL refuses as a DataError: the model
 * test's value when no minimum length gives a shorter one. */
static bool text_violation(const struct field *f, bool *too_long) {
        bool text = f->type == FT_STRING || f->type == FT_TEXT || f->type == FT_EMAIL || f->type == FT_URL;
        *too_long = text && !(f->has_min_length && f->min_length > 0) && f->has_max_length;
        return text && ((f->has_min_length && f->min_length > 0) || f->has_max_length);
}

void context_field_db_violations(const struct spec *s, const struct entity *e, const struct field *f,
                                 bool *any, bool *data_error) {
        struct db_parts d = { .not_null = context_field_not_null(f) };
        bool too_long, overflow;
        double v;
        db_range(s, e, f, &d);
        if (text_violation(f, &too_long) || d.not_null || f->type == FT_ENUM)
                *any = true;
        if (too_long)
                *data_error = true;
        for (int side = 0; side < 2; side++)
                if (range_violation(f, &d, side, &v, &overflow)) {
                        *any = true;
                        *data_error = *data_error || overflow;
                }
}

static int add_violation(struct node *seq, const char *kind, const char *what, const char *value,
                         const char *expect) {
        _cleanup_node_ struct node *v = node_new_map();
        if (!v)
                return -ENOMEM;
        TRY(put_str(v, "kind", kind));
        TRY(put_str(v, "what", what));
        TRY(put_str(v, "value", value));
        TRY(put_str(v, "expect", expect));
        return node_seq_append(seq, TAKE_PTR(v));
}

/* For the model tests: values the database itself refuses in this column (written with
 * an UPDATE that bypasses the API): null in a NOT NULL column, a value outside an enum, a
 * number outside the range, a string outside the lengths. {kind, what, value (code),
 * expect (the exception, code)} and the statement setting it. */
static int db_violations(const struct entity *e, const struct field *f, const struct field_parts *p,
                         const struct db_parts *d, struct node *m) {
        _cleanup_node_ struct node *seq = node_new_seq();
        if (!seq)
                return -ENOMEM;
        if (d->not_null)
                TRY(add_violation(seq, "null", "null", "sa.null()", "IntegrityError"));
        if (f->type == FT_ENUM) {
                /* "~", or more of them until no value is that: short enough for the
                 * column's VARCHAR (the longest value's length), which PostgreSQL checks first */
                char bad[64] = "~";
                for (size_t i = 0; i < f->n_values; i++)
                        if (streq(f->values[i], bad) && strlen(bad) + 1 < sizeof(bad)) {
                                strcat(bad, "~");
                                i = (size_t) -1;
                        }
                _cleanup_free_ char *v = strf("\"%s\"", bad);
                if (!v)
                        return -ENOMEM;
                TRY(add_violation(seq, "enum", "a value outside the enum", v, "IntegrityError"));
        }
        for (int side = 0; side < 2; side++) {
                double v;
                bool overflow;
                if (!range_violation(f, d, side, &v, &overflow))
                        continue;
                _cleanup_free_ char *code = context_num_str(v);
                if (!code)
                        return -ENOMEM;
                TRY(add_violation(seq, side ? "above_range" : "below_range",
                                  side ? "a number above the range" : "a number below the range", code,
                                  overflow ? "(IntegrityError, DataError)" : "IntegrityError"));
        }
        bool too_long;
        if (text_violation(f, &too_long) && !too_long)
                TRY(add_violation(seq, "length", "a string too short", "\"\"", "IntegrityError"));
        else if (too_long) {
                /* PostgreSQL's VARCHAR(n) refuses it before the CHECK does, as a DataError */
                _cleanup_free_ char *v = strf("\"x\" * %lld", f->max_length + 1);
                if (!v)
                        return -ENOMEM;
                TRY(add_violation(seq, "length", "a string too long", v, "(IntegrityError, DataError)"));
        }
        _cleanup_free_ char *cls = context_class_name_of(e);
        if (!cls)
                return -ENOMEM;
        for (size_t i = 0; i < seq->n; i++) {
                _cleanup_free_ char *code = strf("{%s.%s: %s}", cls, p->attr, node_get(seq->items[i], "value")->value);
                TRY(put_black_stmt(seq->items[i], "values_stmt", 4, "values = ", code));
        }
        TRY(put_bool(m, "has_violations", seq->n > 0));
        return put(m, "violations", TAKE_PTR(seq));
}

/* For ENTITIES.md: what the database itself enforces on the column, in its names. */
static int db_doc(const struct entity *e, const struct field *f, const struct entity *t,
                  const struct db_parts *d, struct node *m) {
        struct strbuf sb;
        int r = 0;
        bool text = f->type == FT_STRING || f->type == FT_TEXT || f->type == FT_EMAIL || f->type == FT_URL;
        _cleanup_free_ char *fk = t ? context_db_name("fk_%s_%s_%s", e->table, f->name, t->table) : strdup("");
        _cleanup_free_ char *ck_enum = context_db_name("ck_%s_%s_enum", e->table, f->name);
        _cleanup_free_ char *ck_range = context_db_name("ck_%s_%s_range", e->table, f->name);
        _cleanup_free_ char *ck_length = context_db_name("ck_%s_%s_length", e->table, f->name);
        _cleanup_free_ char *uq = context_db_name("uq_%s_%s", e->table, f->name);
        _cleanup_free_ char *ix = context_db_name("ix_%s_%s", e->table, f->name);
        _cleanup_free_ char *ix_lower = context_db_name("ix_%s_%s_lower", e->table, f->name);
        if (!fk || !ck_enum || !ck_range || !ck_length || !uq || !ix || !ix_lower)
                return -ENOMEM;
        strbuf_init(&sb, 0);
        if (d->not_null)
                context_add_part(&sb, &r, "NOT NULL");
        if (d->server_default)
                context_add_part(&sb, &r, "server default `%s`", f->default_value->value);
        if (t)
                context_add_part(&sb, &r, "foreign key `%s` (ON DELETE %s)", fk, f->required ? "CASCADE" : "SET NULL");
        if (f->type == FT_ENUM)
                context_add_part(&sb, &r, "CHECK `%s` (the values)", ck_enum);
        if (d->has_min || d->has_max) {
                _cleanup_free_ char *mn = d->has_min ? context_num_str(d->min) : NULL;
                _cleanup_free_ char *mx = d->has_max ? context_num_str(d->max) : NULL;
                if ((d->has_min && !mn) || (d->has_max && !mx))
                        r = -ENOMEM;
                context_add_part(&sb, &r, "CHECK `%s` (%s%s%s%s)", ck_range, mn ? ">= " : "", mn ? mn : "",
                                 mn && mx ? " and <= " : mx ? "<= " : "", mx ? mx : "");
        }
        if (text && (f->has_min_length || f->has_max_length))
                context_add_part(&sb, &r, "CHECK `%s`", ck_length);
        if (d->unique_index)
                context_add_part(&sb, &r, "unique index `%s`", ix);
        else {
                if (d->db_unique)
                        context_add_part(&sb, &r, "UNIQUE `%s`", uq);
                if (d->db_index)
                        context_add_part(&sb, &r, "index `%s`", ix);
        }
        if (d->ci_unique)
                context_add_part(&sb, &r, "unique index `%s` on `lower(%s)`", ix_lower, f->name);
        if (r >= 0 && sb.len == 0)
                r = strbuf_adds(&sb, "nullable");
        if (r >= 0)
                r = put_str(m, "db_doc", strbuf_str(&sb));
        strbuf_free(&sb);
        return r;
}

/* The column's code: the model's mapped_column() (and its statement, laid out), the
 * migration's sa.Column(), the indexes. */
static int db_fill(const struct spec *s, const struct entity *e, const struct field *f,
                   const struct field_parts *p, const char *st, const char *mst, const char *mdef,
                   const struct db_parts *d, struct node *m) {
        const struct entity *t = f->type == FT_FOREIGN_KEY ? spec_find_entity(s, f->target) : NULL;
        const char *ondelete = f->required ? "CASCADE" : "SET NULL";
        bool aliased = !streq(p->attr, f->name);
        _cleanup_free_ char *fkarg = t ? strf(", sa.ForeignKey(\"%s.id\", ondelete=\"%s\")", t->table, ondelete)
                                       : strdup("");
        _cleanup_free_ char *fkname = t ? context_db_name("fk_%s_%s_%s", e->table, f->name, t->table) : strdup("");
        _cleanup_free_ char *fkmig = t && fkname ? strf(", sa.ForeignKey(\"%s.id\", name=op.f(\"%s\"), ondelete=\"%s\")",
                                                        t->table, fkname, ondelete)
                                                 : strdup("");
        _cleanup_free_ char *ix = context_db_name("ix_%s_%s", e->table, f->name);
        _cleanup_free_ char *uq = context_db_name("uq_%s_%s", e->table, f->name);
        _cleanup_free_ char *ix_lower = context_db_name("ix_%s_%s_lower", e->table, f->name);
        _cleanup_free_ char *qname = aliased ? strf("\"%s\", ", f->name) : strdup("");
        _cleanup_free_ char *kw = strf(", nullable=%s%s%s%s%s%s%s", d->not_null ? "False" : "True",
                                       d->db_unique ? ", unique=True" : "", d->db_index ? ", index=True" : "",
                                       mdef ? ", default=" : "", mdef ? mdef : "",
                                       d->server_default ? ", server_default=" : "",
                                       d->server_default ? d->server_default : "");
        if (!fkarg || !fkname || !fkmig || !ix || !uq || !ix_lower || !qname || !kw)
                return -ENOMEM;
        TRY(put_bool(m, "not_null", d->not_null));
        TRY(put_str(m, "nullable", d->not_null ? "False" : "True"));
        TRY(put_str(m, "sa_type", mst));
        TRY(put_strf(m, "column_def", "sa.Column(%s%s%s%s%s)", qname, mst, fkarg, d->checks_model, kw));
        TRY(put_strf(m, "model_type", "%s%s", context_model_py_type(f->type), d->not_null ? "" : " | None"));
        _cleanup_free_ char *mdef_code = strf("mapped_column(%s%s%s%s%s)", qname, mst, fkarg, d->checks_model, kw);
        _cleanup_free_ char *prefix = mdef_code ? strf("%s: Mapped[%s%s] = ", p->attr, context_model_py_type(f->type),
                                                       d->not_null ? "" : " | None")
                                                : NULL;
        _cleanup_free_ char *stmt = prefix ? context_black_stmt(4, prefix, mdef_code) : NULL;
        if (!stmt)
                return -ENOMEM;
        TRY(put_str(m, "mapped_def", mdef_code));
        TRY(put_str(m, "mapped_stmt", stmt));
        TRY(put_strf(m, "migration_column", "sa.Column(\"%s\", %s%s%s, nullable=%s%s%s)", f->name, st, fkmig,
                     d->checks_mig, d->not_null ? "False" : "True",
                     d->server_default ? ", server_default=" : "",
                     d->server_default ? d->server_default : ""));
        TRY(put_bool(m, "db_unique", d->db_unique));
        TRY(put_bool(m, "db_index", d->db_index));
        TRY(put_str(m, "index_name", ix));
        TRY(put_str(m, "unique_name", uq));
        TRY(put_bool(m, "unique_index", d->unique_index));
        TRY(put_bool(m, "unique_constraint", d->db_unique && !d->unique_index));
        TRY(put_bool(m, "ci_unique", d->ci_unique));
        TRY(put_str(m, "ci_index_name", ix_lower));
        TRY(put_str(m, "server_default", d->server_default));
        TRY(db_violations(e, f, p, d, m));
        TRY(db_doc(e, f, t, d, m));
        if (d->ci_unique) {
                _cleanup_free_ char *cls = context_model_class_of(e);
                _cleanup_free_ char *code = cls ? strf("sa.Index(\"%s\", sa.func.lower(%s.%s), unique=True)",
                                                       ix_lower, cls, p->attr)
                                                : NULL;
                _cleanup_free_ char *ci = code ? context_black_stmt(0, "", code) : NULL;
                _cleanup_free_ char *mig = strf("op.create_index(op.f(\"%s\"), \"%s\", [sa.text('lower(\"%s\")')], unique=True)",
                                                ix_lower, e->table, f->name);
                _cleanup_free_ char *cim = mig ? context_black_stmt(4, "", mig) : NULL;
                if (!ci || !cim)
                        return -ENOMEM;
                TRY(put_str(m, "ci_index_stmt", ci));
                /* the model test's update with that copy (column 8), laid out as black does */
                _cleanup_free_ char *cp = strf("db_session.execute(statement.values({%s.%s: item.%s.upper()}))",
                                               cls, p->attr, p->attr);
                TRY(put_black_stmt(m, "ci_copy_stmt", 8, "", cp));
                TRY(put_str(m, "ci_index_migration", cim));
        }
        return 0;
}

int context_field_db(const struct spec *s, const struct entity *e, const struct field *f,
                     const struct field_parts *p, const char *st, const char *mst, const char *mdef,
                     struct node *m) {
        struct db_parts db;
        int r = db_parts_init(s, e, f, mdef != NULL, &db);
        if (r >= 0)
                r = db_fill(s, e, f, p, st, mst, mdef, &db, m);
        db_parts_clear(&db);
        return r;
}
