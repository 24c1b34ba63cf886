/* pyast-lex.c - the line-level checks CPython's tokenizer makes and tree-sitter does not.
 *
 * Interface: pyast_check_source() (pyast.h) calls pyast_decode() first, then
 * pyast_lexical_checks() between the parser's errors and the tree walk
 * (pyast-internal.h). Decoding: a byte order mark, a PEP 263 coding declaration (iconv),
 * as CPython's tokenizer reads a file. Lines: indentation (unexpected indent, expected an
 * indented block, unindent mismatch, TabError), unterminated strings, invalid UTF-8, NUL
 * bytes, invisible characters in code.
 * Diagnostics: findings go into struct py_errors with py_errors_add_extra(); returns 0 or
 * -ENOMEM.
 */
#include "config.h"

#include <iconv.h>

#include "pyast-internal.h"

/* ---- decoding (CPython's tokenizer.c: check_bom(), check_coding_spec()) ---- */

/* An error at a byte offset of the source, its line found by counting. */
static int error_at_offset(struct py_errors *e, const char *s, size_t len, size_t off, const char *msg) {
        unsigned line = 1;
        size_t ls = 0;
        for (size_t i = 0; i < off && i < len; i++)
                if (s[i] == '\n') {
                        line++;
                        ls = i + 1;
                }
        return py_errors_add(e, s, len, off, line, ls, line, msg);
}

/* The encoding a line declares ("# -*- coding: latin-1 -*-"), copied into name[]: the
 * line is a comment and holds "coding" followed by ':' or '=', blanks, then the name. */
static bool coding_spec(const char *s, size_t n, char *name, size_t size) {
        size_t i = 0;
        while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\f'))
                i++;
        if (i >= n || s[i] != '#')
                return false;
        for (; i + 6 < n; i++) {
                if (memcmp(s + i, "coding", 6) != 0 || (s[i + 6] != ':' && s[i + 6] != '='))
                        continue;
                size_t b = i + 7;
                while (b < n && (s[b] == ' ' || s[b] == '\t'))
                        b++;
                size_t k = 0;
                for (; b < n && (isalnum((unsigned char) s[b]) || strchr("-_.", s[b])) && s[b]; b++)
                        if (k + 1 < size)
                                name[k++] = s[b];
                if (k == 0)
                        continue;
                name[k] = '\0';
                return true;
        }
        return false;
}

/* CPython's get_normal_name(): the spellings of UTF-8 and Latin-1 it knows itself. */
static const char *normal_name(const char *name) {
        char low[13];
        size_t k = 0;
        for (; name[k] && k < 12; k++)
                low[k] = name[k] == '_' ? '-' : (char) tolower((unsigned char) name[k]);
        low[k] = '\0';
        if (streq(low, "utf-8") || strncmp(low, "utf-8-", 6) == 0)
                return "utf-8";
        static const char *const latin1[] = { "latin-1", "iso-8859-1", "iso-latin-1" };
        for (size_t i = 0; i < ELEMENTSOF(latin1); i++) {
                size_t l = strlen(latin1[i]);
                if (strncmp(low, latin1[i], l) == 0 && (low[l] == '\0' || low[l] == '-'))
                        return "iso-8859-1";
        }
        return name;
}

/* The declared encoding, when line 1 declares one, or line 2 after a line 1 that is blank
 * or a comment. */
static bool declared_encoding(const char *s, size_t len, char *name, size_t size) {
        size_t start = 0;
        for (int line = 0; line < 2 && start < len; line++) {
                const char *nl = memchr(s + start, '\n', len - start);
                size_t end = nl ? (size_t) (nl - s) : len;
                if (coding_spec(s + start, end - start, name, size))
                        return true;
                size_t i = start;
                while (i < end && (s[i] == ' ' || s[i] == '\t' || s[i] == '\f'))
                        i++;
                if (i < end && s[i] != '#' && s[i] != '\r')
                        return false; /* code on line 1: no declaration on line 2 */
                start = end + 1;
        }
        return false;
}

