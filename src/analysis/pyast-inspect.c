/* pyast-inspect.c - the walk over a Python syntax tree: what CPython 3.11 rejects although
 * tree-sitter accepts it.
 *
 * Interface: pyast_inspect() (pyast.h); pyast_check_parameters() (pyast-internal.h). The
 * walk uses a tree cursor and no recursion, so deeply nested input cannot exhaust the
 * stack; it keeps one frame per depth saying which scope (module, class, function, async
 * function, lambda) and whether a loop body encloses the node, and the checks read it.
 * Facts for the quality metrics are gathered on the same walk (pyast-facts.c). Regions
 * inside ERROR nodes are not inspected. docs/metrics.md lists the checks.
 * Diagnostics: each finding goes into struct py_errors with py_errors_add_extra(), so a
 * line that already has an error is not counted again; returns 0 or -ENOMEM.
 */
#include "config.h"

#include <ctype.h>
#include <stdint.h>

#include "pyast-internal.h"

/* ---- the walk ---- */

enum scope { SCOPE_MODULE, SCOPE_CLASS, SCOPE_FUNC, SCOPE_ASYNC_FUNC, SCOPE_LAMBDA };
enum kind { K_OTHER, K_FUNC, K_ASYNC_FUNC, K_LAMBDA, K_CLASS, K_LOOP, K_GENEXP };

struct frame {
        unsigned char scope; /* scope the node is in */
        bool loop;           /* inside a loop body (of the current scope) */
        bool async_ok;       /* await and async comprehensions allowed: an async def's body,
                              * or inside a generator expression (an async generator then) */
        unsigned char kind;  /* the node's own kind, for its children's frames */
};

static int check_at(struct walker *w, TSNode n, size_t offset, const char *message) {
        if (!w->errors)
                return 0;
        TSPoint p = ts_node_start_point(n);
        size_t ls = line_start_of(n);
        /* offset may lie on a later line than n's start (f-string parts): find its line */
        unsigned line = p.row + 1;
        for (size_t i = ts_node_start_byte(n); i < offset && i < w->a->len; i++)
                if (w->a->src[i] == '\n') {
                        line++;
                        ls = i + 1;
                }
        return py_errors_add_extra(w->errors, w->a->src, w->a->len, offset, line, ls, message);
}

static int check(struct walker *w, TSNode n, const char *message) {
        return check_at(w, n, ts_node_start_byte(n), message);
}

/* Checks that depend on the block structure (is this inside a function, a loop?) are
 * made only before the first error found: after a structural mistake the blocks the
 * parser recovered are not the ones the author meant, and one mistake would be counted
 * again at every return or break that follows. */
static int check_scope(struct walker *w, TSNode n, const char *message) {
        if (w->errors && w->errors->n > 0 && w->errors->v[0].offset <= ts_node_start_byte(n))
                return 0;
        return check(w, n, message);
}

static bool param_is_default(TSNode p) {
        return is(p, "default_parameter") || is(p, "typed_default_parameter");
}

static bool param_is_star(TSNode p) {
        if (is(p, "typed_parameter")) {
                TSNode k = ts_node_named_child(p, 0);
                return is(k, "list_splat_pattern") || is(k, "dictionary_splat_pattern");
        }
        return is(p, "list_splat_pattern") || is(p, "dictionary_splat_pattern") ||
               is(p, "keyword_separator");
}

static TSNode param_name(TSNode p) {
        for (int guard = 0; guard < 4 && !ts_node_is_null(p) && !is(p, "identifier"); guard++) {
                TSNode nm = ts_node_child_by_field_name(p, "name", 4);
                p = ts_node_is_null(nm) ? ts_node_named_child(p, 0) : nm;
        }
        return is(p, "identifier") ? p : (TSNode) { 0 };
}

#define MAX_NAME_CHECK 512

/* Parameter lists: non-default after default, duplicate names. Also says whether every
 * parameter is annotated (self/cls first in a method excepted). */
