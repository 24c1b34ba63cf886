/* reply.c - the atom's file out of a language model's reply; see reply.h.
 *
 * reply-markdown.c reads the reply as fenced blocks with names; this file decides. The
 * block named for the target is taken (the best match, the last of equals); without any
 * named block, the longest block whose language fits the target is; a reply without any
 * fence is the file when it is plainly code. Every other named block is refused and
 * listed, unsafe names (path_is_safe()) always. Sizes are bounded by REPLY_MAX_SIZE,
 * REPLY_MAX_BLOCKS and REPLY_MAX_IGNORED. This module never logs.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include "reply-internal.h"
#include "reply.h"
#include "shared/fs.h"
#include "shared/macro.h"
#include "shared/strbuf.h"

/* The languages a block may be tagged with to be an unnamed target of that extension;
 * a target whose extension is not here takes a block of any language. */
static const struct {
        const char *ext;
        const char *langs;
} lang_table[] = {
        { "py", " python py python3 py3 pyi ipython " },
        { "pyi", " python py python3 py3 pyi " },
        { "txt", " text txt plaintext plain requirements pip pip-requirements " },
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

static const char *target_ext(const char *target) {
        const char *base = path_basename(target), *dot = strrchr(base, '.');
        if (strcasecmp(base, "Dockerfile") == 0)
                return "dockerfile";
        return dot && dot[1] ? dot + 1 : "";
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

/* ---- a reply without fences ---- */

/* c is one of set (never the terminating NUL) */
static bool char_in(char c, const char *set) {
        return c != '\0' && strchr(set, c);
}

static bool py_line_is_code(struct span l) {
        static const char *const prefixes[] = { "r", "b", "f", "u", "rb", "br", "fr", "rf" };
        if (char_in(l.p[0], "#@\"'([{)]}"))
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
                    (i == l.n || char_in(l.p[i], " \t:(.[")))
                        return true;
        if (i < l.n && (l.p[i] == '"' || l.p[i] == '\''))
                for (size_t k = 0; k < ELEMENTSOF(prefixes); k++)
                        if (span_ieq(w, prefixes[k]))
                                return true;
        struct span rest = span_trim(span_from(l, i));
        if (rest.n == 0)
                return false;
        if (char_in(rest.p[0], "=([,"))
                return true;
        if (rest.n >= 2 && rest.p[1] == '=' && char_in(rest.p[0], "+-*/%|&^"))
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
               char_in(l.p[l.n - 1], ".:!?");
}

/* A reply that is a file without any fence: for Python, every line at the top level (not
 * indented, outside strings) reads as Python; for other files, no line reads as an
 * English sentence; a Markdown or reStructuredText target takes any text. */
static bool plainly_code(const struct reply_doc *p, const char *target) {
        const char *ext = target_ext(target);
        if (strcasecmp(ext, "md") == 0 || strcasecmp(ext, "rst") == 0)
                return true;
        char state = 0;
        bool any = false;
        for (size_t pos = 0, next; pos < p->len; pos = next) {
                struct span l = reply_doc_line(p, pos, &next), t = span_trim(l);
                if (t.n == 0)
                        continue;
                if (p->python) {
                        if (state == 0 && !is_blank(l.p[0]) && !py_line_is_code(t))
                                return false;
                        state = reply_py_scan(l, state);
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

/* A name for messages (logs, YAML reports): quoted, bytes other than printable ASCII
 * escaped, at most 120 bytes shown. */
static int quote_name(struct strbuf *sb, struct span n) {
        int r = strbuf_addc(sb, '"');
        for (size_t i = 0; r >= 0 && i < n.n && i < 120; i++) {
                unsigned char c = (unsigned char) n.p[i];
                if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
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

static int block_text(const struct reply_doc *p, const struct reply_block *b, char **ret) {
        _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
        strbuf_init(&sb, REPLY_MAX_SIZE);
        for (size_t pos = b->start, next; pos < b->end; pos = next) {
                struct span l = reply_doc_line(p, pos, &next);
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

/* The messages for refused blocks: at most REPLY_MAX_IGNORED, the last counting the rest. */
struct refused {
        char **v;
        size_t n, dropped;
};

static void refused_free(struct refused *r) {
        for (size_t i = 0; r->v && i < r->n; i++)
                free(r->v[i]);
        free(r->v);
        *r = (struct refused) { NULL, 0, 0 };
}

static int refused_push(struct refused *r, char *msg) {
        char **v = reallocarray(r->v, r->n + 1, sizeof(char *));
        if (!v) {
                free(msg);
                return -ENOMEM;
        }
        r->v = v;
        r->v[r->n++] = msg;
        return 0;
}

static int refused_add(struct refused *r, struct span name, const char *why) {
        if (r->n >= REPLY_MAX_IGNORED - 1) {
                r->dropped++;
                return 0;
        }
        _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
        int k = strbuf_adds(&sb, "refused ");
        if (k >= 0)
                k = quote_name(&sb, name);
        if (k >= 0)
                k = strbuf_addf(&sb, ": %s", why);
        return k < 0 ? k : refused_push(r, strbuf_detach(&sb, NULL));
}

static int refused_finish(struct refused *r) {
        char *msg;
        if (r->dropped == 0)
                return 0;
        if (asprintf(&msg, "refused %zu more files", r->dropped) < 0)
                return -ENOMEM;
        return refused_push(r, msg);
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

/* Reasoning models behind OpenAI-compatible servers (DeepSeek-R1, Qwen3) may put their
 * reasoning, drafts included, in the content as a leading <think>...</think>: drops it.
 * -ENODATA when it never ends (the reply was cut while reasoning). */
static int drop_reasoning(char *s, size_t *len) {
        static const char open[] = "<think>", close[] = "</think>";
        size_t i = strspn(s, " \t\n");
        if (*len - i < strlen(open) || memcmp(s + i, open, strlen(open)) != 0)
                return 0;
        const char *e = memmem(s + i, *len - i, close, strlen(close));
        if (!e)
                return -ENODATA;
        size_t from = (size_t) (e - s) + strlen(close);
        memmove(s, s + from, *len - from + 1);
        *len -= from;
        return 0;
}

static void doc_free(struct reply_doc *d) {
        free((char *) d->buf);
        free(d->blocks);
}

/* The block for the target: the best-named one (the last of equals), else, when no block
 * is named, the longest unnamed block of a fitting language (an empty one only when no
 * other fits); -1 when none. *ret_named: whether any block is named. */
static int pick_block(const struct reply_doc *d, const char *target, ssize_t *ret,
                      bool *ret_named) {
        ssize_t pick = -1;
        int best = 0;
        bool named = false;
        for (size_t i = 0; i < d->n_blocks; i++) {
                const struct reply_block *b = &d->blocks[i];
                if (b->name.n == 0)
                        continue;
                named = true;
                _cleanup_free_ char *path = NULL;
                int r = name_path(b->name, &path);
                if (r < 0)
                        return r;
                int level = path ? match_level(path, target) : 0;
                if (level > 0 && level >= best) {
                        best = level;
                        pick = (ssize_t) i;
                }
        }
        for (size_t i = 0; !named && i < d->n_blocks; i++) {
                const struct reply_block *b = &d->blocks[i];
                if (lang_fits(b->lang, target) &&
                    (pick < 0 || b->end - b->start > d->blocks[pick].end - d->blocks[pick].start))
                        pick = (ssize_t) i;
        }
        *ret = pick;
        *ret_named = named;
        return 0;
}

/* A Markdown target's document is often the reply itself with its examples fenced
 * inside: unless the chosen block is tagged markdown or holds at least half of the reply,
 * the whole reply is the document. */
static bool markdown_is_whole(const struct reply_doc *d, ssize_t pick) {
        if (!d->markdown)
                return false;
        if (pick < 0)
                return true;
        const struct reply_block *b = &d->blocks[pick];
        if (span_ieq(b->lang, "markdown") || span_ieq(b->lang, "md"))
                return false;
        return (b->end - b->start) * 2 < d->len;
}

static int refuse_others(const struct reply_doc *d, const char *target, ssize_t pick,
                         struct refused *ret) {
        for (size_t i = 0; i < d->n_blocks; i++) {
                const struct reply_block *b = &d->blocks[i];
                if ((ssize_t) i == pick || b->name.n == 0)
                        continue;
                _cleanup_free_ char *path = NULL;
                int r = name_path(b->name, &path);
                if (r >= 0)
                        r = refused_add(ret, b->name,
                                        !path ? "unsafe path"
                                        : match_level(path, target) > 0 ? "another block for the target was taken"
                                                                        : "not the target");
                if (r < 0)
                        return r;
        }
        return refused_finish(ret);
}

/* "only files for other paths: refused ...; refused ..." (at most 1 KiB of it) */
static int fail_refused(char **ret_error, const struct refused *refused) {
        _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
        strbuf_init(&sb, 1024);
        int r = strbuf_adds(&sb, "only files for other paths:");
        for (size_t i = 0; r >= 0 && i < refused->n; i++)
                r = strbuf_addf(&sb, "%s %s", i ? ";" : "", refused->v[i]);
        if (r < 0 && r != -E2BIG)
                return r;
        return fail(ret_error, -EPERM, "%s", strbuf_str(&sb));
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

        _cleanup_(doc_free) struct reply_doc d = {
                .python = target_is_python(target),
                .markdown = strcasecmp(target_ext(target), "md") == 0,
        };
        d.buf = normalise(reply, len, &d.len);
        if (!d.buf)
                return -ENOMEM;
        int r = drop_reasoning((char *) d.buf, &d.len);
        if (r < 0)
                return fail(ret_error, r, "the reply ends inside its <think> reasoning");
        r = reply_doc_parse(&d);
        if (r == -E2BIG)
                return fail(ret_error, r, "reply has more than %u code blocks", REPLY_MAX_BLOCKS);
        if (r < 0)
                return r;
        if (d.n_fences == 0) {
                if (!plainly_code(&d, target))
                        return fail(ret_error, -ENODATA, "no code in the reply");
                struct reply_block whole = { .start = 0, .end = d.len };
                size_t next;
                (void) reply_name_in_comment(reply_doc_line(&d, 0, &next), &whole.name);
                r = reply_doc_add(&d, &whole);
                if (r < 0)
                        return r;
        }

        ssize_t pick;
        bool named;
        r = pick_block(&d, target, &pick, &named);
        if (r < 0)
                return r;
        if (!named && d.n_fences > 0 && markdown_is_whole(&d, pick)) {
                r = reply_doc_add(&d, &(struct reply_block) { .start = 0, .end = d.len });
                if (r < 0)
                        return r;
                pick = (ssize_t) d.n_blocks - 1;
        }
        _cleanup_(refused_free) struct refused refused = { NULL, 0, 0 };
        r = refuse_others(&d, target, pick, &refused);
        if (r < 0)
                return r;
        if (pick < 0 && refused.n > 0)
                return fail_refused(ret_error, &refused);
        if (pick < 0)
                return fail(ret_error, -ENODATA, "no code for \"%s\" in the reply (%zu blocks, none of its language)",
                            target, d.n_blocks);
        char *text;
        r = block_text(&d, &d.blocks[pick], &text);
        if (r == -EINVAL)
                return fail(ret_error, r, "the code for \"%s\" contains a NUL byte", target);
        if (r < 0)
                return r;
        if (!text && streq(path_basename(target), "__init__.py"))
                text = strdup("\n"); /* an empty package marker is a file */
        else if (!text)
                return fail(ret_error, -ENODATA, "the code block for \"%s\" is empty", target);
        if (!text)
                return -ENOMEM;
        ret->text = text;
        ret->n_ignored = refused.n;
        ret->ignored = TAKE_PTR(refused.v);
        return 0;
}

void reply_result_clear(struct reply_result *r) {
        if (!r)
                return;
        free(r->text);
        for (size_t i = 0; i < r->n_ignored; i++)
                free(r->ignored[i]);
        free(r->ignored);
        *r = (struct reply_result) { NULL, NULL, 0 };
}