/* A converter from a Python codec name: Python's own spellings glibc does not know
 * ("mac_roman", "shiftjis", "1252"), then the name upper-cased with '_' as '-' ("koi8_r"
 * -> "KOI8-R"), then upper-cased as it is ("ansi_x3.4_1968"). (iconv_t) -1 if none. */
static iconv_t open_codec(const char *name) {
        static const char *const aliases[][2] = {
                { "latin", "LATIN1" },           { "l9", "LATIN-9" },           { "u8", "UTF-8" },
                { "utf", "UTF-8" },              { "utf8_ucs2", "UTF-8" },      { "utf8_ucs4", "UTF-8" },
                { "mac_roman", "MACINTOSH" },    { "macroman", "MACINTOSH" },   { "shiftjis", "SJIS" },
                { "s_jis", "SJIS" },             { "ms_kanji", "SJIS" },        { "mskanji", "SJIS" },
                { "ks_c_5601", "EUC-KR" },       { "ks_c_5601_1987", "EUC-KR" }, { "ksc5601", "EUC-KR" },
                { "korean", "EUC-KR" },          { "ms949", "CP949" },          { "ms950", "CP950" },
                { "chinese", "GB2312" },         { "thai", "TIS-620" },         { "646", "ASCII" },
                { "u7", "UTF-7" },               { "cp65001", "UTF-8" },        { "big5_tw", "BIG5" },
                { "csbig5", "BIG5" },            { "iso8859", "LATIN1" },       { "8859", "LATIN1" },
        };
        char low[32], up[2][32];
        size_t k = strlen(name);
        if (k >= sizeof(low))
                return (iconv_t) -1;
        for (size_t i = 0; i <= k; i++) {
                low[i] = name[i] == '-' ? '_' : (char) tolower((unsigned char) name[i]);
                up[0][i] = name[i] == '_' ? '-' : (char) toupper((unsigned char) name[i]);
                up[1][i] = (char) toupper((unsigned char) name[i]);
        }
        for (size_t i = 0; i < ELEMENTSOF(aliases); i++)
                if (streq(low, aliases[i][0]))
                        return iconv_open("UTF-8", aliases[i][1]);
        if (strspn(low, "0123456789") == k) { /* "1252": a Windows code page */
                char cp[sizeof(low) + 2] = "CP";
                memcpy(cp + 2, low, k + 1);
                return iconv_open("UTF-8", cp);
        }
        iconv_t cd = iconv_open("UTF-8", up[0]);
        return cd != (iconv_t) -1 || errno != EINVAL ? cd : iconv_open("UTF-8", up[1]);
}

int pyast_decode(const char *s, size_t len, struct py_errors *e, char **ret, size_t *ret_len,
                 bool *ret_failed) {
        char spec[64];
        bool bom = len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0;
        *ret = NULL;
        *ret_len = 0;
        *ret_failed = false;
        if (!declared_encoding(s, len, spec, sizeof(spec)))
                return 0;
        const char *name = normal_name(spec);
        if (streq(name, "utf-8"))
                return 0;
        *ret_failed = true;
        if (bom)
                return error_at_offset(e, s, len, 0, "encoding problem: a byte order mark with another encoding");
        errno = EINVAL;
        iconv_t cd = open_codec(name);
        if (cd == (iconv_t) -1)
                return errno == EINVAL ? error_at_offset(e, s, len, 0, "unknown encoding in the coding declaration")
                                       : -errno;
        size_t alloc = len * 3 + 16;
        char *out = malloc(alloc);
        char *in = (char *) s, *o = out;
        size_t in_left = len, out_left = alloc;
        int r = out ? 0 : -ENOMEM;
        while (r == 0 && in_left > 0) {
                if (iconv(cd, &in, &in_left, &o, &out_left) != (size_t) -1)
                        break;
                if (errno == E2BIG) {
                        size_t used = (size_t) (o - out);
                        char *n = realloc(out, alloc * 2);
                        if (!n) {
                                r = -ENOMEM;
                                break;
                        }
                        out = n;
                        alloc *= 2;
                        o = out + used;
                        out_left = alloc - used;
                } else if (errno == EILSEQ || errno == EINVAL) {
                        r = error_at_offset(e, s, len, (size_t) (in - s),
                                            "source cannot be decoded with its declared encoding");
                        free(out);
                        out = NULL;
                        break;
                } else
                        r = -errno;
        }
        (void) iconv_close(cd);
        if (r < 0 || !out) {
                free(out);
                return r;
        }
        *ret_failed = false;
        *ret_len = (size_t) (o - out);
        *ret = out;
        return 0;
}

