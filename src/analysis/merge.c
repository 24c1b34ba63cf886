/* merge.c - combine fragments of a shared target: Python imports hoisted and merged.
 *
 * Interface: merge.h. Python fragments are read through pyast_layout() (tree-sitter is
 * wrapped in the pyast module only): the module docstring and the top-level import
 * statements with their byte ranges. Merged imports are written in PEP 8's sections
 * (__future__, standard library, third party, local) separated by blank lines. Everything else is text work: cut those ranges out of each fragment
 * (whole lines when the statement owns its line), trim trailing blanks outside
 * multi-line strings, and write the header, the merged imports and the bodies.
 * Diagnostics: none; a fragment with syntax errors is merged as well as it can be and
 * the analysis reports its errors.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "merge.h"
#include "pyast.h"
#include "shared/macro.h"

#define LINE_MAX_WIDTH 79 /* PEP 8: wrap longer from-imports in parentheses */

/* One output import line: a plain `import x` (one name), a `from m import ...` or the
 * `from __future__ import ...` line. Strings point into the fragments' layouts. */
struct group {
        const char *module; /* NULL for a plain import */
        bool wildcard;
        const struct py_import_name **names;
        size_t n_names;
        const char **comments;
        size_t n_comments;
};

struct groups {
        struct group *v;
        size_t n;
};

static void groups_clear(struct groups *g) {
        for (size_t i = 0; i < g->n; i++) {
                free(g->v[i].names);
                free(g->v[i].comments);
        }
        free(g->v);
        g->v = NULL;
        g->n = 0;
}

static bool same_name(const struct py_import_name *a, const struct py_import_name *b) {
        return streq(a->name, b->name) && streq_ptr(a->alias, b->alias);
}

static int add_name(struct group *g, const struct py_import_name *nm) {
        for (size_t i = 0; i < g->n_names; i++)
                if (same_name(g->names[i], nm))
                        return 0;
        const struct py_import_name **nv = realloc(g->names, (g->n_names + 1) * sizeof(*nv));
        if (!nv)
                return -ENOMEM;
        g->names = nv;
        g->names[g->n_names++] = nm;
        return 0;
}

static int add_comment(struct group *g, const char *c) {
        if (!c)
                return 0;
        for (size_t i = 0; i < g->n_comments; i++)
                if (streq(g->comments[i], c))
                        return 0;
        const char **nv = realloc(g->comments, (g->n_comments + 1) * sizeof(*nv));
        if (!nv)
                return -ENOMEM;
        g->comments = nv;
        g->comments[g->n_comments++] = c;
        return 0;
}

/* The group for (module, wildcard) or, for plain imports, for that one name. */
static struct group *find_group(struct groups *gs, const char *module, bool wildcard,
                                const struct py_import_name *plain) {
        for (size_t i = 0; i < gs->n; i++) {
                struct group *g = &gs->v[i];
                if (plain ? (g->n_names > 0 && same_name(g->names[0], plain))
                          : (streq_ptr(g->module, module) && g->wildcard == wildcard))
                        return g;
        }
        struct group *nv = realloc(gs->v, (gs->n + 1) * sizeof(*nv));
        if (!nv)
                return NULL;
        gs->v = nv;
        struct group *g = &gs->v[gs->n++];
        *g = (struct group) { .module = module, .wildcard = wildcard };
        return g;
}

struct imports {
        struct groups future, plain, from;
};

