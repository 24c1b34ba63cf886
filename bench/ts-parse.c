/* ts-parse.c - the baseline of bench/analysis.sh: reads each file named on the command
 * line and parses it with tree-sitter-python, nothing else (no checks, no facts), so the
 * analysis can be compared with a raw parse of the same files. Prints the file count. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tree_sitter/api.h>

#include "shared/fs.h"

const TSLanguage *tree_sitter_python(void);

int main(int argc, char **argv) {
        TSParser *p = ts_parser_new();
        if (!p || !ts_parser_set_language(p, tree_sitter_python())) {
                fprintf(stderr, "ts-parse: cannot set up the parser\n");
                return 1;
        }
        for (int i = 1; i < argc; i++) {
                char *data;
                size_t len;
                int r = read_file_bounded(argv[i], 16u << 20, &data, &len);
                if (r < 0) {
                        fprintf(stderr, "ts-parse: cannot read '%s': %s\n", argv[i], strerror(-r));
                        ts_parser_delete(p);
                        return 1;
                }
                TSTree *t = ts_parser_parse_string(p, NULL, data, (uint32_t) len);
                free(data);
                if (!t) {
                        fprintf(stderr, "ts-parse: the parser gave up on '%s'\n", argv[i]);
                        ts_parser_delete(p);
                        return 1;
                }
                ts_tree_delete(t);
        }
        ts_parser_delete(p);
        printf("%d\n", argc - 1);
        return 0;
}
