/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Finds where the zstd frames of a stream end without decoding them: from each frame header to
 * its block headers, whose sizes lead from one to the next, to the last block and the checksum.
 * This works for any stream of several frames (pzstd output, the seekable format, frames
 * concatenated), and skippable frames are stepped over (their size is in their header). What it
 * cannot follow (not zstd, a corrupt header) makes it stop looking: the decoder that gets the
 * bytes then says what is wrong. Never logs. */

typedef struct ZstdWalker {
        int state;
        uint8_t hdr[18];
        size_t have, need;
        uint64_t left;
        bool last_block, checksum;
        uint32_t block_max;
        bool lost;                      /* stopped following the stream */
        uint64_t offset;                /* bytes walked */
        unsigned frames;                /* zstd frames whose end was found */
} ZstdWalker;

void zstd_walker_init(ZstdWalker *w);
/* Walks up to n bytes; stops right after the last byte of a zstd frame. Returns the bytes
 * walked and sets *ret_frame_end when a frame ended there. */
size_t zstd_walker_walk(ZstdWalker *w, const uint8_t *p, size_t n, bool *ret_frame_end);
