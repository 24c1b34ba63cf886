/* conffile.c - the configuration file's path and reading; see conffile.h. */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "conffile.h"
#include "doc.h"
#include "shared/fs.h"

const char *conffile_path(const char *path) {
        return path ? path : SYSCONFDIR "/codegend.yaml";
}

static bool is_blank_yaml(const char *text) {
        for (const char *p = text; *p; p++) {
                if (*p == '#')
                        p += strcspn(p, "\n") - 1;
                else if (!strchr(" \t\r\n", *p))
                        return false;
                if (!*p)
                        break;
        }
        return true;
}

int conffile_read(const char *path, struct node **ret, struct diags *d) {
        const char *file = conffile_path(path);
        _cleanup_free_ char *text = NULL;
        _cleanup_node_ struct node *root = NULL;
        size_t len = 0;

        int r = read_file_bounded(file, CONFFILE_MAX_BYTES, &text, &len);
        if (r == -ENOENT && !path) {
                *ret = NULL; /* no configuration file installed: the defaults */
                return 0;
        }
        if (r < 0)
                return r;
        /* nothing but comments: all defaults */
        if (!is_blank_yaml(text) && (r = doc_parse_yaml(text, len, file, &root, d)) < 0)
                return r;
        if (!node_is_null(root) && root->kind != NODE_MAP)
                return diags_add(d, file, root->line, root->column, NULL,
                                 "the configuration must be a mapping of keys to values") < 0
                               ? -ENOMEM
                               : -EINVAL;
        *ret = node_is_null(root) ? NULL : TAKE_PTR(root);
        return 0;
}
