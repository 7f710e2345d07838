/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cleanup.h"
#include "http-stub.h"
#include "log.h"
#include "step-fixture.h"
#include "step.h"
#include "tap.h"

/* The health step of one service (step-health.c) against a scripted health endpoint on
 * loopback (127.79.10.0/24): the service's own URL is polled, and the record says how it went. */

#define STUB_IP "127.79.10.1"

#define CONFIG                                                                                    \
        "{\"node_id\": \"node04\", \"bootstrap\": true, \"initial_peers\": [\"127.79.10.4:2380\"], "   \
        "\"raft_addr\": \"127.79.10.4:2380\", \"tls\": {\"enabled\": false}, "                        \
        "\"timeouts\": {\"health_wait_s\": 1, \"backoff_initial_ms\": 5, \"backoff_max_ms\": 20}, "   \
        "\"services\": {\"chainfire\": {\"driver\": \"admin\", \"health_url\": \"%s/chainfire\"}, "      \
        "\"ledger\": {\"driver\": \"admin\", \"api_port\": 3000, \"raft_port\": 3001, "                \
        "\"health_url\": \"%s/ledger\"}, \"iam\": {\"enabled\": false}}}"

static StubRoute routes[] = {
        { "GET", "/chainfire", STUB_STATIC, 503, NULL, "{\"error\":\"starting\"}", 0, 1, 0 },
        { "GET", "/chainfire", STUB_STATIC, 200, NULL, "{}", 0, 0, 0 },
        { "GET", "/ledger", STUB_STATIC, 500, NULL, "{\"error\":\"no quorum\"}", 0, 0, 0 },
};

int main(void) {
        _cleanup_free_ char *log = NULL;
        HttpStub stub;
        StepFixture f;

        log_setup(getenv("TEST_STEP_LOG") ? LOG_TARGET_JSON : LOG_TARGET_NULL);
        if (http_stub_start(STUB_IP, routes, ELEMENTSOF(routes), &stub) < 0) {
                printf("Bail out! no stub server on " STUB_IP "\n");
                return 1;
        }

        (void) step_fixture_init(&f, "chainfire-health", "chainfire", CONFIG, stub.url, stub.url);
        is_int(step_health(f.ctx), 0, "chainfire healthy after one 503");
        ok(strstr(fixture_detail(&f), "healthy after ") && strstr(fixture_detail(&f), "/chainfire)"),
           "the detail names its URL: %s", fixture_detail(&f));
        log = http_stub_log(&stub);
        is_str(log, "GET /chainfire \nGET /chainfire \n", "only its own URL, until it answered 200");
        step_fixture_done(&f);

        (void) step_fixture_init(&f, "ledger-health", "ledger", CONFIG, stub.url, stub.url);
        is_int(step_health(f.ctx), -ETIMEDOUT, "ledger never healthy within timeouts.health_wait_s");
        ok(strstr(fixture_error(&f), "ledger not healthy after 1 s (") &&
           strstr(fixture_error(&f), "/ledger: HTTP 500 (no quorum))"), "the error names what it waited for: %s",
           fixture_error(&f));
        ok(f.ctx->current->detail == NULL, "no detail");
        f.ctx->service = NULL;
        is_int(step_health(f.ctx), -EINVAL, "a health step without a service is refused");
        step_fixture_done(&f);

        http_stub_stop(&stub);
        return tap_done();
}
