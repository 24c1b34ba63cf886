/* log.h - the daemon's one logging path.
 *
 * Messages go to the journal when the target says so or, with LOG_TARGET_AUTO, when
 * stderr is the journal (JOURNAL_STREAM matches): sd_journal_send() with MESSAGE=,
 * PRIORITY=, SYSLOG_IDENTIFIER=, ERRNO= and the fields a log_job()/log_atom() call gives
 * (CODEGEN_JOB=, CODEGEN_ATOM=, CODEGEN_STAGE=), so `journalctl CODEGEN_JOB=taskmanager`
 * finds one job's lines. Otherwise (or when the journal refuses) to stderr as
 * "codegend: LEVEL: message". Only the place
 * that decides what to do about an error logs it; helpers return -errno instead.
 * log_*_errno(r, ...) set errno so "%m" works, and return -abs(r).
 */
#pragma once

#include <syslog.h>

#include "macro.h"

enum log_target { LOG_TARGET_AUTO, LOG_TARGET_STDERR, LOG_TARGET_JOURNAL };

/* What a message is about: each non-NULL member becomes a journal field. */
struct log_fields {
        const char *job;   /* CODEGEN_JOB= */
        const char *atom;  /* CODEGEN_ATOM= */
        const char *stage; /* CODEGEN_STAGE= */
};

void log_set_target(enum log_target t);
/* "auto", "stderr", "journal"; -EINVAL otherwise */
int log_target_from_string(const char *s, enum log_target *ret);
void log_set_max_level(int level);
/* The name before each stderr line ("codegend" unless set). */
void log_set_program(const char *name);
int log_get_max_level(void);
/* f: NULL for a message about no job in particular */
int log_internal(int level, int error, const struct log_fields *f, const char *fmt, ...)
        _printf_(4, 5);

/* log_job(LOG_INFO, name, stage, "%s: claimed", name): a message about one job */
#define log_job(level, job, stage, ...)                                                    \
        log_internal((level), 0, &(const struct log_fields) { (job), NULL, (stage) }, __VA_ARGS__)
#define log_atom(level, job, atom, stage, ...)                                             \
        log_internal((level), 0, &(const struct log_fields) { (job), (atom), (stage) }, __VA_ARGS__)

#define log_full_errno(level, error, ...) log_internal((level), (error), NULL, __VA_ARGS__)
#define log_error(...) log_internal(LOG_ERR, 0, NULL, __VA_ARGS__)
#define log_warning(...) log_internal(LOG_WARNING, 0, NULL, __VA_ARGS__)
#define log_notice(...) log_internal(LOG_NOTICE, 0, NULL, __VA_ARGS__)
#define log_info(...) log_internal(LOG_INFO, 0, NULL, __VA_ARGS__)
#define log_debug(...) log_internal(LOG_DEBUG, 0, NULL, __VA_ARGS__)
#define log_error_errno(e, ...) log_internal(LOG_ERR, (e), NULL, __VA_ARGS__)
#define log_warning_errno(e, ...) log_internal(LOG_WARNING, (e), NULL, __VA_ARGS__)
