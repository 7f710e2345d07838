/* SPDX-License-Identifier: MIT */
#define ZSTD_STATIC_LINKING_ONLY
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "tap.h"
#include "zstd-decoder.h"

/* The block-level zstd decoder against libzstd's own, on image-like data: text that later parts
 * copy from, random data (Raw blocks), long runs of zeroes (RLE blocks) with text after them
 * that copies from the zeroes, in every level's block mix; fed in pieces of many sizes. */

#define MIB (1024 * 1024)

typedef struct Mem {
        uint8_t *buf;
        size_t size, cap;
        uint64_t zero_run;
} Mem;

static int mem_data(void *userdata, const uint8_t *p, size_t n) {
        Mem *m = userdata;

        if (m->size + n > m->cap)
                return -EFBIG;
        memcpy(m->buf + m->size, p, n);
        m->size += n;
        return 0;
}

static int mem_zero(void *userdata, uint64_t n) {
        Mem *m = userdata;

        if (m->size + n > m->cap)
                return -EFBIG;
        memset(m->buf + m->size, 0, n);
        m->size += n;
        m->zero_run += n;
        return 0;
}

static uint32_t rnd_state = 12345;
static uint32_t rnd(void) {
        rnd_state = rnd_state * 1103515245 + 12345;
        return rnd_state >> 8;
}

/* 24 MiB: text, random, zeroes, text that repeats the first, zeroes, an odd tail. */
static size_t make_image(uint8_t *p) {
        size_t n = 0;

        for (size_t i = 0; i < 3 * MIB; i++)
                p[n++] = "first-boot-agent writes images "[rnd() % 16 + i % 16];
        for (size_t i = 0; i < 2 * MIB; i++)
                p[n++] = (uint8_t) rnd();
        memset(p + n, 0, 9 * MIB + 777);
        n += 9 * MIB + 777;
        memcpy(p + n, p, 2 * MIB);              /* a match far back */
        n += 2 * MIB;
        memset(p + n, 0, 1000);                 /* a short zero run, then a copy of it */
        n += 1000;
        memset(p + n, 0, 6 * MIB);
        n += 6 * MIB;
        memset(p + n, 0xaa, 300000);            /* RLE of another byte */
        n += 300000;
        for (size_t i = 0; i < 12345; i++)
                p[n++] = (uint8_t) (i * 7);
        return n;
}

static size_t compress(uint8_t *dst, size_t cap, const uint8_t *src, size_t n, int level, int wlog,
                       bool checksum, int target_block) {
        ZSTD_CCtx *c = ZSTD_createCCtx();
        size_t r;

        ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, level);
        ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, checksum);
        if (wlog)
                ZSTD_CCtx_setParameter(c, ZSTD_c_windowLog, wlog);
        if (target_block)
                ZSTD_CCtx_setParameter(c, ZSTD_c_targetCBlockSize, target_block);
        r = ZSTD_compress2(c, dst, cap, src, n);
        ZSTD_freeCCtx(c);
        return ZSTD_isError(r) ? 0 : r;
}

/* Decodes comp in pieces of step bytes (0: varying); returns the decoder's result. */
static int decode(const uint8_t *comp, size_t size, size_t step, Mem *m, ZstdDecoder **ret) {
        ZstdOutput out = { mem_data, mem_zero, m };
        ZstdDecoder *z;
        int r = 0;

        m->size = 0;
        m->zero_run = 0;
        if (zstd_decoder_new(&out, NULL, &z) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < size && r == 0;) {
                size_t k = step ? step : 1 + rnd() % 200000;

                k = k > size - i ? size - i : k;
                r = zstd_decoder_feed(z, comp + i, k);
                i += k;
        }
        if (r == 0)
                r = zstd_decoder_finish(z);
        *ret = z;
        return r;
}

