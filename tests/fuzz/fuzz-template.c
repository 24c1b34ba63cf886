/* fuzz-template.c - libFuzzer target: the template engine. The input is a template; it is
 * checked, then rendered against a small fixed context (a scalar, a map, a sequence of maps,
 * booleans) with a loader whose partials include one that includes itself, under both
 * escapings. Errors are expected; crashes, leaks and hangs are not. */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backend/template.h"
#include "format/node.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *partials[] = {
        "p", "[{{name}}{{#items}}{{x}}{{/items}}]",
        "self", "s{{>self}}",
        "sec", "{{#m}}{{k}}{{/m}}",
        NULL,
};

static int loader(void *userdata, const char *name, char **ret, size_t *ret_len) {
        const char *const *t = userdata;
        for (; t[0]; t += 2)
                if (strcmp(t[0], name) == 0) {
                        *ret = strdup(t[1]);
                        if (!*ret)
                                return -ENOMEM;
                        *ret_len = strlen(t[1]);
                        return 0;
                }
        return -ENOENT;
}

/* node_map_set() and node_seq_append() free the child on failure, so on any error
 * only the nodes not yet attached are left to free. */
static struct node *context(void) {
        struct node *c = node_new_map();
        struct node *m = node_new_map();
        struct node *items = node_new_seq();
        if (!c || !m || !items) {
                node_free(c);
                node_free(m);
                node_free(items);
                return NULL;
        }
        if (node_map_set(c, "m", m) < 0 || node_map_set(c, "items", items) < 0)
                goto fail;
        if (node_map_set_string(c, "name", "a \"quoted\"\n\\ name") < 0 ||
            node_map_set_bool(c, "yes", true) < 0 || node_map_set_bool(c, "no", false) < 0 ||
            node_map_set_int(c, "n", 42) < 0 || node_map_set_string(m, "k", "v") < 0)
                goto fail;
        for (int i = 0; i < 3; i++) {
                struct node *it = node_new_map();
                if (!it || node_map_set_int(it, "x", i) < 0 || node_seq_append(items, it) < 0)
                        goto fail;
        }
        return c;
fail:
        node_free(c);
        return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static struct node *ctx;
        char *err = NULL;

        if (!ctx && !(ctx = context()))
                abort();
        (void) template_check("fuzz", (const char *) data, size, &err);
        free(err);
        for (int esc = 0; esc < 2; esc++) {
                struct template_env env = {
                        .load = loader, .userdata = partials, .escape = (enum template_escape) esc,
                };
                struct strbuf out = STRBUF_INIT;
                err = NULL;
                strbuf_init(&out, 1 << 20);
                (void) template_render(&env, "fuzz", (const char *) data, size, ctx, &out, &err);
                free(err);
                strbuf_free(&out);
        }
        return 0;
}
