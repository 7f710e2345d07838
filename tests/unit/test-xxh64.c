/* SPDX-License-Identifier: MIT */
#define XXH_STATIC_LINKING_ONLY
#include <stdlib.h>
#include <string.h>
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>

#include "tap.h"
#include "xxh64.h"

/* XXH64 against the reference values, and zero runs given as lengths against the same zeroes
 * given as bytes, in every alignment. The checksum in a zstd frame is the low 32 bits: compared
 * with what libzstd writes. */

int main(void) {
        static const uint8_t zero[1000];
        uint8_t *buf = malloc(200000), *comp = malloc(300000);
        Xxh64 a, b;
        size_t c;

        xxh64_init(&a, 0);
        ok(xxh64_digest(&a) == UINT64_C(0xEF46DB3751D8E999), "empty input");
        xxh64_update(&a, "a", 1);
        ok(xxh64_digest(&a) == UINT64_C(0xD24EC4F1A98C6E5B), "\"a\"");
        xxh64_init(&a, 0);
        xxh64_update(&a, "abc", 3);
        ok(xxh64_digest(&a) == UINT64_C(0x44BC2CF5AD770999), "\"abc\"");

        for (size_t i = 0; i < 200000; i++)
                buf[i] = i % 777 < 300 ? 0 : (uint8_t) (i * 13);
        for (size_t pre = 0; pre < 40; pre += 7)
                for (size_t len = 0; len < 1000; len += 97) {
                        xxh64_init(&a, 0);
                        xxh64_init(&b, 0);
                        xxh64_update(&a, buf + 300, pre);
                        xxh64_update(&b, buf + 300, pre);
                        xxh64_update(&a, zero, len);
                        xxh64_update_zeroes(&b, len);
                        xxh64_update(&a, buf, 45);
                        xxh64_update(&b, buf, 45);
                        if (xxh64_digest(&a) != xxh64_digest(&b))
                                break;
                }
        ok(xxh64_digest(&a) == xxh64_digest(&b), "zeroes as a length equal zeroes as bytes, in every alignment");

        /* A zstd frame's checksum is the low 32 bits of XXH64 of the content. */
        {
                ZSTD_CCtx *cc = ZSTD_createCCtx();
                uint32_t stored;

                ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1);
                c = ZSTD_compress2(cc, comp, 300000, buf, 200000);
                ZSTD_freeCCtx(cc);
                memcpy(&stored, comp + c - 4, 4);
                xxh64_init(&a, 0);
                for (size_t i = 0; i < 200000; i += 777)
                        xxh64_update(&a, buf + i, 200000 - i < 777 ? 200000 - i : 777);
                ok((uint32_t) xxh64_digest(&a) == stored, "the checksum libzstd writes");
        }
        free(buf);
        free(comp);
        return tap_done();
}