int main(void) {
        size_t cap = 32 * MIB, n, c;
        uint8_t *img = malloc(cap), *comp = malloc(cap), *bad = malloc(cap);
        Mem m = { .buf = malloc(cap), .cap = cap };
        ZstdDecoder *z;
        const struct {
                int level, wlog, target_block;
                bool checksum;
                size_t step;
        } cases[] = {
                { 1, 0, 0, true, 0 },
                { 3, 0, 0, true, 1 << 20 },
                { 3, 0, 0, false, 4093 },
                { 9, 23, 0, true, 0 },
                { 19, 0, 0, true, 0 },          /* the block splitter: blocks of any size */
                { 3, 27, 0, true, 0 },          /* a 128 MiB window */
                { 3, 0, 1500, true, 0 },        /* small compressed blocks */
                { -5, 0, 0, true, 65536 },
        };
        int r;

        n = make_image(img);
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                c = compress(comp, cap, img, n, cases[i].level, cases[i].wlog, cases[i].checksum,
                             cases[i].target_block);
                ok(c > 0, "level %d: compressed to %zu bytes", cases[i].level, c);
                r = decode(comp, c, cases[i].step, &m, &z);
                ok(r == 0 && m.size == n && memcmp(m.buf, img, n) == 0,
                   "level %d, window log %d, pieces of %zu: byte for byte (%d: %s)", cases[i].level, cases[i].wlog,
                   cases[i].step, r, zstd_decoder_error(z));
                if (cases[i].level >= 1 && cases[i].level <= 3 && !cases[i].target_block) {
                        const ZstdDecoderStats *st = zstd_decoder_stats(z);

                        ok(m.zero_run >= 14 * MIB, "level %d: %llu bytes of zeroes given as runs, not bytes",
                           cases[i].level, (unsigned long long) m.zero_run);
                        /* At most one turn of the ring (a window) per run: two runs here. */
                        ok(st->ring_zeroed <= 2 * (2 * MIB + 256 * 1024 + 65536) && st->ring_zeroed < m.zero_run / 3,
                           "level %d: the window was zeroed for %llu bytes of them",
                           cases[i].level, (unsigned long long) st->ring_zeroed);
                        is_int(st->frames, 1, "one frame");
                }
                zstd_decoder_free(z);
        }

        /* Frames back to back, and a skippable frame between them. */
        c = compress(comp, cap, img, n, 3, 0, true, 0);
        memcpy(comp + c, "\x5a\x2a\x4d\x18\x05\x00\x00\x00hello", 13);
        memcpy(comp + c + 13, comp, c);
        m.cap = cap;
        {
                uint8_t *two = malloc(2 * n);
                Mem m2 = { .buf = two, .cap = 2 * n };

                r = decode(comp, 2 * c + 13, 0, &m2, &z);
                ok(r == 0 && m2.size == 2 * n && memcmp(two, img, n) == 0 && memcmp(two + n, img, n) == 0,
                   "two frames and a skippable frame: one stream (%d)", r);
                is_int(zstd_decoder_stats(z)->frames, 2, "two frames counted");
                zstd_decoder_free(z);
                free(two);
        }

        /* Truncated: inside a frame at the end of the input. */
        r = decode(comp, c - 10, 0, &m, &z);
        is_int(r, -EPIPE, "cut short: -EPIPE (%s)", zstd_decoder_error(z));
        zstd_decoder_free(z);
        r = decode(comp, 2, 0, &m, &z);
        is_int(r, -EPIPE, "two bytes: -EPIPE");
        zstd_decoder_free(z);

        /* The checksum: its last byte changed. */
        memcpy(bad, comp, c);
        bad[c - 1] ^= 0x40;
        r = decode(bad, c, 0, &m, &z);
        is_int(r, -EBADMSG, "checksum mismatch: -EBADMSG");
        ok(strstr(zstd_decoder_error(z), "checksum") != NULL, "checksum mismatch: said so (%s)", zstd_decoder_error(z));
        ok(zstd_decoder_error_offset(z) == c - 4, "checksum mismatch: at the checksum (%llu)",
           (unsigned long long) zstd_decoder_error_offset(z));
        zstd_decoder_free(z);

        /* A changed byte inside the random data (a Raw block): only the checksum can tell. */
        memcpy(bad, comp, c);
        {
                size_t at = 0;

                /* The random part is stored as is: find a run of 64 bytes of img in comp. */
                for (size_t i = 0; i + 64 < c; i++)
                        if (memcmp(comp + i, img + 3 * MIB + 1000, 64) == 0) {
                                at = i;
                                break;
                        }
                ok(at > 0, "the random data is stored as is (at %zu)", at);
                bad[at] ^= 1;
        }
        r = decode(bad, c, 0, &m, &z);
        ok(r == -EBADMSG && strstr(zstd_decoder_error(z), "checksum"), "a changed byte of a Raw block: checksum mismatch");
        zstd_decoder_free(z);

        /* A corrupt Compressed block: its bytes overwritten. */
        c = compress(comp, cap, img, 3 * MIB, 3, 0, false, 0);
        memcpy(bad, comp, c);
        for (size_t i = 100; i < 2000; i++)
                bad[i] = (uint8_t) rnd();
        r = decode(bad, c, 0, &m, &z);
        ok(r < 0, "corrupt compressed data fails (%d: %s, at %llu)", r, zstd_decoder_error(z),
           (unsigned long long) zstd_decoder_error_offset(z));
        zstd_decoder_free(z);

        /* A reserved block type, and something that is not zstd. */
        memcpy(bad, comp, c);
        {
                ZSTD_frameHeader fh;

                ZSTD_getFrameHeader(&fh, comp, c);
                bad[fh.headerSize] |= 6;        /* type 3 */
        }
        r = decode(bad, c, 0, &m, &z);
        ok(r == -EBADMSG && strstr(zstd_decoder_error(z), "reserved"), "reserved block type (%s)", zstd_decoder_error(z));
        zstd_decoder_free(z);
        r = decode((const uint8_t *) "EFI PART and more", 17, 0, &m, &z);
        ok(r == -EBADMSG && strstr(zstd_decoder_error(z), "not zstd"), "not zstd (%s)", zstd_decoder_error(z));
        zstd_decoder_free(z);

        /* The content size in the header is checked. */
        c = compress(comp, cap, img, 100000, 3, 0, false, 0);
        {
                ZSTD_frameHeader fh;

                ok(ZSTD_getFrameHeader(&fh, comp, c) == 0 && fh.frameContentSize == 100000, "content size in the header");
        }
        m.cap = 50000;
        r = decode(comp, c, 0, &m, &z);
        is_int(r, -EFBIG, "the output's error comes back");
        zstd_decoder_free(z);

        free(img);
        free(comp);
        free(bad);
        free(m.buf);
        return tap_done();
}
