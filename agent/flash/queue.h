/* SPDX-License-Identifier: MIT */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A fixed pool of equally sized, page-aligned buffers that travel through a ring of stages,
 * one thread per stage: stage 0 holds the free buffers; a producer takes one from stage 0,
 * fills it and passes it on to stage 1; the thread of stage 1 takes it, uses it, passes it to
 * stage 2, and so on; the last stage passes it back to stage 0. Within a stage buffers keep
 * their order. The pool size bounds the memory and makes fast stages wait for slow ones.
 * A producer that finds no free buffer sleeps until half the pool is free again, not until the
 * first one comes back: it then fills several in a row instead of being woken for each, which
 * saves a context switch per buffer on both sides.
 * Closing wakes every waiter (used to stop a pipeline on failure). */

#define QUEUE_MAX_STAGES 4

typedef struct QueueBuffer {
        uint8_t *data;
        size_t capacity;
        size_t size;                    /* bytes used */
        uint64_t offset;                /* where data belongs in the stream */
        bool last;                      /* the final buffer of the stream (may be empty); in a
                                         * frame worker's queues: of the segment */
        bool stream_end;                /* frame workers: the segment ends the stream */
        atomic_uint refs;               /* frame workers: holders of pieces of this chunk (the
                                         * decode thread's own included); the last one passes it on */
        uint64_t *zero_map;             /* with QUEUE_GRAIN maps: bit i set = grain i is all
                                         * zeroes (and its bytes in data are not valid) */
} QueueBuffer;

#define QUEUE_GRAIN 4096
#define QUEUE_ZERO_MAP_TEST(b, i) (((b)->zero_map[(i) / 64] >> ((i) % 64)) & 1)

typedef struct QueueStage {
        pthread_cond_t filled;          /* a buffer arrived */
        QueueBuffer **ring;             /* FIFO of n_buffers slots */
        size_t head, n;
        size_t want;                    /* the waiter sleeps until n reaches this (0: nobody waits) */
        uint64_t wait_usec;             /* time the stage's thread spent waiting for a buffer */
} QueueStage;

typedef struct Queue {
        pthread_mutex_t lock;
        QueueBuffer *buffers;
        size_t n_buffers;
        QueueStage stages[QUEUE_MAX_STAGES];
        unsigned n_stages;
        bool closed;
} Queue;

/* zero_maps: give each buffer a zero map of capacity / QUEUE_GRAIN bits. */
int queue_init(Queue *q, size_t n_buffers, size_t capacity, unsigned n_stages, bool zero_maps);
void queue_done(Queue *q);

/* The next buffer of a stage, waiting for one; NULL once closed. Buffers taken from stage 0
 * come back emptied (size 0, offset 0, not last). */
QueueBuffer *queue_take(Queue *q, unsigned stage);
/* Hands a buffer taken from stage on to the next one (the last stage's go back to stage 0).
 * -ECANCELED once closed (the buffer is then simply dropped: the pool owns it). */
int queue_pass(Queue *q, unsigned stage, QueueBuffer *b);

void queue_close(Queue *q);
