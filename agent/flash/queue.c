/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "queue.h"
#include "time-util.h"

static void push(QueueStage *s, size_t n_buffers, QueueBuffer *b) {
        s->ring[(s->head + s->n) % n_buffers] = b;
        s->n++;
}

int queue_init(Queue *q, size_t n_buffers, size_t capacity, unsigned n_stages, bool zero_maps) {
        if (n_stages < 2 || n_stages > QUEUE_MAX_STAGES || n_buffers == 0)
                return -EINVAL;
        *q = (Queue) { .n_buffers = n_buffers, .n_stages = n_stages };
        q->buffers = calloc(n_buffers, sizeof *q->buffers);
        if (!q->buffers)
                goto oom;
        for (unsigned s = 0; s < n_stages; s++) {
                q->stages[s].ring = calloc(n_buffers, sizeof(QueueBuffer *));
                if (!q->stages[s].ring)
                        goto oom;
        }
        for (size_t i = 0; i < n_buffers; i++) {
                void *p;

                if (posix_memalign(&p, 4096, capacity) != 0)
                        goto oom;
                q->buffers[i] = (QueueBuffer) { .data = p, .capacity = capacity };
                if (zero_maps) {
                        q->buffers[i].zero_map = calloc((capacity / QUEUE_GRAIN + 63) / 64, sizeof(uint64_t));
                        if (!q->buffers[i].zero_map)
                                goto oom;
                }
                push(&q->stages[0], n_buffers, &q->buffers[i]);
        }
        pthread_mutex_init(&q->lock, NULL);
        for (unsigned s = 0; s < n_stages; s++)
                pthread_cond_init(&q->stages[s].filled, NULL);
        return 0;
oom:
        for (size_t i = 0; q->buffers && i < n_buffers; i++) {
                free(q->buffers[i].data);
                free(q->buffers[i].zero_map);
        }
        free(q->buffers);
        for (unsigned s = 0; s < n_stages; s++)
                free(q->stages[s].ring);
        *q = (Queue) {};
        return -ENOMEM;
}

void queue_done(Queue *q) {
        if (!q->buffers)
                return;
        for (size_t i = 0; i < q->n_buffers; i++) {
                free(q->buffers[i].data);
                free(q->buffers[i].zero_map);
        }
        free(q->buffers);
        for (unsigned s = 0; s < q->n_stages; s++) {
                free(q->stages[s].ring);
                pthread_cond_destroy(&q->stages[s].filled);
        }
        pthread_mutex_destroy(&q->lock);
        *q = (Queue) {};
}

QueueBuffer *queue_take(Queue *q, unsigned stage) {
        QueueStage *s = &q->stages[stage];
        QueueBuffer *b = NULL;

        pthread_mutex_lock(&q->lock);
        if (!q->closed && s->n == 0) {
                usec_t t = now_monotonic();

                /* The free stage waits for half the pool (see above); the others for one. */
                s->want = stage == 0 ? MAX(q->n_buffers / 2, (size_t) 1) : 1;
                while (!q->closed && s->n < s->want)
                        pthread_cond_wait(&s->filled, &q->lock);
                s->want = 0;
                s->wait_usec += now_monotonic() - t;
        }
        if (!q->closed) {
                b = s->ring[s->head];
                s->head = (s->head + 1) % q->n_buffers;
                s->n--;
                if (stage == 0) {
                        b->size = 0;
                        b->offset = 0;
                        b->last = false;
                        b->stream_end = false;
                }
        }
        pthread_mutex_unlock(&q->lock);
        return b;
}

int queue_pass(Queue *q, unsigned stage, QueueBuffer *b) {
        int r = 0;

        pthread_mutex_lock(&q->lock);
        if (q->closed)
                r = -ECANCELED;
        else {
                QueueStage *next = &q->stages[(stage + 1) % q->n_stages];

                push(next, q->n_buffers, b);
                if (next->want > 0 && next->n >= next->want)
                        pthread_cond_signal(&next->filled);     /* one thread per stage */
        }
        pthread_mutex_unlock(&q->lock);
        return r;
}

void queue_close(Queue *q) {
        pthread_mutex_lock(&q->lock);
        q->closed = true;
        for (unsigned s = 0; s < q->n_stages; s++)
                pthread_cond_broadcast(&q->stages[s].filled);
        pthread_mutex_unlock(&q->lock);
}
