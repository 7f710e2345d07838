/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ZSTD_STATIC_LINKING_ONLY
#define ZSTD_DISABLE_DEPRECATE_WARNINGS
#include <zstd.h>

#include "xxh64.h"
#include "zstd-decoder.h"

#define BLOCK_MAX ZSTD_BLOCKSIZE_MAX
#define GRAIN 4096
#define SKIPPABLE_MASK 0xFFFFFFF0U
#define SKIPPABLE_MAGIC 0x184D2A50U

typedef enum State {
        ST_MAGIC,
        ST_SKIP_HEADER,
        ST_SKIP,
        ST_FRAME_HEADER,
        ST_BLOCK_HEADER,
        ST_RAW,
        ST_RLE,
        ST_COMPRESSED,
        ST_CHECKSUM,
} State;

struct ZstdDecoder {
        ZstdOutput out;
        const usec_t *waited;
        ZSTD_DCtx *dctx;
        State state;
        uint8_t hdr[ZSTD_FRAMEHEADERSIZE_MAX];
        size_t have, need;
        uint64_t left;                  /* of a skippable frame, Raw block or Compressed block */
        uint64_t in;                    /* bytes consumed */
        uint64_t elem_start;            /* where the element being read began */

        /* The frame. */
        ZSTD_frameHeader fh;
        uint64_t frame_out;
        Xxh64 xxh;
        bool last_block;
        uint32_t block_size;

        /* The history. */
        uint8_t *ring;
        size_t ring_size, pos, block_start;
        uint64_t *known_zero;           /* per grain of the ring */
        uint8_t *stage;                 /* a Compressed block that arrived in pieces */

        int error;
        char text[200];
        ZstdDecoderStats stats;
};

