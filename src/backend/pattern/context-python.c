/* context-python.c - the Python text the template context is made of.
 *
 * Interface: context-internal.h. String, JSON and number literals, a node as a Python
 * literal, identifiers that stay clear of keywords and of the names the generated modules
 * bind themselves (context_py_ident(), context.h), class and word forms of names, and
 * import lists grouped and ordered as isort does. No diagnostics: functions return 0 or
 * -ENOMEM, or a string that is NULL on ENOMEM.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "context-internal.h"

/* ---- literals ---- */

/* A Python string literal in black's choice of quotes: double quotes, unless the text
 * holds more double quotes than single quotes (fewer escapes). */
int context_add_py_str(struct strbuf *sb, const char *s) {
        size_t dq = 0, sq = 0;
        for (const char *p = s; *p; p++) {
                dq += *p == '"';
                sq += *p == '\'';
        }
        char q = dq > sq ? '\'' : '"';
        TRY(strbuf_addc(sb, q));
        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                int r;
                if (*p == '\\' || *p == (unsigned char) q)
                        r = strbuf_addf(sb, "\\%c", *p);
                else if (*p == '\n')
                        r = strbuf_adds(sb, "\\n");
                else if (*p == '\t')
                        r = strbuf_adds(sb, "\\t");
                else if (*p < 0x20 || *p == 0x7f)
                        r = strbuf_addf(sb, "\\x%02x", *p);
                else
                        r = strbuf_addc(sb, (char) *p);
                TRY(r);
        }
        return strbuf_addc(sb, q);
}

char *context_py_str(const char *s) {
        struct strbuf sb;
        strbuf_init(&sb, 0);
        if (context_add_py_str(&sb, s) < 0) {
                strbuf_free(&sb);
                return NULL;
        }
        return strbuf_detach(&sb, NULL);
}

/* A double-quoted JSON string, which is also a valid TOML basic string and YAML
 * double-quoted scalar. */
char *context_json_str(const char *s) {
        struct strbuf sb;
        int r = 0;
        strbuf_init(&sb, 0);
        r = strbuf_addc(&sb, '"');
        for (const unsigned char *p = (const unsigned char *) s; *p && r >= 0; p++) {
                if (*p == '\\' || *p == '"')
                        r = strbuf_addf(&sb, "\\%c", *p);
                else if (*p == '\n')
                        r = strbuf_adds(&sb, "\\n");
                else if (*p == '\t')
                        r = strbuf_adds(&sb, "\\t");
                else if (*p < 0x20 || *p == 0x7f)
                        r = strbuf_addf(&sb, "\\u%04x", *p);
                else
                        r = strbuf_addc(&sb, (char) *p);
        }
        if (r >= 0)
                r = strbuf_addc(&sb, '"');
        if (r < 0) {
                strbuf_free(&sb);
                return NULL;
        }
        return strbuf_detach(&sb, NULL);
}

/* Shortest text of a number as Python reads it: "13", "0.5", "1e+20". */
char *context_num_str(double x) {
        char buf[64];
        if (dabs(x) < 1e15 && x == dfloor(x))
                snprintf(buf, sizeof(buf), "%.0f", x);
        else {
                for (int prec = 1; prec <= 17; prec++) {
                        snprintf(buf, sizeof(buf), "%.*g", prec, x);
                        if (strtod(buf, NULL) == x)
                                break;
                }
        }
        return strdup(buf);
}

/* One line of text for docstrings and Markdown tables: whitespace runs become one space. */
char *context_one_line(const char *s) {
        char *out = strdup(s ? s : ""), *w = out;
        if (!out)
                return NULL;
        bool space = false;
        for (const char *p = out; *p; p++) {
                if (*p == '\n' || *p == '\r' || *p == '\t' || *p == ' ') {
                        space = w != out;
                        continue;
                }
                if (space)
                        *w++ = ' ';
                space = false;
                *w++ = *p;
        }
        *w = '\0';
        return out;
}

