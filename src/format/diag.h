/* diag.h - diagnostics about user input: every error in a bundle, each with where it is.
 *
 * A diag is what job-format.md section 5 calls an error entry: {message, file, line,
 * column, path}. line/column are 1-based, 0 when unknown; file and path may be NULL.
 * The list is bounded (max, default 200); entries past it are counted in `dropped`.
 * diags_add() returns 0 or -ENOMEM; it never logs.
 */
#pragma once

#include <stddef.h>

#include "shared/macro.h"

struct diag {
        char *message;
        char *file;
        unsigned line;
        unsigned column;
        char *path;
};

struct diags {
        struct diag *v;
        size_t n;
        size_t alloc;
        size_t max;
        size_t dropped;
};

#define DIAGS_INIT { NULL, 0, 0, 200, 0 }

int diags_add(struct diags *d, const char *file, unsigned line, unsigned column, const char *path,
              const char *fmt, ...) _printf_(6, 7);
void diags_clear(struct diags *d);
/* One line per entry, "file:line:column: path: message", for logs and --once output. */
void diags_print(const struct diags *d, FILE *f);
