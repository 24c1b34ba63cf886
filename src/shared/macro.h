/* macro.h - ownership and small language helpers shared by every module.
 *
 * _cleanup_(f) runs f(&var) when var leaves scope; TAKE_PTR() hands ownership on.
 * The *p helpers below are the cleanup functions for the common types.
 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _warn_unused_ __attribute__((warn_unused_result))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

#define TAKE_PTR(p)                                                                        \
        ({                                                                                 \
                __typeof__(p) _p_ = (p);                                                   \
                (p) = NULL;                                                                \
                _p_;                                                                       \
        })

#define TAKE_FD(fd)                                                                        \
        ({                                                                                 \
                int _fd_ = (fd);                                                           \
                (fd) = -1;                                                                 \
                _fd_;                                                                      \
        })

static inline void freep(void *p) {
        free(*(void **) p);
}

static inline void closep(int *fd) {
        if (*fd >= 0) {
                int saved = errno;
                (void) close(*fd);
                errno = saved;
        }
}

static inline void fclosep(FILE **f) {
        if (*f)
                (void) fclose(*f);
}

#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
#define _cleanup_fclose_ _cleanup_(fclosep)

/* strdup that keeps NULL as NULL */
static inline char *strdup_or_null(const char *s) {
        return s ? strdup(s) : NULL;
}

static inline int streq_ptr(const char *a, const char *b) {
        if (!a || !b)
                return a == b;
        return __builtin_strcmp(a, b) == 0;
}

#define streq(a, b) (__builtin_strcmp((a), (b)) == 0)

/* S ends with SUFFIX */
static inline bool endswith(const char *s, const char *suffix) {
        size_t ls = strlen(s), lx = strlen(suffix);
        return ls >= lx && streq(s + ls - lx, suffix);
}

/* qsort() comparison of an array of strings */
static inline int strcmp_ptr(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}
