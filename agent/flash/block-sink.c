/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "block-sink.h"
#include "macro.h"
#include "zeroout.h"

#define GRAIN QUEUE_GRAIN

static inline void map_set(QueueBuffer *b, size_t grain, bool zero) {
        uint64_t bit = UINT64_C(1) << (grain % 64);

        if (zero)
                b->zero_map[grain / 64] |= bit;
        else
                b->zero_map[grain / 64] &= ~bit;
}

void block_sink_init(BlockSink *s, Queue *q, uint64_t offset) {
        *s = (BlockSink) { .queue = q, .offset = offset };
}

void block_sink_done(BlockSink *s) {
        if (s->b)
                (void) queue_pass(s->queue, s->queue->n_stages - 1, s->b);   /* back to the free stage */
        s->b = NULL;
}

static int take(BlockSink *s) {
        usec_t t = now_monotonic();

        s->b = queue_take(s->queue, 0);
        s->waited += now_monotonic() - t;
        if (!s->b)
                return -ECANCELED;
        s->b->offset = s->offset;
        return 0;
}

int block_sink_pass(BlockSink *s, bool last, bool stream_end) {
        QueueBuffer *b;
        int r;

        if (!s->b) {
                r = take(s);
                if (r < 0)
                        return r;
        }
        b = TAKE_PTR(s->b);
        b->last = last;
        b->stream_end = stream_end;
        return queue_pass(s->queue, 0, b);
}

/* Room in the block being filled, taking the next block when it is full. */
static int room(BlockSink *s, uint64_t n, size_t *ret) {
        int r;

        if (s->limit > 0 && s->offset + n > s->limit)
                return -EFBIG;
        if (s->b && s->b->size == s->b->capacity) {
                r = block_sink_pass(s, false, false);
                if (r < 0)
                        return r;
        }
        if (!s->b) {
                r = take(s);
                if (r < 0)
                        return r;
        }
        *ret = s->b->capacity - s->b->size;
        return 0;
}

int block_sink_data(BlockSink *s, const uint8_t *p, size_t n) {
        while (n > 0) {
                QueueBuffer *b;
                size_t k, pos, g_end;
                usec_t t;
                int r;

                r = room(s, n, &k);
                if (r < 0)
                        return r;
                b = s->b;
                k = MIN(k, n);
                pos = b->size;
                memcpy(b->data + pos, p, k);
                b->size += k;
                /* Every grain completed now is checked; an incomplete one is data for now. */
                t = now_monotonic();
                g_end = b->size / GRAIN;
                for (size_t g = pos / GRAIN; g < g_end; g++)
                        map_set(b, g, buffer_is_zero(b->data + g * GRAIN, GRAIN));
                if (b->size % GRAIN != 0)
                        map_set(b, g_end, false);
                s->scan_usec += now_monotonic() - t;
                s->offset += k;
                p += k;
                n -= k;
        }
        return 0;
}

int block_sink_zero(BlockSink *s, uint64_t n) {
        s->zero_run_bytes += n;
        while (n > 0) {
                QueueBuffer *b;
                size_t k, pos, part;
                int r;

                r = room(s, n, &k);
                if (r < 0)
                        return r;
                b = s->b;
                pos = b->size;
                part = pos % GRAIN;
                if (part != 0 || n < GRAIN) {
                        /* A partial grain: as bytes; checked once complete (it may be all zero). */
                        k = (size_t) MIN(n, (uint64_t) (GRAIN - part));
                        memset(b->data + pos, 0, k);
                        b->size += k;
                        if (b->size % GRAIN == 0)
                                map_set(b, pos / GRAIN, buffer_is_zero(b->data + pos - part, GRAIN));
                        else
                                map_set(b, pos / GRAIN, false);
                } else {
                        k = (size_t) MIN(n - n % GRAIN, (uint64_t) k);
                        for (size_t g = pos / GRAIN; g < (pos + k) / GRAIN; g++)
                                map_set(b, g, true);
                        b->size += k;
                }
                s->offset += k;
                n -= k;
        }
        return 0;
}

int block_sink_take(BlockSink *s, QueueBuffer *src) {
        int r;

        if ((!s->b || s->b->size == 0) && s->offset % GRAIN == 0 && src->size % GRAIN == 0 && src->size > 0 &&
            (s->limit == 0 || s->offset + src->size <= s->limit)) {
                uint8_t *data;
                uint64_t *map;

                if (!s->b) {
                        r = take(s);
                        if (r < 0)
                                return r;
                }
                data = s->b->data, map = s->b->zero_map;
                s->b->data = src->data, s->b->zero_map = src->zero_map;
                src->data = data, src->zero_map = map;
                s->b->size = src->size;
                s->offset += src->size;
                src->size = 0;
                return block_sink_pass(s, false, false);
        }
        for (size_t i = 0; i < src->size; i += GRAIN) {
                size_t n = MIN((size_t) GRAIN, src->size - i);

                if (n == GRAIN && QUEUE_ZERO_MAP_TEST(src, i / GRAIN))
                        r = block_sink_zero(s, n);
                else
                        r = block_sink_data(s, src->data + i, n);
                if (r < 0)
                        return r;
        }
        src->size = 0;
        return 0;
}
