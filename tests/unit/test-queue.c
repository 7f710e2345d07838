/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "queue.h"
#include "tap.h"

/* The buffer ring of the flash pipeline: order within a stage, buffers coming back emptied, a
 * bounded pool under a fast producer, and close waking every waiter. */

#define ITEMS 20000

static void test_single_thread(void) {
        Queue q;
        QueueBuffer *b[3];

        is_int(queue_init(&q, 3, 8192, 2, true), 0, "a pool of 3 buffers, 2 stages, zero maps");
        for (int i = 0; i < 3; i++) {
                b[i] = queue_take(&q, 0);
                ok(b[i] && b[i]->capacity == 8192 && b[i]->size == 0 && !b[i]->last, "free buffer %d", i);
        }
        ok(((uintptr_t) b[0]->data & 4095) == 0, "page-aligned");
        ok(b[0]->zero_map != NULL, "with a zero map");
        memset(b[0]->zero_map, 0, sizeof(uint64_t));
        b[0]->zero_map[0] |= 2;
        ok(!QUEUE_ZERO_MAP_TEST(b[0], 0) && QUEUE_ZERO_MAP_TEST(b[0], 1), "zero map bits");

        for (int i = 0; i < 3; i++) {
                b[i]->offset = (uint64_t) i * 100;
                b[i]->size = 10;
                b[i]->last = i == 2;
                is_int(queue_pass(&q, 0, b[i]), 0, "pass buffer %d on", i);
        }
        for (int i = 0; i < 3; i++) {
                QueueBuffer *x = queue_take(&q, 1);

                ok(x && x->offset == (uint64_t) i * 100, "stage 1 gets them in order (%d)", i);
                is_int(queue_pass(&q, 1, x), 0, "and passes it back to the pool");
        }
        for (int i = 0; i < 3; i++) {
                QueueBuffer *x = queue_take(&q, 0);

                ok(x && x->size == 0 && x->offset == 0 && !x->last, "back in the pool emptied (%d)", i);
                b[i] = x;
        }
        queue_close(&q);
        ok(queue_take(&q, 0) == NULL, "nothing taken once closed");
        is_int(queue_pass(&q, 0, b[0]), -ECANCELED, "nothing passed once closed");
        queue_done(&q);
}

typedef struct Pipe {
        Queue q;
        unsigned long sum;
        unsigned long count;
        bool in_order;
        size_t max_in_flight;
} Pipe;

static void *consumer(void *arg) {
        Pipe *p = arg;
        uint64_t expect = 0;

        for (;;) {
                QueueBuffer *b = queue_take(&p->q, 1);
                bool last;

                if (!b)
                        break;
                if (b->offset != expect)
                        p->in_order = false;
                expect++;
                p->sum += b->data[0];
                p->count++;
                last = b->last;
                (void) queue_pass(&p->q, 1, b);
                if (last)
                        break;
        }
        return NULL;
}

static void test_threads(void) {
        Pipe p = { .in_order = true };
        unsigned long sum = 0;
        pthread_t t;

        is_int(queue_init(&p.q, 4, 4096, 2, false), 0, "a pool of 4 for two threads");
        ok(pthread_create(&t, NULL, consumer, &p) == 0, "consumer thread");
        for (uint64_t i = 0; i < ITEMS; i++) {
                QueueBuffer *b = queue_take(&p.q, 0);

                if (!b)
                        break;
                b->data[0] = (uint8_t) (i * 7);
                b->size = 1;
                b->offset = i;
                b->last = i == ITEMS - 1;
                sum += (uint8_t) (i * 7);
                (void) queue_pass(&p.q, 0, b);
        }
        pthread_join(t, NULL);
        is_int(p.count, ITEMS, "every buffer arrived");
        ok(p.in_order, "in order");
        is_int(p.sum, sum, "with its content");
        queue_done(&p.q);
}

static void *blocked_taker(void *arg) {
        Queue *q = arg;

        return queue_take(q, 1);
}

static void test_close_wakes(void) {
        Queue q;
        pthread_t t;
        void *got = (void *) 1;

        is_int(queue_init(&q, 2, 4096, 2, false), 0, "a pool");
        ok(pthread_create(&t, NULL, blocked_taker, &q) == 0, "a thread waits on an empty stage");
        usleep(50 * 1000);
        queue_close(&q);
        pthread_join(t, &got);
        ok(got == NULL, "close wakes it with nothing");
        queue_done(&q);
}

int main(void) {
        test_single_thread();
        test_threads();
        test_close_wakes();
        return tap_done();
}
