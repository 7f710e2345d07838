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
 *   download (libcurl, Range resume) ──▶ chunks ──▶ hash (SHA-256 of the file as served)
 *                                                     └──▶ decompress (zstd/xz/gzip/raw, sniffed)
 *                                                            ──▶ blocks ──▶ writer
 *   writer: held-back partition tables, kernel zero-out of zero runs, O_DIRECT writes, fsync
 *
 * With "sha256_of": "file" the hash thread is a stage of the chunk queue: it hashes a chunk
 * while the decompressor works on the one before, so the hash costs no time on the way to the
 * disk on a machine with two cores. With "image" it is a stage of the block queue instead
 * (hashing the larger, uncompressed stream). The caller (the main thread) watches progress,
 * logs, then checks the hash and commits or wipes. None of these threads logs. */

#define PIPELINE_MAX_EVENTS 16

typedef struct PipelineEvent {
        unsigned attempt;
        int error;
        uint64_t offset;
        usec_t delay;
        char text[256];
} PipelineEvent;

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
        CompressionFormat format;
        uint64_t image_size;
        uint64_t size_hint;
        DownloadStats stats;
        char error[320];                /* what failed, for the log */
        const char *error_stage;        /* "download", "decompress", "write" */
        uint64_t cpu_usec[4];           /* CPU time of the download, hash, decompress, writer threads */
        uint64_t chunk_wait_usec[QUEUE_MAX_STAGES];     /* time waited at each queue stage */
        uint64_t block_wait_usec[QUEUE_MAX_STAGES];

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
        pthread_t threads[4];
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
