/* strbuf.h - a growable byte buffer with a hard maximum (curl's dynbuf, git's strbuf).
 *
 * The buffer is always NUL-terminated. Every append returns 0 or a negative errno:
 * -ENOMEM when allocation fails, -E2BIG when the append would pass the maximum given to
 * strbuf_init() (0 means SIZE_MAX). On error the buffer is left as it was.
 */
#pragma once

#include <stdarg.h>
#include <stddef.h>

#include "macro.h"

struct strbuf {
        char *buf;
        size_t len;
        size_t alloc;
        size_t max;
};

#define STRBUF_INIT { NULL, 0, 0, 0 }

void strbuf_init(struct strbuf *sb, size_t max);
void strbuf_free(struct strbuf *sb);
void strbuf_reset(struct strbuf *sb);
int strbuf_add(struct strbuf *sb, const void *data, size_t len) _warn_unused_;
int strbuf_adds(struct strbuf *sb, const char *s) _warn_unused_;
int strbuf_addc(struct strbuf *sb, char c) _warn_unused_;
int strbuf_addf(struct strbuf *sb, const char *fmt, ...) _printf_(2, 3) _warn_unused_;
int strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap) _printf_(2, 0) _warn_unused_;
/* Hands the buffer over (never NULL: an empty buffer gives ""), leaving sb empty. */
char *strbuf_detach(struct strbuf *sb, size_t *ret_len);
/* Returns the contents; "" for an empty buffer. Valid until the next change. */
const char *strbuf_str(const struct strbuf *sb);

static inline void strbuf_freep(struct strbuf *sb) {
        strbuf_free(sb);
}
#define _cleanup_strbuf_ _cleanup_(strbuf_freep)
