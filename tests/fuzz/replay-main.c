/* replay-main.c - runs a libFuzzer target's LLVMFuzzerTestOneInput() over files given on
 * the command line, without libFuzzer, so that `make check` replays the inputs the fuzzers
 * once found (tests/fuzz/regress/TARGET/) through the normal (and sanitizer) builds.
 * Prints one TAP line per file; a crash or sanitizer report fails the run. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "shared/fs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv) {
        int failed = 0;
        for (int i = 1; i < argc; i++) {
                char *data = NULL;
                size_t len = 0;
                int r = read_file_bounded(argv[i], 1 << 24, &data, &len);
                if (r < 0) {
                        printf("not ok %d - %s: cannot read it (%d)\n", i, argv[i], r);
                        failed = 1;
                        continue;
                }
                (void) LLVMFuzzerTestOneInput((const uint8_t *) data, len);
                free(data);
                printf("ok %d - %s\n", i, argv[i]);
        }
        printf("1..%d\n", argc - 1);
        return failed;
}
