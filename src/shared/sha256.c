/* sha256.c - SHA-256 as specified in FIPS 180-4 section 6.2; see sha256.h.
 *
 * Written for clarity rather than speed: the daemon hashes one tarball per job.
 */
#include "config.h"

#include <string.h>

#include "sha256.h"

static const uint32_t K[64] = {
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
        0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
        0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
        0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
        0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
        0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2,
};

static inline uint32_t rotr(uint32_t x, unsigned n) {
        return (x >> n) | (x << (32 - n));
}

static void sha256_block(struct sha256_ctx *c, const uint8_t *p) {
        uint32_t w[64];
        for (unsigned t = 0; t < 16; t++)
                w[t] = (uint32_t) p[4 * t] << 24 | (uint32_t) p[4 * t + 1] << 16 |
                       (uint32_t) p[4 * t + 2] << 8 | (uint32_t) p[4 * t + 3];
        for (unsigned t = 16; t < 64; t++) {
                uint32_t s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3);
                uint32_t s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10);
                w[t] = w[t - 16] + s0 + w[t - 7] + s1;
        }

        uint32_t a = c->h[0], b = c->h[1], cc = c->h[2], d = c->h[3];
        uint32_t e = c->h[4], f = c->h[5], g = c->h[6], h = c->h[7];
        for (unsigned t = 0; t < 64; t++) {
                uint32_t S1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
                uint32_t ch = (e & f) ^ (~e & g);
                uint32_t t1 = h + S1 + ch + K[t] + w[t];
                uint32_t S0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
                uint32_t maj = (a & b) ^ (a & cc) ^ (b & cc);
                uint32_t t2 = S0 + maj;
                h = g;
                g = f;
                f = e;
                e = d + t1;
                d = cc;
                cc = b;
                b = a;
                a = t1 + t2;
        }
        c->h[0] += a;
        c->h[1] += b;
        c->h[2] += cc;
        c->h[3] += d;
        c->h[4] += e;
        c->h[5] += f;
        c->h[6] += g;
        c->h[7] += h;
}

void sha256_init(struct sha256_ctx *c) {
        static const uint32_t H0[8] = {
                0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
        };
        memcpy(c->h, H0, sizeof(H0));
        c->bytes = 0;
}

void sha256_update(struct sha256_ctx *c, const void *data, size_t len) {
        const uint8_t *p = data;
        size_t have = (size_t) (c->bytes % 64);
        c->bytes += len;
        if (have > 0) {
                size_t take = 64 - have < len ? 64 - have : len;
                memcpy(c->block + have, p, take);
                p += take;
                len -= take;
                if (have + take < 64)
                        return;
                sha256_block(c, c->block);
        }
        for (; len >= 64; p += 64, len -= 64)
                sha256_block(c, p);
        if (len > 0)
                memcpy(c->block, p, len);
}

void sha256_final(struct sha256_ctx *c, uint8_t ret_digest[32]) {
        uint64_t bits = c->bytes * 8;
        size_t have = (size_t) (c->bytes % 64);
        c->block[have++] = 0x80;
        if (have > 56) {
                memset(c->block + have, 0, 64 - have);
                sha256_block(c, c->block);
                have = 0;
        }
        memset(c->block + have, 0, 56 - have);
        for (unsigned i = 0; i < 8; i++)
                c->block[56 + i] = (uint8_t) (bits >> (56 - 8 * i));
        sha256_block(c, c->block);
        for (unsigned i = 0; i < 8; i++) {
                ret_digest[4 * i] = (uint8_t) (c->h[i] >> 24);
                ret_digest[4 * i + 1] = (uint8_t) (c->h[i] >> 16);
                ret_digest[4 * i + 2] = (uint8_t) (c->h[i] >> 8);
                ret_digest[4 * i + 3] = (uint8_t) c->h[i];
        }
}

void sha256_buf(const void *data, size_t len, uint8_t ret_digest[32]) {
        struct sha256_ctx c;
        sha256_init(&c);
        sha256_update(&c, data, len);
        sha256_final(&c, ret_digest);
}

void sha256_hex(const uint8_t d[32], char out[65]) {
        static const char digits[] = "0123456789abcdef";
        for (unsigned i = 0; i < 32; i++) {
                out[2 * i] = digits[d[i] >> 4];
                out[2 * i + 1] = digits[d[i] & 0xf];
        }
        out[64] = '\0';
}
