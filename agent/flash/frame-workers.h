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
 * The segment's bytes are not copied: a worker gets pieces (spans) of the pipeline's chunks as
 * the download filled them, each chunk counting its holders (QueueBuffer.refs) and going back to
 * the download when the last of them is done with it — the chunk pool bounds the input of all
 * workers together. Each worker has a small ring of spans coming in and its own queue of blocks
 * going out, and its own decoder (zstd-decoder.h), kept from one segment to the next; the
 * collector moves each worker's blocks into the pipeline's, exchanging their memory where it can
 * (block_sink_take()). Memory: per worker 3 × 2 MiB out, a window and a half. A worker that is
 * ahead fills its blocks and waits for its turn (holding its chunks). No deadlock: the segment
 * the collector waits for was cut before any later one, so its chunks never wait for a later
 * segment's worker.
 *
 * A failure anywhere closes every queue of the pool; a decoder's complaint goes to the pipeline as
 * a data error. None of these threads logs. */

#define FRAME_WORKERS_MAX 8

struct Pipeline;
typedef struct FrameWorkers FrameWorkers;

/* A piece of a chunk for a worker; a segment's last span may be empty (chunk NULL). */
typedef struct FrameSpan {
        QueueBuffer *chunk;
        size_t start, size;
        uint64_t offset;                /* in the file */
        bool last;                      /* of the segment */
        bool stream_end;                /* the segment ends the stream */
} FrameSpan;

#define FRAME_SPANS 32

typedef struct FrameWorker {
        FrameWorkers *pool;
        unsigned index;
        pthread_t thread;
        bool started;
        pthread_mutex_t lock;           /* of the spans */
        pthread_cond_t changed;
        FrameSpan spans[FRAME_SPANS];
        size_t head, n_spans;
        bool closed;
        Queue out;
        BlockSink sink;
        ZstdDecoder *dec;
        uint64_t fed;                   /* bytes given to the decoder */
        unsigned segments;              /* with at least one frame */
        uint64_t cpu_usec;
        ZstdDecoderStats stats;
} FrameWorker;

struct FrameWorkers {
        struct Pipeline *p;
        Queue *chunks;                  /* the pipeline's: a released chunk goes on from */
        unsigned chunk_stage;           /* this stage */
        BlockSink *sink;                /* the pipeline's, the collector's while it runs */
        unsigned n;
        FrameWorker w[FRAME_WORKERS_MAX];
        pthread_t collector;
        bool collector_started;
        unsigned segment;               /* being cut */
        int error;                      /* of the collector */
};

/* Starts n workers and the collector, which takes over sink. Chunks are taken from and passed on
 * in stage chunk_stage of the pipeline's chunk queue. */
int frame_workers_start(FrameWorkers *f, struct Pipeline *p, BlockSink *sink, unsigned n, unsigned chunk_stage);
/* Bytes start … start + size of a chunk (whose refs the caller holds one of) go to the segment
 * being cut; the worker takes a reference of its own. */
int frame_workers_feed(FrameWorkers *f, QueueBuffer *chunk, size_t start, size_t size);
/* The segment being cut ends at offset of the file (at a frame's end, or with stream_end at the
 * end of the file). */
int frame_workers_end_segment(FrameWorkers *f, uint64_t offset, bool stream_end);
/* Drops a reference to a chunk; the last one passes it on in the chunk queue. */
void frame_workers_release(Queue *chunks, unsigned stage, QueueBuffer *chunk);
/* Closes every queue of the pool (from any thread). */
void frame_workers_close(FrameWorkers *f);
/* Waits for every thread; the sink is the caller's again. Returns the collector's error. */
int frame_workers_join(FrameWorkers *f);
/* Frees the queues (after frame_workers_join(); also after a frame_workers_start() that failed). */
void frame_workers_done(FrameWorkers *f);

/* The cores this process may run on (taskset counts), at most FRAME_WORKERS_MAX. */
unsigned frame_workers_cores(void);
