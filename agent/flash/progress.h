/* SPDX-License-Identifier: MIT */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "http.h"
#include "time-util.h"

/* How a flash shows itself: a progress line on a terminal, MID_FLASH_PROGRESS records every
 * progress interval, sd_notify STATUS=, and events POSTed to report.url:
 *   {"event":"flash-started|flash-progress|flash-done|flash-failed","node_id":…,"time":…,
 *    "image":…,"device":…,"bytes":…,"percent":…,"mbps":…,"sha256":…,"error":…}
 * A report that cannot be delivered is a warning, never a failure of the flash. */

typedef struct Reporter {
        HttpClient *client;             /* NULL: no report.url */
        const char *url;
        const char *node_id;
        bool warned;
} Reporter;

int reporter_init(Reporter *r, const Config *c);
void reporter_done(Reporter *r);
/* Sends {"event": event, "node_id", "time"} plus the members of fields (borrowed). */
void reporter_send(Reporter *r, const char *event, json_t *fields);

typedef struct Progress {
        const char *name;               /* image or firmware name */
        const char *device;
        bool tty;                       /* draw the line on stderr */
        bool line_drawn;
        usec_t started;
        usec_t last_line, last_record;
        usec_t interval;
        Reporter *reporter;
} Progress;

void progress_init(Progress *p, const char *name, const char *device, bool tty, usec_t interval,
                   Reporter *reporter);
/* bytes: of the image written; percent: 0..100, or negative when unknown. Draws the line at
 * most 5 times a second, logs and reports every interval. */
void progress_update(Progress *p, uint64_t bytes, int percent, bool force_record);
/* Ends the terminal line (before other output, and at the end). */
void progress_break(Progress *p);
double progress_mbps(const Progress *p, uint64_t bytes);