#define MAX_INDENT 100 /* CPython's MAXINDENT */

struct lexer {
        const char *s;
        size_t len;
        struct py_errors *e;
        unsigned line;     /* current line, 1-based */
        size_t ls;         /* offset of its first byte */
        int cols[MAX_INDENT + 1];
        int alts[MAX_INDENT + 1]; /* the same with tabs counted as one column */
        size_t top;
        bool expect_indent;       /* the last logical line ended with ':' */
        bool after_error;         /* the last logical line has an error already */
        size_t colon;             /* where that ':' is */
        unsigned colon_line;
        size_t colon_ls;
        bool bad_utf8, nul;       /* reported once per file */
};

static int lex_error(struct lexer *x, size_t off, const char *msg) {
        return py_errors_add_extra(x->e, x->s, x->len, off, x->line, x->ls, msg);
}

/* Strings are reported where they start. */
struct strpos {
        size_t off, ls;
        unsigned line;
};

static int lex_error_at(struct lexer *x, const struct strpos *p, const char *msg) {
        return py_errors_add_extra(x->e, x->s, x->len, p->off, p->line, p->ls, msg);
}

static int lex_push(struct lexer *x, int col, int alt, size_t off) {
        if (x->top == MAX_INDENT)
                return lex_error(x, off, "too many levels of indentation");
        x->top++;
        x->cols[x->top] = col;
        x->alts[x->top] = alt;
        return 0;
}

/* The first line of a logical line that is not blank: compare its indentation with the
 * stack as CPython's tokenizer does, and with what the previous line asked for. */
static int lex_indent(struct lexer *x, int col, int alt, size_t off) {
        int r = 0;
        if (x->after_error) {
                /* the parser saw a mistake on the line before: only follow the levels */
                x->expect_indent = x->after_error = false;
                if (col > x->cols[x->top])
                        return lex_push(x, col, alt, off);
                while (x->top > 0 && col < x->cols[x->top])
                        x->top--;
                return col != x->cols[x->top] ? lex_push(x, col, alt, off) : 0;
        }
        if (col > x->cols[x->top]) {
                if (!x->expect_indent)
                        r = lex_error(x, off, "unexpected indent");
                else if (alt <= x->alts[x->top])
                        r = lex_error(x, off, "inconsistent use of tabs and spaces in indentation");
                if (r == 0)
                        r = lex_push(x, col, alt, off);
        } else {
                if (x->expect_indent)
                        r = lex_error(x, off, "expected an indented block");
                while (x->top > 0 && col < x->cols[x->top])
                        x->top--;
                if (r < 0)
                        return r;
                if (col != x->cols[x->top]) {
                        r = lex_error(x, off, "unindent does not match any outer indentation level");
                        if (r == 0) /* carry on as if it were a level, to report one error */
                                r = lex_push(x, col, alt, off);
                } else if (alt != x->alts[x->top])
                        r = lex_error(x, off, "inconsistent use of tabs and spaces in indentation");
        }
        x->expect_indent = false;
        return r;
}

/* U+00A0, U+1680, U+2000..U+200B, U+2028, U+2029, U+202F, U+205F, U+2060, U+3000, U+FEFF:
 * tree-sitter skips some of them as blanks, CPython refuses them outside strings. */
