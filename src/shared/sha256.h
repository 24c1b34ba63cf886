/* sha256.h - SHA-256 (FIPS 180-4), small and self-contained.
 *
 * sha256_init(), then sha256_update() any number of times, then sha256_final() writes
 * the 32-byte digest (the context must be re-initialised before reuse). sha256_hex()
 * formats a digest as 64 lowercase hex digits plus NUL. sha256_buf() is the one-shot form.
 * No function can fail.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct sha256_ctx {
        uint32_t h[8];
        uint64_t bytes;      /* message length so far */
        uint8_t block[64];   /* pending input, `bytes % 64` of it valid */
};

void sha256_init(struct sha256_ctx *c);
void sha256_update(struct sha256_ctx *c, const void *data, size_t len);
void sha256_final(struct sha256_ctx *c, uint8_t ret_digest[32]);
void sha256_buf(const void *data, size_t len, uint8_t ret_digest[32]);
void sha256_hex(const uint8_t d[32], char out[65]);
