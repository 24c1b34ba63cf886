/* reply-markdown.c - a model's reply read as Markdown: fenced blocks and their names;
 * see reply-internal.h.
 *
 * One pass over the lines finds the fenced blocks (``` or ~~~, three or more, any
 * indentation, closed by the same character at least as long; a block left open runs to
 * the end) and the name of each: a header before it (`### path`, `**path**`,
 * `File: path`, `path:`, "Here is `path`:"), a path in the info string
 * (```python src/a.py), or a path comment on its first line. A word is a name when it has
 * a slash or a known file extension. In a Python block a fence inside a triple-quoted
 * string does not close it (a docstring with an example); in a Markdown block a fence
 * with a language opens an inner block. Both rules give way when the block would then
 * never close. The parse is linear in the reply's size.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "reply-internal.h"
#include "reply.h"
#include "shared/macro.h"

struct fence {
        char ch;
        size_t count, indent;
        struct span info;
};

enum header {
        HEADER_NONE,
        HEADER_HEADING, /* a Markdown heading that names no file: forgets a pending name */
        HEADER_PATH,    /* names the next block, even after prose */
        HEADER_PROSE,   /* "Here is `path`:" names the block right below it */
};

static const char *const known_exts[] = {
        "py", "pyi", "pyx", "txt", "md", "rst", "toml", "cfg", "ini", "yaml", "yml", "json",
        "sh", "bash", "env", "html", "htm", "css", "js", "ts", "sql", "lock", "in", "j2",
        "jinja", "jinja2", "tmpl", "xml", "csv", "conf", "mako",
};
static const char *const known_names[] = {
        "Dockerfile", "Makefile", "Procfile", ".env", ".gitignore", ".dockerignore",
        "LICENSE", "README",
};

/* The first blank-separated word of s; *ret_rest is what follows it, trimmed. */
static struct span first_word(struct span s, struct span *ret_rest) {
        size_t i = 0;
        while (i < s.n && !is_blank(s.p[i]))
                i++;
        *ret_rest = span_trim(span_from(s, i));
        return (struct span) { s.p, i };
}

/* Markdown decoration around a name: emphasis, backquotes, a trailing colon. */
static struct span strip_decor(struct span s) {
        for (;;) {
                struct span t = span_trim(s);
                while (t.n && (t.p[0] == '*' || t.p[0] == '`'))
                        t.p++, t.n--;
                while (t.n && (t.p[t.n - 1] == '*' || t.p[t.n - 1] == '`' || t.p[t.n - 1] == ':'))
                        t.n--;
                t = span_trim(t);
                if (t.n == s.n)
                        return t;
                s = t;
        }
}

/* "File:", "Filename:", "Path:", "File 2:", "File " before a name */
static struct span strip_label(struct span s) {
        static const char *const labels[] = { "file name", "file path", "filename", "file", "path" };
        for (size_t i = 0; i < ELEMENTSOF(labels); i++) {
                size_t n = strlen(labels[i]);
                if (!span_istarts(s, labels[i]))
                        continue;
                while (n < s.n && (is_blank(s.p[n]) || isdigit((unsigned char) s.p[n])))
                        n++;
                if (n < s.n && s.p[n] == ':')
                        n++;
                else if (n == strlen(labels[i]))
                        continue; /* "Files", "pathlib": no label */
                return strip_decor(span_from(s, n));
        }
        return s;
}

/* Words without an ASCII letter or digit before a name: an emoji, an arrow, a dash. */
static struct span skip_symbols(struct span s) {
        for (;;) {
                struct span rest, w = first_word(s, &rest);
                bool symbols = w.n > 0 && rest.n > 0;
                for (size_t i = 0; symbols && i < w.n; i++)
                        symbols = !isalnum((unsigned char) w.p[i]);
                if (!symbols)
                        return s;
                s = rest;
        }
}

/* "1. ", "- ", "* ", "+ " before a header */
static struct span strip_list_marker(struct span s) {
        size_t i = 0;
        while (i < s.n && s.p[i] >= '0' && s.p[i] <= '9')
                i++;
        if (i > 0 && i + 1 < s.n && (s.p[i] == '.' || s.p[i] == ')') && is_blank(s.p[i + 1]))
                return span_trim(span_from(s, i + 2));
        if (s.n >= 2 && (s.p[0] == '-' || s.p[0] == '*' || s.p[0] == '+') && is_blank(s.p[1]))
                return span_trim(span_from(s, 2));
        return s;
}

