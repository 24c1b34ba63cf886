/* fuzz-json.c - libFuzzer target: doc_parse_json() on any bytes, and every tree it
 * accepts emitted back as YAML and JSON (the emitters must take whatever the parser
 * builds). Built and run by `make fuzz`; the corpus in tests/fuzz/regress/json is
 * replayed by `make check` through fuzz-replay. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>

#include "format/doc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct diags d = DIAGS_INIT;
        struct node *n = NULL;
        if (doc_parse_json((const char *) data, size, "fuzz.json", &n, &d) == 0) {
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