/* The JSON-ish node as a Python literal (json defaults). */
int context_add_py_literal(struct strbuf *sb, const struct node *n) {
        bool b;
        double d;
        switch (n ? n->kind : NODE_NULL) {
        case NODE_NULL:
                return strbuf_adds(sb, "None");
        case NODE_MAP:
                TRY(strbuf_addc(sb, '{'));
                for (size_t i = 0; i < n->n; i++) {
                        if (i)
                                TRY(strbuf_adds(sb, ", "));
                        TRY(context_add_py_str(sb, n->keys[i]->value));
                        TRY(strbuf_adds(sb, ": "));
                        TRY(context_add_py_literal(sb, n->items[i]));
                }
                return strbuf_addc(sb, '}');
        case NODE_SEQ:
                TRY(strbuf_addc(sb, '['));
                for (size_t i = 0; i < n->n; i++) {
                        if (i)
                                TRY(strbuf_adds(sb, ", "));
                        TRY(context_add_py_literal(sb, n->items[i]));
                }
                return strbuf_addc(sb, ']');
        case NODE_SCALAR:
                if (n->quoted)
                        return context_add_py_str(sb, n->value);
                if (node_is_null(n))
                        return strbuf_adds(sb, "None");
                if (node_as_bool(n, &b) == 0)
                        return strbuf_adds(sb, b ? "True" : "False");
                if (node_as_double(n, &d) == 0)
                        return strbuf_adds(sb, n->value);
                return context_add_py_str(sb, n->value);
        }
        return -EINVAL;
}

/* ---- names ---- */

bool context_in_list(const char *const *list, const char *s) {
        for (; *list; list++)
                if (streq(*list, s))
                        return true;
        return false;
}

static const char *const py_keywords[] = {
        "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class",
        "continue", "def", "del", "elif", "else", "except", "finally", "for", "from", "global",
        "if", "import", "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise",
        "return", "try", "while", "with", "yield", NULL,
};

/* Lower-case names that generated modules bind themselves (module aliases, Pydantic
 * and SQLAlchemy reserved attributes): a field of that name gets a trailing "_". */
static const char *const py_reserved[] = {
        "sa", "orm", "dt", "re", "metadata", "registry", "query", "dict", "json", "copy",
        "parse_obj", "parse_raw", "parse_file", "from_orm", "construct", "schema",
        "schema_json", "validate", "update_forward_refs", "fields", "validator",
        /* Pydantic 2's methods and attributes */
        "model_config", "model_dump", "model_dump_json", "model_validate", "model_fields",
        "model_copy", "model_construct", "model_json_schema", "model_extra",
        "model_fields_set", "model_post_init", "model_computed_fields",
        /* builtins the class bodies use in annotations: a class attribute of that name
         * would shadow them for the annotations after it */
        "str", "int", "float", "bool", "list", "bytes",
        /* the first parameter of the constructor SQLAlchemy gives a model */
        "self",
        /* the modules the model modules use by name */
        "decimal", "database", NULL,
};

/* PascalCase names the generated modules import or define (Config, the inner class of
 * the Pydantic schemas): the other modules import an entity of that name as NameRecord. */
static const char *const class_reserved[] = {
        "Any", "AnyUrl", "API", "APIRouter", "Base", "BaseModel", "Config", "ConflictError", "Decimal",
        "Depends", "Dict", "DomainError", "EmailStr", "Engine", "FastAPI", "Field",
        "IntegrityError", "Iterator", "JSONResponse", "List", "Literal", "NotFoundError",
        "Optional", "Path", "Query", "Request", "Response", "Session", "Settings",
        "TestClient", "Tuple", "UUID", "ValidationFailed", NULL,
};

char *context_py_ident(const char *name) {
        if (context_in_list(py_keywords, name) || context_in_list(py_reserved, name))
                return strf("%s_", name);
        return strdup(name);
}

