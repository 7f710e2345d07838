/* SPDX-License-Identifier: MIT */
/* The cost of the metrics file per write (tests/bench/bench-metrics.sh builds and runs this):
 * a state of nine steps, formatted N times, then written N times into DIR as during a run
 * (temporary file, rename) and N times as at its end (with the fsyncs of the file and the
 * directory). Prints "format_us write_us durable_write_us bytes", medians. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

static const char *service_of(const char *step, void *userdata) {
        (void) userdata;
        return strncmp(step, "chainfire", 9) == 0 ? "chainfire" : strncmp(step, "flaredb", 7) == 0 ? "flaredb" : NULL;
}

static int cmp(const void *a, const void *b) {
        usec_t x = *(const usec_t *) a, y = *(const usec_t *) b;
        return x < y ? -1 : x > y;
}

int main(int argc, char *argv[]) {
        static const char *const steps[] = { "identity", "config", "chainfire-health", "chainfire-join",
                                             "flaredb-health", "flaredb-join", "iam-health", "iam-setup",
                                             "health-report" };
        MetricsInfo info = { .version = "0.1.0", .node_id = "node04", .cluster = "prod", .reports_pending = 0,
                             .service_of = service_of };
        State *s = NULL;
        size_t size = 0;
        int n;

        if (argc != 3 || (n = (int) strtol(argv[2], NULL, 10)) <= 0 || state_new(argv[1], &s) < 0)
                return 2;
        usec_t *fmt = calloc(n, sizeof *fmt), *wr = calloc(n, sizeof *wr), *dur = calloc(n, sizeof *dur);
        s->mode = strdup("firstboot");
        s->result = RUN_RESULT_RUNNING;
        s->run_started = now_realtime();
        for (size_t i = 0; i < 9; i++) {
                StepState *st = state_step(s, steps[i]);
                st->status = i < 4 ? STEP_STATUS_DONE : i == 4 ? STEP_STATUS_RUNNING : STEP_STATUS_PENDING;
                st->duration_ms = 100 * i;
                st->attempts = 1;
                st->started = i <= 4 ? now_realtime() : 0;
        }
        for (int i = 0; i < n; i++) {
                char *text;
                usec_t t = now_monotonic();
                if (metrics_format(s, &info, &text, &size) < 0)
                        return 1;
                fmt[i] = now_monotonic() - t;
                free(text);
        }
        for (int i = 0; i < n; i++) {
                usec_t t = now_monotonic();
                if (metrics_write(argv[1], s, &info, false) < 0)
                        return 1;
                wr[i] = now_monotonic() - t;
        }
        for (int i = 0; i < n; i++) {
                usec_t t = now_monotonic();
                if (metrics_write(argv[1], s, &info, true) < 0)
                        return 1;
                dur[i] = now_monotonic() - t;
        }
        qsort(fmt, n, sizeof *fmt, cmp);
        qsort(wr, n, sizeof *wr, cmp);
        qsort(dur, n, sizeof *dur, cmp);
        printf("%llu %llu %llu %zu\n", (unsigned long long) fmt[n / 2], (unsigned long long) wr[n / 2],
               (unsigned long long) dur[n / 2], size);
        state_free(s);
        free(fmt);
        free(wr);
        free(dur);
        return 0;
}
