/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cleanup.h"
#include "fileio.h"
#include "http-stub.h"
#include "log.h"
#include "report-spool.h"
#include "step-fixture.h"
#include "step.h"
#include "tap.h"

/* The last step (step-health-report.c) against one scripted server on loopback (127.79.12.0/24)
 * that plays chainfire's health endpoint and admin API and the report server: every enabled
 * service healthy and this node listed, then the firstboot-done report, best effort. */

#define STUB_IP "127.79.12.1"
#define LIST_PATH "/admin/cluster/members"
#define WITH_US    "{\"members\":[{\"id\":\"node04\",\"raft_addr\":\"127.79.12.4:2380\"}]}"
#define WITHOUT_US "{\"members\":[{\"id\":\"node01\",\"raft_addr\":\"127.79.12.1:2380\"}]}"

#define CONFIG                                                                                         \
        "{\"node_id\": \"node04\", \"bootstrap\": true, \"initial_peers\": [\"127.79.12.4:2380\"], "       \
        "\"raft_addr\": \"127.79.12.4:2380\", \"tls\": {\"enabled\": false}, "                              \
        "\"timeouts\": {\"health_wait_s\": 5, \"backoff_initial_ms\": 5, \"backoff_max_ms\": 20}, %s"       \
        "\"services\": {\"chainfire\": {\"driver\": \"admin\", \"enabled\": true, "                         \
        "\"health_url\": \"%s/chainfire/health\"}, \"ledger\": {\"driver\": \"admin\", \"enabled\": false, " \
        "\"api_port\": 3000, \"raft_port\": 3001}, \"flaredb\": {\"enabled\": false}, \"iam\": {\"enabled\": false}}}"

/* The step with a stub of these routes; report: the report URL's path on it, or NULL. */
static int run(StubRoute *routes, size_t n, const char *report, StepFixture *f, char **ret_log) {
        char report_member[128] = "";
        HttpStub stub;
        int r;

        *ret_log = NULL;
        if (http_stub_start(STUB_IP, routes, n, &stub) < 0) {
                printf("# no stub server\n");
                return -ENOTRECOVERABLE;
        }
        if (report)
                snprintf(report_member, sizeof report_member, "\"report\": {\"url\": \"%s%s\"}, ", stub.url, report);
        (void) step_fixture_init(f, "health-report", NULL, CONFIG, report_member, stub.url);
        r = step_health_report(f->ctx);
        *ret_log = http_stub_log(&stub);
        http_stub_stop(&stub);
        return r;
}

static size_t spooled(const StepFixture *f) {
        _cleanup_free_ char *dir = path_join(f->dir, REPORT_SPOOL_DIR);
        size_t n = 0;

        return report_spool_pending(dir, &n, NULL, NULL) < 0 ? 0 : n;
}

static void test_done(void) {
        StubRoute routes[] = {
                { "GET", "/chainfire/health", STUB_STATIC, 200, NULL, "{}", 0, 0, 0 },
                { "GET", LIST_PATH, STUB_STATIC, 200, NULL, WITH_US, 0, 0, 0 },
                { "POST", "/report", STUB_STATIC, 200, NULL, "{}", 0, 0, 0 },
        };
        _cleanup_free_ char *log = NULL;
        const char *post;
        StepFixture f;

        is_int(run(routes, ELEMENTSOF(routes), "/report", &f, &log), 0, "healthy and listed: done");
        ok(strstr(log, "GET /chainfire/health ") && strstr(log, "GET " LIST_PATH " "),
           "asked the health URL and the member list at its base");
        post = log ? strstr(log, "POST /report ") : NULL;
        ok(post && strstr(post, "\"event\":\"firstboot-done\""), "sent the firstboot-done report");
        ok(post && strstr(post, "\"services\":[{\"name\":\"chainfire\",\"healthy\":true,\"member\":true}]"),
           "naming the enabled service, healthy and a member, and not the disabled one");
        ok(post && strstr(post, "\"phase\":\"done\"") && strstr(post, "\"bootstrap\":true"), "phase done, bootstrap");
        ok(strstr(fixture_detail(&f), "healthy, member of every cluster; report to http://" STUB_IP ":"),
           "the detail: %s", fixture_detail(&f));
        is_int(spooled(&f), 0, "nothing waits");
        step_fixture_done(&f);
}

static void test_not_member(void) {
        StubRoute routes[] = {
                { "GET", "/chainfire/health", STUB_STATIC, 200, NULL, "{}", 0, 0, 0 },
                { "GET", LIST_PATH, STUB_STATIC, 200, NULL, WITHOUT_US, 0, 0, 0 },
                { "POST", "/report", STUB_STATIC, 200, NULL, "{}", 0, 0, 0 },
        };
        _cleanup_free_ char *log = NULL;
        StepFixture f;

        is_int(run(routes, ELEMENTSOF(routes), "/report", &f, &log), -ENXIO, "not in the member list: fails");
        ok(log && !strstr(log, "POST /report"), "and reports nothing as done");
        ok(strstr(fixture_error(&f), "'node04' is not in the chainfire member list"), "the error says why: %s",
           fixture_error(&f));
        step_fixture_done(&f);
}

static void test_unhealthy(void) {
        StubRoute routes[] = {
                { "GET", "/chainfire/health", STUB_STATIC, 503, NULL, "{\"error\":\"starting\"}", 0, 0, 0 },
                { "GET", LIST_PATH, STUB_STATIC, 200, NULL, WITH_US, 0, 0, 0 },
        };
        _cleanup_free_ char *log = NULL;
        StepFixture f;

        is_int(run(routes, ELEMENTSOF(routes), NULL, &f, &log), -ETIMEDOUT, "a service not healthy: fails");
        ok(log && !strstr(log, LIST_PATH), "the member list is not asked for");
        ok(strstr(fixture_error(&f), "chainfire not healthy after 5 s ("), "the error names it: %s", fixture_error(&f));
        step_fixture_done(&f);
}

static void test_report_down(void) {
        StubRoute routes[] = {
                { "GET", "/chainfire/health", STUB_STATIC, 200, NULL, "{}", 0, 0, 0 },
                { "GET", LIST_PATH, STUB_STATIC, 200, NULL, WITH_US, 0, 0, 0 },
                { "POST", "/report", STUB_STATIC, 503, NULL, "{\"error\":\"maintenance\"}", 0, 0, 0 },
        };
        _cleanup_free_ char *log = NULL, *log2 = NULL;
        StepFixture f;

        is_int(run(routes, ELEMENTSOF(routes), "/report", &f, &log), 0, "the report server failing does not fail the node");
        ok(log && strstr(log, "POST /report "), "the report was tried");
        is_int(spooled(&f), 1, "and waits in the state directory for a later start");
        step_fixture_done(&f);

        is_int(run(routes, ELEMENTSOF(routes), NULL, &f, &log2), 0, "without report.url");
        ok(log2 && !strstr(log2, "POST"), "nothing is sent");
        ok(strstr(fixture_detail(&f), "no report server configured"), "the detail says so: %s", fixture_detail(&f));
        step_fixture_done(&f);
}

int main(void) {
        log_setup(getenv("TEST_STEP_LOG") ? LOG_TARGET_JSON : LOG_TARGET_NULL);

        test_done();
        test_not_member();
        test_unhealthy();
        test_report_down();
        return tap_done();
}
