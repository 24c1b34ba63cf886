/* pyast-layout.c - the layout of a Python module, for merging fragments (merge.c).
 *
 * Interface: pyast_layout() and py_layout_free() (pyast.h). The module's direct children
 * are read: whether the first statement is a docstring, every complete import statement
 * with its names, aliases and the comments inside it or after it on its line (an import
 * with an error inside, or one that cannot be rewritten, stays in the body as written),
 * and the string literals that span lines, whose text is data.
 * No diagnostics; returns 0 or -ENOMEM.
 */
#include "config.h"

#include <stdio.h>

#include "pyast-internal.h"

/* ---- layout for merging ---- */

/* Copies a node's text without whitespace or line continuations ("a . b" -> "a.b"). */
static char *compact_text(const struct pyast *a, TSNode n) {
        size_t l;
        const char *t = text(a, n, &l);
        char *s = malloc(l + 1), *o = s;
        if (!s)
                return NULL;
        for (size_t i = 0; i < l; i++)
                if (t[i] == '\0' || !strchr(" \t\r\n\f\\", t[i]))
                        *o++ = t[i];
        *o = '\0';
        return s;
}

static void import_clear(struct py_import *im) {
        free(im->module);
        for (size_t i = 0; i < im->n_names; i++) {
                free(im->names[i].name);
                free(im->names[i].alias);
        }
        free(im->names);
        free(im->comment);
}

void py_layout_free(struct py_layout *l) {
        if (!l)
                return;
        for (size_t i = 0; i < l->n_imports; i++)
                import_clear(&l->imports[i]);
        free(l->imports);
        free(l->strings);
        free(l);
}

static int add_comment(char **comment, const char *t, size_t l) {
        char *s;
        if (asprintf(&s, "%s%s%.*s", *comment ? *comment : "", *comment ? " " : "", (int) l, t) < 0)
                return -ENOMEM;
        free(*comment);
        *comment = s;
        return 0;
}

static int add_import_name(const struct pyast *a, struct py_import *im, TSNode n) {
        TSNode name = n, alias = { 0 };
        if (is(n, "aliased_import")) {
                name = ts_node_child_by_field_name(n, "name", 4);
                alias = ts_node_child_by_field_name(n, "alias", 5);
        }
        if (ts_node_is_null(name))
                return 0;
        struct py_import_name *nv = realloc(im->names, (im->n_names + 1) * sizeof(*nv));
        if (!nv)
                return -ENOMEM;
        im->names = nv;
        struct py_import_name *in = &im->names[im->n_names];
        in->name = compact_text(a, name);
        in->alias = ts_node_is_null(alias) ? NULL : compact_text(a, alias);
        if (!in->name || (!ts_node_is_null(alias) && !in->alias)) {
                free(in->name);
                free(in->alias);
                return -ENOMEM;
        }
        im->n_names++;
        return 0;
}

static int read_import(const struct pyast *a, TSNode n, struct py_import *im) {
        memset(im, 0, sizeof(*im));
        im->kind = is(n, "import_statement") ? PY_IMPORT
                   : is(n, "future_import_statement") ? PY_IMPORT_FUTURE : PY_IMPORT_FROM;
        im->start = ts_node_start_byte(n);
        im->end = ts_node_end_byte(n);
        if (im->kind == PY_IMPORT_FUTURE && !(im->module = strdup("__future__")))
                return -ENOMEM;
        int r = 0;
        _cleanup_kids_ struct kids k = kids_of(n);
        TSNode c;
        while (r == 0 && kids_next(&k, &c)) {
                const char *field = kids_field(&k);
                if (is(c, "comment")) {
                        size_t l;
                        const char *t = text(a, c, &l);
                        r = add_comment(&im->comment, t, l);
                } else if (field && streq(field, "module_name")) {
                        if (!(im->module = compact_text(a, c)))
                                r = -ENOMEM;
                } else if (is(c, "wildcard_import"))
                        im->wildcard = true;
                else if (is(c, "dotted_name") || is(c, "aliased_import"))
                        r = add_import_name(a, im, c);
        }
        return r;
}

