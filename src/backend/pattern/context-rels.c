/* context-rels.c - relationships and association tables as template context.
 *
 * Interface: context-internal.h. context_relinfo_init() resolves a relationship: its paired
 * relationship on the target (back_populates), the foreign key it follows (for one_to_one,
 * which side holds it), and for many_to_many the association table, which side owns it and
 * its two columns. From that come the orm.relationship() arguments and the context of the
 * relationship and of the association table.
 * No diagnostics: -EINVAL for a relationship without a foreign key to follow
 * (context_check() reports it), -ENOMEM.
 */
#include "config.h"

#include <string.h>

#include "context-internal.h"

/* ---- relationships ---- */

void context_relinfo_clear(struct relinfo *ri) {
        free(ri->assoc);
        free(ri->left_col);
        free(ri->right_col);
        *ri = (struct relinfo) { .e = NULL };
}

static const struct relationship *find_back(const struct entity *e, const struct relationship *r,
                                            const struct entity *t) {
        for (size_t i = 0; i < t->n_rels; i++) {
                const struct relationship *o = &t->rels[i];
                if (o == r)
                        continue;
                if (r->back_populates ? streq_ptr(o->name, r->back_populates)
                                      : (streq_ptr(o->back_populates, r->name) &&
                                         streq_ptr(o->target, e->name)))
                        return o;
        }
        return NULL;
}

static bool fk_named(const struct field *f, const char *hint) {
        size_t n = hint ? strlen(hint) : 0;
        return f && hint && strncmp(f->name, hint, n) == 0 && streq(f->name + n, "_id");
}

/* The foreign key of holder that points at target, preferring "<hint>_id". */
static const struct field *find_fk(const struct entity *holder, const char *target,
                                   const char *hint) {
        const struct field *first = NULL;
        for (size_t i = 0; i < holder->n_fields; i++) {
                const struct field *f = &holder->fields[i];
                if (f->type != FT_FOREIGN_KEY || !streq_ptr(f->target, target))
                        continue;
                if (fk_named(f, hint))
                        return f;
                if (!first)
                        first = f;
        }
        return first;
}

int context_relinfo_init(const struct spec *s, const struct entity *e, const struct relationship *r,
                         struct relinfo *ri) {
        const struct entity *t = spec_find_entity(s, r->target);
        *ri = (struct relinfo) { .e = e, .t = t, .r = r };
        if (!t)
                return -EINVAL;
        ri->back = find_back(e, r, t);
        const char *bname = ri->back ? ri->back->name : NULL;

        switch (r->kind) {
        case RK_MANY_TO_ONE:
                ri->fk = find_fk(e, t->name, r->name);
                ri->fk_on_self = true;
                break;
        case RK_ONE_TO_MANY:
                ri->fk = find_fk(t, e->name, bname);
                break;
        case RK_ONE_TO_ONE: {
                const struct field *mine = find_fk(e, t->name, r->name);
                const struct field *theirs = find_fk(t, e->name, bname);
                bool child;
                if (!mine || !theirs)
                        child = mine != NULL;
                else if (e == t)
                        child = fk_named(mine, r->name) ||
                                (!fk_named(mine, bname) && (!ri->back || r < ri->back));
                else if (fk_named(mine, r->name) != fk_named(theirs, bname))
                        child = fk_named(mine, r->name);
                else
                        child = strcmp(e->name, t->name) < 0;
                ri->fk = child ? mine : theirs;
                ri->fk_on_self = child;
                break;
        }
        case RK_MANY_TO_MANY: {
                const struct entity *oe = e;
                const struct relationship *orl = r;
                if (ri->back) {
                        _cleanup_free_ char *a = strf("%s.%s", e->name, r->name);
                        _cleanup_free_ char *b = strf("%s.%s", t->name, ri->back->name);
                        if (!a || !b)
                                return -ENOMEM;
                        if (strcmp(b, a) < 0)
                                oe = t, orl = ri->back;
                }
                const struct entity *other = oe == e ? t : e;
                ri->owner = oe;
                ri->assoc_owner = orl == r;
                /* names PostgreSQL keeps whole (context_db_name()) */
                ri->assoc = context_db_name("%s_%s", oe->table, orl->name);
                ri->left_col = context_db_name("%s_id", oe->snake);
                ri->right_col = e == t ? context_db_name("related_%s_id", oe->snake)
                                       : context_db_name("%s_id", other->snake);
                if (!ri->assoc || !ri->left_col || !ri->right_col)
                        return -ENOMEM;
                break;
        }
        default:
                return -EINVAL;
        }
        if (r->kind != RK_MANY_TO_MANY && !ri->fk)
                return -EINVAL;
        return 0;
}