int pyast_check_parameters(struct walker *w, TSNode params, bool method, bool *ret_annotated) {
        const struct pyast *a = w->a;
        TSNode names[MAX_NAME_CHECK];
        size_t n_names = 0;
        bool seen_default = false, seen_star = false, seen_dstar = false, annotated = true, first = true;
        int r = 0;
        _cleanup_kids_ struct kids k = kids_of(params);
        TSNode p;
        while (r == 0 && kids_next(&k, &p)) {
                if (!ts_node_is_named(p) || ts_node_is_extra(p) || is(p, "positional_separator"))
                        continue;
                if (seen_dstar) {
                        r = check(w, p, "arguments cannot follow var-keyword argument");
                        continue;
                }
                bool star = is(p, "keyword_separator") || is(p, "list_splat_pattern") ||
                            (is(p, "typed_parameter") && is(ts_node_named_child(p, 0), "list_splat_pattern"));
                if (star && seen_star) {
                        r = check(w, p, "* argument may appear only once");
                        continue;
                }
                if (is(p, "keyword_separator")) {
                        seen_star = true;
                        continue;
                }
                if (is(p, "dictionary_splat_pattern") ||
                    (is(p, "typed_parameter") && is(ts_node_named_child(p, 0), "dictionary_splat_pattern")))
                        seen_dstar = true;
                bool typed = is(p, "typed_parameter") || is(p, "typed_default_parameter");
                TSNode nm = param_name(p);
                if (!typed && !(first && method && is(p, "identifier") &&
                                (text_is(a, p, "self") || text_is(a, p, "cls"))))
                        annotated = false;
                first = false;
                if (param_is_star(p))
                        seen_star = true;
                else if (param_is_default(p))
                        seen_default = true;
                else if (seen_default && !seen_star)
                        r = check(w, p, "non-default argument follows default argument");
                if (r < 0 || ts_node_is_null(nm))
                        continue;
                size_t l;
                const char *t = text(a, nm, &l);
                for (size_t i = 0; i < n_names; i++) {
                        size_t l2;
                        const char *t2 = text(a, names[i], &l2);
                        if (l == l2 && memcmp(t, t2, l) == 0) {
                                r = check(w, nm, "duplicate argument in function definition");
                                break;
                        }
                }
                if (n_names < MAX_NAME_CHECK)
                        names[n_names++] = nm;
        }
        if (ret_annotated)
                *ret_annotated = annotated;
        return r;
}

/* Calls: positional after keyword arguments, repeated keywords, * after **. */
static int check_arguments(struct walker *w, TSNode args) {
        const struct pyast *a = w->a;
        TSNode kws[MAX_NAME_CHECK];
        size_t n_kws = 0;
        bool seen_kw = false, seen_dstar = false;
        int r = 0;
        _cleanup_kids_ struct kids k = kids_of(args);
        TSNode p;
        while (r == 0 && kids_next(&k, &p)) {
                if (!ts_node_is_named(p) || ts_node_is_extra(p)) /* comments, `\` continuations */
                        continue;
                if (is(p, "keyword_argument")) {
                        seen_kw = true;
                        TSNode nm = ts_node_child_by_field_name(p, "name", 4);
                        if (ts_node_is_null(nm))
                                continue;
                        size_t l;
                        const char *t = text(a, nm, &l);
                        for (size_t i = 0; i < n_kws; i++) {
                                size_t l2;
                                const char *t2 = text(a, kws[i], &l2);
                                if (l == l2 && memcmp(t, t2, l) == 0) {
                                        r = check(w, nm, "keyword argument repeated");
                                        break;
                                }
                        }
                        if (n_kws < MAX_NAME_CHECK)
                                kws[n_kws++] = nm;
                } else if (is(p, "dictionary_splat"))
                        seen_dstar = true;
                else if (is(p, "list_splat")) {
                        if (seen_dstar)
                                r = check(w, p, "iterable argument unpacking follows keyword argument unpacking");
                } else if (seen_dstar)
                        r = check(w, p, "positional argument follows keyword argument unpacking");
                else if (seen_kw)
                        r = check(w, p, "positional argument follows keyword argument");
        }
        return r;
}

/* Python 3.11 tokenizes an f-string as one string first: its expressions cannot hold the
 * closing quote or a backslash, nor a '#' outside the string literals they contain
 * (CPython's fstring_find_expr(); PEP 701 lifted all three in 3.12). */
