/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

#include "time-util.h"

/* Marker files: one per completed step, named as the older automation named them
 * (".chainfire-joined", …), holding the ISO 8601 time of completion. */

/* Writes dir/name atomically with the current time. */
int marker_write(const char *dir, const char *name);
/* 1 if it exists, 0 if not, negative errno when it cannot be checked. */
int marker_exists(const char *dir, const char *name);
/* Reads the time recorded; -ENOENT when absent, -EBADMSG when it does not hold a timestamp. */
int marker_read(const char *dir, const char *name, usec_t *ret);
/* Removes it; returns 1 if it was removed, 0 if it did not exist. */
int marker_remove(const char *dir, const char *name);
