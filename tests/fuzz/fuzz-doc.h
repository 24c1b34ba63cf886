/* fuzz-doc.h - the body of the document parsers' libFuzzer targets (fuzz-yaml.c,
 * fuzz-json.c): one parser on any bytes, and every tree it accepts emitted back as YAML
 * and JSON (the emitters must take whatever the parsers build). */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "format/doc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static inline int fuzz_doc(int (*parse)(const char *data, size_t len, const char *file,
                                        struct node **ret, struct diags *d),
                           const char *file, const uint8_t *data, size_t size) {
        struct diags d = DIAGS_INIT;
        struct node *n = NULL;
        if (parse((const char *) data, size, file, &n, &d) == 0) {
                struct strbuf out = STRBUF_INIT;
                (void) doc_emit_yaml(n, &out);
                strbuf_reset(&out);
                (void) doc_emit_json(n, &out);
                strbuf_free(&out);
                node_free(n);
        }
        diags_clear(&d);
        return 0;
}