static bool has_file_name(struct span t) {
        size_t i = t.n;
        while (i > 0 && t.p[i - 1] != '.' && t.p[i - 1] != '/')
                i--;
        if (i > 0 && t.p[i - 1] == '.' && i < t.n) {
                struct span ext = span_from(t, i);
                for (size_t k = 0; k < ELEMENTSOF(known_exts); k++)
                        if (span_ieq(ext, known_exts[k]))
                                return true;
        }
        size_t b = t.n;
        while (b > 0 && t.p[b - 1] != '/')
                b--;
        if (b + 1 < t.n && t.p[b] == '.' && isalnum((unsigned char) t.p[b + 1]))
                return true; /* a dot-file: .gitignore, .env.example */
        for (size_t k = 0; k < ELEMENTSOF(known_names); k++)
                if (span_ieq(span_from(t, b), known_names[k]))
                        return true;
        return false;
}

/* A word that names a file: a known extension or name, a dot-file, or any word with a slash (so that
 * "/etc/passwd" or "..\x" is recognised and refused, never taken as unnamed code). */
static bool looks_like_path(struct span t, bool strict) {
        if (t.n == 0 || (t.n >= 3 && memmem(t.p, t.n, "://", 3)))
                return false;
        if (has_file_name(t))
                return true;
        if (strict)
                return t.p[0] == '/' || span_istarts(t, "../") || memmem(t.p, t.n, "/../", 4);
        return memchr(t.p, '/', t.n) || memchr(t.p, '\\', t.n);
}

/* After a name: nothing, or a remark such as "(new)" or "- the models". */
static bool rest_is_remark(struct span rest) {
        return rest.n == 0 || rest.p[0] == '(' || rest.p[0] == '-' ||
               span_istarts(rest, "\xe2\x80\x94") || span_istarts(rest, "\xe2\x80\x93");
}

/* A name alone on a line once decoration and label are gone. */
static bool name_in(struct span s, bool strict, struct span *ret, struct span *ret_rest) {
        struct span rest, w = first_word(strip_decor(strip_label(skip_symbols(strip_decor(s)))), &rest);
        w = strip_decor(w);
        if (!looks_like_path(w, strict) || !rest_is_remark(rest))
                return false;
        *ret = w;
        if (ret_rest)
                *ret_rest = rest;
        return true;
}

/* "Here is `src/app.py`:" - one backquoted name on a line ending with a colon. */
static bool name_in_prose(struct span s, struct span *ret) {
        struct span t = s, found = { NULL, 0 };
        while (t.n && (t.p[t.n - 1] == '*' || is_blank(t.p[t.n - 1])))
                t.n--;
        if (!t.n || t.p[t.n - 1] != ':')
                return false;
        for (size_t i = 0; i < t.n;) {
                const char *a = memchr(t.p + i, '`', t.n - i);
                if (!a)
                        break;
                size_t o = (size_t) (a - t.p) + 1;
                const char *b = memchr(t.p + o, '`', t.n - o);
                if (!b)
                        break;
                struct span w = { t.p + o, (size_t) (b - (t.p + o)) };
                if (!memchr(w.p, ' ', w.n) && has_file_name(w)) {
                        if (found.p)
                                return false;
                        found = w;
                }
                i = (size_t) (b - t.p) + 1;
        }
        if (!found.p)
                return false;
        *ret = found;
        return true;
}

static enum header header_of(struct span line, struct span *ret) {
        struct span s = span_trim(line);
        bool heading = false;
        size_t h = 0;
        while (h < s.n && s.p[h] == '#')
                h++;
        if (h >= 1 && h <= 6 && (h == s.n || is_blank(s.p[h]))) {
                heading = true;
                s = span_trim(span_from(s, h));
        }
        struct span item = strip_list_marker(s), rest;
        /* a list of files with remarks ("- `a.py` - the models") names no block */
        if (name_in(item, false, ret, &rest) &&
            (item.n == s.n || rest.n == 0 || span_ends(span_trim(line), ":")))
                return HEADER_PATH;
        s = item;
        if (name_in_prose(s, ret))
                return HEADER_PROSE;
        return heading ? HEADER_HEADING : HEADER_NONE;
}

