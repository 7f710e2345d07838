/* SPDX-License-Identifier: MIT */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "flash-report.h"
#include "time-util.h"

/* How a flash shows itself: a progress line on a terminal, MID_FLASH_PROGRESS records every
 * progress interval, sd_notify STATUS=, and flash-progress reports (flash-report.h). The rate
 * shown is the current one, over the last PROGRESS_RATE_WINDOW: a stall shows as 0 MB/s at
 * once, not as a slowly falling average. */

#define PROGRESS_RATE_WINDOW (3 * USEC_PER_SEC)
#define PROGRESS_SAMPLES 16

typedef struct ProgressSample {
        usec_t time;
        uint64_t bytes;
} ProgressSample;

typedef struct Progress {
        const char *name;               /* image or firmware name */
        const char *device;
        bool tty;                       /* draw the line on stderr */
        bool line_drawn;
        usec_t started;
        usec_t last_line, last_record;
        usec_t interval;
        FlashReporter *reporter;
        ProgressSample samples[PROGRESS_SAMPLES];       /* ring, one every window / 8 at most */
        unsigned n_samples, next_sample;
} Progress;

void progress_init(Progress *p, const char *name, const char *device, bool tty, usec_t interval,
                   FlashReporter *reporter);
/* bytes: of the image written; percent: 0..100, or negative when unknown. Draws the line at
 * most 5 times a second, logs and reports every interval. */
void progress_update(Progress *p, uint64_t bytes, int percent, bool force_record);
/* Ends the terminal line (before other output, and at the end). */
void progress_break(Progress *p);
/* The average since the start, in MB/s (for the end). */
double progress_mbps(const Progress *p, uint64_t bytes);
/* The rate over the last PROGRESS_RATE_WINDOW (less at the start), in MB/s, given the bytes
 * now; remembers them. */
double progress_rate(Progress *p, usec_t now, uint64_t bytes);
