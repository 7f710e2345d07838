/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

#include "time-util.h"

/* Reports that could not be delivered yet, one file each in a spool directory
 * (STATE_DIR/reports): NNNNNNNNNNNNNNNNNNNN-EVENT.json, named after the time they were made so
 * that a listing is their order, mode 0600. A bounded queue: the oldest are dropped beyond
 * REPORT_SPOOL_MAX files or REPORT_SPOOL_MAX_AGE. Never logs. */

#define REPORT_SPOOL_DIR "reports"
#define REPORT_SPOOL_MAX 32
#define REPORT_SPOOL_MAX_AGE (7ULL * 24 * 3600 * USEC_PER_SEC)

/* Writes body as a new file in dir (created 0700), then drops what is over the bound. Returns 0,
 * or negative errno; ret_dropped (may be NULL) counts the files dropped. */
int report_spool_add(const char *dir, const char *event, const char *body, unsigned *ret_dropped);

/* The spooled files, oldest first, as full paths (a NULL-terminated list, possibly empty). A
 * missing directory is an empty spool. */
int report_spool_list(const char *dir, char ***ret);

/* How many reports wait, and the event and time of the oldest (either may be NULL). */
int report_spool_pending(const char *dir, size_t *ret_n, char **ret_oldest_event, usec_t *ret_oldest_time);

/* Removes what is beyond the bound; returns how many were dropped, or negative errno. */
int report_spool_prune(const char *dir);