static int collect_strings(const struct pyast *a, struct py_layout *l) {
        size_t alloc = 0;
        TSTreeCursor c = ts_tree_cursor_new(ts_tree_root_node(a->tree));
        int r = 0;
        for (;;) {
                TSNode n = ts_tree_cursor_current_node(&c);
                bool descend = true;
                if (is(n, "string")) {
                        descend = false;
                        if (ts_node_end_point(n).row > ts_node_start_point(n).row) {
                                if (grow((void **) &l->strings, &alloc, l->n_strings, sizeof(*l->strings)) < 0) {
                                        r = -ENOMEM;
                                        break;
                                }
                                l->strings[l->n_strings++] =
                                        (struct py_range) { ts_node_start_byte(n), ts_node_end_byte(n) };
                        }
                }
                if (descend && ts_tree_cursor_goto_first_child(&c))
                        continue;
                bool moved = false;
                while (!(moved = ts_tree_cursor_goto_next_sibling(&c)))
                        if (!ts_tree_cursor_goto_parent(&c))
                                break;
                if (!moved)
                        break;
        }
        ts_tree_cursor_delete(&c);
        return r;
}

/* The module's direct children: docstring, imports and comments that follow imports. */
static int read_module(const struct pyast *a, TSNode root, struct py_layout *l) {
        size_t alloc = 0;
        bool first = true;
        struct py_import *prev = NULL; /* the import just read, for a comment after it */
        _cleanup_kids_ struct kids k = kids_of(root);
        TSNode n;
        int r = 0;
        while (r == 0 && kids_next(&k, &n)) {
                if (is(n, "comment")) {
                        size_t cs = ts_node_start_byte(n);
                        bool same_line = prev && cs >= prev->end &&
                                         !memchr(a->src + prev->end, '\n', cs - prev->end);
                        if (same_line) {
                                size_t tl;
                                const char *t = text(a, n, &tl);
                                r = add_comment(&prev->comment, t, tl);
                                prev->end = ts_node_end_byte(n);
                        }
                        prev = NULL;
                        continue;
                }
                prev = NULL;
                if (first && ts_node_is_named(n) && pyast_is_docstring_stmt(a, n)) {
                        l->has_docstring = true;
                        l->doc_start = ts_node_start_byte(n);
                        l->doc_end = ts_node_end_byte(n);
                }
                if (ts_node_is_named(n))
                        first = false;
                /* an import with an error inside stays in the body as written */
                if ((!is(n, "import_statement") && !is(n, "import_from_statement") &&
                     !is(n, "future_import_statement")) || ts_node_has_error(n))
                        continue;
                if (grow((void **) &l->imports, &alloc, l->n_imports, sizeof(*l->imports)) < 0) {
                        r = -ENOMEM;
                        break;
                }
                struct py_import *im = &l->imports[l->n_imports];
                r = read_import(a, n, im);
                bool complete = (im->kind == PY_IMPORT || im->module) && (im->n_names > 0 || im->wildcard);
                if (r < 0 || !complete) { /* an import we cannot rewrite stays in the body */
                        import_clear(im);
                        continue;
                }
                l->n_imports++;
                prev = im;
        }
        return r;
}

int pyast_layout(const struct pyast *a, struct py_layout **ret) {
        _cleanup_py_layout_ struct py_layout *l = calloc(1, sizeof(*l));
        if (!l)
                return -ENOMEM;
        TSNode root = ts_tree_root_node(a->tree);
        l->has_errors = ts_node_has_error(root);
        int r = is(root, "module") ? read_module(a, root, l) : 0;
        if (r == 0)
                r = collect_strings(a, l);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(l);
        return 0;
}