/* Python 3.11's sys.stdlib_module_names without the private ones, sorted (strcmp). */
static const char *const stdlib_modules[] = {
        "abc", "aifc", "argparse", "array", "ast", "asynchat", "asyncio", "asyncore", "atexit",
        "audioop", "base64", "bdb", "binascii", "bisect", "builtins", "bz2", "cProfile", "calendar",
        "cgi", "cgitb", "chunk", "cmath", "cmd", "code", "codecs", "codeop", "collections",
        "colorsys", "compileall", "concurrent", "configparser", "contextlib", "contextvars", "copy",
        "copyreg", "crypt", "csv", "ctypes", "curses", "dataclasses", "datetime", "dbm", "decimal",
        "difflib", "dis", "distutils", "doctest", "email", "encodings", "ensurepip", "enum",
        "errno", "faulthandler", "fcntl", "filecmp", "fileinput", "fnmatch", "fractions", "ftplib",
        "functools", "gc", "genericpath", "getopt", "getpass", "gettext", "glob", "graphlib", "grp",
        "gzip", "hashlib", "heapq", "hmac", "html", "http", "idlelib", "imaplib", "imghdr", "imp",
        "importlib", "inspect", "io", "ipaddress", "itertools", "json", "keyword", "lib2to3",
        "linecache", "locale", "logging", "lzma", "mailbox", "mailcap", "marshal", "math",
        "mimetypes", "mmap", "modulefinder", "msilib", "msvcrt", "multiprocessing", "netrc", "nis",
        "nntplib", "nt", "ntpath", "nturl2path", "numbers", "opcode", "operator", "optparse", "os",
        "ossaudiodev", "pathlib", "pdb", "pickle", "pickletools", "pipes", "pkgutil", "platform",
        "plistlib", "poplib", "posix", "posixpath", "pprint", "profile", "pstats", "pty", "pwd",
        "py_compile", "pyclbr", "pydoc", "pydoc_data", "pyexpat", "queue", "quopri", "random", "re",
        "readline", "reprlib", "resource", "rlcompleter", "runpy", "sched", "secrets", "select",
        "selectors", "shelve", "shlex", "shutil", "signal", "site", "smtpd", "smtplib", "sndhdr",
        "socket", "socketserver", "spwd", "sqlite3", "sre_compile", "sre_constants", "sre_parse",
        "ssl", "stat", "statistics", "string", "stringprep", "struct", "subprocess", "sunau",
        "symtable", "sys", "sysconfig", "syslog", "tabnanny", "tarfile", "telnetlib", "tempfile",
        "termios", "textwrap", "threading", "time", "timeit", "tkinter", "token", "tokenize",
        "tomllib", "trace", "traceback", "tracemalloc", "tty", "turtle", "turtledemo", "types",
        "typing", "unicodedata", "unittest", "urllib", "uu", "uuid", "venv", "warnings", "wave",
        "weakref", "webbrowser", "winreg", "winsound", "wsgiref", "xdrlib", "xml", "xmlrpc",
        "zipapp", "zipfile", "zipimport", "zlib", "zoneinfo",
};

static int cmp_module(const void *key, const void *item) {
        return strcmp(key, *(const char *const *) item);
}

/* PEP 8's import sections, in their order. */
enum section { SECTION_STDLIB, SECTION_THIRD_PARTY, SECTION_LOCAL, _SECTION_MAX };

/* Relative imports and the project's own packages (src, tests) are local; a module whose
 * top-level package is in the standard library is stdlib; anything else is third party. */
static enum section section_of(const char *module) {
        char top[64];
        size_t n = strcspn(module, ".");
        if (module[0] == '.')
                return SECTION_LOCAL;
        if (n >= sizeof(top))
                return SECTION_THIRD_PARTY;
        memcpy(top, module, n);
        top[n] = '\0';
        if (streq(top, "src") || streq(top, "tests"))
                return SECTION_LOCAL;
        if (bsearch(top, stdlib_modules, ELEMENTSOF(stdlib_modules), sizeof(stdlib_modules[0]),
                    cmp_module))
                return SECTION_STDLIB;
        return SECTION_THIRD_PARTY;
}

static const char *group_module(const struct group *g) {
        return g->module ? g->module : g->names[0]->name;
}

static int collect_import(struct imports *im, const struct py_import *p) {
        struct group *g;
        int r = 0;
        switch (p->kind) {
        case PY_IMPORT:
                for (size_t i = 0; i < p->n_names && r == 0; i++) {
                        if (!(g = find_group(&im->plain, NULL, false, &p->names[i])))
                                return -ENOMEM;
                        r = add_name(g, &p->names[i]);
                        if (r == 0 && i == 0)
                                r = add_comment(g, p->comment);
                }
                return r;
        case PY_IMPORT_FUTURE:
        case PY_IMPORT_FROM:
                if (!(g = find_group(p->kind == PY_IMPORT_FUTURE ? &im->future : &im->from, p->module,
                                     p->wildcard, NULL)))
                        return -ENOMEM;
                for (size_t i = 0; i < p->n_names && r == 0; i++)
                        r = add_name(g, &p->names[i]);
                return r < 0 ? r : add_comment(g, p->comment);
        }
        return 0;
}

