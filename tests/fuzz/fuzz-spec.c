/* fuzz-spec.c - libFuzzer target: spec and DAG validation. The input is a spec document
 * (YAML), optionally followed by a line "%%" and a DAG document (JSON when it starts with
 * '{', else YAML). A valid spec is checked against the DAG with dag_check(), or planned
 * with plan_from_spec() when there is no DAG; every DAG that passes is written as JSON. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "format/dag.h"
#include "format/doc.h"
#include "format/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *find_sep(const char *s, size_t n) {
        for (size_t i = 0; i + 4 <= n; i++)
                if (memcmp(s + i, "\n%%\n", 4) == 0)
                        return s + i;
        return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const char *s = (const char *) data;
        const char *sep = find_sep(s, size);
        size_t spec_len = sep ? (size_t) (sep - s) : size;
        struct diags d = DIAGS_INIT;
        struct node *sn = NULL, *dn = NULL;
        struct spec *spec = NULL;
        struct dag *dag = NULL;

        if (doc_parse_yaml(s, spec_len, "spec.yaml", &sn, &d) < 0)
                goto out;
        if (spec_from_node(sn, "spec.yaml", &spec, &d) < 0)
                goto out;
        if (sep) {
                const char *ds = sep + 4;
                size_t dl = size - spec_len - 4;
                int r = dl > 0 && ds[0] == '{' ? doc_parse_json(ds, dl, "dag.json", &dn, &d)
                                               : doc_parse_yaml(ds, dl, "dag.yaml", &dn, &d);
                if (r < 0 || dag_from_node(dn, "dag.json", &dag, &d) < 0)
                        goto out;
                if (dag_check(dag, spec, "dag.json", 2000, &d) < 0)
                        goto out;
        } else if (plan_from_spec(spec, &dag) < 0)
                goto out;
        free(dag_to_json(dag));
out:
        dag_free(dag);
        spec_free(spec);
        node_free(dn);
        node_free(sn);
        diags_clear(&d);
        return 0;
}
