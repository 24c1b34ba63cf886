/* pyast-facts.c - the figures the quality metrics need, gathered on the inspection walk.
 *
 * Interface: pyast-internal.h; the figures land in struct py_facts (pyast.h): functions
 * and how many are fully annotated, docstring candidates and docstrings, raises and
 * HTTPException uses, ORM classes (with Base among their bases) and FastAPI routes, whose
 * decorator paths are joined to their router's prefix once the walk is done.
 * docs/metrics.md defines every figure. No diagnostics; functions return 0 or -ENOMEM.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>

#include "pyast-internal.h"

int pyast_add_docstring_candidate(struct walker *w, TSNode body) {
        w->facts->doc_candidates++;
        TSNode first = ts_node_is_null(body) ? body : pyast_first_named_non_comment(body);
        if (!ts_node_is_null(first) && pyast_is_docstring_stmt(w->a, first))
                w->facts->docstrings++;
        return 0;
}

int pyast_facts_function(struct walker *w, TSNode fn, bool method) {
        bool annotated = false;
        TSNode params = ts_node_child_by_field_name(fn, "parameters", 10);
        int r = 0;
        if (!ts_node_is_null(params))
                r = pyast_check_parameters(w, params, method, &annotated);
        if (r < 0 || !w->facts)
                return r;
        w->facts->functions++;
        if (annotated && !ts_node_is_null(ts_node_child_by_field_name(fn, "return_type", 11)))
                w->facts->annotated++;
        return pyast_add_docstring_candidate(w, pyast_child_of_type(fn, "block"));
}

int pyast_facts_class(struct walker *w, TSNode cls) {
        int r = pyast_add_docstring_candidate(w, pyast_child_of_type(cls, "block"));
        TSNode sup = ts_node_child_by_field_name(cls, "superclasses", 12);
        TSNode name = ts_node_child_by_field_name(cls, "name", 4);
        if (r < 0 || ts_node_is_null(sup) || ts_node_is_null(name))
                return r;
        _cleanup_kids_ struct kids k = kids_of(sup);
        TSNode base;
        while (kids_next(&k, &base)) {
                if (!pyast_names_identifier(w->a, base, "Base"))
                        continue;
                struct py_facts *f = w->facts;
                size_t alloc = f->n_orm_classes;
                char **nv = realloc(f->orm_classes, (alloc + 1) * sizeof(*nv));
                if (!nv)
                        return -ENOMEM;
                f->orm_classes = nv;
                size_t l;
                const char *t = text(w->a, name, &l);
                if (!(f->orm_classes[f->n_orm_classes] = strndup(t, l)))
                        return -ENOMEM;
                f->n_orm_classes++;
                break;
        }
        return 0;
}

/* router = APIRouter(prefix="/users") */
int pyast_facts_assignment(struct walker *w, TSNode as) {
        TSNode left = ts_node_child_by_field_name(as, "left", 4);
        TSNode right = ts_node_child_by_field_name(as, "right", 5);
        if (!is(left, "identifier") || !is(right, "call"))
                return 0;
        if (!pyast_names_identifier(w->a, ts_node_child_by_field_name(right, "function", 8),
                                    "APIRouter"))
                return 0;
        TSNode args = ts_node_child_by_field_name(right, "arguments", 9);
        if (!is(args, "argument_list"))
                return 0;
        _cleanup_kids_ struct kids k = kids_of(args);
        TSNode kw;
        while (kids_next(&k, &kw)) {
                if (!is(kw, "keyword_argument") ||
                    !text_is(w->a, ts_node_child_by_field_name(kw, "name", 4), "prefix"))
                        continue;
                _cleanup_free_ char *v =
                        pyast_string_value(w->a, ts_node_child_by_field_name(kw, "value", 5));
                if (!v)
                        return 0;
                if (grow((void **) &w->prefixes, &w->alloc_prefixes, w->n_prefixes, sizeof(*w->prefixes)) < 0)
                        return -ENOMEM;
                size_t l;
                const char *t = text(w->a, left, &l);
                char *name = strndup(t, l);
                if (!name)
                        return -ENOMEM;
                w->prefixes[w->n_prefixes++] = (struct prefix) { name, TAKE_PTR(v) };
                return 0;
        }
        return 0;
}

