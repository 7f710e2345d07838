/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <lzma.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "decompress.h"
#include "tap.h"

#define SIZE (3 * 1024 * 1024 + 123)

/* Runs data through a decompressor in small input and output pieces; returns bytes out or -1. */
static long roundtrip(const uint8_t *in, size_t in_size, uint8_t *out, size_t out_cap, size_t in_step,
                      size_t out_step, int *ret_r) {
        Decompressor *d = NULL;
        size_t ip = 0, op = 0;
        int r = 0;

        if (decompress_new(decompress_sniff(in, in_size), &d) < 0)
                return -1;
        for (unsigned guard = 0; guard < 10000000; guard++) {
                size_t n = in_size - ip < in_step ? in_size - ip : in_step;
                bool finish = ip + n == in_size;
                size_t iu = 0, ou = 0, room = out_cap - op < out_step ? out_cap - op : out_step;

                r = decompress_run(d, in + ip, n, &iu, out + op, room, &ou, finish);
                ip += iu;
                op += ou;
                if (r != 0)
                        break;
                if (finish && iu == 0 && ou == 0 && room > 0)
                        break;
        }
        decompress_free(d);
        *ret_r = r;
        return (long) op;
}

int main(void) {
        uint8_t *src = malloc(SIZE), *out = malloc(SIZE + 4096), *comp = malloc(2 * SIZE + 65536);
        size_t comp_size;
        long n;
        int r;

        /* Mostly zeroes with some text: an image-like input. */
        memset(src, 0, SIZE);
        for (size_t i = 0; i < SIZE; i += 7919)
                memcpy(src + i, "first-boot-agent", SIZE - i < 16 ? SIZE - i : 16);

        is_int(decompress_sniff("\x28\xb5\x2f\xfd", 4), COMPRESSION_ZSTD, "zstd magic");
        is_int(decompress_sniff("\xfd" "7zXZ\0", 6), COMPRESSION_XZ, "xz magic");
        is_int(decompress_sniff("\x1f\x8b\x08", 3), COMPRESSION_GZIP, "gzip magic");
        is_int(decompress_sniff("\x50\x2a\x4d\x18", 4), COMPRESSION_ZSTD, "zstd skippable frame");
        is_int(decompress_sniff("EFI PART", 8), COMPRESSION_RAW, "anything else is raw");
        is_int(decompress_sniff("", 0), COMPRESSION_RAW, "empty is raw");

        /* zstd, with the content size in the frame header. */
        comp_size = ZSTD_compress(comp, 2 * SIZE, src, SIZE, 3);
        ok(!ZSTD_isError(comp_size), "zstd compress");
        is_int(decompress_size_hint(COMPRESSION_ZSTD, comp, comp_size), SIZE, "zstd size hint");
        n = roundtrip(comp, comp_size, out, SIZE + 4096, 1000, 65536, &r);
        ok(n == SIZE && r == 1 && memcmp(out, src, SIZE) == 0, "zstd round trip in small pieces");
        /* Two frames back to back are one stream. */
        memcpy(comp + comp_size, comp, comp_size);
        {
                uint8_t *big = malloc(2 * SIZE + 4096);
                n = roundtrip(comp, 2 * comp_size, big, 2 * SIZE + 4096, 1 << 20, 1 << 20, &r);
                ok(n == 2 * SIZE && r == 1 && memcmp(big + SIZE, src, SIZE) == 0, "zstd concatenated frames");
                free(big);
        }
        n = roundtrip(comp, comp_size - 10, out, SIZE + 4096, 4096, 1 << 20, &r);
        is_int(r, -EPIPE, "truncated zstd is -EPIPE (%ld bytes out)", n);
        comp[comp_size / 2] ^= 0xff;
        comp[comp_size / 2 + 1] ^= 0x55;
        n = roundtrip(comp, comp_size, out, SIZE + 4096, 1 << 20, 1 << 20, &r);
        ok(r < 0, "corrupt zstd fails (%d)", r);

        /* xz */
        comp_size = 0;
        ok(lzma_easy_buffer_encode(1, LZMA_CHECK_CRC64, NULL, src, SIZE, comp, &comp_size, 2 * SIZE) == LZMA_OK,
           "xz compress");
        n = roundtrip(comp, comp_size, out, SIZE + 4096, 777, 100000, &r);
        ok(n == SIZE && r == 1 && memcmp(out, src, SIZE) == 0, "xz round trip in small pieces");
        n = roundtrip(comp, comp_size - 30, out, SIZE + 4096, 777, 1 << 20, &r);
        ok(r < 0, "truncated xz fails (%d)", r);

        /* xz with several blocks (what xz -T0 writes), decoded on two threads. */
        {
                lzma_stream s = LZMA_STREAM_INIT;
                lzma_mt mt = { .threads = 2, .block_size = 256 * 1024, .preset = 1, .check = LZMA_CHECK_CRC64 };
                Decompressor *d = NULL;
                size_t ip = 0, op = 0, iu, ou;

                ok(lzma_stream_encoder_mt(&s, &mt) == LZMA_OK, "xz multithreaded encoder");
                s.next_in = src;
                s.avail_in = SIZE;
                s.next_out = comp;
                s.avail_out = 2 * SIZE;
                while ((r = lzma_code(&s, LZMA_FINISH)) == LZMA_OK)
                        ;
                ok(r == LZMA_STREAM_END, "xz with blocks of 256 KiB");
                comp_size = s.total_out;
                lzma_end(&s);
                ok(decompress_new_threads(COMPRESSION_XZ, 2, &d) == 0, "xz decoder on two threads");
                r = 0;
                for (unsigned guard = 0; guard < 100000 && r == 0; guard++) {
                        size_t step = comp_size - ip < 5000 ? comp_size - ip : 5000;

                        r = decompress_run(d, comp + ip, step, &iu, out + op, SIZE + 4096 - op, &ou, ip + step == comp_size);
                        ip += iu;
                        op += ou;
                }
                ok(r == 1 && op == SIZE && memcmp(out, src, SIZE) == 0, "xz blocks on two threads: byte for byte");
                decompress_free(d);
                ok(decompress_new_threads(COMPRESSION_XZ, 2, &d) == 0, "again");
                ip = op = 0;
                r = 0;
                for (unsigned guard = 0; guard < 100000 && r == 0; guard++) {
                        size_t step = comp_size - 100 - ip < 5000 ? comp_size - 100 - ip : 5000;

                        r = decompress_run(d, comp + ip, step, &iu, out + op, SIZE + 4096 - op, &ou,
                                           ip + step == comp_size - 100);
                        ip += iu;
                        op += ou;
                        if (r == 0 && iu == 0 && ou == 0 && ip == comp_size - 100)
                                break;
                }
                ok(r < 0, "xz blocks cut short fail (%d)", r);
                decompress_free(d);
        }

        /* gzip, two members */
        {
                z_stream z = {};
                ok(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK, "gzip init");
                z.next_in = src;
                z.avail_in = SIZE;
                z.next_out = comp;
                z.avail_out = 2 * SIZE;
                ok(deflate(&z, Z_FINISH) == Z_STREAM_END, "gzip compress");
                comp_size = z.total_out;
                deflateEnd(&z);
        }
        n = roundtrip(comp, comp_size, out, SIZE + 4096, 333, 65536, &r);
        ok(n == SIZE && r == 1 && memcmp(out, src, SIZE) == 0, "gzip round trip in small pieces");
        memcpy(comp + comp_size, comp, comp_size);
        {
                uint8_t *big = malloc(2 * SIZE + 4096);
                n = roundtrip(comp, 2 * comp_size, big, 2 * SIZE + 4096, 1 << 16, 1 << 20, &r);
                ok(n == 2 * SIZE && r == 1 && memcmp(big + SIZE, src, SIZE) == 0, "gzip with two members");
                free(big);
        }
        n = roundtrip(comp, comp_size - 100, out, SIZE + 4096, 4096, 1 << 20, &r);
        is_int(r, -EPIPE, "truncated gzip is -EPIPE");

        /* raw */
        n = roundtrip(src, SIZE, out, SIZE + 4096, 5000, 3000, &r);
        ok(n == SIZE && r == 1 && memcmp(out, src, SIZE) == 0, "raw passes through");

        free(src);
        free(out);
        free(comp);
        return tap_done();
}
