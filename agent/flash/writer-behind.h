/* SPDX-License-Identifier: MIT */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "zeroout.h"

/* What the writer leaves to threads of its own while its writes go on:
 *   - the zero behind: a batch of zero runs handed over is zeroed by the kernel (zeroout.h) on
 *     a thread, while the writer takes the next blocks and writes their data; the ranges are
 *     disjoint from everything written meanwhile, so their order does not matter;
 *   - the sync behind: an fdatasync of what was written so far, beside the decoding of a stretch
 *     without data, so that the final sync has little left to do.
 * At most one of each runs at a time: handing over the next waits for the one before. Never
 * logs; a failure comes back on the next hand-over or wait. */

#define WRITER_ZERO_BATCH 64

typedef struct WriterRange {
        uint64_t offset, size;
} WriterRange;

typedef struct WriterBehind {
        Zeroer zeroer;
        int fd;

        pthread_t zero_thread;
        bool zero_started;
        WriterRange zero[WRITER_ZERO_BATCH];    /* the batch being zeroed */
        unsigned n_zero;
        int zero_error;                 /* of zero[zero_failed], or 0 */
        unsigned zero_failed;
        uint64_t zero_batch_bytes, zero_batch_usec;     /* of the batch, until collected */

        pthread_t sync_thread;
        bool sync_started;
        atomic_bool sync_running;
        int sync_error;

        /* Totals, for the report and the stage table. */
        uint64_t zero_bytes;            /* zeroed by the kernel */
        unsigned zero_calls;            /* batches */
        unsigned syncs;
        uint64_t zero_usec, sync_usec;
} WriterBehind;

/* fd: the device, O_DIRECT. */
void writer_behind_init(WriterBehind *b, int fd);
/* Waits for both; their errors are dropped. */
void writer_behind_done(WriterBehind *b);

/* Hands n ranges (n ≤ WRITER_ZERO_BATCH) over to be zeroed behind, after waiting for the batch
 * before; zeroes them on this thread when no thread can be had. Returns 0, or the negative
 * errno of the batch before (or of this one, zeroed here), its range in *failed. */
int writer_behind_zero(WriterBehind *b, const WriterRange *ranges, unsigned n, WriterRange *failed);
/* Waits for the zero behind, if one runs; returns as writer_behind_zero(). */
int writer_behind_zero_wait(WriterBehind *b, WriterRange *failed);

/* Syncs the device on this thread (fsync, or fdatasync when data_only). */
int writer_behind_sync(WriterBehind *b, bool data_only);
/* Starts a sync behind unless one is running. Returns 1 if one was started (or, without a
 * thread, left to the final sync), 0 if one is still running, or the negative errno of the
 * one before. */
int writer_behind_sync_start(WriterBehind *b);
/* Waits for the sync behind, if one was started; returns its result. */
int writer_behind_sync_wait(WriterBehind *b);
