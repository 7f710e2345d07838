/* SPDX-License-Identifier: MIT */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "config.h"
#include "report.h"
#include "state.h"

/* The flasher's reports (flash-started, flash-progress, flash-done, flash-failed) and how loud
 * one that did not arrive is: a warning once per run for progress, always for the outcome. A
 * report that cannot be delivered never fails the flash. */
typedef struct FlashReporter {
        Reporter *reporter;             /* NULL: no report.url, or it could not be set up */
        bool warned;
} FlashReporter;

/* Never fails: without a usable report.url the flash goes on without reports (logged). */
void flash_reporter_init(FlashReporter *fr, const Config *c);
void flash_reporter_done(FlashReporter *fr);
/* fields: the event's own members (borrowed), or NULL. */
void flash_report(FlashReporter *fr, const char *event, json_t *fields);

/* The node_exporter textfile (metrics.h) from the state's flash record, before the power action.
 * Never fails the flash: a missing metrics.textfile_dir skips it (debug record), another failure
 * is a warning. */
void flash_metrics_write(const Config *c, const State *s);
