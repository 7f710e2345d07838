/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "queue.h"

int queue_init(Queue *q, size_t n_buffers, size_t capacity) {
        *q = (Queue) { .n_buffers = n_buffers };
        q->buffers = calloc(n_buffers, sizeof *q->buffers);
        q->free_list = calloc(n_buffers, sizeof *q->free_list);
        q->full = calloc(n_buffers, sizeof *q->full);
        if (!q->buffers || !q->free_list || !q->full)
                goto oom;
        for (size_t i = 0; i < n_buffers; i++) {
                void *p;

                if (posix_memalign(&p, 4096, capacity) != 0)
                        goto oom;
                q->buffers[i] = (QueueBuffer) { .data = p, .capacity = capacity };
                q->free_list[q->n_free++] = &q->buffers[i];
        }
        pthread_mutex_init(&q->lock, NULL);
        pthread_cond_init(&q->changed, NULL);
        return 0;
oom:
        for (size_t i = 0; q->buffers && i < n_buffers; i++)
                free(q->buffers[i].data);
        free(q->buffers);
        free(q->free_list);
        free(q->full);
        *q = (Queue) {};
        return -ENOMEM;
}

void queue_done(Queue *q) {
        if (!q->buffers)
                return;
        for (size_t i = 0; i < q->n_buffers; i++)
                free(q->buffers[i].data);
        free(q->buffers);
        free(q->free_list);
        free(q->full);
        pthread_mutex_destroy(&q->lock);
        pthread_cond_destroy(&q->changed);
        *q = (Queue) {};
}

QueueBuffer *queue_get_free(Queue *q) {
        QueueBuffer *b = NULL;

        pthread_mutex_lock(&q->lock);
        while (!q->closed && q->n_free == 0)
                pthread_cond_wait(&q->changed, &q->lock);
        if (!q->closed) {
                b = q->free_list[--q->n_free];
                b->size = 0;
                b->offset = 0;
                b->last = false;
        }
        pthread_mutex_unlock(&q->lock);
        return b;
}

int queue_put_full(Queue *q, QueueBuffer *b) {
        int r = 0;

        pthread_mutex_lock(&q->lock);
        if (q->closed)
                r = -ECANCELED;
        else {
                q->full[(q->full_head + q->n_full) % q->n_buffers] = b;
                q->n_full++;
                pthread_cond_broadcast(&q->changed);
        }
        pthread_mutex_unlock(&q->lock);
        return r;
}

QueueBuffer *queue_get_full(Queue *q) {
        QueueBuffer *b = NULL;

        pthread_mutex_lock(&q->lock);
        while (!q->closed && q->n_full == 0)
                pthread_cond_wait(&q->changed, &q->lock);
        if (!q->closed) {
                b = q->full[q->full_head];
                q->full_head = (q->full_head + 1) % q->n_buffers;
                q->n_full--;
        }
        pthread_mutex_unlock(&q->lock);
        return b;
}

void queue_put_free(Queue *q, QueueBuffer *b) {
        pthread_mutex_lock(&q->lock);
        q->free_list[q->n_free++] = b;
        pthread_cond_broadcast(&q->changed);
        pthread_mutex_unlock(&q->lock);
}

void queue_close(Queue *q) {
        pthread_mutex_lock(&q->lock);
        q->closed = true;
        pthread_cond_broadcast(&q->changed);
        pthread_mutex_unlock(&q->lock);
}
