/* backend.c - the table of built-in generation backends.
 *
 * Interface: backend_find() in backend.h. Only the embedded `pattern` backend is built
 * in for now; the language-model backends (anthropic, openai) are not part of this
 * build, so their names give NULL like any unknown name. No diagnostics, no logging.
 */
#include "config.h"

#include <stddef.h>

#include "backend.h"
#include "shared/macro.h"

static const struct backend *const backends[] = {
        &backend_pattern,
};

const struct backend *backend_find(const char *name) {
        if (!name)
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(backends); i++)
                if (streq(backends[i]->name, name))
                        return backends[i];
        return NULL;
}
