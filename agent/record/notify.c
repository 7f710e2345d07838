/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <systemd/sd-daemon.h>

#include "cleanup.h"
#include "notify.h"

void notify_ready(void) {
        (void) sd_notify(0, "READY=1");
}

void notify_stopping(void) {
        (void) sd_notify(0, "STOPPING=1");
}

void notify_extend_timeout(uint64_t usec) {
        (void) sd_notifyf(0, "EXTEND_TIMEOUT_USEC=%" PRIu64, usec);
}

void notify_status(const char *format, ...) {
        _cleanup_free_ char *s = NULL;
        va_list ap;
        int r;

        if (!getenv("NOTIFY_SOCKET"))
                return;
        va_start(ap, format);
        r = vasprintf(&s, format, ap);
        va_end(ap);
        if (r < 0)
                return;
        (void) sd_notifyf(0, "STATUS=%s", s);
}
