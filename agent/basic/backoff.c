/* SPDX-License-Identifier: MIT */
#include "backoff.h"

void backoff_init(Backoff *b, usec_t initial, usec_t max, uint64_t seed) {
        *b = (Backoff) {
                .initial = initial > 0 ? initial : 1,
                .max = max >= initial ? max : initial,
                .rng = seed ? seed : 0x9e3779b97f4a7c15ULL,
        };
}

void backoff_reset(Backoff *b) {
        b->attempt = 0;
}

static uint64_t xorshift64(uint64_t *s) {
        uint64_t x = *s;

        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *s = x;
        return x;
}

usec_t backoff_next(Backoff *b) {
        usec_t d = b->initial;

        for (unsigned i = 0; i < b->attempt && d < b->max; i++)
                d = d > b->max / 2 ? b->max : d * 2;
        if (d > b->max)
                d = b->max;
        if (b->attempt < 64)
                b->attempt++;

        return d / 2 + xorshift64(&b->rng) % (d / 2 + 1);
}
