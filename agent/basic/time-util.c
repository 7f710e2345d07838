/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "time-util.h"

static usec_t now_clock(clockid_t clock) {
        struct timespec ts;

        (void) clock_gettime(clock, &ts);
        return (usec_t) ts.tv_sec * USEC_PER_SEC + (usec_t) ts.tv_nsec / 1000;
}

usec_t now_monotonic(void) {
        return now_clock(CLOCK_MONOTONIC);
}

usec_t now_realtime(void) {
        return now_clock(CLOCK_REALTIME);
}

int iso8601_format(usec_t t, char buf[static ISO8601_MAX]) {
        time_t sec = (time_t) (t / USEC_PER_SEC);
        struct tm tm;

        if (!gmtime_r(&sec, &tm))
                return -EOVERFLOW;
        if (strftime(buf, ISO8601_MAX, "%Y-%m-%dT%H:%M:%S+00:00", &tm) == 0)
                return -EOVERFLOW;
        return 0;
}

int iso8601_parse(const char *s, usec_t *ret) {
        struct tm tm = {};
        const char *end;
        long offset = 0;
        time_t t;

        end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
        if (!end)
                return -EINVAL;
        if (*end == 'Z')
                end++;
        else if (*end == '+' || *end == '-') {
                int hh, mm, n = 0;

                if (sscanf(end + 1, "%2d:%2d%n", &hh, &mm, &n) != 2 || n != 5 || hh > 23 || mm > 59)
                        return -EINVAL;
                offset = (hh * 3600L + mm * 60L) * (*end == '-' ? -1 : 1);
                end += 6;
        } else
                return -EINVAL;
        if (*end != '\0' && *end != '\n')
                return -EINVAL;

        t = timegm(&tm);
        if (t == (time_t) -1)
                return -EINVAL;
        t -= offset;
        if (t < 0)
                return -ERANGE;
        *ret = (usec_t) t * USEC_PER_SEC;
        return 0;
}

void sleep_usec(usec_t duration) {
        struct timespec ts = {
                .tv_sec = (time_t) (duration / USEC_PER_SEC),
                .tv_nsec = (long) (duration % USEC_PER_SEC) * 1000,
        };

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}
