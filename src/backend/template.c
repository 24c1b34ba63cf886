/* template.c - codegend's logic-less template engine (a Mustache subset).
 *
 * Interface: template_render() in template.h; the syntax is documented there and, for
 * template authors, in docs/templates.md. A template is first split into tokens (text,
 * variables, sections with the index of their closing tag, partials), which finds every
 * syntax error with its line before anything is written; the tokens are then rendered
 * against a stack of context nodes. Partials come from the caller's loader and are
 * parsed when used.
 * Limits: section nesting and the context stack are at most TEMPLATE_MAX_NESTING deep,
 * partials at most env->max_depth (default 16), the output at most the strbuf's maximum.
 * Diagnostics: -EINVAL with "name:line: message" in *ret_error for template errors
 * (unclosed or mismatched section, unknown variable, missing partial, too deep); -E2BIG
 * when the output would pass the buffer's maximum; -ENOMEM. On failure the output
 * buffer is left as it was. This module never logs.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/macro.h"
#include "shared/strbuf.h"
#include "template.h"

#define TEMPLATE_MAX_NESTING 64
#define TEMPLATE_DEFAULT_DEPTH 16

enum token_kind {
        TOK_TEXT,
        TOK_VAR,      /* {{name}}: escaped */
        TOK_RAW,      /* {{{name}}} and {{&name}}: verbatim */
        TOK_SECTION,  /* {{#name}} */
        TOK_INVERTED, /* {{^name}} */
        TOK_CLOSE,    /* {{/name}} */
        TOK_PARTIAL,  /* {{>name}} */
};

struct token {
        enum token_kind kind;
        const char *s; /* text, or the tag's name (not NUL-terminated) */
        size_t len;
        unsigned line;
        size_t end;          /* sections: index of the matching TOK_CLOSE */
        const char *indent;  /* standalone partials: the line's indentation */
        size_t indent_len;
};

struct tpl {
        const char *name;
        struct token *tokens;
        size_t n;
        size_t alloc;
};

struct render {
        const struct template_env *env;
        struct strbuf *out;
        const struct node *stack[TEMPLATE_MAX_NESTING];
        size_t depth;
        unsigned partials;
        unsigned max_partials;
        char *error;
};

static int set_error(char **error, const char *name, unsigned line, const char *fmt, ...)
        _printf_(4, 5);

static int set_error(char **error, const char *name, unsigned line, const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL;
        va_list ap;

        va_start(ap, fmt);
        int k = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (k < 0)
                return -ENOMEM;
        free(*error);
        *error = NULL;
        if (line > 0)
                k = asprintf(error, "%s:%u: %s", name, line, msg);
        else
                k = asprintf(error, "%s: %s", name, msg);
        if (k < 0) {
                *error = NULL;
                return -ENOMEM;
        }
        return -EINVAL;
}

static void tpl_clear(struct tpl *t) {
        free(t->tokens);
        t->tokens = NULL;
        t->n = t->alloc = 0;
}

static int tpl_push(struct tpl *t, const struct token *tok) {
        if (t->n == t->alloc) {
                size_t na = t->alloc ? t->alloc * 2 : 32;
                struct token *v = realloc(t->tokens, na * sizeof(*v));
                if (!v)
                        return -ENOMEM;
                t->tokens = v;
                t->alloc = na;
        }
        t->tokens[t->n++] = *tok;
        return 0;
}

static bool is_blank(char c) {
        return c == ' ' || c == '\t';
}

static bool name_char(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '-' || c == '.';
}

/* "." alone, or segments of name characters separated by single dots. */
static bool name_valid(const char *s, size_t len) {
        if (len == 1 && s[0] == '.')
                return true;
        if (len == 0 || s[0] == '.' || s[len - 1] == '.')
                return false;
        for (size_t i = 0; i < len; i++) {
                if (!name_char(s[i]))
                        return false;
                if (s[i] == '.' && s[i + 1] == '.')
                        return false;
        }
        return true;
}