static bool entity_has_member(const struct entity *e, const char *name) {
        for (size_t i = 0; i < e->n_fields; i++)
                if (streq(e->fields[i].name, name))
                        return true;
        for (size_t i = 0; i < e->n_rels; i++)
                if (streq(e->rels[i].name, name))
                        return true;
        return false;
}

char *context_member_attr(const struct entity *e, const char *name) {
        char *attr = context_py_ident(name);
        /* a renamed "json" must not become the "json_" another member of e is called */
        while (attr && !streq(attr, name) && entity_has_member(e, attr)) {
                char *longer = strf("%s_", attr);
                free(attr);
                attr = longer;
        }
        return attr;
}

bool context_is_py_keyword(const char *s) {
        return context_in_list(py_keywords, s);
}

char *context_class_name_of(const struct entity *e) {
        if (context_in_list(class_reserved, e->name))
                return strf("%sRecord", e->name);
        return strdup(e->name);
}

/* pytest collects functions named test* from the test modules, which import these */
char *context_payload_fn_of(const struct entity *e) {
        return strncmp(e->snake, "test", 4) == 0 ? strf("payload_for_%s", e->snake)
                                                 : strf("%s_payload", e->snake);
}

char *context_model_class_of(const struct entity *e) {
        return strdup(e->name);
}

char *context_upper(const char *s) {
        char *u = strdup(s);
        for (char *p = u; p && *p; p++)
                if (*p >= 'a' && *p <= 'z')
                        *p = (char) (*p - 'a' + 'A');
        return u;
}

/* "due_date" -> "DueDate" */
char *context_pascal_of(const char *snake) {
        char *out = malloc(strlen(snake) + 1), *w = out;
        bool up = true;
        if (!out)
                return NULL;
        for (const char *p = snake; *p; p++) {
                if (*p == '_') {
                        up = true;
                        continue;
                }
                *w++ = up && *p >= 'a' && *p <= 'z' ? (char) (*p - 'a' + 'A') : *p;
                up = false;
        }
        *w = '\0';
        return out;
}

/* "due_date" -> "due date", "json_" -> "json" */
char *context_words_of(const char *snake) {
        char *out = strdup(snake);
        for (char *p = out; p && *p; p++)
                if (*p == '_')
                        *p = ' ';
        for (size_t n = out ? strlen(out) : 0; n > 1 && out[n - 1] == ' '; n--)
                out[n - 1] = '\0';
        return out;
}

/* "TaskItem" -> "task item" */
char *context_title_words(const struct entity *e) {
        _cleanup_free_ char *w = context_words_of(e->snake);
        return w ? strdup(w) : NULL;
}

/* ---- import lists ---- */

void context_imports_clear(struct imports *im) {
        for (size_t i = 0; i < im->n; i++) {
                for (size_t j = 0; j < im->v[i].n_names; j++)
                        free(im->v[i].names[j]);
                free(im->v[i].names);
                free(im->v[i].module);
                free(im->v[i].line);
        }
        free(im->v);
        *im = (struct imports) { .n = 0 };
}

/* A new, zeroed entry at the end. */
static struct import *imports_push(struct imports *im) {
        if (im->n == im->alloc) {
                size_t na = im->alloc ? im->alloc * 2 : 16;
                struct import *v = realloc(im->v, na * sizeof(*v));
                if (!v)
                        return NULL;
                im->v = v;
                im->alloc = na;
        }
        im->v[im->n] = (struct import) { .group = 0 };
        return &im->v[im->n++];
}

int context_imp_plain(struct imports *im, int group, const char *line) {
        for (size_t i = 0; i < im->n; i++)
                if (im->v[i].line && streq(im->v[i].line, line))
                        return 0;
        struct import *x = imports_push(im);
        if (!x)
                return -ENOMEM;
        x->group = group;
        return (x->line = strdup(line)) ? 0 : -ENOMEM;
}

