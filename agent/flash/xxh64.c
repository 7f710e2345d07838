/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "macro.h"
#include "xxh64.h"

#define P1 UINT64_C(0x9E3779B185EBCA87)
#define P2 UINT64_C(0xC2B2AE3D27D4EB4F)
#define P3 UINT64_C(0x165667B19E3779F9)
#define P4 UINT64_C(0x85EBCA77C2B2AE63)
#define P5 UINT64_C(0x27D4EB2F165667C5)

static inline uint64_t rotl(uint64_t x, unsigned r) {
        return (x << r) | (x >> (64 - r));
}

static inline uint64_t read64(const uint8_t *p) {
        uint64_t v;

        memcpy(&v, p, sizeof v);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        v = __builtin_bswap64(v);
#endif
        return v;
}

static inline uint32_t read32(const uint8_t *p) {
        uint32_t v;

        memcpy(&v, p, sizeof v);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        v = __builtin_bswap32(v);
#endif
        return v;
}

static inline uint64_t round64(uint64_t acc, uint64_t input) {
        acc += input * P2;
        acc = rotl(acc, 31);
        return acc * P1;
}

static inline uint64_t merge(uint64_t h, uint64_t v) {
        h ^= round64(0, v);
        return h * P1 + P4;
}

void xxh64_init(Xxh64 *h, uint64_t seed) {
        *h = (Xxh64) {
                .v = { seed + P1 + P2, seed + P2, seed, seed - P1 },
                .seed = seed,
        };
}

static void stripes(Xxh64 *h, const uint8_t *p, size_t n) {
        uint64_t v0 = h->v[0], v1 = h->v[1], v2 = h->v[2], v3 = h->v[3];

        for (size_t i = 0; i < n; i++, p += 32) {
                v0 = round64(v0, read64(p));
                v1 = round64(v1, read64(p + 8));
                v2 = round64(v2, read64(p + 16));
                v3 = round64(v3, read64(p + 24));
        }
        h->v[0] = v0;
        h->v[1] = v1;
        h->v[2] = v2;
        h->v[3] = v3;
}

void xxh64_update(Xxh64 *h, const void *data, size_t size) {
        const uint8_t *p = data;

        h->total += size;
        if (h->n_buf > 0) {
                size_t k = MIN(size, 32 - (size_t) h->n_buf);

                memcpy(h->buf + h->n_buf, p, k);
                h->n_buf += (unsigned) k;
                p += k;
                size -= k;
                if (h->n_buf < 32)
                        return;
                stripes(h, h->buf, 1);
                h->n_buf = 0;
        }
        stripes(h, p, size / 32);
        p += size - size % 32;
        size %= 32;
        memcpy(h->buf, p, size);
        h->n_buf = (unsigned) size;
}

void xxh64_update_zeroes(Xxh64 *h, uint64_t size) {
        uint64_t v0, v1, v2, v3, n;

        if (h->n_buf > 0) {
                size_t k = (size_t) MIN(size, (uint64_t) (32 - h->n_buf));

                memset(h->buf + h->n_buf, 0, k);
                h->n_buf += (unsigned) k;
                h->total += k;
                size -= k;
                if (h->n_buf < 32)
                        return;
                stripes(h, h->buf, 1);
                h->n_buf = 0;
        }
        /* A zero input leaves each lane only its rotation and multiplication. */
        v0 = h->v[0], v1 = h->v[1], v2 = h->v[2], v3 = h->v[3];
        for (n = size / 32; n > 0; n--) {
                v0 = rotl(v0, 31) * P1;
                v1 = rotl(v1, 31) * P1;
                v2 = rotl(v2, 31) * P1;
                v3 = rotl(v3, 31) * P1;
        }
        h->v[0] = v0, h->v[1] = v1, h->v[2] = v2, h->v[3] = v3;
        h->total += size;
        memset(h->buf, 0, (size_t) (size % 32));
        h->n_buf = (unsigned) (size % 32);
}

uint64_t xxh64_digest(const Xxh64 *h) {
        const uint8_t *p = h->buf, *end = h->buf + h->n_buf;
        uint64_t r;

        if (h->total >= 32) {
                r = rotl(h->v[0], 1) + rotl(h->v[1], 7) + rotl(h->v[2], 12) + rotl(h->v[3], 18);
                for (unsigned i = 0; i < 4; i++)
                        r = merge(r, h->v[i]);
        } else
                r = h->seed + P5;
        r += h->total;
        for (; p + 8 <= end; p += 8)
                r = rotl(r ^ round64(0, read64(p)), 27) * P1 + P4;
        if (p + 4 <= end) {
                r = rotl(r ^ ((uint64_t) read32(p) * P1), 23) * P2 + P3;
                p += 4;
        }
        for (; p < end; p++)
                r = rotl(r ^ (*p * P5), 11) * P1;
        r ^= r >> 33;
        r *= P2;
        r ^= r >> 29;
        r *= P3;
        r ^= r >> 32;
        return r;
}