/* @<object>.get("/path", ...) */
int pyast_facts_decorator(struct walker *w, TSNode dec) {
        static const char *const methods[] = { "get", "post", "put", "patch", "delete" };
        TSNode call = ts_node_named_child(dec, 0);
        if (!is(call, "call"))
                return 0;
        TSNode fn = ts_node_child_by_field_name(call, "function", 8);
        TSNode args = ts_node_child_by_field_name(call, "arguments", 9);
        if (!is(fn, "attribute") || !is(args, "argument_list"))
                return 0;
        TSNode attr = ts_node_child_by_field_name(fn, "attribute", 9);
        TSNode obj = ts_node_child_by_field_name(fn, "object", 6);
        const char *method = NULL;
        for (size_t i = 0; i < ELEMENTSOF(methods) && !method; i++)
                if (text_is(w->a, attr, methods[i]))
                        method = methods[i];
        if (!method)
                return 0;
        _cleanup_free_ char *path = NULL;
        _cleanup_kids_ struct kids k = kids_of(args);
        TSNode arg;
        while (!path && kids_next(&k, &arg)) {
                if (!ts_node_is_named(arg) || is(arg, "comment"))
                        continue;
                if (is(arg, "keyword_argument")) {
                        if (text_is(w->a, ts_node_child_by_field_name(arg, "name", 4), "path"))
                                path = pyast_string_value(
                                        w->a, ts_node_child_by_field_name(arg, "value", 5));
                        continue;
                }
                path = pyast_string_value(w->a, arg);
                if (!path)
                        return 0; /* the first positional argument is not a literal */
        }
        if (!path)
                return 0;
        if (grow((void **) &w->routes, &w->alloc_routes, w->n_routes, sizeof(*w->routes)) < 0)
                return -ENOMEM;
        struct pending_route *pr = &w->routes[w->n_routes];
        memset(pr, 0, sizeof(*pr));
        for (size_t i = 0; method[i]; i++)
                pr->method[i] = (char) toupper((unsigned char) method[i]);
        if (is(obj, "identifier")) {
                size_t l;
                const char *t = text(w->a, obj, &l);
                if (!(pr->object = strndup(t, l)))
                        return -ENOMEM;
        }
        pr->path = TAKE_PTR(path);
        pr->line = ts_node_start_point(dec).row + 1;
        w->n_routes++;
        return 0;
}

static char *join_route(const char *prefix, const char *path) {
        size_t pl = strlen(prefix);
        while (pl > 0 && prefix[pl - 1] == '/')
                pl--;
        char *s;
        int k;
        if (pl == 0 && (!*path || streq(path, "/")))
                k = asprintf(&s, "/");
        else if (!*path || streq(path, "/"))
                k = asprintf(&s, "%.*s", (int) pl, prefix);
        else
                k = asprintf(&s, "%.*s%s%s", (int) pl, prefix, path[0] == '/' ? "" : "/", path);
        return k < 0 ? NULL : s;
}

int pyast_resolve_routes(struct walker *w) {
        struct py_facts *f = w->facts;
        for (size_t i = 0; i < w->n_routes; i++) {
                struct pending_route *pr = &w->routes[i];
                const char *prefix = "";
                for (size_t j = 0; pr->object && j < w->n_prefixes; j++)
                        if (streq(w->prefixes[j].name, pr->object))
                                prefix = w->prefixes[j].prefix;
                struct py_route *nv = realloc(f->routes, (f->n_routes + 1) * sizeof(*nv));
                if (!nv)
                        return -ENOMEM;
                f->routes = nv;
                struct py_route *rt = &f->routes[f->n_routes];
                memcpy(rt->method, pr->method, sizeof(rt->method));
                rt->line = pr->line;
                if (!(rt->path = join_route(prefix, pr->path)))
                        return -ENOMEM;
                f->n_routes++;
        }
        return 0;
}

void pyast_walker_done(struct walker *w) {
        for (size_t i = 0; i < w->n_prefixes; i++) {
                free(w->prefixes[i].name);
                free(w->prefixes[i].prefix);
        }
        free(w->prefixes);
        for (size_t i = 0; i < w->n_routes; i++) {
                free(w->routes[i].object);
                free(w->routes[i].path);
        }
        free(w->routes);
}
