/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "block-sink.h"
#include "tap.h"

/* Runs of data and of zeroes into blocks: zero grains as bits with their memory untouched,
 * partial grains as bytes, blocks starting at grain boundaries; and blocks of another queue
 * taken in, by exchanging memory or grain by grain. */

#define CAP (64 * 1024)
#define G QUEUE_GRAIN

/* Reassembles what passed through stage 1 of q into out (zero grains from their bits). */
static size_t drain(Queue *q, uint8_t *out, bool *ret_last, unsigned *ret_zero_grains) {
        size_t n = 0;
        QueueBuffer *b;

        *ret_last = false;
        while (q->stages[1].n > 0 && (b = queue_take(q, 1))) {
                for (size_t i = 0; i < b->size; i += G) {
                        size_t k = b->size - i < G ? b->size - i : G;

                        if (QUEUE_ZERO_MAP_TEST(b, i / G)) {
                                memset(out + b->offset + i, 0, k);
                                (*ret_zero_grains)++;
                        } else
                                memcpy(out + b->offset + i, b->data + i, k);
                }
                n = b->offset + b->size;
                *ret_last = *ret_last || b->last;
                queue_pass(q, 1, b);
        }
        return n;
}

int main(void) {
        uint8_t *want = calloc(1, 1 << 20), *got = calloc(1, 1 << 20);
        unsigned zero_grains = 0;
        Queue q, other;
        BlockSink s;
        size_t n = 0, end = 0;
        bool last;

        ok(queue_init(&q, 64, CAP, 2, true) == 0, "queue");
        block_sink_init(&s, &q, 0);
        /* data 5000, zeroes 3000 (ends a grain, which is then all data+zero: data), zeroes 40000,
         * data 1, zeroes 100000, data 8192: grains of every kind. */
        for (size_t i = 0; i < 5000; i++)
                want[n++] = (uint8_t) (i | 1);
        ok(block_sink_data(&s, want, 5000) == 0, "data");
        ok(block_sink_zero(&s, 3000) == 0, "zeroes");
        n += 3000;
        ok(block_sink_zero(&s, 40000) == 0, "zeroes");
        n += 40000;
        want[n] = 9;
        ok(block_sink_data(&s, want + n, 1) == 0, "one byte");
        n += 1;
        ok(block_sink_zero(&s, 100000) == 0, "zeroes");
        n += 100000;
        memset(want + n, 0, 4096);              /* zero data: found zero by the scan */
        for (size_t i = 4096; i < 8192; i++)
                want[n + i] = 3;
        ok(block_sink_data(&s, want + n, 8192) == 0, "data");
        n += 8192;
        ok(block_sink_pass(&s, true, false) == 0, "pass");
        end = drain(&q, got, &last, &zero_grains);
        is_int(end, n, "every byte passed");
        ok(last, "the last block says so");
        ok(memcmp(got, want, n) == 0, "the same bytes");
        ok(zero_grains >= 30, "%u zero grains as bits", zero_grains);
        ok(s.zero_run_bytes == 143000, "zero runs counted");

        /* A limit. */
        block_sink_init(&s, &q, 0);
        s.limit = 10000;
        is_int(block_sink_zero(&s, 20000), -EFBIG, "past the limit: -EFBIG");
        block_sink_done(&s);

        /* Taking blocks of another queue: aligned ones by exchange, then an odd one. */
        ok(queue_init(&other, 4, CAP, 2, true) == 0, "another queue");
        block_sink_init(&s, &q, 0);
        memset(got, 0, 1 << 20);
        {
                QueueBuffer *b = queue_take(&other, 0);
                uint8_t *mem = b->data;

                memcpy(b->data, want, CAP);
                for (size_t i = 0; i < CAP / G; i++)
                        b->zero_map[i / 64] = (b->zero_map[i / 64] & ~(1ULL << (i % 64))) |
                                              ((uint64_t) (i >= 2 && i < 10) << (i % 64));
                memset(want + 2 * G, 0, 8 * G);
                memset(b->data + 2 * G, 0x55, 8 * G);   /* bytes of zero grains are not read */
                b->size = CAP;
                ok(block_sink_take(&s, b) == 0, "an aligned block");
                ok(b->data != mem && b->size == 0, "taken by exchanging memory");
                memcpy(b->data, want + CAP, 1000);
                memset(b->zero_map, 0, CAP / G / 8);
                b->size = 1000;
                ok(block_sink_take(&s, b) == 0, "an odd block");
                memcpy(b->data, want + CAP + 1000, 3 * G);
                memset(b->zero_map, 0, CAP / G / 8);
                b->size = 3 * G;
                ok(block_sink_take(&s, b) == 0, "then a whole one: copied, the sink is not at a block start");
                queue_pass(&other, 0, b);
                ok(block_sink_pass(&s, true, false) == 0, "pass");
                end = drain(&q, got, &last, &zero_grains);
                is_int(end, CAP + 1000 + 3 * G, "every byte");
                ok(memcmp(got, want, end) == 0, "the same bytes");
        }
        queue_done(&other);
        queue_done(&q);
        free(want);
        free(got);
        return tap_done();
}