int context_imp_from(struct imports *im, int group, const char *module, const char *name) {
        struct import *x = NULL;
        for (size_t i = 0; i < im->n && !x; i++)
                if (im->v[i].module && streq(im->v[i].module, module))
                        x = &im->v[i];
        if (!x) {
                if (!(x = imports_push(im)))
                        return -ENOMEM;
                x->group = group;
                if (!(x->module = strdup(module)))
                        return -ENOMEM;
        }
        for (size_t j = 0; j < x->n_names; j++)
                if (streq(x->names[j], name))
                        return 0;
        char **nv = realloc(x->names, (x->n_names + 1) * sizeof(char *));
        if (!nv)
                return -ENOMEM;
        x->names = nv;
        if (!(nv[x->n_names] = strdup(name)))
                return -ENOMEM;
        x->n_names++;
        return 0;
}

/* isort's order: "import x" lines, then "from x import ..." lines, each by module. */
static const char *import_module(const struct import *x, bool *from) {
        *from = !x->line || strncmp(x->line, "from ", 5) == 0;
        if (!x->line)
                return x->module;
        return x->line + (*from ? 5 : 7);
}

static int cmp_import(const void *a, const void *b) {
        bool fa, fb;
        const char *ma = import_module(a, &fa), *mb = import_module(b, &fb);
        if (fa != fb)
                return fa ? 1 : -1;
        return strcmp(ma, mb);
}

/* [{lines: ["import re", "from typing import Any, Dict"]}, ...]: one map per non-empty
 * group (standard library, third party, the project), PEP 8 order. */
static int imports_node(struct imports *im, struct node **ret) {
        _cleanup_node_ struct node *groups = node_new_seq();
        if (!groups)
                return -ENOMEM;
        if (im->n > 1)
                qsort(im->v, im->n, sizeof(im->v[0]), cmp_import);
        for (int g = 0; g < _IMP_MAX; g++) {
                _cleanup_node_ struct node *lines = node_new_seq();
                if (!lines)
                        return -ENOMEM;
                for (size_t i = 0; i < im->n; i++) {
                        struct import *x = &im->v[i];
                        if (x->group != g)
                                continue;
                        if (x->line) {
                                TRY(append_str(lines, x->line));
                                continue;
                        }
                        if (x->n_names > 1)
                                qsort(x->names, x->n_names, sizeof(char *), strcmp_ptr);
                        struct strbuf sb;
                        strbuf_init(&sb, 0);
                        int r = strbuf_addf(&sb, "from %s import ", x->module);
                        for (size_t j = 0; j < x->n_names && r >= 0; j++)
                                r = strbuf_addf(&sb, "%s%s", j ? ", " : "", x->names[j]);
                        if (r >= 0 && sb.len > CONTEXT_LINE_LENGTH) {
                                /* black's layout of a long import: one name per line */
                                strbuf_free(&sb);
                                strbuf_init(&sb, 0);
                                r = strbuf_addf(&sb, "from %s import (\n", x->module);
                                for (size_t j = 0; j < x->n_names && r >= 0; j++)
                                        r = strbuf_addf(&sb, "    %s,\n", x->names[j]);
                                if (r >= 0)
                                        r = strbuf_addc(&sb, ')');
                        }
                        if (r >= 0)
                                r = append_str(lines, strbuf_str(&sb));
                        strbuf_free(&sb);
                        TRY(r);
                }
                if (lines->n == 0)
                        continue;
                _cleanup_node_ struct node *m = node_new_map();
                if (!m)
                        return -ENOMEM;
                TRY(put(m, "lines", TAKE_PTR(lines)));
                TRY(node_seq_append(groups, TAKE_PTR(m)));
        }
        TRY(mark_last(groups));
        *ret = TAKE_PTR(groups);
        return 0;
}

int context_put_imports(struct node *m, const char *key, struct imports *im) {
        struct node *n = NULL;
        int r = imports_node(im, &n);
        context_imports_clear(im);
        if (r < 0)
                return r;
        return put(m, key, n);
}

int context_with_imports(struct node *m, const char *key, int r, struct imports *im) {
        if (r < 0) {
                context_imports_clear(im);
                return r;
        }
        return context_put_imports(m, key, im);
}
