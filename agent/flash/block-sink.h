/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "queue.h"
#include "time-util.h"

/* Fills the blocks of a queue (with zero maps) from a decoder's output, given as runs of data
 * and runs of zeroes:
 *   - data is copied into the block, and each 4 KiB grain it completes is checked for zeroes at
 *     once, while it is in the CPU cache;
 *   - a run of zeroes sets the bits of the whole grains it covers and touches no memory at all
 *     (a partial grain at either end is written as bytes).
 * Blocks start at grain boundaries of the image: a block goes on when it is full, or when the
 * producer says so. Buffers come from stage 0 of the queue and go on to stage 1. */

typedef struct BlockSink {
        Queue *queue;
        QueueBuffer *b;                 /* being filled, or NULL */
        uint64_t offset;                /* of the next byte */
        uint64_t limit;                 /* a byte past this fails with -EFBIG (0: no limit) */
        usec_t waited;                  /* for free blocks */
        usec_t scan_usec;               /* checking data grains for zeroes */
        uint64_t zero_run_bytes;        /* given as runs of zeroes */
} BlockSink;

void block_sink_init(BlockSink *s, Queue *q, uint64_t offset);
/* Gives the block being filled back to the pool (after a failure). */
void block_sink_done(BlockSink *s);

/* -ECANCELED once the queue is closed, -EFBIG past the limit. */
int block_sink_data(BlockSink *s, const uint8_t *p, size_t n);
int block_sink_zero(BlockSink *s, uint64_t n);
/* Hands the block being filled on (taking an empty one first if there is none), with its last
 * and stream_end flags. */
int block_sink_pass(BlockSink *s, bool last, bool stream_end);
/* Appends a filled block of another queue (of the same capacity): when this sink stands at a
 * block boundary and the block is whole grains, by exchanging the memory of the two blocks (no
 * copy); else grain by grain. src is left empty. */
int block_sink_take(BlockSink *s, QueueBuffer *src);
