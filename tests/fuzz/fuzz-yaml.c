/* fuzz-yaml.c - libFuzzer target: doc_parse_yaml() on any bytes, and every tree it
 * accepts emitted back as YAML and JSON (fuzz-doc.h). Built and run by `make fuzz`; the
 * corpus in tests/fuzz/regress/yaml is replayed by `make check` through fuzz-replay. */
#include "config.h"

#include "fuzz-doc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        return fuzz_doc(doc_parse_yaml, "fuzz.yaml", data, size);
}