static uint32_t le32(const uint8_t *p) {
        return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

_printf_(3, 4)
static int fail(ZstdDecoder *z, int error, const char *format, ...) {
        va_list ap;

        va_start(ap, format);
        vsnprintf(z->text, sizeof z->text, format, ap);
        va_end(ap);
        z->error = -abs(error);
        return z->error;
}

int zstd_decoder_new(const ZstdOutput *out, const usec_t *waited, ZstdDecoder **ret) {
        ZstdDecoder *z;

        z = calloc(1, sizeof *z);
        if (!z)
                return -ENOMEM;
        z->out = *out;
        z->waited = waited;
        z->need = 4;
        z->dctx = ZSTD_createDCtx();
        z->stage = malloc(BLOCK_MAX);
        if (!z->dctx || !z->stage) {
                zstd_decoder_free(z);
                return -ENOMEM;
        }
        *ret = z;
        return 0;
}

ZstdDecoder *zstd_decoder_free(ZstdDecoder *z) {
        if (!z)
                return NULL;
        ZSTD_freeDCtx(z->dctx);
        free(z->ring);
        free(z->known_zero);
        free(z->stage);
        free(z);
        return NULL;
}

const char *zstd_decoder_error(const ZstdDecoder *z) {
        return z->text;
}

uint64_t zstd_decoder_error_offset(const ZstdDecoder *z) {
        return z->elem_start;
}

const ZstdDecoderStats *zstd_decoder_stats(const ZstdDecoder *z) {
        return &z->stats;
}

bool zstd_decoder_at_boundary(const ZstdDecoder *z) {
        return z->state == ST_MAGIC && z->have == 0;
}

/* ---- the ring ---- */

static int ring_ensure(ZstdDecoder *z) {
        uint64_t history = z->fh.windowSize, size;

        if (z->fh.frameContentSize != ZSTD_CONTENTSIZE_UNKNOWN)
                history = MIN(history, (uint64_t) z->fh.frameContentSize);
        size = (history + 2 * BLOCK_MAX + 0xffff) & ~(uint64_t) 0xffff;
        if (size <= z->ring_size)
                return 0;
        free(z->ring);
        free(z->known_zero);
        /* Fresh pages read as zeroes: every grain starts known zero. */
        z->ring = calloc(1, size);
        z->known_zero = malloc((size / GRAIN + 63) / 64 * sizeof(uint64_t));
        if (!z->ring || !z->known_zero) {
                z->ring_size = 0;
                return fail(z, ENOMEM, "out of memory for a zstd window of %" PRIu64 " bytes", history);
        }
        memset(z->known_zero, 0xff, (size / GRAIN + 63) / 64 * sizeof(uint64_t));
        z->ring_size = size;
        z->pos = 0;
        return 0;
}

static bool kz_test(const ZstdDecoder *z, size_t g) {
        return (z->known_zero[g / 64] >> (g % 64)) & 1;
}

/* [pos, pos + n) of the ring may now hold anything. */
static void ring_dirty(ZstdDecoder *z, size_t pos, size_t n) {
        if (n == 0)
                return;
        for (size_t g = pos / GRAIN; g <= (pos + n - 1) / GRAIN; g++)
                z->known_zero[g / 64] &= ~(UINT64_C(1) << (g % 64));
}

/* [pos, pos + n) of the ring must read as zeroes: only grains not known zero are written. */
static void ring_zero(ZstdDecoder *z, size_t pos, size_t n) {
        size_t end = pos + n;

        while (pos < end) {
                size_t g = pos / GRAIN, grain_end = MIN((g + 1) * GRAIN, end);

                if (!kz_test(z, g)) {
                        memset(z->ring + pos, 0, grain_end - pos);
                        z->stats.ring_zeroed += grain_end - pos;
                        if (pos % GRAIN == 0 && grain_end - pos == GRAIN)
                                z->known_zero[g / 64] |= UINT64_C(1) << (g % 64);
                }
                pos = grain_end;
        }
}

/* ---- elements ---- */

static int start_frame(ZstdDecoder *z) {
        int r;

        if (z->fh.dictID != 0)
                return fail(z, ENOTSUP, "the zstd frame needs dictionary %u, which is not available", z->fh.dictID);
        if (z->fh.windowSize > ZSTD_DECODER_WINDOW_MAX)
                return fail(z, ENOTSUP, "the zstd frame's window is %" PRIu64 " MiB, more than the %" PRIu64
                            " MiB accepted (compress with --long=27 or less)",
                            (uint64_t) z->fh.windowSize >> 20, ZSTD_DECODER_WINDOW_MAX >> 20);
        r = ring_ensure(z);
        if (r < 0)
                return r;
        if (ZSTD_isError(ZSTD_decompressBegin(z->dctx)))
                return fail(z, ENOMEM, "setting up zstd decompression failed");
        if (z->fh.checksumFlag)
                xxh64_init(&z->xxh, 0);
        z->frame_out = 0;
        z->state = ST_BLOCK_HEADER;
        z->need = 3;
        return 0;
}

static int end_frame(ZstdDecoder *z) {
        if (z->fh.frameContentSize != ZSTD_CONTENTSIZE_UNKNOWN && z->frame_out != z->fh.frameContentSize)
                return fail(z, EBADMSG, "the zstd frame holds %" PRIu64 " bytes, its header says %llu",
                            z->frame_out, z->fh.frameContentSize);
        z->stats.frames++;
        z->state = ST_MAGIC;
        z->need = 4;
        return 0;
}

static int end_block(ZstdDecoder *z) {
        if (!z->last_block) {
                z->state = ST_BLOCK_HEADER;
                z->need = 3;
                return 0;
        }
        if (z->fh.checksumFlag) {
                z->state = ST_CHECKSUM;
                z->need = 4;
                return 0;
        }
        return end_frame(z);
}

/* The content grows by n bytes. */
static int account(ZstdDecoder *z, uint64_t n) {
        z->frame_out += n;
        if (z->fh.frameContentSize != ZSTD_CONTENTSIZE_UNKNOWN && z->frame_out > z->fh.frameContentSize)
                return fail(z, EBADMSG, "the zstd frame holds more than the %llu bytes its header says",
                            z->fh.frameContentSize);
        return 0;
}

static int rle_block(ZstdDecoder *z, uint8_t byte) {
        size_t n = z->block_size;
        usec_t t = now_monotonic(), w = z->waited ? *z->waited : 0;
        int r;

        r = account(z, n);
        if (r < 0 || n == 0)
                return r < 0 ? r : end_block(z);
        if (byte == 0) {
                ring_zero(z, z->pos, n);
                if (z->fh.checksumFlag)
                        xxh64_update_zeroes(&z->xxh, n);
                (void) ZSTD_insertBlock(z->dctx, z->ring + z->pos, n);
                r = z->out.zero(z->out.userdata, n);
                z->stats.zero_bytes += n;
                z->stats.zero_blocks++;
                z->stats.zero_usec += now_monotonic() - t - (z->waited ? *z->waited - w : 0);
        } else {
                memset(z->ring + z->pos, byte, n);
                ring_dirty(z, z->pos, n);
                if (z->fh.checksumFlag)
                        xxh64_update(&z->xxh, z->ring + z->pos, n);
                (void) ZSTD_insertBlock(z->dctx, z->ring + z->pos, n);
                r = z->out.data(z->out.userdata, z->ring + z->pos, n);
        }
        if (r < 0)
                return r;
        z->pos += n;
        return end_block(z);
}

static int compressed_block(ZstdDecoder *z, const uint8_t *src) {
        size_t n;
        int r;

        /* libzstd may use the whole room it is given (literals are staged at its end). */
        ring_dirty(z, z->pos, BLOCK_MAX);
        n = ZSTD_decompressBlock(z->dctx, z->ring + z->pos, BLOCK_MAX, src, z->block_size);
        if (ZSTD_isError(n))
                return fail(z, EBADMSG, "corrupt zstd block (%s)", ZSTD_getErrorName(n));
        if (n > z->fh.blockSizeMax)
                return fail(z, EBADMSG, "a zstd block decodes to %zu bytes, more than the frame's %u", n,
                            z->fh.blockSizeMax);
        r = account(z, n);
        if (r < 0)
                return r;
        if (z->fh.checksumFlag)
                xxh64_update(&z->xxh, z->ring + z->pos, n);
        if (n > 0) {
                r = z->out.data(z->out.userdata, z->ring + z->pos, n);
                if (r < 0)
                        return r;
        }
        z->pos += n;
        return end_block(z);
}

static int block_header(ZstdDecoder *z) {
        uint32_t v = (uint32_t) z->hdr[0] | (uint32_t) z->hdr[1] << 8 | (uint32_t) z->hdr[2] << 16;
        unsigned type = (v >> 1) & 3;

        z->last_block = v & 1;
        z->block_size = v >> 3;
        if (type == 3)
                return fail(z, EBADMSG, "a zstd block has the reserved type 3");
        if (z->block_size > z->fh.blockSizeMax)
                return fail(z, EBADMSG, "a zstd block of %u bytes is larger than the frame's maximum of %u",
                            z->block_size, z->fh.blockSizeMax);
        /* Room for the block in the ring, else the ring starts over. */
        if (z->pos + BLOCK_MAX > z->ring_size)
                z->pos = 0;
        z->block_start = z->pos;
        switch (type) {
        case 0:
                if (z->block_size == 0)
                        return end_block(z);
                z->left = z->block_size;
                z->state = ST_RAW;
                return account(z, z->block_size);
        case 1:
                z->state = ST_RLE;
                z->need = 1;
                return 0;
        default:
                if (z->block_size == 0)
                        return fail(z, EBADMSG, "a compressed zstd block is empty");
                z->left = z->block_size;
                z->state = ST_COMPRESSED;
                return 0;
        }
}

static int raw_piece(ZstdDecoder *z, const uint8_t *p, size_t k) {
        int r;

        memcpy(z->ring + z->pos, p, k);
        ring_dirty(z, z->pos, k);
        if (z->fh.checksumFlag)
                xxh64_update(&z->xxh, p, k);
        r = z->out.data(z->out.userdata, z->ring + z->pos, k);
        if (r < 0)
                return r;
        z->pos += k;
        z->left -= k;
        if (z->left > 0)
                return 0;
        (void) ZSTD_insertBlock(z->dctx, z->ring + z->block_start, z->block_size);
        return end_block(z);
}

/* A complete header-like element is in hdr. */
static int element(ZstdDecoder *z) {
        size_t r;
        uint32_t magic;

        switch (z->state) {
        case ST_MAGIC:
                magic = le32(z->hdr);
                z->elem_start = z->in - 4;
                if ((magic & SKIPPABLE_MASK) == SKIPPABLE_MAGIC) {
                        z->state = ST_SKIP_HEADER;
                        z->need = 8;
                        return 0;
                }
                if (magic != ZSTD_MAGICNUMBER)
                        return fail(z, EBADMSG, "not zstd data (magic 0x%08x)", magic);
                z->state = ST_FRAME_HEADER;
                z->need = ZSTD_FRAMEHEADERSIZE_PREFIX(ZSTD_f_zstd1);
                return 0;
        case ST_SKIP_HEADER:
                z->left = le32(z->hdr + 4);
                z->state = z->left > 0 ? ST_SKIP : ST_MAGIC;
                z->need = 4;
                return 0;
        case ST_FRAME_HEADER:
                r = ZSTD_getFrameHeader(&z->fh, z->hdr, z->have);
                if (ZSTD_isError(r))
                        return fail(z, EBADMSG, "corrupt zstd frame header (%s)", ZSTD_getErrorName(r));
                if (r > 0) {
                        if (r > sizeof z->hdr || r <= z->have)
                                return fail(z, EBADMSG, "corrupt zstd frame header");
                        z->need = r;
                        return 1;       /* keep gathering */
                }
                return start_frame(z);
        case ST_BLOCK_HEADER:
                z->elem_start = z->in - 3;
                return block_header(z);
        case ST_RLE:
                return rle_block(z, z->hdr[0]);
        case ST_CHECKSUM:
                z->elem_start = z->in - 4;
                if ((uint32_t) xxh64_digest(&z->xxh) != le32(z->hdr))
                        return fail(z, EBADMSG, "the zstd frame's content does not match its checksum");
                return end_frame(z);
        default:
                return fail(z, EINVAL, "internal error");
        }
}

int zstd_decoder_feed(ZstdDecoder *z, const uint8_t *p, size_t n) {
        int r;

        if (z->error < 0)
                return z->error;
        while (n > 0) {
                size_t k;

                switch (z->state) {
                case ST_SKIP:
                        k = (size_t) MIN(z->left, (uint64_t) n);
                        z->left -= k;
                        if (z->left == 0)
                                z->state = ST_MAGIC;
                        r = 0;
                        break;
                case ST_RAW:
                        k = (size_t) MIN(z->left, (uint64_t) n);
                        r = raw_piece(z, p, k);
                        break;
                case ST_COMPRESSED:
                        k = (size_t) MIN(z->left - z->have, (uint64_t) n);
                        if (z->have == 0 && k == z->left) {
                                r = compressed_block(z, p);     /* whole in the input: in place */
                                break;
                        }
                        memcpy(z->stage + z->have, p, k);
                        z->have += k;
                        r = 0;
                        if (z->have == z->left) {
                                z->have = 0;
                                r = compressed_block(z, z->stage);
                        }
                        break;
                default:
                        k = MIN(z->need - z->have, n);
                        memcpy(z->hdr + z->have, p, k);
                        z->have += k;
                        r = 0;
                        if (z->have == z->need) {
                                z->in += k;
                                p += k;
                                n -= k;
                                r = element(z);
                                if (r < 0)
                                        return r;
                                /* A frame header grows in steps, a skippable one from its magic; every other
                                 * element starts over. */
                                if (r == 0 && z->state != ST_FRAME_HEADER && z->state != ST_SKIP_HEADER)
                                        z->have = 0;
                                continue;
                        }
                        break;
                }
                if (r < 0)
                        return r < 0 && z->error == 0 ? (z->error = r) : r;
                z->in += k;
                p += k;
                n -= k;
        }
        return 0;
}

int zstd_decoder_finish(ZstdDecoder *z) {
        if (z->error < 0)
                return z->error;
        if (zstd_decoder_at_boundary(z))
                return 0;
        z->elem_start = z->in;
        return fail(z, EPIPE, "the zstd stream ends inside a frame");
}