/* "# src/app.py", "// File: src/app.py" or "<!-- src/a.md -->" as a block's first line */
bool reply_name_in_comment(struct span line, struct span *ret) {
        struct span s = span_trim(line);
        if (span_istarts(s, "<!--")) {
                s = span_from(s, 4);
                if (span_ends(s, "-->"))
                        s.n -= 3;
        } else if (span_istarts(s, "#") && !span_istarts(s, "#!"))
                s = span_from(s, 1);
        else if (span_istarts(s, "//") || span_istarts(s, "--"))
                s = span_from(s, 2);
        else
                return false;
        return name_in(span_trim(s), true, ret, NULL);
}

static bool fence_open(struct span l, struct fence *ret) {
        size_t i = 0, c = 0;
        while (i < l.n && is_blank(l.p[i]))
                i++;
        if (i >= l.n || (l.p[i] != '`' && l.p[i] != '~'))
                return false;
        char ch = l.p[i];
        while (i + c < l.n && l.p[i + c] == ch)
                c++;
        if (c < 3)
                return false;
        struct span info = span_trim(span_from(l, i + c));
        if (ch == '`' && memchr(info.p, '`', info.n))
                return false; /* ```inline``` code on one line */
        *ret = (struct fence) { .ch = ch, .count = c, .indent = i, .info = info };
        return true;
}

static bool fence_closes(struct span l, const struct fence *f) {
        size_t i = 0, c = 0;
        while (i < l.n && is_blank(l.p[i]))
                i++;
        if (i > f->indent + 3)
                return false;
        while (i + c < l.n && l.p[i + c] == f->ch)
                c++;
        return c >= f->count && span_trim(span_from(l, i + c)).n == 0;
}

/* The language and any file name of an info string: "python", "python:src/a.py",
 * "python title=\"src/a.py\"", "src/a.py". */
static void parse_info(struct span info, struct span *ret_lang, struct span *ret_name) {
        struct span rest, w = first_word(info, &rest);
        const char *colon = memchr(w.p, ':', w.n);
        *ret_name = (struct span) { NULL, 0 };
        if (colon) {
                struct span n = { colon + 1, w.n - (size_t) (colon + 1 - w.p) };
                if (looks_like_path(n, false))
                        *ret_name = n;
                w.n = (size_t) (colon - w.p);
        }
        size_t brace = 0;
        while (brace < w.n && w.p[brace] != '{')
                brace++;
        w.n = brace;
        if (!ret_name->n && looks_like_path(w, false)) {
                *ret_name = w;
                w.n = 0;
        }
        *ret_lang = w;
        while (!ret_name->n && rest.n) {
                struct span r2, a = first_word(rest, &r2);
                const char *eq = memchr(a.p, '=', a.n);
                if (eq) {
                        a = span_from(a, (size_t) (eq + 1 - a.p));
                        if (a.n >= 2 && (a.p[0] == '"' || a.p[0] == '\'') && a.p[a.n - 1] == a.p[0])
                                a = (struct span) { a.p + 1, a.n - 2 };
                }
                if (looks_like_path(a, false))
                        *ret_name = a;
                rest = r2;
        }
}

/* Python's string state at the end of a line: 0, or the quote of the open triple-quoted
 * string. Enough to see that a fence line lies inside a docstring. */
char reply_py_scan(struct span l, char state) {
        for (size_t i = 0; i < l.n; i++) {
                char c = l.p[i];
                if (state) {
                        if (c == '\\')
                                i++;
                        else if (c == state && i + 2 < l.n && l.p[i + 1] == c && l.p[i + 2] == c) {
                                state = 0;
                                i += 2;
                        }
                        continue;
                }
                if (c == '#')
                        break;
                if (c != '"' && c != '\'')
                        continue;
                if (i + 2 < l.n && l.p[i + 1] == c && l.p[i + 2] == c) {
                        state = c;
                        i += 2;
                        continue;
                }
                for (i++; i < l.n && l.p[i] != c; i++)
                        if (l.p[i] == '\\')
                                i++;
        }
        return state;
}

static bool lang_is_python(struct span lang) {
        static const char *const py[] = { "python", "py", "python3", "py3", "pyi", "ipython" };
        for (size_t i = 0; i < ELEMENTSOF(py); i++)
                if (span_ieq(lang, py[i]))
                        return true;
        return false;
}

struct span reply_doc_line(const struct reply_doc *p, size_t pos, size_t *ret_next) {
        const char *nl = memchr(p->buf + pos, '\n', p->len - pos);
        size_t end = nl ? (size_t) (nl - p->buf) : p->len;
        *ret_next = nl ? end + 1 : p->len;
        return (struct span) { p->buf + pos, end - pos };
}

