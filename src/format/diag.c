/* diag.c - bounded list of user-input diagnostics; see diag.h. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"

int diags_add(struct diags *d, const char *file, unsigned line, unsigned column, const char *path,
              const char *fmt, ...) {
        if (d->max && d->n >= d->max) {
                d->dropped++;
                return 0;
        }
        if (d->n == d->alloc) {
                size_t na = d->alloc ? d->alloc * 2 : 8;
                struct diag *nv = realloc(d->v, na * sizeof(*nv));
                if (!nv)
                        return -ENOMEM;
                d->v = nv;
                d->alloc = na;
        }
        struct diag g = { .line = line, .column = column };
        va_list ap;
        va_start(ap, fmt);
        int k = vasprintf(&g.message, fmt, ap);
        va_end(ap);
        if (k < 0)
                return -ENOMEM;
        g.file = strdup_or_null(file);
        g.path = strdup_or_null(path);
        if ((file && !g.file) || (path && !g.path)) {
                free(g.message);
                free(g.file);
                free(g.path);
                return -ENOMEM;
        }
        d->v[d->n++] = g;
        return 0;
}

void diags_clear(struct diags *d) {
        for (size_t i = 0; i < d->n; i++) {
                free(d->v[i].message);
                free(d->v[i].file);
                free(d->v[i].path);
        }
        free(d->v);
        d->v = NULL;
        d->n = d->alloc = 0;
        d->dropped = 0;
}

void diags_print(const struct diags *d, FILE *f) {
        for (size_t i = 0; i < d->n; i++) {
                const struct diag *g = &d->v[i];
                if (g->file)
                        fprintf(f, "%s:", g->file);
                if (g->line)
                        fprintf(f, "%u:%u:", g->line, g->column);
                if (g->file || g->line)
                        fputc(' ', f);
                if (g->path && *g->path)
                        fprintf(f, "%s: ", g->path);
                fprintf(f, "%s\n", g->message);
        }
        if (d->dropped)
                fprintf(f, "(%zu more errors not listed)\n", d->dropped);
}
