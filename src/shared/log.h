/* log.h - the daemon's one logging path.
 *
 * Messages go to stderr; when stderr is the journal (JOURNAL_STREAM matches) each line
 * carries a "<N>" syslog priority prefix, otherwise "codegend: LEVEL: ". Only the place
 * that decides what to do about an error logs it; helpers return -errno instead.
 * log_*_errno(r, ...) set errno so "%m" works, and return -abs(r).
 */
#pragma once

#include <syslog.h>

#include "macro.h"

void log_set_max_level(int level);
/* The name before each stderr line ("codegend" unless set). */
void log_set_program(const char *name);
int log_get_max_level(void);
int log_internal(int level, int error, const char *fmt, ...) _printf_(3, 4);

#define log_full_errno(level, error, ...) log_internal((level), (error), __VA_ARGS__)
#define log_error(...) log_internal(LOG_ERR, 0, __VA_ARGS__)
#define log_warning(...) log_internal(LOG_WARNING, 0, __VA_ARGS__)
#define log_notice(...) log_internal(LOG_NOTICE, 0, __VA_ARGS__)
#define log_info(...) log_internal(LOG_INFO, 0, __VA_ARGS__)
#define log_debug(...) log_internal(LOG_DEBUG, 0, __VA_ARGS__)
#define log_error_errno(e, ...) log_internal(LOG_ERR, (e), __VA_ARGS__)
#define log_warning_errno(e, ...) log_internal(LOG_WARNING, (e), __VA_ARGS__)
