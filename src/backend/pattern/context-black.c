/* context-black.c - Python statements laid out as black lays them out.
 *
 * Interface: context_black_stmt(), _item(), _def() and _defs() in context.h. The generated
 * projects must pass `black --check` (line length 100, pyproject.toml.tmpl), and the length of a column
 * definition or a migration's create_table() depends on the spec's names, so the context
 * lays such statements out itself, with black's rules for a call that does not fit: split
 * after the last opening bracket; the arguments on one indented line when they fit there,
 * else one per line with a trailing comma (one argument alone gets none), each laid out
 * again the same way. Only what the context builds goes through here: calls and bracketed
 * literals whose arguments are names, literals and calls, without comments; and, through
 * context_black_defs(), every over-long `def` line of a rendered Python template (the test
 * functions' names grow with the spec's).
 * No diagnostics: functions return 0, -ENOMEM or -E2BIG, or a string that is NULL on ENOMEM.
 */
#include "config.h"

#include <string.h>

#include "context-internal.h"

/* An expression: a leaf (text only) or a bracketed group: text is what precedes the
 * opening bracket ("sa.Column"), open/close the brackets, items the parts between commas. */
struct pyx {
        char *text;
        char open, close;
        struct pyx **items;
        size_t n;
};

static void pyx_free(struct pyx *x) {
        if (!x)
                return;
        for (size_t i = 0; i < x->n; i++)
                pyx_free(x->items[i]);
        free(x->items);
        free(x->text);
        free(x);
}

/* The end of the string literal starting at s (its closing quote's successor). */
static const char *skip_string(const char *s, const char *end) {
        char q = *s++;
        while (s < end && *s != q) {
                if (*s == '\\' && s + 1 < end)
                        s++;
                s++;
        }
        return s < end ? s + 1 : end;
}

static bool is_open(char c) {
        return c == '(' || c == '[' || c == '{';
}

static bool is_close(char c) {
        return c == ')' || c == ']' || c == '}';
}

/* Parses [s, end) (trimmed of blanks); NULL on ENOMEM. Text that does not end with a
 * bracketed group, or whose group's brackets do not match, is a leaf. */
static struct pyx *pyx_parse(const char *s, const char *end) {
        while (s < end && *s == ' ')
                s++;
        while (end > s && end[-1] == ' ')
                end--;
        struct pyx *x = calloc(1, sizeof(*x));
        if (!x)
                return NULL;
        /* the opening bracket of the group that ends the text, at depth 0 */
        const char *open = NULL;
        int depth = 0;
        bool ok = true;
        for (const char *p = s; p < end && ok;) {
                if (*p == '"' || *p == '\'') {
                        p = skip_string(p, end);
                        continue;
                }
                if (is_open(*p)) {
                        if (depth++ == 0)
                                open = p;
                } else if (is_close(*p)) {
                        if (--depth < 0)
                                ok = false;
                        else if (depth == 0 && p + 1 != end)
                                open = NULL; /* a group that does not end the text */
                }
                p++;
        }
        if (!ok || depth != 0 || !open || !is_close(end[-1])) {
                x->text = strndup(s, (size_t) (end - s));
                if (!x->text) {
                        free(x);
                        return NULL;
                }
                return x;
        }
        x->text = strndup(s, (size_t) (open - s));
        x->open = *open;
        x->close = end[-1];
        if (!x->text) {
                free(x);
                return NULL;
        }
        /* the items: split at commas of depth 0 inside the group */
        const char *start = open + 1, *inner_end = end - 1;
        depth = 0;
        for (const char *p = start; p <= inner_end;) {
                if (p < inner_end && (*p == '"' || *p == '\'')) {
                        p = skip_string(p, inner_end);
                        continue;
                }
                if (p < inner_end && is_open(*p))
                        depth++;
                else if (p < inner_end && is_close(*p))
                        depth--;
                if (p == inner_end || (*p == ',' && depth == 0)) {
                        const char *a = start, *b = p;
                        while (a < b && *a == ' ')
                                a++;
                        if (a < b) {
                                struct pyx **items = realloc(x->items, (x->n + 1) * sizeof(*items));
                                struct pyx *it = items ? pyx_parse(a, b) : NULL;
                                if (items)
                                        x->items = items;
                                if (!it) {
                                        pyx_free(x);
                                        return NULL;
                                }
                                x->items[x->n++] = it;
                        }
                        start = p + 1;
                }
                p++;
        }
        return x;
}