static unsigned count_lines(const char *s, size_t len, size_t *last_nl) {
        unsigned n = 0;
        for (size_t i = 0; i < len; i++)
                if (s[i] == '\n') {
                        n++;
                        *last_nl = i;
                }
        return n;
}

static const char *find2(const char *s, size_t len, char c) {
        for (size_t i = 0; i + 1 < len; i++)
                if (s[i] == c && s[i + 1] == c)
                        return s + i;
        return NULL;
}

/* Splits src into tokens and matches sections. */
static int tpl_parse(const char *name, const char *src, size_t len, struct tpl *t, char **error) {
        size_t open[TEMPLATE_MAX_NESTING];
        size_t n_open = 0;
        size_t pos = 0, line_start = 0, last_tag_end = 0;
        unsigned line = 1;
        int r;

        t->name = name;
        while (pos < len) {
                const char *o = find2(src + pos, len - pos, '{');
                size_t p = o ? (size_t) (o - src) : len;

                if (p > pos) {
                        struct token text = { .kind = TOK_TEXT, .s = src + pos, .len = p - pos,
                                              .line = line };
                        size_t nl = 0;
                        unsigned k = count_lines(src + pos, p - pos, &nl);
                        if (k > 0) {
                                line += k;
                                line_start = pos + nl + 1;
                        }
                        if ((r = tpl_push(t, &text)) < 0)
                                return r;
                }
                if (p >= len)
                        break;

                /* the tag: {{sigil name}} or {{{name}}} */
                unsigned tag_line = line;
                size_t b = p + 2, e;
                char sigil = b < len ? src[b] : '\0';
                const char *close;
                enum token_kind kind;
                bool comment = false;

                if (sigil == '{') {
                        close = NULL;
                        for (size_t i = b + 1; i + 2 < len && !close; i++)
                                if (src[i] == '}' && src[i + 1] == '}' && src[i + 2] == '}')
                                        close = src + i;
                        if (!close)
                                return set_error(error, name, tag_line, "unclosed tag");
                        e = (size_t) (close - src) + 3;
                        b++;
                        kind = TOK_RAW;
                } else {
                        close = find2(src + b, len - b, '}');
                        if (!close)
                                return set_error(error, name, tag_line, "unclosed tag");
                        e = (size_t) (close - src) + 2;
                        switch (sigil) {
                        case '&':
                                kind = TOK_RAW;
                                b++;
                                break;
                        case '#':
                                kind = TOK_SECTION;
                                b++;
                                break;
                        case '^':
                                kind = TOK_INVERTED;
                                b++;
                                break;
                        case '/':
                                kind = TOK_CLOSE;
                                b++;
                                break;
                        case '>':
                                kind = TOK_PARTIAL;
                                b++;
                                break;
                        case '!':
                                kind = TOK_TEXT;
                                comment = true;
                                b++;
                                break;
                        case '=':
                                return set_error(error, name, tag_line,
                                                 "delimiter changes are not supported");
                        default:
                                kind = TOK_VAR;
                        }
                }
                size_t ne = (size_t) (close - src);
                size_t tag_line_start = line_start;
                {
                        size_t nl = 0;
                        unsigned k = count_lines(src + p, e - p, &nl);
                        if (k > 0) {
                                line += k;
                                line_start = p + nl + 1;
                        }
                }
                while (b < ne && (is_blank(src[b]) || src[b] == '\n' || src[b] == '\r'))
                        b++;
                while (ne > b && (is_blank(src[ne - 1]) || src[ne - 1] == '\n' || src[ne - 1] == '\r'))
                        ne--;
                if (!comment && !name_valid(src + b, ne - b))
                        return set_error(error, name, tag_line, "bad tag name '%.*s'",
                                         (int) (ne - b), src + b);

                /* The standalone-line rule: a section, close, partial or comment tag alone
                 * on its line takes the whole line with it. */
                size_t next = e;
                const char *indent = NULL;
                size_t indent_len = 0;
                if (kind != TOK_VAR && kind != TOK_RAW) {
                        bool standalone = last_tag_end <= tag_line_start;
                        for (size_t i = tag_line_start; standalone && i < p; i++)
                                standalone = is_blank(src[i]);
                        size_t a = e;
                        while (a < len && is_blank(src[a]))
                                a++;
                        if (a < len && src[a] == '\r' && a + 1 < len && src[a + 1] == '\n')
                                a++;
                        if (standalone && (a == len || src[a] == '\n')) {
                                if (t->n > 0 && t->tokens[t->n - 1].kind == TOK_TEXT &&
                                    t->tokens[t->n - 1].s + t->tokens[t->n - 1].len == src + p) {
                                        struct token *prev = &t->tokens[t->n - 1];
                                        size_t start = (size_t) (prev->s - src);
                                        prev->len = start < tag_line_start ? tag_line_start - start : 0;
                                        if (prev->len == 0)
                                                t->n--;
                                }
                                indent = src + tag_line_start;
                                indent_len = p - tag_line_start;
                                next = a < len ? a + 1 : len;
                                if (a < len) {
                                        line++;
                                        line_start = next;
                                }
                        }
                }
                last_tag_end = e;
                pos = next;
                if (comment)
                        continue;

                struct token tok = { .kind = kind, .s = src + b, .len = ne - b, .line = tag_line };
                if (kind == TOK_PARTIAL) {
                        tok.indent = indent;
                        tok.indent_len = indent_len;
                }
                if (kind == TOK_SECTION || kind == TOK_INVERTED) {
                        if (n_open >= TEMPLATE_MAX_NESTING)
                                return set_error(error, name, tag_line,
                                                 "sections nested deeper than %d",
                                                 TEMPLATE_MAX_NESTING);
                        open[n_open++] = t->n;
                } else if (kind == TOK_CLOSE) {
                        if (n_open == 0)
                                return set_error(error, name, tag_line,
                                                 "close of section '%.*s' that is not open",
                                                 (int) tok.len, tok.s);
                        struct token *o2 = &t->tokens[open[n_open - 1]];
                        if (o2->len != tok.len || memcmp(o2->s, tok.s, tok.len) != 0)
                                return set_error(error, name, tag_line,
                                                 "mismatched close '%.*s' (section '%.*s' opened on line %u)",
                                                 (int) tok.len, tok.s, (int) o2->len, o2->s,
                                                 o2->line);
                        o2->end = t->n;
                        n_open--;
                }
                if ((r = tpl_push(t, &tok)) < 0)
                        return r;
        }
        if (n_open > 0) {
                const struct token *o2 = &t->tokens[open[n_open - 1]];
                return set_error(error, name, o2->line, "unclosed section '%.*s'", (int) o2->len,
                                 o2->s);
        }
        return 0;
}

