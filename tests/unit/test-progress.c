/* SPDX-License-Identifier: MIT */
#include <math.h>

#include "progress.h"
#include "tap.h"

/* The rate progress shows: over the last few seconds, 0 as soon as nothing moves, not the
 * average since the start. */

#define S USEC_PER_SEC
#define MB 1000000ULL

static bool near(double a, double b) {
        return fabs(a - b) < 0.01 * (b > 1 ? b : 1);
}

int main(void) {
        Progress p;
        usec_t t0;
        double r = 0;

        progress_init(&p, "system", "/dev/null", false, 5 * S, NULL);
        t0 = p.started;

        /* 100 MB/s for 10 s, a sample every 200 ms (as the flash's watch loop takes them). */
        for (usec_t t = 200 * USEC_PER_MSEC; t <= 10 * S; t += 200 * USEC_PER_MSEC)
                r = progress_rate(&p, t0 + t, t * 100);     /* bytes/µs = MB/s */
        ok(near(r, 100), "steady 100 MB/s: %.1f", r);

        /* Then nothing for 4 s: the rate falls to 0 once the window has passed. */
        for (usec_t t = 10 * S + 200 * USEC_PER_MSEC; t <= 12 * S; t += 200 * USEC_PER_MSEC)
                r = progress_rate(&p, t0 + t, 1000 * MB);
        ok(r > 0 && r < 100, "2 s into a stall, part of the window still moved: %.1f", r);
        for (usec_t t = 12 * S + 200 * USEC_PER_MSEC; t <= 14 * S; t += 200 * USEC_PER_MSEC)
                r = progress_rate(&p, t0 + t, 1000 * MB);
        ok(r == 0.0, "4 s into a stall: 0 MB/s (the average since the start would be 71 MB/s)");

        /* It picks up again at 50 MB/s: the rate follows within the window. */
        for (usec_t t = 14 * S + 200 * USEC_PER_MSEC; t <= 20 * S; t += 200 * USEC_PER_MSEC)
                r = progress_rate(&p, t0 + t, 1000 * MB + (t - 14 * S) * 50);
        ok(near(r, 50), "50 MB/s again: %.1f", r);

        /* Called more often than samples are kept: still the same rate. */
        r = progress_rate(&p, t0 + 20 * S + 1, 1300 * MB);
        ok(near(r, 50), "a call right after another: %.1f", r);
        /* After a gap with no calls, the rate spans the gap; once calls go on, 0 again. */
        r = progress_rate(&p, t0 + 60 * S, 1300 * MB);
        ok(r < 1, "after a 40 s gap with nothing new: %.2f", r);
        for (usec_t t = 60 * S; t <= 64 * S; t += 200 * USEC_PER_MSEC)
                r = progress_rate(&p, t0 + t, 1300 * MB);
        ok(r == 0.0, "and then: %.1f", r);

        /* Right at the start: measured from the start itself. */
        progress_init(&p, "system", "/dev/null", false, 5 * S, NULL);
        r = progress_rate(&p, p.started + S / 2, 20 * MB);
        ok(near(r, 40), "first half second, 20 MB: %.1f MB/s", r);

        return tap_done();
}