/* The arguments of orm.relationship() for one side. */
static char *relationship_args(const struct relinfo *ri) {
        /* names in relationship() strings resolve in SQLAlchemy's class registry */
        _cleanup_free_ char *tc = context_model_class_of(ri->t), *ec = context_model_class_of(ri->e);
        struct strbuf sb;
        int r;

        if (!tc || !ec)
                return NULL;
        strbuf_init(&sb, 0);
        _cleanup_free_ char *back_attr = ri->back ? context_member_attr(ri->t, ri->back->name) : NULL;
        if (ri->back && !back_attr)
                return NULL;
        r = strbuf_addf(&sb, "\"%s\"", tc);
        if (r >= 0 && ri->back)
                r = strbuf_addf(&sb, ", back_populates=\"%s\"", back_attr);
        if (r >= 0 && ri->r->kind == RK_MANY_TO_MANY) {
                r = strbuf_addf(&sb, ", secondary=\"%s\"", ri->assoc);
                if (r >= 0 && ri->e == ri->t) {
                        const char *mine = ri->assoc_owner ? ri->left_col : ri->right_col;
                        const char *theirs = ri->assoc_owner ? ri->right_col : ri->left_col;
                        r = strbuf_addf(&sb,
                                        ", primaryjoin=\"%s.id == %s.c.%s\", secondaryjoin=\"%s.id == %s.c.%s\"",
                                        ec, ri->assoc, mine, ec, ri->assoc, theirs);
                }
        } else if (r >= 0) {
                const struct entity *holder = ri->fk_on_self ? ri->e : ri->t;
                _cleanup_free_ char *fk_attr = context_member_attr(holder, ri->fk->name);
                _cleanup_free_ char *hc = context_model_class_of(holder);
                if (!fk_attr || !hc)
                        r = -ENOMEM;
                if (r >= 0 && ri->r->kind == RK_ONE_TO_ONE && !ri->fk_on_self)
                        r = strbuf_adds(&sb, ", uselist=False");
                if (r >= 0)
                        r = strbuf_addf(&sb, ", foreign_keys=\"[%s.%s]\"", hc, fk_attr);
                if (r >= 0 && ri->fk_on_self && ri->e == ri->t)
                        r = strbuf_addf(&sb, ", remote_side=\"%s.id\"", ec);
                if (r >= 0 && !ri->fk_on_self)
                        r = strbuf_adds(&sb, ri->fk->required
                                                     ? ", cascade=\"all, delete-orphan\", passive_deletes=True"
                                                     : ", passive_deletes=True");
        }
        if (r < 0) {
                strbuf_free(&sb);
                return NULL;
        }
        return strbuf_detach(&sb, NULL);
}

/* ---- relationships, as context ---- */

static const char *const rel_flags[_RK_MAX] = {
        "is_one_to_many", "is_many_to_one", "is_one_to_one", "is_many_to_many",
};

static bool rel_is_collection(const struct relationship *r) {
        return r->kind == RK_ONE_TO_MANY || r->kind == RK_MANY_TO_MANY;
}

static int rel_fill(const struct relinfo *ri, struct node *m) {
        const struct relationship *r = ri->r;
        _cleanup_free_ char *attr = context_member_attr(ri->e, r->name);
        _cleanup_free_ char *tc = context_class_name_of(ri->t);
        _cleanup_free_ char *args = relationship_args(ri);
        _cleanup_free_ char *back_attr = ri->back ? context_member_attr(ri->t, ri->back->name) : NULL;
        _cleanup_free_ char *fk_attr = ri->fk ? context_member_attr(ri->fk_on_self ? ri->e : ri->t, ri->fk->name) : NULL;
        if (!attr || !tc || !args || (ri->back && !back_attr) || (ri->fk && !fk_attr))
                return -ENOMEM;

        TRY(put_str(m, "name", r->name));
        TRY(put_str(m, "attr", attr));
        TRY(put_str(m, "kind", rel_kind_name(r->kind)));
        for (int k = 0; k < _RK_MAX; k++)
                TRY(put_bool(m, rel_flags[k], (int) r->kind == k));
        TRY(put_str(m, "target", ri->t->name));
        TRY(put_str(m, "target_class", tc));
        TRY(put_str(m, "target_snake", ri->t->snake));
        TRY(put_str(m, "target_table", ri->t->table));
        TRY(put_bool(m, "self_referential", ri->e == ri->t));
        TRY(put_str(m, "args", args));
        {
                _cleanup_free_ char *code = strf("orm.relationship(%s)", args);
                _cleanup_free_ char *prefix = strf("%s = ", attr);
                TRY(put_black_stmt(m, "stmt", 4, prefix, code));
        }
        TRY(put_bool(m, "collection", rel_is_collection(r)));
        TRY(put_bool(m, "has_back", ri->back != NULL));
        TRY(put_str(m, "back", ri->back ? ri->back->name : NULL));
        TRY(put_str(m, "back_attr", back_attr));
        TRY(put_bool(m, "back_collection", ri->back && rel_is_collection(ri->back)));
        TRY(put_str(m, "secondary", ri->assoc));
        TRY(put_str(m, "fk", ri->fk ? ri->fk->name : NULL));
        TRY(put_str(m, "fk_attr", fk_attr));
        TRY(put_str(m, "fk_holder", ri->fk ? (ri->fk_on_self ? ri->e : ri->t)->name : NULL));
        TRY(put_strf(m, "make_self", "make_%s", ri->e->snake));
        TRY(put_strf(m, "make_other", "make_%s", ri->t->snake));
        TRY(put_bool(m, "via_fk_on_self", r->kind != RK_MANY_TO_MANY && ri->fk_on_self));
        TRY(put_bool(m, "via_fk_on_other", r->kind != RK_MANY_TO_MANY && !ri->fk_on_self));
        TRY(put_bool(m, "via_secondary", r->kind == RK_MANY_TO_MANY));
        if (ri->back)
                TRY(put_strf(m, "doc", "The %s (%s to %s, paired with %s.%s).", r->name,
                             rel_kind_name(r->kind), ri->t->name, ri->t->name, ri->back->name));
        else
                TRY(put_strf(m, "doc", "The %s (%s to %s).", r->name, rel_kind_name(r->kind),
                             ri->t->name));
        return 0;
}

