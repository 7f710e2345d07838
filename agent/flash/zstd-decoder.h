/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"
#include "time-util.h"

/* zstd decoded block by block (libzstd's block API), so that a block of zeroes stays a number:
 *
 *   frame header ─▶ block header ─▶ Raw: the bytes         ─▶ output: data
 *                                   RLE of byte 0: a length ─▶ output: a run of zeroes
 *                                   RLE of another byte     ─▶ output: data
 *                                   Compressed: ZSTD_decompressBlock() into the history
 *                ─▶ … last block ─▶ XXH64 checksum of the content, when the frame has one
 *
 * The history a compressed block may copy from (the frame's window) is kept here, in a ring of
 * window + 2 × 128 KiB: each block is decoded (or copied, for Raw and RLE blocks, and announced
 * with ZSTD_insertBlock()) at the ring's next position, and the ring starts over at its
 * beginning when less than a block's room is left, so libzstd always sees the history as at most
 * two contiguous pieces, both intact for a window's length. A later block may copy from a run of
 * zeroes, so the ring must hold those zeroes too: the ring remembers which 4 KiB grains it knows
 * to be zero, and an RLE block of zeroes writes only grains that are not (in the free end of an
 * image, after one turn of the ring, none). The checksum takes runs of zeroes as a length
 * (xxh64.h). Skippable frames are skipped; concatenated frames are one stream.
 *
 * Input is pushed in pieces of any size. Never logs. */

typedef struct ZstdOutput {
        int (*data)(void *userdata, const uint8_t *p, size_t n);
        int (*zero)(void *userdata, uint64_t n);
        void *userdata;
} ZstdOutput;

typedef struct ZstdDecoderStats {
        unsigned frames;                /* zstd frames completed */
        uint64_t zero_bytes;            /* given out as runs of zeroes (RLE blocks of byte 0) */
        unsigned zero_blocks;
        uint64_t ring_zeroed;           /* bytes of the ring that had to be zeroed for them */
        usec_t zero_usec;               /* spent on them, the output's waits excluded */
} ZstdDecoderStats;

/* The largest window accepted (zstd --long=27); the default levels use 8 MiB at most. */
#define ZSTD_DECODER_WINDOW_MAX (UINT64_C(1) << 27)

typedef struct ZstdDecoder ZstdDecoder;

/* waited: optional, time the output spent blocked (subtracted from zero_usec). */
int zstd_decoder_new(const ZstdOutput *out, const usec_t *waited, ZstdDecoder **ret);
ZstdDecoder *zstd_decoder_free(ZstdDecoder *z);
DEFINE_TRIVIAL_CLEANUP_FUNC(ZstdDecoder *, zstd_decoder_free);

/* Consumes all n bytes. 0, or: -EBADMSG corrupt data (a checksum mismatch included), -ENOTSUP a
 * frame that needs a dictionary or a window above ZSTD_DECODER_WINDOW_MAX, -ENOMEM, or what the
 * output returned. After an error, zstd_decoder_error() says what and where. */
int zstd_decoder_feed(ZstdDecoder *z, const uint8_t *p, size_t n);
/* The input ended: 0 between frames, -EPIPE inside one. */
int zstd_decoder_finish(ZstdDecoder *z);
/* Whether the decoder stands between frames. */
bool zstd_decoder_at_boundary(const ZstdDecoder *z);

const char *zstd_decoder_error(const ZstdDecoder *z);
/* Offset in the input (counted from the first byte fed) of the element that failed. */
uint64_t zstd_decoder_error_offset(const ZstdDecoder *z);
const ZstdDecoderStats *zstd_decoder_stats(const ZstdDecoder *z);
