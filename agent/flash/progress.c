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
#include "target.h"

#define LINE_INTERVAL (200 * USEC_PER_MSEC)

int reporter_init(Reporter *r, const Config *c) {
        HttpTlsOptions tls = {};
        int k;

        *r = (Reporter) { .url = c->report.url, .node_id = c->node_id };
        if (!c->report.url)
                return 0;
        tls = (HttpTlsOptions) {
                .ca_file = c->tls.ca_cert_path,
                .cert_file = c->tls.node_cert_path,
                .key_file = c->tls.node_key_path,
                .insecure = c->tls.insecure_skip_verify,
        };
        k = http_client_new(&tls, (long) (c->timeouts.connect / USEC_PER_MSEC),
                            (long) ((c->report.timeout ?: 5 * USEC_PER_SEC) / USEC_PER_MSEC), &r->client);
        if (k < 0)
                return log_warning_errno(k, "Cannot set up reports to '%s': %m. Flashing without reports.",
                                         c->report.url), 0;
        return 0;
}

void reporter_done(Reporter *r) {
        r->client = http_client_free(r->client);
}

void reporter_send(Reporter *r, const char *event, json_t *fields) {
        _cleanup_free_ char *body = NULL;
        char ts[ISO8601_MAX] = "";
        HttpResponse resp = {};
        json_t *o;
        int k;

        if (!r || !r->client)
                return;
        (void) iso8601_format(now_realtime(), ts);
        o = json_pack("{s:s, s:s?, s:s}", "event", event, "node_id", r->node_id, "time", ts);
        if (!o)
                return;
        if (fields)
                (void) json_object_update(o, fields);
        body = json_dumps(o, JSON_COMPACT);
        json_decref(o);
        if (!body)
                return;

        k = http_perform(r->client, &(HttpRequest) { .method = "POST", .url = r->url, .body = body }, &resp);
        if (k >= 0 && resp.status >= 200 && resp.status < 300)
                log_debug("Report '%s' sent to %s.", event, r->url);
        else if (!r->warned || streq(event, "flash-done") || streq(event, "flash-failed")) {
                /* Once per run for progress reports, always for the outcome. */
                r->warned = true;
                if (k < 0)
                        log_event_errno(LOG_WARNING, k, MID_REPORT_FAILED, LOG_FIELDS("URL", r->url),
                                        "Could not send the '%s' report to %s: %s.", event, r->url,
                                        resp.error[0] ? resp.error : "connection failed");
                else
                        log_event(LOG_WARNING, MID_REPORT_FAILED,
                                  LOG_FIELDS("URL", r->url, "HTTP_STATUS", FMT_INT(resp.status)),
                                  "The report server answered HTTP %ld to the '%s' report.", resp.status, event);
        }
        http_response_done(&resp);
}

void progress_init(Progress *p, const char *name, const char *device, bool tty, usec_t interval,
                   Reporter *reporter) {
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

void progress_break(Progress *p) {
        if (p->line_drawn) {
                fputc('\n', stderr);
                p->line_drawn = false;
        }
}

void progress_update(Progress *p, uint64_t bytes, int percent, bool force_record) {
        usec_t n = now_monotonic();
        double mbps = progress_mbps(p, bytes);
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

        if (p->reporter && p->reporter->client) {
                json_t *f = json_pack("{s:s, s:s, s:I, s:f}", "image", p->name, "device", p->device,
                                      "bytes", (json_int_t) bytes, "mbps", mbps);

                if (f && percent >= 0)
                        (void) json_object_set_new(f, "percent", json_integer(percent));
                reporter_send(p->reporter, "flash-progress", f);
                json_decref(f);
        }
}
