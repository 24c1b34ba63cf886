/* check-main.c - the runner shared by all Check unit tests. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check-main.h"

const char *test_srcdir(void) {
        const char *s = getenv("top_srcdir");
        return s && *s ? s : ".";
}

char *test_tmpdir(void) {
        const char *base = getenv("TMPDIR");
        char *p;
        if (asprintf(&p, "%s/codegend-unit.XXXXXX", base && *base ? base : "/tmp") < 0)
                return NULL;
        if (!mkdtemp(p)) {
                free(p);
                return NULL;
        }
        return p;
}

int main(void) {
        SRunner *sr = srunner_create(make_suite());
        srunner_run_all(sr, CK_ENV);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