int context_rel_ctx(const struct spec *s, const struct entity *e, const struct relationship *r,
                    struct node **ret) {
        struct relinfo ri;
        _cleanup_node_ struct node *m = node_new_map();
        if (!m)
                return -ENOMEM;
        int k = context_relinfo_init(s, e, r, &ri);
        if (k >= 0)
                k = rel_fill(&ri, m);
        context_relinfo_clear(&ri);
        if (k < 0)
                return k;
        *ret = TAKE_PTR(m);
        return 0;
}

/* The association table a many_to_many relationship owns, as context. */
int context_assoc_ctx(const struct relinfo *ri, struct node **ret) {
        const struct entity *other = ri->owner == ri->e ? ri->t : ri->e;
        _cleanup_node_ struct node *m = node_new_map();
        if (!m)
                return -ENOMEM;
        TRY(put_str(m, "name", ri->assoc));
        TRY(put_str(m, "left_table", ri->owner->table));
        TRY(put_str(m, "left_column", ri->left_col));
        TRY(put_str(m, "right_table", other->table));
        TRY(put_str(m, "right_column", ri->right_col));
        TRY(put_strf(m, "doc", "Links %s to %s for %s.%s.", ri->owner->name, other->name,
                     ri->e->name, ri->r->name));
        /* the primary key (left, right) serves lookups by left; right has an index */
        const char *a = ri->assoc, *l = ri->left_col, *lt = ri->owner->table, *r = ri->right_col,
                   *rt = other->table;
        _cleanup_free_ char *model = strf(
                "sa.Table(\"%s\", database.Base.metadata, "
                "sa.Column(\"%s\", sa.Integer(), sa.ForeignKey(\"%s.id\", ondelete=\"CASCADE\"), primary_key=True), "
                "sa.Column(\"%s\", sa.Integer(), sa.ForeignKey(\"%s.id\", ondelete=\"CASCADE\"), primary_key=True, index=True))",
                a, l, lt, r, rt);
        _cleanup_free_ char *fkl = context_db_name("fk_%s_%s_%s", a, l, lt);
        _cleanup_free_ char *fkr = context_db_name("fk_%s_%s_%s", a, r, rt);
        _cleanup_free_ char *pk = context_db_name("pk_%s", a);
        _cleanup_free_ char *ix = context_db_name("ix_%s_%s", a, r);
        if (!fkl || !fkr || !pk || !ix)
                return -ENOMEM;
        _cleanup_free_ char *mig = strf(
                "op.create_table(\"%s\", "
                "sa.Column(\"%s\", sa.Integer(), sa.ForeignKey(\"%s.id\", name=op.f(\"%s\"), ondelete=\"CASCADE\"), nullable=False), "
                "sa.Column(\"%s\", sa.Integer(), sa.ForeignKey(\"%s.id\", name=op.f(\"%s\"), ondelete=\"CASCADE\"), nullable=False), "
                "sa.PrimaryKeyConstraint(\"%s\", \"%s\", name=op.f(\"%s\")))",
                a, l, lt, fkl, r, rt, fkr, l, r, pk);
        _cleanup_free_ char *idx = strf("op.create_index(op.f(\"%s\"), \"%s\", [\"%s\"], unique=False)", ix, a, r);
        _cleanup_free_ char *prefix = strf("%s = ", a);
        _cleanup_free_ char *ms = model && prefix ? context_black_stmt(0, prefix, model) : NULL;
        _cleanup_free_ char *gs = mig ? context_black_stmt(4, "", mig) : NULL;
        _cleanup_free_ char *is = idx ? context_black_stmt(4, "", idx) : NULL;
        if (!ms || !gs || !is)
                return -ENOMEM;
        TRY(put_str(m, "model_stmt", ms));
        TRY(put_str(m, "migration_table", gs));
        TRY(put_str(m, "migration_index", is));
        *ret = TAKE_PTR(m);
        return 0;
}
