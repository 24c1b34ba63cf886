/* log.c - journal/stderr logging; see log.h. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>

#include "log.h"

static int max_level = LOG_INFO;
static int journal = -1; /* -1: not decided yet (LOG_TARGET_AUTO) */
static const char *program = "codegend";

void log_set_program(const char *name) {
        program = name;
}

void log_set_max_level(int level) {
        max_level = level;
}

int log_get_max_level(void) {
        return max_level;
}

static bool stderr_is_journal(void) {
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;
        if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
                return false;
        if (fstat(STDERR_FILENO, &st) < 0)
                return false;
        return (unsigned long long) st.st_dev == dev && (unsigned long long) st.st_ino == ino;
}

void log_set_target(enum log_target t) {
        journal = t == LOG_TARGET_AUTO ? -1 : t == LOG_TARGET_JOURNAL;
}

int log_target_from_string(const char *s, enum log_target *ret) {
        static const char *const names[] = { "auto", "stderr", "journal" };
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (streq(s, names[i])) {
                        *ret = (enum log_target) i;
                        return 0;
                }
        return -EINVAL;
}

/* 0 when the journal took the message */
static int journal_send(int level, int error, const struct log_fields *f, const char *msg) {
        char *fields[7] = {};
        struct iovec iov[7];
        size_t n = 0;
        int r = 0;
#define FIELD(...)                                                                         \
        do {                                                                               \
                if (r == 0 && asprintf(&fields[n], __VA_ARGS__) < 0) {                     \
                        fields[n] = NULL;                                                  \
                        r = -ENOMEM;                                                       \
                } else if (r == 0) {                                                       \
                        iov[n] = (struct iovec) { fields[n], strlen(fields[n]) };          \
                        n++;                                                               \
                }                                                                          \
        } while (0)
        FIELD("MESSAGE=%s", msg);
        FIELD("PRIORITY=%d", level);
        FIELD("SYSLOG_IDENTIFIER=%s", program);
        if (error)
                FIELD("ERRNO=%d", error);
        if (f && f->job)
                FIELD("CODEGEN_JOB=%s", f->job);
        if (f && f->atom)
                FIELD("CODEGEN_ATOM=%s", f->atom);
        if (f && f->stage)
                FIELD("CODEGEN_STAGE=%s", f->stage);
#undef FIELD
        if (r == 0)
                r = sd_journal_sendv(iov, (int) n);
        for (size_t i = 0; i < n; i++)
                free(fields[i]);
        return r;
}

static void log_va(int level, int error, const struct log_fields *f, const char *fmt, va_list ap)
        _printf_(4, 0);
static void log_va(int level, int error, const struct log_fields *f, const char *fmt, va_list ap) {
        static const char *const names[] = { "emerg", "alert", "crit", "error",
                                             "warning", "notice", "info", "debug" };
        if (journal < 0)
                journal = stderr_is_journal();
        if (journal) {
                char *msg = NULL;
                va_list aq;
                va_copy(aq, ap);
                errno = error;
                int k = vasprintf(&msg, fmt, aq);
                va_end(aq);
                int r = k < 0 ? -ENOMEM : journal_send(level, error, f, msg);
                free(msg);
                if (r == 0)
                        return;
                /* no journal after all: stderr still works */
        }
        fprintf(stderr, "%s: %s: ", program, names[level & 7]);
        errno = error;
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
}

int log_internal(int level, int error, const struct log_fields *f, const char *fmt, ...) {
        int saved = errno;
        if (error < 0)
                error = -error;
        if (level <= max_level) {
                va_list ap;
                va_start(ap, fmt);
                log_va(level, error, f, fmt, ap);
                va_end(ap);
        }
        errno = saved;
        return -error;
}
