/* fuzz-unpack.c - libFuzzer target: archive intake. The input is written to a temporary
 * file and unpacked with archive_unpack() into a scratch directory under small limits
 * (64 entries, 1 MiB), then its root is located as a job bundle's would be and the
 * scratch directory is removed. The target also checks the module's promise that nothing
 * is created outside the scratch directory: the parent directory must hold only the
 * scratch directory and the input afterwards. */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bundle/unpack.h"
#include "shared/fs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char base[] = "/tmp/codegend-fuzz-unpack.XXXXXX";

/* Everything in base but "in" and "scratch" was written outside the scratch directory. */
static void check_outside(void) {
        DIR *dir = opendir(base);
        struct dirent *de;
        if (!dir)
                abort();
        while ((de = readdir(dir)))
                if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
                    strcmp(de->d_name, "in") && strcmp(de->d_name, "scratch")) {
                        fprintf(stderr, "fuzz-unpack: '%s' written outside the scratch dir\n",
                                de->d_name);
                        abort();
                }
        closedir(dir);
}

static void remove_base(void) {
        (void) rm_rf(base);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static char *in, *scratch;
        struct intake_limits lim;
        struct diags d = DIAGS_INIT;
        char *root = NULL, *prefix = NULL;
        int fd;

        if (!in) {
                if (!mkdtemp(base) || atexit(remove_base) != 0)
                        abort();
                in = path_join(base, "in");
                scratch = path_join(base, "scratch");
                if (!in || !scratch)
                        abort();
        }
        fd = open(in, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0 || write_all(fd, data, size) < 0 || lseek(fd, 0, SEEK_SET) != 0)
                abort();
        intake_limits_default(&lim);
        lim.max_entries = 64;
        lim.max_unpacked_bytes = 1 << 20;
        if (archive_unpack(fd, scratch, "fuzz.tar", &lim, &d) == 0 &&
            unpack_locate_root(scratch, "fuzz.tar", UNPACK_ROOT_BUNDLE, &root, &prefix, &d) == 0) {
                free(root);
                free(prefix);
        }
        close(fd);
        diags_clear(&d);
        check_outside();
        if (rm_rf(scratch) < 0)
                abort();
        return 0;
}