static const struct node *map_get_n(const struct node *map, const char *key, size_t len) {
        if (!map || map->kind != NODE_MAP)
                return NULL;
        for (size_t i = 0; i < map->n; i++) {
                const char *k = map->keys[i]->value;
                if (strncmp(k, key, len) == 0 && k[len] == '\0')
                        return map->items[i];
        }
        return NULL;
}

/* Mustache lookup: the first segment from the innermost context outwards, the rest
 * inside what it found. */
static const struct node *lookup(const struct render *r, const char *name, size_t len,
                                 bool *found) {
        *found = false;
        if (len == 1 && name[0] == '.') {
                if (r->depth == 0)
                        return NULL;
                *found = true;
                return r->stack[r->depth - 1];
        }
        const char *dot = memchr(name, '.', len);
        size_t first = dot ? (size_t) (dot - name) : len;
        const struct node *v = NULL;
        for (size_t d = r->depth; d > 0 && !v; d--)
                v = map_get_n(r->stack[d - 1], name, first);
        while (v && dot) {
                const char *seg = dot + 1;
                dot = memchr(seg, '.', (size_t) (name + len - seg));
                size_t sl = dot ? (size_t) (dot - seg) : (size_t) (name + len - seg);
                v = map_get_n(v, seg, sl);
        }
        *found = v != NULL;
        return v;
}

