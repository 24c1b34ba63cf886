/* log.c - stderr/journal logging; see log.h. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "log.h"

static int max_level = LOG_INFO;
static int journal = -1;
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

int log_internal(int level, int error, const char *fmt, ...) {
        int saved = errno;
        if (error < 0)
                error = -error;
        if (level <= max_level) {
                static const char *const names[] = { "emerg", "alert", "crit", "error",
                                                     "warning", "notice", "info", "debug" };
                if (journal < 0)
                        journal = stderr_is_journal();
                if (journal)
                        fprintf(stderr, "<%d>", level);
                else
                        fprintf(stderr, "%s: %s: ", program, names[level & 7]);
                va_list ap;
                va_start(ap, fmt);
                errno = error;
                vfprintf(stderr, fmt, ap);
                va_end(ap);
                fputc('\n', stderr);
        }
        errno = saved;
        return -error;
}
