/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint64_t usec_t;

#define USEC_PER_SEC ((usec_t) 1000000ULL)
#define USEC_PER_MSEC ((usec_t) 1000ULL)
#define USEC_INFINITY ((usec_t) UINT64_MAX)

/* "2025-12-10T10:30:45+00:00" plus NUL; a local offset never makes it longer. */
#define ISO8601_MAX 32

usec_t now_monotonic(void);
usec_t now_realtime(void);

/* Formats a CLOCK_REALTIME timestamp as ISO 8601 with seconds and a numeric UTC offset. */
int iso8601_format(usec_t t, char buf[static ISO8601_MAX]);
/* Parses what iso8601_format() writes (and "Z" for UTC). */
int iso8601_parse(const char *s, usec_t *ret);

/* Sleeps, restarting after signals, until the duration has passed. */
void sleep_usec(usec_t duration);
