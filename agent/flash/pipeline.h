/* SPDX-License-Identifier: MIT */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "config-flash.h"
#include "decompress.h"
#include "digest.h"
#include "download.h"
#include "queue.h"
#include "writer.h"

/* The streaming pipeline of one image, four threads joined by two bounded queues of buffers:
 *
 *   receive (libcurl, Range resume) ──▶ chunks ──▶ hash (SHA-256 of the file as served)
 *                                                    └──▶ decode (zstd/xz/gzip/raw, sniffed)
 *                                                           ──▶ blocks ──▶ write
 *   decode: straight into the block the writer submits, each 128 KiB scanned for zero grains
 *           while it is still in the CPU cache (the grains' bits travel with the block); zstd
 *           block by block, RLE blocks of zeroes as bits only (pipeline-zstd.c), the frames of a
 *           multi-frame image on every core (frame-workers.h), xz blocks on liblzma's threads
 *   write:  held-back partition tables, zero runs batched into few zero-range calls, O_DIRECT
 *           writes straight from the block, fsync
 *
 * With "sha256_of": "file" the hash thread is a stage of the chunk queue: it hashes a chunk
 * while the decoder works on the one before, so the hash costs no time on the way to the disk
 * on a machine with two cores. With "image" it is a stage of the block queue instead (hashing
 * the larger, uncompressed stream). The caller (the main thread) watches progress, logs, then
 * checks the hash and commits or wipes. None of these threads logs.
 *
 * When the decoder finds the data corrupt (or cut short) and the hash covers the file, the
 * writer stops at once but the file is still received and hashed to its end: the caller then
 * tells a file that does not match its SHA-256 (damaged on the way, or the wrong file) from a
 * published file that is itself corrupt. */

#define PIPELINE_MAX_EVENTS 16

typedef struct PipelineEvent {
        unsigned attempt;
        int error;
        uint64_t offset;
        usec_t delay;
        char text[256];
} PipelineEvent;

typedef enum PipelineStageId {
        PIPELINE_RECEIVE,
        PIPELINE_HASH,
        PIPELINE_DECODE,
        PIPELINE_WRITE,
        _PIPELINE_STAGE_MAX,
} PipelineStageId;

/* Where one thread's time went, from the pipeline's start to the thread's end. */
typedef struct PipelineStageStats {
        uint64_t cpu_usec;              /* CPU time of the thread (user + system) */
        uint64_t wall_usec;             /* from pipeline_start() to the thread's end */
        uint64_t wait_in_usec;          /* blocked: no input buffer to work on */
        uint64_t wait_out_usec;         /* blocked: no free buffer to fill */
} PipelineStageStats;

const char *pipeline_stage_to_string(PipelineStageId s);

typedef struct Pipeline {
        /* Set by the caller before pipeline_start(). */
        const char *url;
        FlashDigestScope scope;
        uint64_t expected_size;         /* the config's "size", 0 when not given */
        DownloadOptions download;
        Writer *writer;

        /* Progress, readable at any time. */
        _Atomic uint64_t received;      /* bytes of the file downloaded */
        _Atomic uint64_t total;         /* size of the file, 0 while unknown */
        _Atomic uint64_t processed;     /* bytes of the image handed to the device */
        atomic_bool cancel;

        /* Results, valid after pipeline_join(). */
        uint8_t digest[DIGEST_SHA256_SIZE];
        bool digest_complete;           /* digest covers the whole stream its scope names */
        CompressionFormat format;
        uint64_t image_size;
        uint64_t size_hint;
        DownloadStats stats;
        char error[320];                /* what failed, for the log */
        const char *error_stage;        /* "download", "decompress", "write" */
        bool data_error;                /* the decoder refused the data (corrupt, cut short, size) */
        PipelineStageStats stage[_PIPELINE_STAGE_MAX];
        uint64_t scan_usec;             /* of the decode stage's time: finding zero grains */
        uint64_t zero_usec;             /* …: runs of zeroes (zstd RLE blocks), not expanded */
        uint64_t zero_run_bytes;        /* bytes of the image that came as such runs */
        unsigned frames;                /* zstd frames decoded */
        unsigned decode_cores;          /* threads that decoded zstd frames; xz: the threads given
                                         * to liblzma */
        uint64_t workers_cpu_usec;      /* of the decode stage's CPU: the frame workers' */
        usec_t started;

        /* Internal. */
        pthread_mutex_t lock;
        pthread_cond_t wake;
        int first_error;
        unsigned running;
        PipelineEvent events[PIPELINE_MAX_EVENTS];
        unsigned events_posted, events_taken;
        Queue chunks, blocks;
        QueueBuffer *chunk;             /* being filled by the download thread */
        Digest *hash;
        pthread_t threads[_PIPELINE_STAGE_MAX];
        unsigned n_threads;
} Pipeline;

int pipeline_start(Pipeline *p);
/* Sleeps until something happens (an event, a thread ending) or the timeout passes. Returns
 * true once every thread has ended. */
bool pipeline_wait(Pipeline *p, usec_t timeout);
/* The next retry event, if one was posted since the last call. */
bool pipeline_take_event(Pipeline *p, PipelineEvent *ret);
void pipeline_cancel(Pipeline *p);
/* Joins the threads; returns the first error (0 when the image went through). */
int pipeline_join(Pipeline *p);
void pipeline_done(Pipeline *p);

/* For the stages (pipeline.c, pipeline-decode.c), not for callers. */

/* The first failure stops every thread: records it (the first one wins), cancels, closes the
 * queues. Returns -abs(error). */
int pipeline_fail(Pipeline *p, const char *stage, int error, const char *format, ...) _printf_(4, 5);
/* The decoder refused the data while the hash covers the file: the writer stops (the block
 * queue closes), but receiving and hashing go on to the end of the file, so that the caller
 * can tell which check failed. With the image as the hash's scope there is nothing more to
 * learn: the same as pipeline_fail(). */
int pipeline_fail_data(Pipeline *p, int error, const char *format, ...) _printf_(3, 4);
/* Records the thread's times and wakes the caller. */
void pipeline_thread_ended(Pipeline *p, PipelineStageId id);
void *pipeline_decode_thread(void *userdata);
/* After the decoder refused the data: passes the chunks on to the end of the file (to the hash). */
void pipeline_drain_chunks(Pipeline *p, unsigned stage, QueueBuffer *in);
/* The decode stage for zstd (pipeline-zstd.c): first is the first chunk. Returns 0 or the
 * pipeline's error. */
int pipeline_decode_zstd(Pipeline *p, unsigned in_stage, QueueBuffer *first);
