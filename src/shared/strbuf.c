/* strbuf.c - bounded growable buffer; see strbuf.h. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

void strbuf_init(struct strbuf *sb, size_t max) {
        sb->buf = NULL;
        sb->len = 0;
        sb->alloc = 0;
        sb->max = max ? max : SIZE_MAX - 1;
}

void strbuf_free(struct strbuf *sb) {
        free(sb->buf);
        sb->buf = NULL;
        sb->len = sb->alloc = 0;
}

void strbuf_reset(struct strbuf *sb) {
        sb->len = 0;
        if (sb->buf)
                sb->buf[0] = '\0';
}

static int strbuf_grow(struct strbuf *sb, size_t extra) {
        size_t max = sb->max ? sb->max : SIZE_MAX - 1;

        if (extra > max || sb->len > max - extra)
                return -E2BIG;
        size_t need = sb->len + extra + 1;
        if (need <= sb->alloc)
                return 0;
        size_t n = sb->alloc ? sb->alloc : 64;
        while (n < need)
                n = n > SIZE_MAX / 2 ? need : n * 2;
        char *p = realloc(sb->buf, n);
        if (!p)
                return -ENOMEM;
        sb->buf = p;
        sb->alloc = n;
        return 0;
}

int strbuf_add(struct strbuf *sb, const void *data, size_t len) {
        int r = strbuf_grow(sb, len);
        if (r < 0)
                return r;
        if (len)
                memcpy(sb->buf + sb->len, data, len);
        sb->len += len;
        sb->buf[sb->len] = '\0';
        return 0;
}

int strbuf_adds(struct strbuf *sb, const char *s) {
        return strbuf_add(sb, s, strlen(s));
}

int strbuf_addc(struct strbuf *sb, char c) {
        return strbuf_add(sb, &c, 1);
}

int strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap) {
        va_list aq;
        va_copy(aq, ap);
        int n = vsnprintf(NULL, 0, fmt, aq);
        va_end(aq);
        if (n < 0)
                return -EINVAL;
        int r = strbuf_grow(sb, (size_t) n);
        if (r < 0)
                return r;
        (void) vsnprintf(sb->buf + sb->len, (size_t) n + 1, fmt, ap);
        sb->len += (size_t) n;
        return 0;
}

int strbuf_addf(struct strbuf *sb, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        int r = strbuf_vaddf(sb, fmt, ap);
        va_end(ap);
        return r;
}

char *strbuf_detach(struct strbuf *sb, size_t *ret_len) {
        char *p = sb->buf;
        if (!p)
                p = strdup("");
        if (ret_len)
                *ret_len = sb->len;
        sb->buf = NULL;
        sb->len = sb->alloc = 0;
        return p;
}

const char *strbuf_str(const struct strbuf *sb) {
        return sb->buf ? sb->buf : "";
}