static bool truthy(const struct node *v) {
        bool b;
        if (!v || v->kind == NODE_NULL)
                return false;
        if (v->kind == NODE_SEQ || v->kind == NODE_MAP)
                return v->n > 0;
        if (v->value[0] == '\0')
                return false;
        if (!v->quoted && (node_is_null(v) || (node_as_bool(v, &b) == 0 && !b)))
                return false;
        return true;
}

static int add_python_escaped(struct strbuf *out, const char *s) {
        int r = 0;
        for (const unsigned char *p = (const unsigned char *) s; *p && r >= 0; p++) {
                switch (*p) {
                case '\\':
                        r = strbuf_adds(out, "\\\\");
                        break;
                case '"':
                        r = strbuf_adds(out, "\\\"");
                        break;
                case '\n':
                        r = strbuf_adds(out, "\\n");
                        break;
                case '\r':
                        r = strbuf_adds(out, "\\r");
                        break;
                case '\t':
                        r = strbuf_adds(out, "\\t");
                        break;
                default:
                        if (*p < 0x20 || *p == 0x7f)
                                r = strbuf_addf(out, "\\x%02x", *p);
                        else
                                r = strbuf_addc(out, (char) *p);
                }
        }
        return r;
}

static int out_error(struct render *r, const struct tpl *t, unsigned line, int err) {
        if (err == -E2BIG)
                (void) set_error(&r->error, t->name, line, "output larger than %zu bytes",
                                 r->out->max);
        return err;
}

static int render_range(struct render *r, const struct tpl *t, size_t begin, size_t end);

static int push(struct render *r, const struct tpl *t, unsigned line, const struct node *v) {
        if (r->depth >= TEMPLATE_MAX_NESTING)
                return set_error(&r->error, t->name, line, "context nested deeper than %d",
                                 TEMPLATE_MAX_NESTING);
        r->stack[r->depth++] = v;
        return 0;
}

/* Adds indent before every non-empty line of s. */
static int add_indented(struct strbuf *out, const char *s, size_t len, const char *indent,
                        size_t indent_len) {
        bool bol = true;
        int r = 0;
        for (size_t i = 0; i < len && r >= 0; i++) {
                if (bol && s[i] != '\n' && !(s[i] == '\r' && i + 1 < len && s[i + 1] == '\n'))
                        r = strbuf_add(out, indent, indent_len);
                if (r >= 0)
                        r = strbuf_addc(out, s[i]);
                bol = s[i] == '\n';
        }
        return r;
}

static int render_tpl(struct render *r, const char *name, const char *src, size_t len);

static int render_partial(struct render *r, const struct tpl *t, const struct token *tok) {
        _cleanup_free_ char *pname = strndup(tok->s, tok->len);
        _cleanup_free_ char *src = NULL;
        size_t len = 0;
        int k;

        if (!pname)
                return -ENOMEM;
        if (r->partials >= r->max_partials)
                return set_error(&r->error, t->name, tok->line,
                                 "partials nested deeper than %u (at '%s')", r->max_partials,
                                 pname);
        if (!r->env->load)
                return set_error(&r->error, t->name, tok->line, "unknown partial '%s'", pname);
        k = r->env->load(r->env->userdata, pname, &src, &len);
        if (k == -ENOENT)
                return set_error(&r->error, t->name, tok->line, "unknown partial '%s'", pname);
        if (k < 0) {
                (void) set_error(&r->error, t->name, tok->line, "cannot load partial '%s': %s",
                                 pname, strerror(-k));
                return k;
        }

        r->partials++;
        if (tok->indent_len == 0) {
                k = render_tpl(r, pname, src, len);
        } else {
                struct strbuf *saved = r->out;
                struct strbuf tmp;
                strbuf_init(&tmp, saved->max > saved->len ? saved->max - saved->len : 1);
                r->out = &tmp;
                k = render_tpl(r, pname, src, len);
                r->out = saved;
                if (k >= 0 && (k = add_indented(saved, tmp.buf ? tmp.buf : "", tmp.len,
                                                tok->indent, tok->indent_len)) < 0)
                        k = out_error(r, t, tok->line, k);
                strbuf_free(&tmp);
        }
        r->partials--;
        return k;
}

