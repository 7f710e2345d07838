/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "log.h"
#include "notify.h"
#include "progress.h"

#define LINE_INTERVAL (200 * USEC_PER_MSEC)

void progress_init(Progress *p, const char *name, const char *device, bool tty, usec_t interval,
                   FlashReporter *reporter) {
        *p = (Progress) {
                .name = name,
                .device = device,
                .tty = tty && isatty(STDERR_FILENO),
                .started = now_monotonic(),
                .interval = interval ?: 5 * USEC_PER_SEC,
                .reporter = reporter,
        };
        p->last_record = p->started;
}

double progress_mbps(const Progress *p, uint64_t bytes) {
        usec_t elapsed = now_monotonic() - p->started;

        return elapsed > 0 ? (double) bytes / (double) elapsed : 0.0;   /* bytes/µs = MB/s */
}

double progress_rate(Progress *p, usec_t now, uint64_t bytes) {
        ProgressSample from = { .time = p->started, .bytes = 0 };
        const ProgressSample *newest = p->n_samples > 0
                ? &p->samples[(p->next_sample + PROGRESS_SAMPLES - 1) % PROGRESS_SAMPLES] : NULL;

        /* The oldest sample still inside the window (or the start, while the run is young). */
        for (unsigned i = 0; i < p->n_samples; i++) {
                const ProgressSample *s = &p->samples[(p->next_sample + PROGRESS_SAMPLES - p->n_samples + i) %
                                                      PROGRESS_SAMPLES];

                if (now - s->time <= PROGRESS_RATE_WINDOW) {
                        from = *s;
                        break;
                }
                from = *s;      /* older than the window: the best there is so far */
        }
        if (!newest || now - newest->time >= PROGRESS_RATE_WINDOW / 8) {
                p->samples[p->next_sample] = (ProgressSample) { .time = now, .bytes = bytes };
                p->next_sample = (p->next_sample + 1) % PROGRESS_SAMPLES;
                p->n_samples = MIN(p->n_samples + 1, (unsigned) PROGRESS_SAMPLES);
        }
        if (now <= from.time || bytes < from.bytes)
                return 0.0;
        return (double) (bytes - from.bytes) / (double) (now - from.time);     /* bytes/µs = MB/s */
}

void progress_break(Progress *p) {
        if (p->line_drawn) {
                fputc('\n', stderr);
                p->line_drawn = false;
        }
}

void progress_update(Progress *p, uint64_t bytes, int percent, bool force_record) {
        usec_t n = now_monotonic();
        double mbps = progress_rate(p, n, bytes);
        char pct[16] = "?";

        if (percent >= 0)
                snprintf(pct, sizeof pct, "%d", percent);

        if (p->tty && (n - p->last_line >= LINE_INTERVAL || force_record)) {
                fprintf(stderr, "\r\033[K%s → %s: %s written, %s%%, %.0f MB/s", p->name, p->device,
                        FMT_BYTES(bytes), pct, mbps);
                fflush(stderr);
                p->line_drawn = true;
                p->last_line = n;
        }
        if (n - p->last_record < p->interval && !force_record)
                return;
        p->last_record = n;

        progress_break(p);
        log_event(LOG_INFO, MID_FLASH_PROGRESS,
                  LOG_FIELDS("TARGET", p->name, "DEVICE", p->device, "BYTES", FMT_U64(bytes),
                             "PERCENT", percent >= 0 ? FMT_INT(percent) : NULL,
                             "MBPS", FMT_INT((int64_t) mbps)),
                  "Flashing '%s' to %s: %s written (%s%%), %.0f MB/s.", p->name, p->device,
                  FMT_BYTES(bytes), pct, mbps);
        notify_status("Flashing %s to %s: %s%%, %.0f MB/s", p->name, p->device, pct, mbps);

        if (p->reporter && p->reporter->reporter) {
                json_t *f = json_pack("{s:s, s:s, s:I, s:f}", "image", p->name, "device", p->device,
                                      "bytes", (json_int_t) bytes, "mbps", mbps);

                if (f && percent >= 0)
                        (void) json_object_set_new(f, "percent", json_integer(percent));
                flash_report(p->reporter, "flash-progress", f);
                json_decref(f);
        }
}