int reply_doc_add(struct reply_doc *p, const struct reply_block *b) {
        if (p->n_blocks >= REPLY_MAX_BLOCKS)
                return -E2BIG;
        if (p->n_blocks == p->alloc) {
                size_t n = p->alloc ? p->alloc * 2 : 8;
                struct reply_block *nb = reallocarray(p->blocks, n, sizeof(*nb));
                if (!nb)
                        return -ENOMEM;
                p->blocks = nb;
                p->alloc = n;
        }
        p->blocks[p->n_blocks++] = *b;
        return 0;
}

/* What a block's content is, for the fences it may contain. */
enum body {
        BODY_PLAIN,
        BODY_PYTHON,   /* a fence inside a triple-quoted string is content */
        BODY_MARKDOWN, /* a fence with a language opens an inner block, a bare one closes it */
};

/* Finds the end of the block opened by f whose content starts at pos: *ret_end is where
 * its content ends and *ret_next where parsing goes on. A fence that the body's rules
 * make content closes the block after all when the block would otherwise run to the end
 * of the reply (the first such fence); those rules are then dropped for the rest of the
 * reply, which keeps the parse linear. */
static void block_end(struct reply_doc *p, const struct fence *f, enum body body, size_t pos,
                      size_t *ret_end, size_t *ret_next) {
        char state = 0;
        size_t depth = 0, skipped = SIZE_MAX, skipped_next = 0;
        if (p->plain_only)
                body = BODY_PLAIN;
        while (pos < p->len) {
                size_t next;
                struct span l = reply_doc_line(p, pos, &next);
                struct fence inner;
                if (fence_closes(l, f)) {
                        bool content = body == BODY_PYTHON ? state != 0 : depth > 0;
                        if (!content) {
                                *ret_end = pos;
                                *ret_next = next;
                                return;
                        }
                        if (skipped == SIZE_MAX) {
                                skipped = pos;
                                skipped_next = next;
                        }
                        if (body == BODY_MARKDOWN)
                                depth--;
                } else if (body == BODY_MARKDOWN && fence_open(l, &inner) && inner.info.n > 0)
                        depth++;
                if (body == BODY_PYTHON)
                        state = reply_py_scan(l, state);
                pos = next;
        }
        if (skipped != SIZE_MAX) {
                p->plain_only = true;
                *ret_end = skipped;
                *ret_next = skipped_next;
                return;
        }
        *ret_end = *ret_next = p->len; /* unclosed: cut at max_tokens */
}

int reply_doc_parse(struct reply_doc *p) {
        struct span pending = { NULL, 0 };
        enum header pending_kind = HEADER_NONE;
        size_t pos = 0;
        while (pos < p->len) {
                size_t next;
                struct span l = reply_doc_line(p, pos, &next), name;
                struct fence f;
                if (!fence_open(l, &f)) {
                        enum header h = header_of(l, &name);
                        if (h == HEADER_PATH || h == HEADER_PROSE) {
                                pending = name;
                                pending_kind = h;
                        } else if (h == HEADER_HEADING ||
                                   (pending_kind == HEADER_PROSE && span_trim(l).n > 0))
                                pending_kind = HEADER_NONE;
                        pos = next;
                        continue;
                }
                p->n_fences++;
                struct reply_block b = { .start = next, .indent = f.indent };
                parse_info(f.info, &b.lang, &b.name);
                if (pending_kind != HEADER_NONE)
                        b.name = pending;
                pending_kind = HEADER_NONE;
                enum body body = BODY_PLAIN;
                if (lang_is_python(b.lang) || (b.lang.n == 0 && p->python))
                        body = BODY_PYTHON;
                else if (span_ieq(b.lang, "markdown") || span_ieq(b.lang, "md") ||
                         (b.lang.n == 0 && p->markdown))
                        body = BODY_MARKDOWN;
                block_end(p, &f, body, next, &b.end, &pos);
                if (b.name.n == 0 && b.start < b.end) {
                        size_t n1;
                        struct span first = reply_doc_line(p, b.start, &n1);
                        if (n1 > b.end)
                                first.n = b.end - b.start;
                        (void) reply_name_in_comment(first, &b.name);
                }
                int r = reply_doc_add(p, &b);
                if (r < 0)
                        return r;
        }
        return 0;
}