static int check_fstring_expr(struct walker *w, TSNode expr, const struct strinfo *si) {
        if (w->minor >= 12)
                return 0;
        size_t l;
        const char *t = text(w->a, expr, &l);
        size_t base = ts_node_start_byte(expr);
        char inner = 0;        /* inside a string literal of the expression: its quote */
        bool inner_triple = false;
        for (size_t i = 0; i < l; i++) {
                if (t[i] == '\\')
                        return check_at(w, expr, base + i, "f-string expression part cannot include a backslash");
                if (t[i] == si->quote &&
                    (!si->triple || (i + 2 < l && t[i + 1] == si->quote && t[i + 2] == si->quote)))
                        return check_at(w, expr, base + i, "f-string: expecting '}'");
                bool triple = i + 2 < l && t[i + 1] == t[i] && t[i + 2] == t[i];
                if (inner) {
                        if (t[i] == inner && (!inner_triple || triple)) {
                                i += inner_triple ? 2 : 0;
                                inner = 0;
                        }
                } else if (t[i] == '\'' || t[i] == '"') {
                        inner = t[i];
                        inner_triple = triple;
                        i += triple ? 2 : 0;
                } else if (t[i] == '#')
                        return check_at(w, expr, base + i, "f-string expression part cannot include '#'");
        }
        return 0;
}

static int check_string(struct walker *w, TSNode str) {
        struct strinfo si;
        if (!pyast_string_info(w->a, str, &si))
                return 0;
        if (si.backtick)
                return check(w, str, "invalid syntax");
        if (!si.f)
                return 0;
        int r = 0;
        _cleanup_kids_ struct kids k = kids_of(str);
        TSNode in;
        while (r == 0 && kids_next(&k, &in)) {
                if (!is(in, "interpolation"))
                        continue;
                TSNode e = ts_node_child_by_field_name(in, "expression", 10);
                if (!ts_node_is_null(e))
                        r = check_fstring_expr(w, e, &si);
                TSNode fs = ts_node_child_by_field_name(in, "format_specifier", 16);
                if (r < 0 || ts_node_is_null(fs))
                        continue;
                _cleanup_kids_ struct kids k2 = kids_of(fs);
                TSNode fe;
                while (r == 0 && kids_next(&k2, &fe)) {
                        TSNode e2 = is(fe, "format_expression") ? ts_node_child_by_field_name(fe, "expression", 10)
                                                               : (TSNode) { 0 };
                        if (!ts_node_is_null(e2))
                                r = check_fstring_expr(w, e2, &si);
                }
        }
        return r;
}

static int check_integer(struct walker *w, TSNode n) {
        size_t l;
        const char *t = text(w->a, n, &l);
        if (l == 0 || t[l - 1] == 'j' || t[l - 1] == 'J')
                return 0;
        if (t[l - 1] == 'l' || t[l - 1] == 'L')
                return check(w, n, "invalid decimal literal");
        /* an underscore only between digits: not last, not doubled (1_000_, 1__000) */
        bool decimal = !(l > 1 && t[0] == '0' && strchr("xXoObB", t[1]));
        if (decimal && (t[l - 1] == '_' || memmem(t, l, "__", 2)))
                return check(w, n, "invalid decimal literal");
        if (l > 1 && t[0] == '0' && (isdigit((unsigned char) t[1]) || t[1] == '_'))
                for (size_t i = 1; i < l; i++)
                        if (t[i] >= '1' && t[i] <= '9')
                                return check(w, n, "leading zeros in decimal integer literals are not permitted");
        return 0;
}

/* tree-sitter lets some keywords through as names (def import(), x.class, for class in) */
static int check_identifier(struct walker *w, TSNode n) {
        static const char *const keywords[] = {
                "False", "None", "True", "and", "as", "assert", "async", "await", "break",
                "class", "continue", "def", "del", "elif", "else", "except", "finally", "for",
                "from", "global", "if", "import", "in", "is", "lambda", "nonlocal", "not", "or",
                "pass", "raise", "return", "try", "while", "with", "yield",
        };
        size_t l;
        const char *t = text(w->a, n, &l);
        if (l < 2 || l > 8)
                return 0;
        for (size_t i = 0; i < ELEMENTSOF(keywords); i++)
                if (strlen(keywords[i]) == l && memcmp(keywords[i], t, l) == 0)
                        return check(w, n, "invalid syntax");
        return 0;
}

