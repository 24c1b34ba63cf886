/* reply.c - the atom's file out of a language model's reply; see reply.h.
 *
 * One pass over the reply's lines (BOM dropped, CRLF made LF) finds the fenced blocks
 * (``` or ~~~, three or more, any indentation, closed by the same character at least as
 * long) and the name of each: a header before it (`### path`, `**path**`, `File: path`,
 * `path:`, "Here is `path`:"), a path in the info string (```python src/a.py), or a path
 * comment on its first line. In a Python block a fence inside a triple-quoted string does
 * not close it (a docstring with an example), unless the block would then never close.
 * The block named for the target is taken (the last one when named twice); without any
 * named block, the longest block whose language fits the target is; a reply without any
 * fence is the file when it is plainly code. Everything named for another or an unsafe
 * path is refused and listed. Sizes are bounded by REPLY_MAX_SIZE and REPLY_MAX_BLOCKS.
 * This module never logs.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include "reply.h"
#include "shared/fs.h"
#include "shared/macro.h"
#include "shared/strbuf.h"

struct span {
        const char *p;
        size_t n;
};

struct block {
        size_t start, end; /* content bytes [start, end) of the normalised reply */
        size_t indent;     /* the opening fence's indentation, removed from each line */
        struct span lang;
        struct span name; /* n == 0: no name */
};

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

/* The languages a block may be tagged with to be an unnamed target of that extension;
 * a target whose extension is not here takes a block of any language. */
static const struct {
        const char *ext;
        const char *langs;
} lang_table[] = {
        { "py", " python py python3 py3 pyi ipython " },
        { "pyi", " python py python3 py3 pyi " },
        { "txt", " text txt plaintext plain requirements pip " },
        { "md", " markdown md " },
        { "rst", " rst restructuredtext " },
        { "toml", " toml " },
        { "yaml", " yaml yml " },
        { "yml", " yaml yml " },
        { "json", " json jsonc " },
        { "sh", " bash sh shell zsh " },
        { "cfg", " ini cfg conf " },
        { "ini", " ini cfg conf " },
        { "html", " html htm jinja jinja2 j2 " },
        { "sql", " sql " },
        { "env", " env dotenv bash sh ini " },
        { "dockerfile", " dockerfile docker " },
};

static const char *const py_keywords[] = {
        "import", "from", "def", "class", "async", "await", "if", "elif", "else", "try",
        "except", "finally", "with", "for", "while", "return", "raise", "pass", "break",
        "continue", "assert", "del", "global", "nonlocal", "yield", "lambda", "match",
        "case", "type", "print", "not", "True", "False", "None", "__all__",
};

static bool is_blank(char c) {
        return c == ' ' || c == '\t';
}

static struct span span_from(struct span s, size_t off) {
        return off >= s.n ? (struct span) { s.p + s.n, 0 } : (struct span) { s.p + off, s.n - off };
}

static struct span span_trim(struct span s) {
        while (s.n && is_blank(s.p[0]))
                s.p++, s.n--;
        while (s.n && is_blank(s.p[s.n - 1]))
                s.n--;
        return s;
}

static bool span_ieq(struct span s, const char *lit) {
        return s.n == strlen(lit) && strncasecmp(s.p, lit, s.n) == 0;
}

static bool span_istarts(struct span s, const char *lit) {
        size_t n = strlen(lit);
        return s.n >= n && strncasecmp(s.p, lit, n) == 0;
}

static bool span_ends(struct span s, const char *lit) {
        size_t n = strlen(lit);
        return s.n >= n && memcmp(s.p + s.n - n, lit, n) == 0;
}

/* The first blank-separated word of s; *ret_rest is what follows it, trimmed. */
static struct span first_word(struct span s, struct span *ret_rest) {
        size_t i = 0;
        while (i < s.n && !is_blank(s.p[i]))
                i++;
        *ret_rest = span_trim(span_from(s, i));
        return (struct span) { s.p, i };
}

/* Markdown decoration around a name: emphasis, backticks, a trailing colon. */
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

