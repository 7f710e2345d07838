/* SPDX-License-Identifier: MIT */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A fixed pool of equally sized, page-aligned buffers passed from a producer thread to a
 * consumer thread: the producer takes a free buffer, fills it and queues it; the consumer takes
 * it, uses it and gives it back. The pool size bounds the memory and makes a fast producer wait
 * for a slow consumer. Closing wakes every waiter (used to stop a pipeline on failure). */

typedef struct QueueBuffer {
        uint8_t *data;
        size_t capacity;
        size_t size;                    /* bytes used */
        uint64_t offset;                /* where data belongs in the stream */
        bool last;                      /* the final buffer of the stream (may be empty) */
} QueueBuffer;

typedef struct Queue {
        pthread_mutex_t lock;
        pthread_cond_t changed;
        QueueBuffer *buffers;
        size_t n_buffers;
        QueueBuffer **free_list;        /* stack of free buffers */
        size_t n_free;
        QueueBuffer **full;             /* FIFO ring of filled buffers */
        size_t full_head, n_full;
        bool closed;
} Queue;

int queue_init(Queue *q, size_t n_buffers, size_t capacity);
void queue_done(Queue *q);

/* Each blocks until it can proceed; returns NULL (get) or -ECANCELED (put) once closed. */
QueueBuffer *queue_get_free(Queue *q);
int queue_put_full(Queue *q, QueueBuffer *b);
QueueBuffer *queue_get_full(Queue *q);
void queue_put_free(Queue *q, QueueBuffer *b);

void queue_close(Queue *q);
