/* limits.h - the bundle limits (job-format.md section 1), shared by intake (the checks at
 * claim time and while reading documents) and unpack (the checks while unpacking).
 * intake_limits_default() fills the built-in defaults; a zero field means "the default".
 */
#pragma once

#include <stdint.h>

struct intake_limits {
        uint64_t max_bundle_bytes;   /* the dropped entry (file, or a dir's files), 64 MiB */
        uint64_t max_entries;        /* archive members / entries in a dir bundle, 1000 */
        uint64_t max_unpacked_bytes; /* bytes written while unpacking, 256 MiB */
        uint64_t max_doc_bytes;      /* spec / dag / job.yaml / single file each, 4 MiB */
};

#define INTAKE_MAX_BUNDLE_BYTES (UINT64_C(64) << 20)
#define INTAKE_MAX_ENTRIES UINT64_C(1000)
#define INTAKE_MAX_UNPACKED_BYTES (UINT64_C(256) << 20)
#define INTAKE_MAX_DOC_BYTES (UINT64_C(4) << 20)

void intake_limits_default(struct intake_limits *l);