static int pyx_flat(struct strbuf *sb, const struct pyx *x) {
        TRY(strbuf_adds(sb, x->text));
        if (!x->open)
                return 0;
        TRY(strbuf_addc(sb, x->open));
        for (size_t i = 0; i < x->n; i++) {
                if (i)
                        TRY(strbuf_adds(sb, ", "));
                TRY(pyx_flat(sb, x->items[i]));
        }
        /* a tuple of one keeps its comma */
        if (x->open == '(' && x->n == 1 && !*x->text)
                TRY(strbuf_addc(sb, ','));
        return strbuf_addc(sb, x->close);
}

/* Columns a line takes: UTF-8 characters. */
static size_t width(const char *s, size_t len) {
        size_t w = 0;
        for (size_t i = 0; i < len; i++)
                if (((unsigned char) s[i] & 0xc0) != 0x80)
                        w++;
        return w;
}

static int indent_to(struct strbuf *sb, size_t indent) {
        for (size_t i = 0; i < indent; i++)
                TRY(strbuf_addc(sb, ' '));
        return 0;
}

/* Lays out prefix + x + suffix at indent, every line ended by a newline. */
static int pyx_layout(struct strbuf *out, size_t indent, const char *prefix, const struct pyx *x,
                      const char *suffix) {
        _cleanup_strbuf_ struct strbuf flat;
        strbuf_init(&flat, 0);
        TRY(strbuf_adds(&flat, prefix));
        TRY(pyx_flat(&flat, x));
        TRY(strbuf_adds(&flat, suffix));
        if (!x->open || x->n == 0 || indent + width(strbuf_str(&flat), flat.len) <= CONTEXT_LINE_LENGTH) {
                TRY(indent_to(out, indent));
                TRY(strbuf_adds(out, strbuf_str(&flat)));
                return strbuf_addc(out, '\n');
        }
        TRY(indent_to(out, indent));
        TRY(strbuf_addf(out, "%s%s%c\n", prefix, x->text, x->open));
        bool tuple1 = x->open == '(' && x->n == 1 && !*x->text;
        strbuf_reset(&flat);
        for (size_t i = 0; i < x->n; i++) {
                if (i)
                        TRY(strbuf_adds(&flat, ", "));
                TRY(pyx_flat(&flat, x->items[i]));
        }
        if (tuple1)
                TRY(strbuf_addc(&flat, ','));
        /* a collection literal (a bracket not after a name: no call, no subscript) of several
         * items that does not fit on its line is split one item per line, like its items */
        size_t tl = strlen(x->text);
        char last = tl ? x->text[tl - 1] : ' ';
        bool literal = x->n > 1 && !(last == '_' || last == '.' || last == ')' || last == ']' ||
                                     last == '"' || last == '\'' || (last >= 'a' && last <= 'z') ||
                                     (last >= 'A' && last <= 'Z') || (last >= '0' && last <= '9'));
        if (!literal && indent + 4 + width(strbuf_str(&flat), flat.len) <= CONTEXT_LINE_LENGTH) {
                TRY(indent_to(out, indent + 4));
                TRY(strbuf_adds(out, strbuf_str(&flat)));
                TRY(strbuf_addc(out, '\n'));
        } else if (x->n == 1)
                TRY(pyx_layout(out, indent + 4, "", x->items[0], tuple1 ? "," : ""));
        else
                for (size_t i = 0; i < x->n; i++)
                        TRY(pyx_layout(out, indent + 4, "", x->items[i], ","));
        TRY(indent_to(out, indent));
        TRY(strbuf_addf(out, "%c%s\n", x->close, suffix));
        return 0;
}

char *context_black_stmt(size_t indent, const char *prefix, const char *expr) {
        return context_black_item(indent, prefix, expr, "");
}

char *context_black_item(size_t indent, const char *prefix, const char *expr, const char *suffix) {
        struct pyx *x = pyx_parse(expr, expr + strlen(expr));
        if (!x)
                return NULL;
        struct strbuf out;
        strbuf_init(&out, 0);
        int r = pyx_layout(&out, indent, prefix, x, suffix);
        pyx_free(x);
        if (r < 0) {
                strbuf_free(&out);
                return NULL;
        }
        /* the template indents the first line and ends the last */
        size_t len = 0;
        char *s = strbuf_detach(&out, &len);
        if (!s)
                return NULL;
        if (len > 0 && s[len - 1] == '\n')
                s[--len] = '\0';
        memmove(s, s + indent, len - indent + 1);
        return s;
}