static bool has_anon_child(TSNode n, const char *type) {
        _cleanup_kids_ struct kids k = kids_of(n);
        TSNode c;
        while (kids_next(&k, &c))
                if (!ts_node_is_named(c) && is(c, type))
                        return true;
        return false;
}

/* from m import a.b: the grammar takes dotted names, Python only plain ones; and
 * __future__ has a fixed list of features */
static int check_from_names(struct walker *w, TSNode n) {
        static const char *const features[] = {
                "nested_scopes", "generators", "division", "absolute_import", "with_statement",
                "print_function", "unicode_literals", "barry_as_FLUFL", "generator_stop", "annotations",
        };
        bool future = is(n, "future_import_statement");
        _cleanup_kids_ struct kids k = kids_of(n);
        TSNode c;
        while (kids_next(&k, &c)) {
                const char *field = kids_field(&k);
                if (field && streq(field, "module_name"))
                        continue;
                TSNode name = is(c, "aliased_import") ? ts_node_child_by_field_name(c, "name", 4) : c;
                size_t l = 0;
                const char *t = is(name, "dotted_name") ? text(w->a, name, &l) : NULL;
                if (t && memchr(t, '.', l))
                        return check(w, name, "invalid syntax");
                bool known = !future || !t;
                for (size_t i = 0; i < ELEMENTSOF(features) && !known; i++)
                        known = strlen(features[i]) == l && memcmp(features[i], t, l) == 0;
                if (!known)
                        return check(w, name, "future feature is not defined");
        }
        return 0;
}

/* Statements of a module or block: two on one line need a ';' between them (tree-sitter
 * accepts `import os import sys`). */
static int check_statement_lines(struct walker *w, TSNode body) {
        _cleanup_kids_ struct kids k = kids_of(body);
        TSNode c;
        bool have_prev = false, semicolon = false;
        uint32_t prev_row = 0;
        while (kids_next(&k, &c)) {
                if (!ts_node_is_named(c)) {
                        semicolon |= is(c, ";");
                        continue;
                }
                if (is(c, "comment"))
                        continue;
                if (is(c, "ERROR") || ts_node_is_missing(c)) {
                        have_prev = false;
                        continue;
                }
                if (have_prev && !semicolon && ts_node_start_point(c).row == prev_row) {
                        int r = check(w, c, "invalid syntax");
                        if (r < 0)
                                return r;
                }
                have_prev = true;
                semicolon = false;
                prev_row = ts_node_end_point(c).row;
        }
        return 0;
}

/* tree-sitter reads `type(self).attr = value` as a type alias: a real one names an
 * identifier (with type parameters or without) right after `type`. */
static int check_type_alias(struct walker *w, TSNode n) {
        TSNode left = ts_node_child_by_field_name(n, "left", 4);
        TSNode name = ts_node_is_null(left) ? left : ts_node_named_child(left, 0);
        if (is(name, "identifier") || is(name, "generic_type"))
                return w->minor >= 12 ? 0 : check(w, n, "type alias statements need python 3.12");
        if (is(name, "attribute") || is(name, "subscript"))
                return 0; /* an assignment to `type(...).x` or `type(...)[k]` */
        return check(w, n, "cannot assign to function call");
}

static bool first_child_is(TSNode n, const char *type) {
        return ts_node_child_count(n) > 0 && is(ts_node_child(n, 0), type);
}

/* Statements directly in the module, in order: a __future__ import must come before any
 * other statement but the docstring. */
static int check_module_statement(struct walker *w, TSNode n, bool first) {
        if (is(n, "comment") || is(n, "ERROR"))
                return 0;
        if (is(n, "future_import_statement")) {
                if (w->module_code_seen)
                        return check_scope(w, n, "from __future__ imports must occur at the beginning of the file");
                return 0;
        }
        if (!(first && pyast_is_docstring_stmt(w->a, n)))
                w->module_code_seen = true;
        return 0;
}

