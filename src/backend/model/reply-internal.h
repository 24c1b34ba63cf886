/* reply-internal.h - the Markdown reader behind reply.c (reply-markdown.c): a model's
 * reply as fenced blocks, each with the language and the file name the reply gives it.
 * Positions are byte offsets into the normalised reply (no BOM, LF line endings). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

struct span {
        const char *p;
        size_t n;
};

struct reply_block {
        size_t start, end; /* content bytes [start, end) of the normalised reply */
        size_t indent;     /* the opening fence's indentation, removed from each line */
        struct span lang;
        struct span name; /* n == 0: no name */
};

struct reply_doc {
        const char *buf; /* the normalised reply (owned) */
        size_t len;
        bool python;     /* untagged blocks are Python (the target is) */
        bool markdown;   /* untagged blocks are Markdown (the target is) */
        bool plain_only; /* a block fell back once: fences by CommonMark alone from then on */
        struct reply_block *blocks;
        size_t n_blocks, alloc;
        size_t n_fences;
};

/* Finds the blocks of d->buf; 0, -E2BIG (over REPLY_MAX_BLOCKS), -ENOMEM. */
int reply_doc_parse(struct reply_doc *d);
int reply_doc_add(struct reply_doc *d, const struct reply_block *b);
/* The line at pos (without its newline); *ret_next is the next line's position. */
struct span reply_doc_line(const struct reply_doc *d, size_t pos, size_t *ret_next);
/* "# src/app.py", "// File: src/app.py" or "<!-- a.md -->": the file a first line names. */
bool reply_name_in_comment(struct span line, struct span *ret);
/* Python's string state after a line: 0, or the quote of an open triple-quoted string. */
char reply_py_scan(struct span l, char state);

static inline bool is_blank(char c) {
        return c == ' ' || c == '\t';
}

static inline struct span span_from(struct span s, size_t off) {
        return off >= s.n ? (struct span) { s.p + s.n, 0 } : (struct span) { s.p + off, s.n - off };
}

static inline struct span span_trim(struct span s) {
        while (s.n && is_blank(s.p[0]))
                s.p++, s.n--;
        while (s.n && is_blank(s.p[s.n - 1]))
                s.n--;
        return s;
}

static inline bool span_ieq(struct span s, const char *lit) {
        return s.n == strlen(lit) && strncasecmp(s.p, lit, s.n) == 0;
}

static inline bool span_istarts(struct span s, const char *lit) {
        size_t n = strlen(lit);
        return s.n >= n && strncasecmp(s.p, lit, n) == 0;
}

static inline bool span_ends(struct span s, const char *lit) {
        size_t n = strlen(lit);
        return s.n >= n && memcmp(s.p + s.n - n, lit, n) == 0;
}