static int write_group(struct strbuf *sb, const struct group *g) {
        _cleanup_strbuf_ struct strbuf line = STRBUF_INIT;
        int r = g->module ? strbuf_addf(&line, "from %s import ", g->module) : strbuf_adds(&line, "import ");
        size_t head = line.len;
        if (r == 0 && g->wildcard)
                r = strbuf_adds(&line, "*");
        for (size_t i = 0; i < g->n_names && r == 0; i++)
                r = strbuf_addf(&line, "%s%s%s%s", i ? ", " : "", g->names[i]->name,
                                g->names[i]->alias ? " as " : "", g->names[i]->alias ? g->names[i]->alias : "");
        if (r < 0)
                return r;

        bool wrap = g->module && !g->wildcard && g->n_names > 1 && line.len > LINE_MAX_WIDTH;
        if (!wrap)
                r = strbuf_add(sb, line.buf, line.len);
        else {
                r = strbuf_add(sb, line.buf, head);
                if (r == 0)
                        r = strbuf_adds(sb, "(");
        }
        if (r == 0 && g->n_comments > 0) {
                r = strbuf_adds(sb, " ");
                for (size_t i = 0; i < g->n_comments && r == 0; i++)
                        r = strbuf_addf(sb, " %s", g->comments[i]);
        }
        if (r == 0 && wrap) {
                for (size_t i = 0; i < g->n_names && r == 0; i++)
                        r = strbuf_addf(sb, "\n    %s%s%s,", g->names[i]->name, g->names[i]->alias ? " as " : "",
                                        g->names[i]->alias ? g->names[i]->alias : "");
                if (r == 0)
                        r = strbuf_adds(sb, "\n)");
        }
        return r < 0 ? r : strbuf_adds(sb, "\n");
}

/* Widens [start, end) to whole lines when the statement is alone on its line(s), and
 * over a `;` that follows it. */
static void widen(const char *s, size_t len, size_t *start, size_t *end) {
        size_t e = *end, b = *start;
        while (e < len && (s[e] == ' ' || s[e] == '\t'))
                e++;
        if (e < len && s[e] == ';') {
                e++;
                while (e < len && (s[e] == ' ' || s[e] == '\t'))
                        e++;
                *end = e;
        }
        while (b > 0 && (s[b - 1] == ' ' || s[b - 1] == '\t'))
                b--;
        if (e < len && s[e] == '\r')
                e++;
        if ((b == 0 || s[b - 1] == '\n') && (e >= len || s[e] == '\n')) {
                *start = b;
                *end = e < len ? e + 1 : e;
        }
}

static bool is_blank(char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\f';
}

static void trim_line_end(struct strbuf *sb) {
        while (sb->len > 0 && is_blank(sb->buf[sb->len - 1]))
                sb->buf[--sb->len] = '\0';
}

static int cmp_range(const void *x, const void *y) {
        const struct py_range *a = x, *b = y;
        return a->start < b->start ? -1 : a->start > b->start;
}

/* The fragment without the cut ranges, lines trimmed, no blank lines around it. */
static int body_of(const char *s, size_t len, const struct py_layout *l, bool doc_from_here,
                   struct strbuf *body) {
        size_t n_cut = l->n_imports + 1, n = 0;
        _cleanup_free_ struct py_range *cut = calloc(n_cut, sizeof(*cut));
        if (!cut)
                return -ENOMEM;
        if (l->has_docstring)
                cut[n++] = (struct py_range) { doc_from_here ? 0 : l->doc_start, l->doc_end };
        for (size_t i = 0; i < l->n_imports; i++)
                cut[n++] = (struct py_range) { l->imports[i].start, l->imports[i].end };
        for (size_t i = 0; i < n; i++)
                widen(s, len, &cut[i].start, &cut[i].end);
        qsort(cut, n, sizeof(*cut), cmp_range);

        size_t c = 0, str = 0;
        int r = 0;
        for (size_t i = 0; i < len && r == 0;) {
                while (c < n && cut[c].end <= i)
                        c++;
                if (c < n && cut[c].start <= i) {
                        i = cut[c].end;
                        continue;
                }
                size_t stop = c < n ? cut[c].start : len;
                const char *nl = memchr(s + i, '\n', stop - i);
                size_t upto = nl ? (size_t) (nl - s) : stop;
                r = strbuf_add(body, s + i, upto - i);
                i = upto;
                if (r < 0 || !nl)
                        continue;
                while (str < l->n_strings && l->strings[str].end <= i)
                        str++;
                if (!(str < l->n_strings && l->strings[str].start < i))
                        trim_line_end(body); /* not inside a multi-line string */
                r = strbuf_addc(body, '\n');
                i++;
        }
        if (r < 0)
                return r;

        trim_line_end(body);
        while (body->len > 0 && body->buf[body->len - 1] == '\n') {
                body->buf[--body->len] = '\0';
                trim_line_end(body);
        }
        size_t lead = 0;
        for (size_t i = 0; i < body->len && (is_blank(body->buf[i]) || body->buf[i] == '\n'); i++)
                if (body->buf[i] == '\n')
                        lead = i + 1;
        if (lead > 0) {
                memmove(body->buf, body->buf + lead, body->len - lead + 1);
                body->len -= lead;
        }
        return 0;
}