/* One node: its CPython checks and facts. Returns >0 to descend, 0 to skip, <0 on error. */
static int visit(struct walker *w, TSNode n, struct frame *f) {
        const char *t = ts_node_type(n);
        const struct pyast *a = w->a;
        int r = 0;
        bool in_func = f->scope == SCOPE_FUNC || f->scope == SCOPE_ASYNC_FUNC;

        f->kind = K_OTHER;
        if (!ts_node_is_named(n) || streq(t, "ERROR") || ts_node_is_missing(n))
                return 0;
        if (streq(t, "function_definition")) {
                f->kind = first_child_is(n, "async") ? K_ASYNC_FUNC : K_FUNC;
                r = pyast_facts_function(w, n, f->scope == SCOPE_CLASS);
        } else if (streq(t, "class_definition")) {
                f->kind = K_CLASS;
                if (w->facts)
                        r = pyast_facts_class(w, n);
        } else if (streq(t, "lambda")) {
                f->kind = K_LAMBDA;
                TSNode params = ts_node_child_by_field_name(n, "parameters", 10);
                if (!ts_node_is_null(params))
                        r = pyast_check_parameters(w, params, false, NULL);
        } else if (streq(t, "for_statement") || streq(t, "while_statement")) {
                f->kind = K_LOOP;
                if (first_child_is(n, "async") && f->scope != SCOPE_ASYNC_FUNC)
                        r = check_scope(w, n, "'async for' outside async function");
        } else if (streq(t, "with_statement")) {
                if (first_child_is(n, "async") && f->scope != SCOPE_ASYNC_FUNC)
                        r = check_scope(w, n, "'async with' outside async function");
        } else if (streq(t, "generator_expression")) {
                f->kind = K_GENEXP;
        } else if (streq(t, "for_in_clause")) {
                if (first_child_is(n, "async") && !f->async_ok)
                        r = check_scope(w, n, "asynchronous comprehension outside of an asynchronous function");
        } else if (streq(t, "return_statement")) {
                if (!in_func)
                        r = check_scope(w, n, "'return' outside function");
        } else if (streq(t, "yield")) {
                if (f->scope == SCOPE_MODULE || f->scope == SCOPE_CLASS)
                        r = check_scope(w, n, "'yield' outside function");
        } else if (streq(t, "await")) {
                if (!f->async_ok)
                        r = check_scope(w, n, "'await' outside async function");
        } else if (streq(t, "break_statement") || streq(t, "continue_statement")) {
                if (!f->loop)
                        r = check_scope(w, n, t[0] == 'b' ? "'break' outside loop" : "'continue' not properly in loop");
        } else if (streq(t, "nonlocal_statement")) {
                if (f->scope == SCOPE_MODULE)
                        r = check_scope(w, n, "nonlocal declaration not allowed at module level");
        } else if (streq(t, "print_statement") || streq(t, "exec_statement")) {
                if (!is(ts_node_named_child(n, 0), "chevron")) /* print >>f, x is a valid tuple */
                        r = check(w, n, t[0] == 'p' ? "missing parentheses in call to 'print'"
                                                    : "missing parentheses in call to 'exec'");
        } else if (streq(t, "argument_list"))
                r = check_arguments(w, n);
        else if (streq(t, "string"))
                r = check_string(w, n);
        else if (streq(t, "integer"))
                r = check_integer(w, n);
        else if (streq(t, "identifier"))
                r = check_identifier(w, n);
        else if (streq(t, "module") || streq(t, "block"))
                r = check_statement_lines(w, n);
        else if (streq(t, "comparison_operator")) {
                TSNode ne = pyast_child_of_type(n, "<>");
                if (!ts_node_is_null(ne))
                        r = check(w, ne, "invalid syntax");
        } else if (streq(t, "except_clause")) {
                if (has_anon_child(n, ","))
                        r = check(w, n, "multiple exception types must be parenthesized");
        } else if (streq(t, "raise_statement")) {
                TSNode e = ts_node_named_child(n, 0);
                if (is(e, "expression_list"))
                        r = check(w, e, "invalid syntax");
                if (w->facts) {
                        w->facts->raises++;
                        if (pyast_names_http_exception(a, e))
                                w->facts->http_exceptions++;
                }
        } else if (streq(t, "expression_statement")) {
                if (is(ts_node_named_child(n, 0), "named_expression"))
                        r = check(w, n, "invalid syntax");
        } else if (streq(t, "type_alias_statement"))
                r = check_type_alias(w, n);
        else if (streq(t, "import_from_statement") || streq(t, "future_import_statement")) {
                if (f->scope != SCOPE_MODULE &&
                    !ts_node_is_null(pyast_child_of_type(n, "wildcard_import")))
                        r = check_scope(w, n, "import * only allowed at module level");
                if (r == 0)
                        r = check_from_names(w, n);
        } else if (w->facts) {
                if (streq(t, "try_statement"))
                        w->facts->try_blocks++;
                else if (streq(t, "call")) {
                        TSNode fn = ts_node_child_by_field_name(n, "function", 8);
                        if (pyast_names_http_exception(a, fn))
                                w->facts->http_exceptions++;
                        else if (pyast_names_identifier(a, fn, "add_exception_handler") ||
                                 pyast_names_identifier(a, fn, "exception_handler"))
                                w->facts->exception_handlers++;
                } else if (streq(t, "assignment"))
                        r = pyast_facts_assignment(w, n);
                else if (streq(t, "decorator"))
                        r = pyast_facts_decorator(w, n);
        }
        return r < 0 ? r : 1;
}

