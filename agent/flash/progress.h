/* SPDX-License-Identifier: MIT */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "flash-report.h"
#include "time-util.h"

/* How a flash shows itself: a progress line on a terminal, MID_FLASH_PROGRESS records every
 * progress interval, sd_notify STATUS=, and flash-progress reports (flash-report.h). */

typedef struct Progress {
        const char *name;               /* image or firmware name */
        const char *device;
        bool tty;                       /* draw the line on stderr */
        bool line_drawn;
        usec_t started;
        usec_t last_line, last_record;
        usec_t interval;
        FlashReporter *reporter;
} Progress;

void progress_init(Progress *p, const char *name, const char *device, bool tty, usec_t interval,
                   FlashReporter *reporter);
/* bytes: of the image written; percent: 0..100, or negative when unknown. Draws the line at
 * most 5 times a second, logs and reports every interval. */
void progress_update(Progress *p, uint64_t bytes, int percent, bool force_record);
/* Ends the terminal line (before other output, and at the end). */
void progress_break(Progress *p);
double progress_mbps(const Progress *p, uint64_t bytes);