static struct span strip_label(struct span s) {
        static const char *const labels[] = {
                "file name:", "file path:", "filename:", "file:", "path:", "file ",
        };
        for (size_t i = 0; i < ELEMENTSOF(labels); i++)
                if (span_istarts(s, labels[i]))
                        return strip_decor(span_from(s, strlen(labels[i])));
        return s;
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

static bool has_known_ext(struct span t) {
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
        for (size_t k = 0; k < ELEMENTSOF(known_names); k++)
                if (span_ieq(span_from(t, b), known_names[k]))
                        return true;
        return false;
}

/* A word that names a file: a known extension or name, or any word with a slash (so that
 * "/etc/passwd" or "..\x" is recognised and refused, never taken as unnamed code). */
static bool looks_like_path(struct span t, bool strict) {
        if (t.n == 0 || (t.n >= 3 && memmem(t.p, t.n, "://", 3)))
                return false;
        if (has_known_ext(t))
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
        struct span rest, w = first_word(strip_decor(strip_label(strip_decor(s))), &rest);
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
                if (looks_like_path(w, false)) {
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
static bool name_in_comment(struct span line, struct span *ret) {
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
static char py_scan(struct span l, char state) {
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

static const char *target_ext(const char *target) {
        const char *base = path_basename(target), *dot = strrchr(base, '.');
        if (strcasecmp(base, "Dockerfile") == 0)
                return "dockerfile";
        return dot && dot[1] ? dot + 1 : "";
}

static bool lang_is_python(struct span lang) {
        static const char *const py[] = { "python", "py", "python3", "py3", "pyi", "ipython" };
        for (size_t i = 0; i < ELEMENTSOF(py); i++)
                if (span_ieq(lang, py[i]))
                        return true;
        return false;
}

static bool word_in(const char *list, struct span w) {
        for (const char *p = list; *p;) {
                p += strspn(p, " ");
                size_t n = strcspn(p, " ");
                if (n && n == w.n && strncasecmp(p, w.p, n) == 0)
                        return true;
                p += n;
        }
        return false;
}

static bool lang_fits(struct span lang, const char *target) {
        const char *ext = target_ext(target);
        if (lang.n == 0 || span_ieq(lang, ext))
                return true;
        for (size_t i = 0; i < ELEMENTSOF(lang_table); i++)
                if (strcasecmp(lang_table[i].ext, ext) == 0)
                        return word_in(lang_table[i].langs, lang);
        return true;
}

static bool target_is_python(const char *target) {
        const char *ext = target_ext(target);
        return strcasecmp(ext, "py") == 0 || strcasecmp(ext, "pyi") == 0;
}

/* ---- the reply as blocks ---- */

struct parse {
        const char *buf;
        size_t len;
        bool python; /* unnamed-language blocks are Python (the target is) */
        struct block *blocks;
        size_t n_blocks, alloc;
        size_t n_fences;
};

static struct span line_at(const struct parse *p, size_t pos, size_t *ret_next) {
        const char *nl = memchr(p->buf + pos, '\n', p->len - pos);
        size_t end = nl ? (size_t) (nl - p->buf) : p->len;
        *ret_next = nl ? end + 1 : p->len;
        return (struct span) { p->buf + pos, end - pos };
}

static int add_block(struct parse *p, const struct block *b) {
        if (p->n_blocks >= REPLY_MAX_BLOCKS)
                return -E2BIG;
        if (p->n_blocks == p->alloc) {
                size_t n = p->alloc ? p->alloc * 2 : 8;
                struct block *nb = reallocarray(p->blocks, n, sizeof(*nb));
                if (!nb)
                        return -ENOMEM;
                p->blocks = nb;
                p->alloc = n;
        }
        p->blocks[p->n_blocks++] = *b;
        return 0;
}

/* Finds the end of the block opened by f whose content starts at pos: *ret_end is where
 * its content ends and *ret_next where parsing goes on. A fence inside a Python
 * triple-quoted string is content, unless the block would then run to the end of the
 * reply: then the first such fence closes it. */
static void block_end(const struct parse *p, const struct fence *f, bool python, size_t pos,
                      size_t *ret_end, size_t *ret_next) {
        char state = 0;
        size_t skipped = SIZE_MAX, skipped_next = 0;
        while (pos < p->len) {
                size_t next;
                struct span l = line_at(p, pos, &next);
                if (fence_closes(l, f)) {
                        if (!python || state == 0) {
                                *ret_end = pos;
                                *ret_next = next;
                                return;
                        }
                        if (skipped == SIZE_MAX) {
                                skipped = pos;
                                skipped_next = next;
                        }
                }
                if (python)
                        state = py_scan(l, state);
                pos = next;
        }
        if (skipped != SIZE_MAX) {
                *ret_end = skipped;
                *ret_next = skipped_next;
                return;
        }
        *ret_end = *ret_next = p->len; /* unclosed: cut at max_tokens */
}

static int parse_blocks(struct parse *p) {
        struct span pending = { NULL, 0 };
        enum header pending_kind = HEADER_NONE;
        size_t pos = 0;
        while (pos < p->len) {
                size_t next;
                struct span l = line_at(p, pos, &next), name;
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
                struct block b = { .start = next, .indent = f.indent };
                parse_info(f.info, &b.lang, &b.name);
                if (pending_kind != HEADER_NONE)
                        b.name = pending;
                pending_kind = HEADER_NONE;
                bool python = lang_is_python(b.lang) || (b.lang.n == 0 && p->python);
                block_end(p, &f, python, next, &b.end, &pos);
                if (b.name.n == 0 && b.start < b.end) {
                        size_t n1;
                        struct span first = line_at(p, b.start, &n1);
                        if (n1 > b.end)
                                first.n = b.end - b.start;
                        (void) name_in_comment(first, &b.name);
                }
                int r = add_block(p, &b);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- a reply without fences ---- */

static bool py_line_is_code(struct span l) {
        static const char *const prefixes[] = { "r", "b", "f", "u", "rb", "br", "fr", "rf" };
        if (strchr("#@\"'([{)]}", l.p[0]))
                return true;
        size_t i = 0;
        while (i < l.n && (l.p[i] == '_' || l.p[i] == '.' || (l.p[i] >= '0' && l.p[i] <= '9') ||
                           ((l.p[i] | 0x20) >= 'a' && (l.p[i] | 0x20) <= 'z')))
                i++;
        if (i == 0)
                return false;
        struct span w = { l.p, i };
        for (size_t k = 0; k < ELEMENTSOF(py_keywords); k++)
                if (w.n == strlen(py_keywords[k]) && memcmp(w.p, py_keywords[k], w.n) == 0 &&
                    (i == l.n || strchr(" \t:(.[", l.p[i])))
                        return true;
        if (i < l.n && (l.p[i] == '"' || l.p[i] == '\''))
                for (size_t k = 0; k < ELEMENTSOF(prefixes); k++)
                        if (span_ieq(w, prefixes[k]))
                                return true;
        struct span rest = span_trim(span_from(l, i));
        if (rest.n == 0)
                return false;
        if (strchr("=([,", rest.p[0]))
                return true;
        if (rest.n >= 2 && rest.p[1] == '=' && strchr("+-*/%|&^", rest.p[0]))
                return true;
        if (rest.p[0] == ':') { /* an annotation, not "Note: this file ..." */
                struct span t = span_trim(span_from(rest, 1));
                return memchr(t.p, '=', t.n) || memchr(t.p, '[', t.n) ||
                       !memchr(t.p, ' ', t.n);
        }
        return false;
}

static bool looks_like_sentence(struct span l) {
        size_t spaces = 0;
        for (size_t i = 0; i < l.n; i++)
                spaces += l.p[i] == ' ';
        return l.n > 0 && l.p[0] >= 'A' && l.p[0] <= 'Z' && spaces >= 3 &&
               strchr(".:!?", l.p[l.n - 1]);
}

/* A reply that is a file without any fence: for Python, every line at the top level (not
 * indented, outside strings) reads as Python; for other files, no line reads as an
 * English sentence; a Markdown or reStructuredText target takes any text. */
static bool plainly_code(const struct parse *p, const char *target) {
        const char *ext = target_ext(target);
        if (strcasecmp(ext, "md") == 0 || strcasecmp(ext, "rst") == 0)
                return true;
        char state = 0;
        bool any = false;
        for (size_t pos = 0, next; pos < p->len; pos = next) {
                struct span l = line_at(p, pos, &next), t = span_trim(l);
                if (t.n == 0)
                        continue;
                if (p->python) {
                        if (state == 0 && !is_blank(l.p[0]) && !py_line_is_code(t))
                                return false;
                        state = py_scan(l, state);
                } else if (looks_like_sentence(t))
                        return false;
                any = true;
        }
        return any;
}

/* ---- names against the target ---- */

/* 3: the target; 2: the target but for letter case; 1: one ends with the other at a
 * component boundary ("user.py", "models/user.py" for "src/models/user.py"); 0: another
 * file. */
static int match_level(const char *name, const char *target) {
        if (streq(name, target))
                return 3;
        if (strcasecmp(name, target) == 0)
                return 2;
        size_t a = strlen(name), b = strlen(target);
        if (a < b && strcasecmp(target + b - a, name) == 0 && target[b - a - 1] == '/')
                return 1;
        if (b < a && strcasecmp(name + a - b, target) == 0 && name[a - b - 1] == '/')
                return 1;
        return 0;
}

/* A name for messages: quoted, control bytes escaped, at most 120 bytes shown. */
static int quote_name(struct strbuf *sb, struct span n) {
        int r = strbuf_addc(sb, '"');
        for (size_t i = 0; r >= 0 && i < n.n && i < 120; i++) {
                unsigned char c = (unsigned char) n.p[i];
                if (c < 0x20 || c == 0x7f || c == '"' || c == '\\')
                        r = strbuf_addf(sb, "\\x%02x", c);
                else
                        r = strbuf_addc(sb, (char) c);
        }
        if (r >= 0 && n.n > 120)
                r = strbuf_adds(sb, "...");
        return r < 0 ? r : strbuf_addc(sb, '"');
}

/* The name as a path below the project ("./" dropped), or NULL when it is not safe. */
static int name_path(struct span n, char **ret) {
        while (n.n >= 2 && n.p[0] == '.' && n.p[1] == '/')
                n = span_from(n, 2);
        if (n.n == 0 || n.n > PATH_MAX || memchr(n.p, '\0', n.n)) {
                *ret = NULL;
                return 0;
        }
        char *s = strndup(n.p, n.n);
        if (!s)
                return -ENOMEM;
        if (!path_is_safe(s)) {
                free(s);
                s = NULL;
        }
        *ret = s;
        return 0;
}

/* ---- the text ---- */

static int block_text(const struct parse *p, const struct block *b, char **ret) {
        _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
        strbuf_init(&sb, REPLY_MAX_SIZE);
        for (size_t pos = b->start, next; pos < b->end; pos = next) {
                struct span l = line_at(p, pos, &next);
                if (next > b->end) {
                        l.n = b->end - pos;
                        next = b->end;
                }
                for (size_t k = 0; k < b->indent && l.n && is_blank(l.p[0]); k++)
                        l = span_from(l, 1);
                if (sb.len == 0 && span_trim(l).n == 0)
                        continue; /* leading blank lines */
                int r = strbuf_add(&sb, l.p, l.n);
                if (r >= 0)
                        r = strbuf_addc(&sb, '\n');
                if (r < 0)
                        return r;
        }
        while (sb.len && (sb.buf[sb.len - 1] == '\n' || is_blank(sb.buf[sb.len - 1])))
                sb.buf[--sb.len] = '\0';
        if (sb.len == 0) {
                *ret = NULL;
                return 0;
        }
        if (memchr(sb.buf, '\0', sb.len))
                return -EINVAL;
        int r = strbuf_addc(&sb, '\n');
        if (r < 0)
                return r;
        *ret = strbuf_detach(&sb, NULL);
        return 0;
}

static int add_ignored(char ***list, size_t *n, size_t *dropped, struct span name,
                       const char *why) {
        if (*n >= REPLY_MAX_IGNORED - 1) {
                (*dropped)++;
                return 0;
        }
        _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
        int r = strbuf_adds(&sb, "refused ");
        if (r >= 0)
                r = quote_name(&sb, name);
        if (r >= 0)
                r = strbuf_addf(&sb, ": %s", why);
        if (r < 0)
                return r;
        char **nl = reallocarray(*list, *n + 1, sizeof(char *));
        if (!nl)
                return -ENOMEM;
        *list = nl;
        nl[(*n)++] = strbuf_detach(&sb, NULL);
        return 0;
}

static void strv_free_n(char **v, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(v[i]);
        free(v);
}

static int fail(char **ret_error, int r, const char *fmt, ...) _printf_(3, 4);
static int fail(char **ret_error, int r, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        if (ret_error && vasprintf(ret_error, fmt, ap) < 0)
                *ret_error = NULL;
        va_end(ap);
        return r;
}

/* Copies the reply without its BOM and with CRLF as LF. */
static char *normalise(const char *reply, size_t len, size_t *ret_len) {
        if (len >= 3 && memcmp(reply, "\xef\xbb\xbf", 3) == 0)
                reply += 3, len -= 3;
        char *s = malloc(len + 1);
        if (!s)
                return NULL;
        size_t o = 0;
        for (size_t i = 0; i < len; i++)
                if (reply[i] != '\r' || i + 1 >= len || reply[i + 1] != '\n')
                        s[o++] = reply[i];
        s[o] = '\0';
        *ret_len = o;
        return s;
}

static void parse_free(struct parse *p) {
        free((char *) p->buf);
        free(p->blocks);
}

int reply_extract(const char *reply, size_t len, const char *target,
                  struct reply_result *ret, char **ret_error) {
        if (!reply || !target || !ret)
                return fail(ret_error, -EINVAL, "no reply or no target");
        if (!path_is_safe(target))
                return fail(ret_error, -EINVAL, "unsafe target path");
        if (len > REPLY_MAX_SIZE)
                return fail(ret_error, -E2BIG, "reply of %zu bytes is over the maximum of %u",
                            len, REPLY_MAX_SIZE);

        _cleanup_(parse_free) struct parse p = { .python = target_is_python(target) };
        p.buf = normalise(reply, len, &p.len);
        if (!p.buf)
                return -ENOMEM;
        int r = parse_blocks(&p);
        if (r == -E2BIG)
                return fail(ret_error, r, "reply has more than %u code blocks", REPLY_MAX_BLOCKS);
        if (r < 0)
                return r;
        if (p.n_fences == 0) {
                if (!plainly_code(&p, target))
                        return fail(ret_error, -ENODATA, "no code in the reply");
                struct block whole = { .start = 0, .end = p.len };
                size_t n1;
                (void) name_in_comment(line_at(&p, 0, &n1), &whole.name);
                r = add_block(&p, &whole);
                if (r < 0)
                        return r;
        }

        /* the best-named block for the target (the last of equals), else the longest
         * unnamed block of a fitting language when no block is named */
        char **ignored = NULL;
        size_t n_ignored = 0, dropped = 0, n_named = 0, n_unsafe = 0;
        ssize_t pick = -1;
        int best = 0;
        for (size_t i = 0; i < p.n_blocks; i++) {
                const struct block *b = &p.blocks[i];
                if (b->name.n == 0)
                        continue;
                n_named++;
                _cleanup_free_ char *path = NULL;
                r = name_path(b->name, &path);
                if (r < 0)
                        goto fail;
                int level = path ? match_level(path, target) : 0;
                if (level > 0 && level >= best && b->end > b->start) {
                        best = level;
                        pick = (ssize_t) i;
                }
                n_unsafe += !path;
        }
        if (n_named == 0)
                for (size_t i = 0; i < p.n_blocks; i++) {
                        const struct block *b = &p.blocks[i];
                        if (!lang_fits(b->lang, target) || b->end <= b->start)
                                continue;
                        if (pick < 0 || b->end - b->start > p.blocks[pick].end - p.blocks[pick].start)
                                pick = (ssize_t) i;
                }
        for (size_t i = 0; i < p.n_blocks; i++) {
                const struct block *b = &p.blocks[i];
                if ((ssize_t) i == pick || b->name.n == 0)
                        continue;
                _cleanup_free_ char *path = NULL;
                r = name_path(b->name, &path);
                if (r >= 0)
                        r = add_ignored(&ignored, &n_ignored, &dropped, b->name,
                                        !path ? "unsafe path"
                                        : match_level(path, target) > 0 ? "another block for the target was taken"
                                                                        : "not the target");
                if (r < 0)
                        goto fail;
        }
        if (dropped > 0) {
                char **nl = reallocarray(ignored, n_ignored + 1, sizeof(char *));
                if (!nl) {
                        r = -ENOMEM;
                        goto fail;
                }
                ignored = nl;
                if (asprintf(&ignored[n_ignored], "refused %zu more files", dropped) < 0) {
                        r = -ENOMEM;
                        goto fail;
                }
                n_ignored++;
        }

        if (pick < 0) {
                strv_free_n(ignored, n_ignored);
                if (n_named > 0)
                        return fail(ret_error, -EPERM,
                                    "the reply has files only for other paths (%zu, %zu of them unsafe), none for %s",
                                    n_named, n_unsafe, target);
                return fail(ret_error, -ENODATA, "no code for %s in the reply (%zu blocks, none of its language)",
                            target, p.n_blocks);
        }
        char *text;
        r = block_text(&p, &p.blocks[pick], &text);
        if (r == -EINVAL) {
                strv_free_n(ignored, n_ignored);
                return fail(ret_error, r, "the code for %s contains a NUL byte", target);
        }
        if (r < 0)
                goto fail;
        if (!text) {
                strv_free_n(ignored, n_ignored);
                return fail(ret_error, -ENODATA, "the code block for %s is empty", target);
        }
        *ret = (struct reply_result) { .text = text, .ignored = ignored, .n_ignored = n_ignored };
        return 0;

fail:
        strv_free_n(ignored, n_ignored);
        return r;
}

void reply_result_clear(struct reply_result *r) {
        if (!r)
                return;
        free(r->text);
        strv_free_n(r->ignored, r->n_ignored);
        *r = (struct reply_result) { NULL, NULL, 0 };
}
