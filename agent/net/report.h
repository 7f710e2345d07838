/* SPDX-License-Identifier: MIT */
#pragma once

#include <jansson.h>

#include "cleanup.h"
#include "curl-util.h"
#include "time-util.h"

/* Reports to the provisioning server: every event the agent sends (first boot done or failed,
 * flash started, progress, done, failed) is one JSON object POSTed to report.url:
 *   {"event":"…","node_id":"…","time":"2025-12-10T10:30:45+00:00", …the event's own members}
 * This is the only place that sends one. It never logs: the caller decides how loud a report
 * that did not arrive is. */

typedef struct Reporter Reporter;

/* Reports to url, as node_id. url NULL gives a reporter that sends nothing (report_send()
 * returns 0 at once), so callers need no special case for "no report server". */
int reporter_new(const char *url, const char *node_id, const TlsOptions *tls, usec_t connect_timeout,
                 usec_t timeout, Reporter **ret);
Reporter *reporter_free(Reporter *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(Reporter *, reporter_free);

/* NULL when reports are off. */
const char *reporter_url(const Reporter *r);

typedef struct ReportResult {
        long status;                    /* HTTP status of the answer, 0 when none came */
        char error[256];                /* why it was not accepted, "" when it was */
} ReportResult;

/* Sends {"event","node_id","time"} and every member of fields (borrowed, may be NULL), once.
 * 0: accepted (2xx) or reports are off. -EREMOTEIO / -EBADE: the server answered 5xx / 4xx (the
 * status and the server's reason are in ret). Else a transport errno. ret may be NULL. Every
 * registered secret (secret.h) is redacted from the body. */
int report_send(Reporter *r, const char *event, json_t *fields, ReportResult *ret);

/* Where reports that must arrive wait until they can (report-spool.h); NULL: nowhere. */
int reporter_set_spool(Reporter *r, const char *dir);

#define REPORT_SPOOLED 1

/* At least once: sends what waits in the spool first, then this report; when it cannot be
 * delivered now (no answer, 5xx), it joins the spool (REPORT_SPOOLED) for report_flush() in a
 * later step or boot. A 4xx is not spooled: it would be refused again. */
int report_deliver(Reporter *r, const char *event, json_t *fields, ReportResult *ret);

typedef struct ReportFlush {
        unsigned sent;                  /* delivered now */
        unsigned dropped;               /* refused (4xx) or unreadable: will never be delivered */
        size_t pending;                 /* still waiting */
        ReportResult last;              /* the last answer */
} ReportFlush;

/* Sends the spooled reports, oldest first, and stops at the first that still cannot be
 * delivered. 0, or the error of that one (the rest wait). */
int report_flush(Reporter *r, ReportFlush *ret);