static void child_frame(const struct frame *parent, const char *field, struct frame *child) {
        child->scope = parent->scope;
        child->loop = parent->loop;
        child->async_ok = parent->async_ok || parent->kind == K_GENEXP;
        child->kind = K_OTHER;
        if (!field || !streq(field, "body"))
                return;
        switch (parent->kind) {
        case K_FUNC:
                child->scope = SCOPE_FUNC;
                child->loop = child->async_ok = false;
                break;
        case K_ASYNC_FUNC:
                child->scope = SCOPE_ASYNC_FUNC;
                child->loop = false;
                child->async_ok = true;
                break;
        case K_LAMBDA:
                child->scope = SCOPE_LAMBDA;
                child->loop = child->async_ok = false;
                break;
        case K_CLASS:
                child->scope = SCOPE_CLASS;
                child->loop = child->async_ok = false;
                break;
        case K_LOOP:
                child->loop = true;
                break;
        default:
                break;
        }
}

static int walk(struct walker *w) {
        TSNode root = ts_tree_root_node(w->a->tree);
        if (w->facts && !ts_node_is_null(pyast_first_named_non_comment(root)))
                pyast_add_docstring_candidate(w, root); /* comments alone make no candidate */

        TSTreeCursor c = ts_tree_cursor_new(root);
        struct frame *frames = malloc(64 * sizeof(*frames));
        size_t alloc = 64, depth = 0;
        int r = 0;
        bool first_stmt = true;
        if (!frames) {
                ts_tree_cursor_delete(&c);
                return -ENOMEM;
        }
        frames[0] = (struct frame) { SCOPE_MODULE, false, false, K_OTHER };
        for (;;) {
                TSNode n = ts_tree_cursor_current_node(&c);
                if (depth == 1 && ts_node_is_named(n)) {
                        r = check_module_statement(w, n, first_stmt);
                        if (!is(n, "comment"))
                                first_stmt = false;
                        if (r < 0)
                                break;
                }
                r = visit(w, n, &frames[depth]);
                if (r < 0)
                        break;
                if (r > 0 && ts_tree_cursor_goto_first_child(&c)) {
                        if (depth + 1 == alloc) {
                                struct frame *nf = realloc(frames, alloc * 2 * sizeof(*nf));
                                if (!nf) {
                                        r = -ENOMEM;
                                        break;
                                }
                                frames = nf;
                                alloc *= 2;
                        }
                        child_frame(&frames[depth], ts_tree_cursor_current_field_name(&c), &frames[depth + 1]);
                        depth++;
                        continue;
                }
                bool moved = false;
                while (!(moved = ts_tree_cursor_goto_next_sibling(&c))) {
                        if (!ts_tree_cursor_goto_parent(&c))
                                break;
                        depth--;
                }
                if (!moved)
                        break;
                child_frame(&frames[depth - 1], ts_tree_cursor_current_field_name(&c), &frames[depth]);
        }
        r = r < 0 ? r : 0;
        free(frames);
        ts_tree_cursor_delete(&c);
        return r;
}

int pyast_inspect(const struct pyast *a, unsigned minor, struct py_errors *errors, struct py_facts *facts) {
        struct walker w = { .a = a, .minor = minor ? minor : PY_MINOR_DEFAULT, .errors = errors, .facts = facts };
        int r = walk(&w);
        if (r == 0 && facts)
                r = pyast_resolve_routes(&w);
        pyast_walker_done(&w);
        return r;
}
