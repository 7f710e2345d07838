/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "http.h"
#include "report-spool.h"
#include "report.h"
#include "secret.h"
#include "strv.h"

struct Reporter {
        HttpClient *client;
        char *url;
        char *node_id;
        long timeout_ms;
        char *spool_dir;                /* NULL: what cannot be delivered is lost */
};

int reporter_new(const char *url, const char *node_id, const TlsOptions *tls, usec_t connect_timeout,
                 usec_t timeout, Reporter **ret) {
        _cleanup_(reporter_freep) Reporter *r = NULL;
        int k;

        r = calloc(1, sizeof *r);
        if (!r)
                return -ENOMEM;
        if (url) {
                r->url = strdup(url);
                if (!r->url)
                        return -ENOMEM;
                r->timeout_ms = (long) ((timeout ?: 5 * USEC_PER_SEC) / USEC_PER_MSEC);
                k = http_client_new(tls, (long) (connect_timeout / USEC_PER_MSEC), r->timeout_ms, &r->client);
                if (k < 0)
                        return k;
        }
        if (node_id) {
                r->node_id = strdup(node_id);
                if (!r->node_id)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(r);
        return 0;
}

Reporter *reporter_free(Reporter *r) {
        if (!r)
                return NULL;
        http_client_free(r->client);
        free(r->spool_dir);
        free(r->url);
        free(r->node_id);
        free(r);
        return NULL;
}

const char *reporter_url(const Reporter *r) {
        return r ? r->url : NULL;
}

static void result_set(ReportResult *ret, long status, const char *error) {
        if (!ret)
                return;
        ret->status = status;
        (void) snprintf(ret->error, sizeof ret->error, "%s", error);
}

int reporter_set_spool(Reporter *r, const char *dir) {
        char *d = NULL;

        if (dir) {
                d = strdup(dir);
                if (!d)
                        return -ENOMEM;
        }
        free(r->spool_dir);
        r->spool_dir = d;
        return 0;
}

/* The report as it is sent: {"event","node_id","time"} and the event's own members, with every
 * registered secret redacted (a last line of defence: what goes in is already clean). */
static int report_body(Reporter *r, const char *event, json_t *fields, char **ret) {
        _cleanup_free_ char *text = NULL;
        char ts[ISO8601_MAX] = "";
        json_t *o;

        (void) iso8601_format(now_realtime(), ts);
        o = json_pack("{s:s, s:s?, s:s}", "event", event, "node_id", r->node_id, "time", ts);
        if (!o)
                return -ENOMEM;
        if (fields && json_object_update(o, fields) < 0) {
                json_decref(o);
                return -ENOMEM;
        }
        text = json_dumps(o, JSON_COMPACT);
        json_decref(o);
        if (!text)
                return -ENOMEM;
        *ret = secret_redact(text);
        return *ret ? 0 : -ENOMEM;
}

/* POSTs one body: 0 accepted, -EBADE (4xx), -EREMOTEIO (5xx), or the transport error. */
static int report_post(Reporter *r, const char *body, ReportResult *ret) {
        HttpResponse resp = {};
        int k;

        k = http_perform(r->client, &(HttpRequest) { .method = "POST", .url = r->url, .body = body,
                                                     .timeout_ms = r->timeout_ms }, &resp);
        if (k < 0) {
                result_set(ret, 0, resp.error[0] ? resp.error : strerror(-k));
                http_response_done(&resp);
                return k;
        }
        if (resp.status < 200 || resp.status > 299) {
                char reason[160], error[200];

                (void) snprintf(error, sizeof error, "HTTP %ld (%s)", resp.status,
                                http_response_reason(&resp, reason, sizeof reason));
                result_set(ret, resp.status, error);
                k = resp.status >= 500 ? -EREMOTEIO : -EBADE;
                http_response_done(&resp);
                return k;
        }
        result_set(ret, resp.status, "");
        http_response_done(&resp);
        return 0;
}

int report_send(Reporter *r, const char *event, json_t *fields, ReportResult *ret) {
        _cleanup_free_ char *body = NULL;
        int k;

        result_set(ret, 0, "");
        if (!r || !r->client)
                return 0;
        k = report_body(r, event, fields, &body);
        if (k < 0)
                return k;
        return report_post(r, body, ret);
}

int report_deliver(Reporter *r, const char *event, json_t *fields, ReportResult *ret) {
        _cleanup_free_ char *body = NULL;
        int k, q;

        result_set(ret, 0, "");
        if (!r || !r->client)
                return 0;
        k = report_body(r, event, fields, &body);
        if (k < 0)
                return k;
        /* Older reports first: they happened first. */
        if (r->spool_dir)
                (void) report_flush(r, NULL);
        k = report_post(r, body, ret);
        if (k >= 0 || k == -EBADE || !r->spool_dir)
                return k;
        q = report_spool_add(r->spool_dir, event, body, NULL);
        return q < 0 ? q : REPORT_SPOOLED;
}

int report_flush(Reporter *r, ReportFlush *ret) {
        _cleanup_strv_free_ char **files = NULL;
        ReportFlush f = {};
        int k, failed = 0;

        if (ret)
                *ret = f;
        if (!r || !r->client || !r->spool_dir)
                return 0;
        k = report_spool_list(r->spool_dir, &files);
        if (k < 0)
                return k;
        STRV_FOREACH(p, files) {
                _cleanup_free_ char *body = NULL;
                size_t size;

                k = read_full_file(*p, 1024 * 1024, &body, &size);
                if (k < 0) {
                        (void) unlink(*p);
                        f.dropped++;
                        continue;
                }
                k = report_post(r, body, &f.last);
                if (k == -EBADE) {
                        /* Refused: it will be refused again. */
                        (void) unlink(*p);
                        f.dropped++;
                        continue;
                }
                if (k < 0) {
                        failed = k;
                        break;
                }
                (void) unlink(*p);
                f.sent++;
        }
        f.pending = strv_length(files) - f.sent - f.dropped;
        if (ret)
                *ret = f;
        return failed;
}