static int render_range(struct render *r, const struct tpl *t, size_t begin, size_t end) {
        int k;

        for (size_t i = begin; i < end; i++) {
                const struct token *tok = &t->tokens[i];
                const struct node *v;
                bool found;

                switch (tok->kind) {
                case TOK_TEXT:
                        if ((k = strbuf_add(r->out, tok->s, tok->len)) < 0)
                                return out_error(r, t, tok->line, k);
                        break;
                case TOK_VAR:
                case TOK_RAW:
                        v = lookup(r, tok->s, tok->len, &found);
                        if (!found)
                                return set_error(&r->error, t->name, tok->line,
                                                 "unknown variable '%.*s'", (int) tok->len,
                                                 tok->s);
                        if (v->kind == NODE_MAP || v->kind == NODE_SEQ)
                                return set_error(&r->error, t->name, tok->line,
                                                 "variable '%.*s' is a %s, not a value",
                                                 (int) tok->len, tok->s, node_kind_name(v));
                        if (v->kind == NODE_NULL || !v->value)
                                break;
                        if (tok->kind == TOK_VAR && r->env->escape == TEMPLATE_ESC_PYTHON)
                                k = add_python_escaped(r->out, v->value);
                        else
                                k = strbuf_adds(r->out, v->value);
                        if (k < 0)
                                return out_error(r, t, tok->line, k);
                        break;
                case TOK_SECTION:
                        v = lookup(r, tok->s, tok->len, &found);
                        if (v && v->kind == NODE_SEQ) {
                                for (size_t j = 0; j < v->n; j++) {
                                        if ((k = push(r, t, tok->line, v->items[j])) < 0)
                                                return k;
                                        k = render_range(r, t, i + 1, tok->end);
                                        r->depth--;
                                        if (k < 0)
                                                return k;
                                }
                        } else if (truthy(v)) {
                                if ((k = push(r, t, tok->line, v)) < 0)
                                        return k;
                                k = render_range(r, t, i + 1, tok->end);
                                r->depth--;
                                if (k < 0)
                                        return k;
                        }
                        i = tok->end;
                        break;
                case TOK_INVERTED:
                        v = lookup(r, tok->s, tok->len, &found);
                        if (!truthy(v) && (k = render_range(r, t, i + 1, tok->end)) < 0)
                                return k;
                        i = tok->end;
                        break;
                case TOK_CLOSE:
                        break;
                case TOK_PARTIAL:
                        if ((k = render_partial(r, t, tok)) < 0)
                                return k;
                        break;
                }
        }
        return 0;
}

static int render_tpl(struct render *r, const char *name, const char *src, size_t len) {
        struct tpl t = { .name = NULL };
        int k = tpl_parse(name, src, len, &t, &r->error);
        if (k >= 0)
                k = render_range(r, &t, 0, t.n);
        tpl_clear(&t);
        return k;
}

int template_check(const char *name, const char *src, size_t len, char **ret_error) {
        struct tpl t = { .name = NULL };
        char *error = NULL;
        int k = tpl_parse(name ? name : "<template>", src, len, &t, &error);
        tpl_clear(&t);
        if (k < 0 && ret_error)
                *ret_error = TAKE_PTR(error);
        free(error);
        return k < 0 ? k : 0;
}

int template_render(const struct template_env *env, const char *name, const char *src,
                    size_t len, const struct node *ctx, struct strbuf *out, char **ret_error) {
        struct render r = {
                .env = env,
                .out = out,
                .max_partials = env->max_depth ? env->max_depth : TEMPLATE_DEFAULT_DEPTH,
        };
        size_t saved = out->len;
        int k;

        if (!name)
                name = "<template>";
        if (env->outer)
                r.stack[r.depth++] = env->outer;
        if (ctx)
                r.stack[r.depth++] = ctx;
        k = render_tpl(&r, name, src, len);
        if (k < 0) {
                out->len = saved;
                if (out->buf)
                        out->buf[saved] = '\0';
                if (ret_error && r.error)
                        *ret_error = TAKE_PTR(r.error);
                free(r.error);
                return k;
        }
        free(r.error);
        return 0;
}
