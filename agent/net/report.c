/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "report.h"

struct Reporter {
        HttpClient *client;
        char *url;
        char *node_id;
        long timeout_ms;
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

int report_send(Reporter *r, const char *event, json_t *fields, ReportResult *ret) {
        _cleanup_free_ char *body = NULL;
        char ts[ISO8601_MAX] = "";
        HttpResponse resp = {};
        json_t *o;
        int k;

        result_set(ret, 0, "");
        if (!r || !r->client)
                return 0;

        (void) iso8601_format(now_realtime(), ts);
        o = json_pack("{s:s, s:s?, s:s}", "event", event, "node_id", r->node_id, "time", ts);
        if (!o)
                return -ENOMEM;
        if (fields && json_object_update(o, fields) < 0) {
                json_decref(o);
                return -ENOMEM;
        }
        body = json_dumps(o, JSON_COMPACT);
        json_decref(o);
        if (!body)
                return -ENOMEM;

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