static bool invisible(unsigned cp) {
        return cp == 0xa0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200b) || cp == 0x2028 ||
               cp == 0x2029 || cp == 0x202f || cp == 0x205f || cp == 0x2060 || cp == 0x3000 ||
               cp == 0xfeff;
}

/* Decodes one UTF-8 sequence (strict: no overlong forms, no surrogates); 0 when invalid. */
static size_t utf8_decode(const unsigned char *s, size_t avail, unsigned *ret_cp) {
        unsigned c = s[0], cp, min;
        size_t n;
        if (c < 0x80) {
                *ret_cp = c;
                return 1;
        }
        if ((c & 0xe0) == 0xc0)
                n = 2, cp = c & 0x1f, min = 0x80;
        else if ((c & 0xf0) == 0xe0)
                n = 3, cp = c & 0x0f, min = 0x800;
        else if ((c & 0xf8) == 0xf0)
                n = 4, cp = c & 0x07, min = 0x10000;
        else
                return 0;
        if (n > avail)
                return 0;
        for (size_t i = 1; i < n; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (s[i] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        *ret_cp = cp;
        return n;
}

enum where { IN_CODE, IN_STRING, IN_COMMENT };

/* Checks bytes at i; returns how many to skip (>= 1) or a negative errno. compile() and
 * import (not `python3 FILE`) let any byte but NUL through in a comment. */
static long lex_bytes(struct lexer *x, size_t i, enum where where) {
        bool code = where == IN_CODE;
        unsigned char c = (unsigned char) x->s[i];
        if (c == 0) {
                if (!x->nul) {
                        x->nul = true;
                        int r = lex_error(x, i, "source code cannot contain null bytes");
                        if (r < 0)
                                return r;
                }
                return 1;
        }
        if (c < 0x80 || where == IN_COMMENT)
                return 1;
        unsigned cp;
        size_t n = utf8_decode((const unsigned char *) x->s + i, x->len - i, &cp);
        if (n == 0) {
                if (!x->bad_utf8) {
                        x->bad_utf8 = true;
                        int r = lex_error(x, i, "invalid utf-8 in source");
                        if (r < 0)
                                return r;
                }
                return 1;
        }
        if (code && invisible(cp) && !(cp == 0xfeff && i == 0)) {
                int r = lex_error(x, i, "invalid non-printable character");
                if (r < 0)
                        return r;
        }
        return (long) n;
}

int pyast_lexical_checks(const char *s, size_t len, struct py_errors *e) {
        struct lexer x = { .s = s, .len = len, .e = e, .line = 1 };
        char quote = 0;       /* inside a string: its quote character */
        bool triple = false;
        struct strpos str = { 0 }; /* where it started */
        int depth = 0;        /* open brackets */
        bool cont = false;    /* the previous physical line ended with a backslash */
        bool in_line = false; /* a logical line with tokens is open */
        unsigned first_line = 0; /* where it started */
        char last = 0;        /* its last significant character */
        bool bol = true;
        size_t i = 0;
        int r = 0;

        if (len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
                i = 3; /* a UTF-8 byte order mark, as CPython accepts in files */
        while (i < len && r >= 0) {
                if (bol) {
                        bol = false;
                        if (!quote && depth == 0 && !cont) {
                                int col = 0, alt = 0;
                                size_t j = i;
                                for (; j < len; j++) {
                                        if (s[j] == ' ')
                                                col++, alt++;
                                        else if (s[j] == '\t')
                                                col = (col / 8 + 1) * 8, alt++;
                                        else if (s[j] == '\f')
                                                col = alt = 0;
                                        else
                                                break;
                                }
                                bool blank = j >= len || s[j] == '\n' || s[j] == '#' ||
                                             (s[j] == '\r' && (j + 1 >= len || s[j + 1] == '\n')) ||
                                             (s[j] == '\\' && j + 1 < len && s[j + 1] == '\n');
                                if (!blank) {
                                        r = lex_indent(&x, col, alt, j);
                                        in_line = true;
                                        first_line = x.line;
                                        last = 0;
                                }
                                i = j;
                                continue;
                        }
                        cont = false;
                }
                char c = s[i];
                if (c == '\n') {
                        if (quote && !triple) {
                                quote = 0;
                                r = lex_error_at(&x, &str, "unterminated string literal");
                                if (r < 0)
                                        return r;
                        }
                        if (!quote && depth == 0 && !cont && in_line) {
                                in_line = false;
                                x.expect_indent = last == ':';
                                x.after_error = py_errors_on_line(e, first_line) ||
                                                py_errors_on_line(e, x.line);
                        }
                        x.line++;
                        x.ls = i + 1;
                        bol = true;
                        i++;
                        continue;
                }
                if (quote) {
                        if (c == '\\' && i + 1 < len) {
                                size_t nl = s[i + 1] == '\n' ? i + 1
                                            : (s[i + 1] == '\r' && i + 2 < len && s[i + 2] == '\n') ? i + 2 : 0;
                                if (nl) { /* an escaped newline continues any string */
                                        x.line++;
                                        x.ls = nl + 1;
                                        i = nl + 1;
                                } else /* skip an escaped ASCII character (a quote, say) */
                                        i += (unsigned char) s[i + 1] < 0x80 ? 2 : 1;
                                continue;
                        }
                        if (c == quote && (!triple || (i + 2 < len && s[i + 1] == quote && s[i + 2] == quote))) {
                                i += triple ? 3 : 1;
                                quote = 0;
                                last = c;
                                continue;
                        }
                        long k = lex_bytes(&x, i, IN_STRING);
                        if (k < 0)
                                return (int) k;
                        i += (size_t) k;
                        continue;
                }
                switch (c) {
                case '#':
                        while (i < len && s[i] != '\n') {
                                long k = lex_bytes(&x, i, IN_COMMENT);
                                if (k < 0)
                                        return (int) k;
                                i += (size_t) k;
                        }
                        continue;
                case '\'':
                case '"':
                        str = (struct strpos) { .off = i, .ls = x.ls, .line = x.line };
                        quote = c;
                        triple = i + 2 < len && s[i + 1] == c && s[i + 2] == c;
                        i += triple ? 3 : 1;
                        continue;
                case '\\':
                        if (i + 1 < len && s[i + 1] == '\n') {
                                cont = true;
                                i++;
                                continue;
                        }
                        if (i + 2 < len && s[i + 1] == '\r' && s[i + 2] == '\n') {
                                cont = true;
                                i += 2;
                                continue;
                        }
                        break;
                case '(':
                case '[':
                case '{':
                        depth++;
                        break;
                case ')':
                case ']':
                case '}':
                        if (depth > 0)
                                depth--;
                        break;
                case ' ':
                case '\t':
                case '\r':
                case '\f':
                        i++;
                        continue;
                default:
                        break;
                }
                if (c == ':') {
                        x.colon = i;
                        x.colon_line = x.line;
                        x.colon_ls = x.ls;
                }
                last = c;
                long k = lex_bytes(&x, i, IN_CODE);
                if (k < 0)
                        return (int) k;
                i += (size_t) k;
        }
        if (r < 0)
                return r;
        if (quote) {
                r = lex_error_at(&x, &str, triple ? "unterminated triple-quoted string literal"
                                                  : "unterminated string literal");
                if (r < 0)
                        return r;
        }
        if (in_line && !quote && depth == 0) {
                x.expect_indent = last == ':';
                x.after_error = py_errors_on_line(e, first_line) || py_errors_on_line(e, x.line);
        }
        if (x.expect_indent && !x.after_error) {
                x.line = x.colon_line;
                x.ls = x.colon_ls;
                r = lex_error(&x, x.colon, "expected an indented block");
        }
        return r;
}
