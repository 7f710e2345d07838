/* SPDX-License-Identifier: MIT */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "block-sink.h"
#include "queue.h"
#include "zstd-decoder.h"

/* zstd frames decoded on several cores, their output handed on in order:
 *
 *   decode thread ─▶ segment 0 ─▶ worker 0 ─▶ blocks ─┐
 *   (cuts the file  ─▶ segment 1 ─▶ worker 1 ─▶ blocks ─┼─▶ collector ─▶ the pipeline's blocks
 *    at frame ends)  ─▶ segment 2 ─▶ worker 0 ─▶ …      ─┘   (in segment order)
 *
 * A segment is the file from one frame's end to the next (skippable frames ride along); segment
 * i goes to worker i mod n, so the collector knows whose blocks come next without being told.
 * Each worker has its own small queues, for the segment bytes coming in and for the blocks going
 * out, and its own decoder (zstd-decoder.h), kept from one segment to the next; the collector
 * moves each worker's blocks into the pipeline's, exchanging their memory where it can
 * (block_sink_take()). Memory: per worker 4 × 512 KiB in, 3 × 2 MiB out, a window and a half.
 * A worker that is ahead fills its blocks and waits for its turn.
 *
 * A failure anywhere closes every queue of the pool; a decoder's complaint goes to the pipeline as
 * a data error. None of these threads logs. */

#define FRAME_WORKERS_MAX 8

struct Pipeline;
typedef struct FrameWorkers FrameWorkers;

typedef struct FrameWorker {
        FrameWorkers *pool;
        unsigned index;
        pthread_t thread;
        bool started;
        Queue in, out;
        BlockSink sink;
        ZstdDecoder *dec;
        uint64_t fed;                   /* bytes given to the decoder */
        unsigned segments;              /* with at least one frame */
        uint64_t cpu_usec;
        ZstdDecoderStats stats;
} FrameWorker;

struct FrameWorkers {
        struct Pipeline *p;
        BlockSink *sink;                /* the pipeline's, the collector's while it runs */
        unsigned n;
        FrameWorker w[FRAME_WORKERS_MAX];
        pthread_t collector;
        bool collector_started;
        unsigned segment;               /* being cut */
        QueueBuffer *in;                /* being filled for it */
        int error;                      /* of the collector */
};

/* Starts n workers and the collector, which takes over sink. */
int frame_workers_start(FrameWorkers *f, struct Pipeline *p, BlockSink *sink, unsigned n);
/* The next bytes of the file (offset: where they are in it) go to the segment being cut. */
int frame_workers_feed(FrameWorkers *f, const uint8_t *data, size_t size, uint64_t offset);
/* The segment being cut ends (at a frame's end, or with stream_end at the end of the file). */
int frame_workers_end_segment(FrameWorkers *f, bool stream_end);
/* Closes every queue of the pool (from any thread). */
void frame_workers_close(FrameWorkers *f);
/* Waits for every thread; the sink is the caller's again. Returns the collector's error. */
int frame_workers_join(FrameWorkers *f);
/* Frees the queues (after frame_workers_join()). */
void frame_workers_done(FrameWorkers *f);

/* The cores this process may run on (taskset counts), at most FRAME_WORKERS_MAX. */
unsigned frame_workers_cores(void);