char *context_black_def(size_t indent, const char *name, const char *params, const char *ret) {
        struct strbuf out;
        strbuf_init(&out, 0);
        size_t plen = strlen(params);
        /* on one line when it fits */
        if (strbuf_addf(&out, "def %s(%s) -> %s:", name, params, ret) < 0)
                goto fail;
        if (indent + width(strbuf_str(&out), out.len) <= CONTEXT_LINE_LENGTH)
                return strbuf_detach(&out, NULL);
        strbuf_free(&out);
        strbuf_init(&out, 0);
        if (strbuf_addf(&out, "def %s(\n", name) < 0)
                goto fail;
        /* a parameter alone gets a trailing comma (black adds one to a split def without
         * commas), several on one line none */
        bool alone = true;
        for (int depth = 0, i = 0; params[i]; i++) {
                if (is_open(params[i]))
                        depth++;
                else if (is_close(params[i]))
                        depth--;
                else if (params[i] == ',' && depth == 0)
                        alone = false;
        }
        if (indent + 4 + width(params, plen) + (alone ? 1 : 0) <= CONTEXT_LINE_LENGTH) {
                /* the parameters on one indented line */
                if (indent_to(&out, indent + 4) < 0 ||
                    strbuf_addf(&out, "%s%s\n", params, alone ? "," : "") < 0)
                        goto fail;
        } else {
                /* one per line, each with a trailing comma: split at the top-level commas */
                int depth = 0;
                size_t start = 0;
                for (size_t i = 0; i <= plen; i++) {
                        char c = params[i];
                        if (c == '(' || c == '[' || c == '{')
                                depth++;
                        else if (c == ')' || c == ']' || c == '}')
                                depth--;
                        else if ((c == ',' && depth == 0) || c == '\0') {
                                while (params[start] == ' ')
                                        start++;
                                if (indent_to(&out, indent + 4) < 0 ||
                                    strbuf_addf(&out, "%.*s,\n", (int) (i - start), params + start) < 0)
                                        goto fail;
                                start = i + 1;
                        }
                }
        }
        if (indent_to(&out, indent) < 0 || strbuf_addf(&out, ") -> %s:", ret) < 0)
                goto fail;
        return strbuf_detach(&out, NULL);
fail:
        strbuf_free(&out);
        return NULL;
}

/* Whether [s, end) is `def NAME(PARAMS) -> RET:` (after the indentation) with PARAMS that
 * context_black_def() can split: balanced brackets, no string, comment or trailing comma
 * (a magic trailing comma makes black keep the parameters one per line). Sets the parts. */
static bool parse_def(const char *s, const char *end, const char **name, const char **params,
                      const char **params_end, const char **ret) {
        static const char arrow[] = ") -> ";
        if ((size_t) (end - s) < 4 || memcmp(s, "def ", 4) != 0 || end[-1] != ':')
                return false;
        *name = s + 4;
        const char *open = memchr(*name, '(', (size_t) (end - *name));
        if (!open || open == *name)
                return false;
        for (const char *p = *name; p < open; p++)
                if (!(*p == '_' || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                      (*p >= '0' && *p <= '9')))
                        return false;
        int depth = 0;
        const char *p = open + 1;
        for (; p < end; p++) {
                if (*p == '"' || *p == '\'' || *p == '#')
                        return false;
                if (is_open(*p))
                        depth++;
                else if (is_close(*p) && depth-- == 0)
                        break;
        }
        if (p >= end || (size_t) (end - p) < sizeof(arrow) || memcmp(p, arrow, sizeof(arrow) - 1) != 0)
                return false;
        const char *last = p;
        while (last > open + 1 && last[-1] == ' ')
                last--;
        if (last > open + 1 && last[-1] == ',')
                return false;
        *params = open + 1;
        *params_end = p;
        *ret = p + sizeof(arrow) - 1;
        return true;
}

int context_black_defs(const char *text, size_t len, struct strbuf *out) {
        const char *end = text + len;
        for (const char *line = text; line < end;) {
                const char *nl = memchr(line, '\n', (size_t) (end - line));
                const char *eol = nl ? nl : end;
                const char *s = line, *name, *params, *params_end, *ret;
                while (s < eol && *s == ' ')
                        s++;
                size_t indent = (size_t) (s - line);
                if (indent + width(s, (size_t) (eol - s)) > CONTEXT_LINE_LENGTH &&
                    parse_def(s, eol, &name, &params, &params_end, &ret)) {
                        _cleanup_free_ char *n = strndup(name, (size_t) (strchr(name, '(') - name));
                        _cleanup_free_ char *ps = strndup(params, (size_t) (params_end - params));
                        _cleanup_free_ char *rt = strndup(ret, (size_t) (eol - 1 - ret));
                        _cleanup_free_ char *def = n && ps && rt ? context_black_def(indent, n, ps, rt) : NULL;
                        if (!def)
                                return -ENOMEM;
                        TRY(strbuf_add(out, line, indent));
                        TRY(strbuf_adds(out, def));
                        if (nl)
                                TRY(strbuf_addc(out, '\n'));
                } else
                        TRY(strbuf_add(out, line, (size_t) (eol - line) + (nl ? 1 : 0)));
                line = eol + (nl ? 1 : 0);
        }
        return 0;
}
