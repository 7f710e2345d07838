/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <jansson.h>
#include <string.h>

#include "http-stub.h"
#include "report.h"
#include "tap.h"

/* Reports against a scripted server on loopback (127.8.21.0/24): what a report carries, and how
 * an answer other than 2xx and a server that is down come back. */

static StubRoute routes[] = {
        { "POST", "/report", STUB_STATIC, 201, NULL, "{}", 0, 0, 0 },
        { "POST", "/busy", STUB_STATIC, 503, NULL, "{\"error\":\"collector restarting\"}", 0, 0, 0 },
        { "POST", "/refuse", STUB_STATIC, 400, NULL, "{\"error\":\"unknown node\"}", 0, 0, 0 },
};

int main(void) {
        _cleanup_(reporter_freep) Reporter *r = NULL, *off = NULL, *busy = NULL, *refuse = NULL, *down = NULL;
        ReportResult res;
        HttpStub stub;
        char url[256], closed[64];
        json_t *fields;

        if (http_stub_start("127.8.21.1", routes, ELEMENTSOF(routes), &stub) < 0) {
                ok(false, "stub server on 127.8.21.1");
                return tap_done();
        }

        is_int(reporter_new(NULL, "node04", NULL, USEC_PER_SEC, USEC_PER_SEC, &off), 0, "a reporter without a URL");
        ok(reporter_url(off) == NULL, "has no URL");
        is_int(report_send(off, "firstboot-done", NULL, &res), 0, "sends nothing and succeeds");

        snprintf(url, sizeof url, "%s/report", stub.url);
        is_int(reporter_new(url, "node04", NULL, USEC_PER_SEC, 2 * USEC_PER_SEC, &r), 0, "a reporter");
        is_str(reporter_url(r), url, "its URL");
        fields = json_pack("{s:s, s:i}", "step", "chainfire-join", "exit_code", 4);
        is_int(report_send(r, "firstboot-failed", fields, &res), 0, "a report accepted");
        is_int(res.status, 201, "with the server's status");
        is_str(res.error, "", "and no error");
        json_decref(fields);
        {
                _cleanup_free_ char *log = http_stub_log(&stub);
                const char *body = log ? strstr(log, "POST /report ") : NULL;
                json_t *j = body ? json_loads(body + strlen("POST /report "), JSON_DISABLE_EOF_CHECK, NULL) : NULL;

                ok(j != NULL, "the body is JSON");
                is_str(json_string_value(json_object_get(j, "event")), "firstboot-failed", "event");
                is_str(json_string_value(json_object_get(j, "node_id")), "node04", "node_id");
                ok(json_is_string(json_object_get(j, "time")), "time");
                is_str(json_string_value(json_object_get(j, "step")), "chainfire-join", "the event's own members");
                is_int(json_integer_value(json_object_get(j, "exit_code")), 4, "numbers kept");
                json_decref(j);
        }

        snprintf(url, sizeof url, "%s/busy", stub.url);
        is_int(reporter_new(url, "node04", NULL, USEC_PER_SEC, USEC_PER_SEC, &busy), 0, "a reporter to a busy server");
        is_int(report_send(busy, "flash-progress", NULL, &res), -EREMOTEIO, "5xx → EREMOTEIO");
        is_int(res.status, 503, "status kept");
        ok(strstr(res.error, "collector restarting") != NULL, "with the server's reason: %s", res.error);

        snprintf(url, sizeof url, "%s/refuse", stub.url);
        is_int(reporter_new(url, NULL, NULL, USEC_PER_SEC, USEC_PER_SEC, &refuse), 0, "a reporter without a node id");
        is_int(report_send(refuse, "flash-done", NULL, &res), -EBADE, "4xx → EBADE");
        is_int(res.status, 400, "status kept");

        ok(stub_closed_port_url("127.8.21.2", closed, sizeof closed) == 0, "a closed port");
        snprintf(url, sizeof url, "%s/report", closed);
        is_int(reporter_new(url, "node04", NULL, USEC_PER_SEC, USEC_PER_SEC, &down), 0, "a reporter to nobody");
        is_int(report_send(down, "flash-done", NULL, &res), -ECONNREFUSED, "a server that is down");
        is_int(res.status, 0, "no status");
        ok(res.error[0] != '\0', "a transport error text: %s", res.error);

        http_stub_stop(&stub);
        return tap_done();
}
