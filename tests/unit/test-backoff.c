/* SPDX-License-Identifier: MIT */
#include "backoff.h"
#include "tap.h"

int main(void) {
        Backoff b;
        usec_t prev_cap = 0;

        backoff_init(&b, 100 * USEC_PER_MSEC, 1600 * USEC_PER_MSEC, 42);
        for (unsigned i = 0; i < 8; i++) {
                usec_t cap = 100 * USEC_PER_MSEC << (i < 4 ? i : 4);
                usec_t d = backoff_next(&b);

                ok(d >= cap / 2 && d <= cap, "attempt %u waits %llu us, within [%llu, %llu]", i,
                   (unsigned long long) d, (unsigned long long) cap / 2, (unsigned long long) cap);
                ok(cap >= prev_cap, "attempt %u cap does not shrink", i);
                prev_cap = cap;
        }

        /* Jitter: two seeds give different schedules. */
        Backoff x, y;
        int differ = 0;
        backoff_init(&x, USEC_PER_SEC, 10 * USEC_PER_SEC, 1);
        backoff_init(&y, USEC_PER_SEC, 10 * USEC_PER_SEC, 2);
        for (int i = 0; i < 5; i++)
                differ += backoff_next(&x) != backoff_next(&y);
        ok(differ > 0, "different seeds give different delays");

        backoff_reset(&b);
        usec_t d = backoff_next(&b);
        ok(d <= 100 * USEC_PER_MSEC, "reset starts from the initial delay again");

        /* A zero seed and max < initial are repaired, not trusted. */
        backoff_init(&b, 500, 100, 0);
        ok(backoff_next(&b) <= 500, "max below initial is raised to initial");
        return tap_done();
}
