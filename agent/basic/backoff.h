/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>

#include "time-util.h"

/* Exponential backoff with "equal jitter": attempt n waits a random time in [d/2, d] where
 * d = min(max, initial * 2^n). Half of each delay is kept so the schedule still grows; the other
 * half is random so that many nodes booted together do not call the leader in lock step. */
typedef struct Backoff {
        usec_t initial;
        usec_t max;
        unsigned attempt;
        uint64_t rng;           /* xorshift64 state, never 0 */
} Backoff;

void backoff_init(Backoff *b, usec_t initial, usec_t max, uint64_t seed);
/* The delay before the next attempt; advances the schedule. */
usec_t backoff_next(Backoff *b);
void backoff_reset(Backoff *b);
