/* bundle-name.c - inbox entries' names: bundle forms and job names (job-format.md
 * section 1); see bundle-name.h. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle-name.h"
#include "shared/fs.h"
#include "shared/macro.h"

bool bundle_name_is_valid(const char *name) {
        /* NAME.error.yaml's temporary name must fit in NAME_MAX */
        return name[0] != '.' && strlen(name) <= BUNDLE_NAME_MAX && path_is_safe(name) &&
               !strchr(name, '/');
}

/* The length of entry's bundle-file extension with its form in *ret, or 0 for none. */
static size_t form_extension(const char *entry, enum bundle_form *ret) {
        static const struct {
                const char *ext;
                enum bundle_form form;
        } forms[] = {
                { ".tar", BUNDLE_ARCHIVE },         { ".tar.gz", BUNDLE_ARCHIVE },
                { ".tgz", BUNDLE_ARCHIVE },         { ".tar.xz", BUNDLE_ARCHIVE },
                { ".tar.zst", BUNDLE_ARCHIVE },     { ".zip", BUNDLE_ARCHIVE },
                { ".job.yaml", BUNDLE_SINGLE_FILE }, { ".job.yml", BUNDLE_SINGLE_FILE },
                { ".job.json", BUNDLE_SINGLE_FILE },
        };
        for (size_t i = 0; i < ELEMENTSOF(forms); i++)
                if (endswith(entry, forms[i].ext)) {
                        *ret = forms[i].form;
                        return strlen(forms[i].ext);
                }
        return 0;
}

/* Names the daemon writes itself in failed/ and outbox/: the suffix, or NULL. */
static const char *reserved_suffix(const char *entry) {
        static const char *const reserved[] = { ".error.yaml", ".metrics.yaml" };
        for (size_t i = 0; i < ELEMENTSOF(reserved); i++)
                if (endswith(entry, reserved[i]))
                        return reserved[i];
        return NULL;
}

int bundle_classify(const char *entry, bool is_dir, enum bundle_form *ret_form, char **ret_name) {
        /* upload names of common tools (curl, browsers, WinSCP, FileZilla...): still written */
        static const char *const leave_alone[] = { ".tmp", ".part", ".partial", ".filepart",
                                                   ".crdownload", ".download", ".ready" };
        enum bundle_form form;
        size_t len;

        if (!entry || !*entry)
                return -EINVAL;
        if (entry[0] == '.')
                return 0;
        for (size_t i = 0; i < ELEMENTSOF(leave_alone); i++)
                if (endswith(entry, leave_alone[i]))
                        return 0;

        len = strlen(entry);
        if (is_dir)
                form = BUNDLE_DIRECTORY;
        else {
                size_t ext = form_extension(entry, &form);
                if (ext == 0)
                        return -EINVAL;
                len -= ext;
        }

        if (reserved_suffix(entry))
                return -EINVAL;
        _cleanup_free_ char *name = strndup(entry, len);
        if (!name)
                return -ENOMEM;
        if (!bundle_name_is_valid(name))
                return -EINVAL;
        if (ret_form)
                *ret_form = form;
        *ret_name = TAKE_PTR(name);
        return 1;
}

char *bundle_refusal(const char *entry, bool is_dir) {
        enum bundle_form form;
        const char *suffix = reserved_suffix(entry);
        size_t ext = is_dir ? 0 : form_extension(entry, &form), len = strlen(entry) - ext;
        char *msg = NULL;
        int r;

        if (suffix)
                r = asprintf(&msg, "'%s' ends in %s, the name of the daemon's own reports: rename "
                             "the bundle", entry, suffix);
        else if (!is_dir && ext == 0)
                r = asprintf(&msg, "'%s' is not a job bundle: expected a directory, an archive (.tar, "
                             ".tar.gz, .tgz, .tar.xz, .tar.zst, .zip) or a single file "
                             "(.job.yaml, .job.json)", entry);
        else if (len > BUNDLE_NAME_MAX)
                r = asprintf(&msg, "the job name '%.40s...' has %zu bytes: at most %d are allowed "
                             "(the daemon's report names must fit in a file name)", entry, len,
                             BUNDLE_NAME_MAX);
        else
                r = asprintf(&msg, "'%s' is not a usable job name: it must be a plain file name "
                             "without control characters", entry);
        return r < 0 ? NULL : msg;
}
