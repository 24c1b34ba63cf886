/* backend.c - the table of built-in generation backends.
 *
 * Interface: backend_find() in backend.h: the embedded `pattern` backend, the
 * language-model backends `anthropic` and `openai` (model/), and `hybrid`
 * (backend-hybrid.c). No diagnostics, no logging.
 */
#include "config.h"

#include <stddef.h>

#include "backend.h"
#include "shared/macro.h"

static const struct backend *const backends[] = {
        &backend_pattern,
        &backend_anthropic,
        &backend_openai,
        &backend_hybrid,
};

const struct backend *backend_find(const char *name) {
        if (!name)
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(backends); i++)
                if (streq(backends[i]->name, name))
                        return backends[i];
        return NULL;
}
