/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "flash-report.h"
#include "log.h"
#include "metrics.h"

void flash_reporter_init(FlashReporter *fr, const Config *c) {
        TlsOptions tls = {
                .ca_file = c->tls.ca_cert_path,
                .cert_file = c->tls.node_cert_path,
                .key_file = c->tls.node_key_path,
                .insecure = c->tls.insecure_skip_verify,
        };
        int r;

        *fr = (FlashReporter) {};
        if (!c->report.url)
                return;
        r = reporter_new(c->report.url, c->node_id, &tls, c->timeouts.connect, c->report.timeout, &fr->reporter);
        if (r < 0)
                log_warning_errno(r, "Cannot set up reports to '%s': %m. Flashing without reports.", c->report.url);
}

void flash_reporter_done(FlashReporter *fr) {
        fr->reporter = reporter_free(fr->reporter);
}

void flash_report(FlashReporter *fr, const char *event, json_t *fields) {
        const char *url = reporter_url(fr->reporter);
        ReportResult res;
        int r;

        if (!fr->reporter)
                return;
        r = report_send(fr->reporter, event, fields, &res);
        if (r >= 0) {
                log_debug("Report '%s' sent to %s.", event, url);
                return;
        }
        /* Once per run for progress reports, always for the outcome. */
        if (fr->warned && !streq(event, "flash-done") && !streq(event, "flash-failed"))
                return;
        fr->warned = true;
        if (res.status > 0)
                log_event(LOG_WARNING, MID_REPORT_FAILED,
                          LOG_FIELDS("URL", url, "HTTP_STATUS", FMT_INT(res.status)),
                          "The report server answered %s to the '%s' report.", res.error, event);
        else
                log_event_errno(LOG_WARNING, r, MID_REPORT_FAILED, LOG_FIELDS("URL", url),
                                "Could not send the '%s' report to %s: %s.", event, url, res.error);
}

void flash_metrics_write(const Config *c, const State *s) {
        const MetricsInfo info = {
                .version = PACKAGE_VERSION,
                .node_id = c->node_id,
                .cluster = c->cluster_name,
                .reports_pending = -1,
        };
        int r;

        if (!c->metrics.enabled || !c->metrics.textfile_dir || !s)
                return;
        r = metrics_write(c->metrics.textfile_dir, s, &info, true);
        if (r == -ENOENT)
                log_debug("The metrics directory '%s' (metrics.textfile_dir) does not exist: no metrics written.",
                          c->metrics.textfile_dir);
        else if (r < 0)
                log_warning_errno(r, "Failed to write the metrics file '%s/%s' (metrics.textfile_dir): %m",
                                  c->metrics.textfile_dir, METRICS_FILE_NAME);
}
