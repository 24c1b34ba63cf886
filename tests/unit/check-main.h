/* check-main.h - each unit test file provides make_suite(); check-main.c runs it with
 * TAP output (CK_TAP_LOG_FILE_NAME=-) so the automake TAP driver counts every case. */
#pragma once

#include <check.h>

Suite *make_suite(void);

/* Directory of the source tree ($top_srcdir, set by the test harness) or "." */
const char *test_srcdir(void);
/* A fresh temporary directory (mkdtemp) removed by the caller with rm_rf(). */
char *test_tmpdir(void);