int merge_python(const char *const *frags, const size_t *lens, size_t n, struct strbuf *out) {
        struct py_layout **layouts = calloc(n ? n : 1, sizeof(*layouts));
        struct imports im = { 0 };
        struct strbuf res = STRBUF_INIT, body = STRBUF_INIT;
        size_t doc_frag = SIZE_MAX;
        int r = layouts ? 0 : -ENOMEM;

        strbuf_init(&res, out->max ? out->max - out->len : 0);
        for (size_t i = 0; i < n && r == 0; i++) {
                _cleanup_pyast_ struct pyast *a = NULL;
                r = pyast_parse(frags[i], lens[i], &a);
                if (r == 0)
                        r = pyast_layout(a, &layouts[i]);
                if (r == 0 && doc_frag == SIZE_MAX && layouts[i]->has_docstring)
                        doc_frag = i;
                for (size_t k = 0; r == 0 && k < layouts[i]->n_imports; k++)
                        r = collect_import(&im, &layouts[i]->imports[k]);
        }

        /* sections: docstring, imports, bodies; one blank line after the docstring, two
         * after the imports and between bodies (PEP 8) */
        enum { NONE, DOC, IMPORTS, BODY } prev = NONE;
        if (r == 0 && doc_frag != SIZE_MAX) {
                r = strbuf_add(&res, frags[doc_frag], layouts[doc_frag]->doc_end); /* with comments above */
                if (r == 0)
                        r = strbuf_adds(&res, "\n");
                prev = DOC;
        }
        /* __future__ first, then PEP 8's sections (stdlib, third party, local) with a blank
         * line between them; in each, `import x` lines before `from m import` ones, in the
         * order first seen */
        for (int sec = -1; sec < _SECTION_MAX && r == 0; sec++) {
                const struct groups *kinds[] = { &im.plain, &im.from };
                bool started = false;
                for (size_t k = 0; k < ELEMENTSOF(kinds) && r == 0; k++) {
                        const struct groups *gs = sec < 0 ? (k == 0 ? &im.future : NULL) : kinds[k];
                        for (size_t i = 0; gs && i < gs->n && r == 0; i++) {
                                if (sec >= 0 && section_of(group_module(&gs->v[i])) != (enum section) sec)
                                        continue;
                                if (!started && (prev == DOC || prev == IMPORTS))
                                        r = strbuf_adds(&res, "\n");
                                started = true;
                                if (r == 0)
                                        r = write_group(&res, &gs->v[i]);
                                prev = IMPORTS;
                        }
                }
        }
        for (size_t i = 0; i < n && r == 0; i++) {
                strbuf_reset(&body);
                r = body_of(frags[i], lens[i], layouts[i], i == doc_frag, &body);
                if (r < 0 || body.len == 0)
                        continue;
                if (prev != NONE)
                        r = strbuf_adds(&res, prev == DOC ? "\n" : "\n\n");
                if (r == 0)
                        r = strbuf_add(&res, body.buf, body.len);
                if (r == 0)
                        r = strbuf_adds(&res, "\n");
                prev = BODY;
        }
        if (r == 0) {
                trim_line_end(&res);
                while (res.len > 1 && res.buf[res.len - 1] == '\n' && res.buf[res.len - 2] == '\n')
                        res.buf[--res.len] = '\0';
                r = strbuf_add(out, res.buf ? res.buf : "", res.len);
        }

        for (size_t i = 0; layouts && i < n; i++)
                py_layout_free(layouts[i]);
        free(layouts);
        groups_clear(&im.future);
        groups_clear(&im.plain);
        groups_clear(&im.from);
        strbuf_free(&res);
        strbuf_free(&body);
        return r;
}

int merge_plain(const char *const *frags, const size_t *lens, size_t n, struct strbuf *out) {
        struct strbuf res = STRBUF_INIT;
        int r = 0;
        strbuf_init(&res, out->max ? out->max - out->len : 0);
        for (size_t i = 0; i < n && r == 0; i++) {
                size_t l = lens[i];
                while (l > 0 && (frags[i][l - 1] == '\n' || frags[i][l - 1] == '\r'))
                        l--;
                if (l == 0)
                        continue;
                if (res.len > 0)
                        r = strbuf_adds(&res, "\n");
                if (r == 0)
                        r = strbuf_add(&res, frags[i], l);
                if (r == 0)
                        r = strbuf_adds(&res, "\n");
        }
        if (r == 0)
                r = strbuf_add(out, res.buf ? res.buf : "", res.len);
        strbuf_free(&res);
        return r;
}

int merge_fragments(const char *target, const char *const *frags, const size_t *lens, size_t n,
                    struct strbuf *out) {
        size_t l = strlen(target);
        if (l >= 3 && streq(target + l - 3, ".py"))
                return merge_python(frags, lens, n, out);
        return merge_plain(frags, lens, n, out);
}
