/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cleanup.h"
#include "health-poll.h"
#include "http-stub.h"
#include "log.h"
#include "step-fixture.h"
#include "tap.h"

/* Polling local health endpoints (health_poll) against a scripted server on loopback
 * (127.79.4.0/24): every endpoint is asked until it answers 200, each check counted, and a
 * deadline that passes names what was waited for. */

#define STUB_IP "127.79.4.1"

#define CONFIG                                                                                        \
        "{\"node_id\": \"node04\", \"bootstrap\": true, \"tls\": {\"enabled\": false}, \"initial_peers\": [\"127.79.4.4:2380\"], "               \
        "\"raft_addr\": \"127.79.4.4:2380\", "                                                          \
        "\"timeouts\": {\"backoff_initial_ms\": 5, \"backoff_max_ms\": 20, \"request_s\": 5}, "         \
        "\"services\": {\"chainfire\": {\"driver\": \"admin\", \"enabled\": true, \"health_url\": \"%s/a\"}, " \
        "\"flaredb\": {\"driver\": \"admin\", \"enabled\": false, \"health_url\": \"%s/b\"}, "              \
        "\"ledger\": {\"driver\": \"admin\", \"enabled\": true, \"api_port\": 3000, \"raft_port\": 3001, " \
        "\"health_url\": \"%s/c\"}, \"iam\": {\"enabled\": false}}}"

static StubRoute routes[] = {
        { "GET", "/a", STUB_STATIC, 503, NULL, "{\"error\":\"starting\"}", 0, 3, 0 },
        { "GET", "/a", STUB_STATIC, 200, NULL, "{\"status\":\"ok\"}", 0, 0, 0 },
        { "GET", "/b", STUB_STATIC, 200, NULL, "{}", 0, 0, 0 },
        { "GET", "/c", STUB_STATIC, 503, NULL, "{\"error\":\"raft log replay\"}", 0, 0, 0 },
        { "GET", "/ok", STUB_STATIC, 200, NULL, "{}", 0, 0, 0 },
};

static HttpStub stub;

static void test_targets(void) {
        HealthTarget t[4];
        StepFixture f;
        char a[96];

        (void) step_fixture_init(&f, "chainfire-health", NULL, CONFIG, "http://127.79.4.9:1", "http://127.79.4.9:1",
                                 "http://127.79.4.9:1");
        is_int(health_targets_from_config(f.config, t), 2, "the enabled services with a health URL");
        snprintf(a, sizeof a, "%s/a", "http://127.79.4.9:1");
        ok(streq(t[0].service, "chainfire") && streq(t[0].url, a), "chainfire first: %s %s", t[0].service, t[0].url);
        is_str(t[1].service, "ledger", "the disabled flaredb left out");
        step_fixture_done(&f);
}

static void test_healthy_after_503s(void) {
        _cleanup_free_ char *log = NULL;
        HealthTarget t[4];
        StepFixture f;
        size_t n;

        (void) step_fixture_init(&f, "chainfire-health", NULL, CONFIG, stub.url, stub.url, stub.url);
        n = health_targets_from_config(f.config, t);
        is_int(health_poll(f.ctx, t, 1, 60 * USEC_PER_SEC), 0, "chainfire turns healthy after three 503s");
        ok(t[0].healthy, "marked healthy");
        is_int(t[0].attempts, 4, "four checks");
        is_int(t[0].last_status, 200, "the last answer 200");
        is_str(t[0].last_error, "", "no error left");
        log = http_stub_log(&stub);
        is_int(count_of(log, "GET /a "), 4, "four requests reached the server");
        is_str(fixture_error(&f), "", "no error recorded on the step");
        (void) n;
        step_fixture_done(&f);
}

static void test_deadline(void) {
        _cleanup_free_ char *log = NULL;
        HealthTarget t[4];
        StepFixture f;
        size_t n;

        (void) step_fixture_init(&f, "chainfire-health", NULL, CONFIG, stub.url, stub.url, stub.url);
        n = health_targets_from_config(f.config, t);
        /* chainfire's route is used up: it answers 200 at once now. */
        is_int(health_poll(f.ctx, t, n, 1 * USEC_PER_SEC), -ETIMEDOUT, "ledger never healthy: -ETIMEDOUT");
        ok(t[0].healthy && !t[1].healthy, "chainfire healthy, ledger not");
        is_int(t[0].attempts, 1, "chainfire checked once");
        ok(t[1].attempts >= 2, "ledger checked again and again (%u)", t[1].attempts);
        is_int(t[1].last_status, 503, "its last status");
        is_str(t[1].last_error, "HTTP 503 (raft log replay)", "and reason");
        ok(strstr(fixture_error(&f), "ledger not healthy after 1 s (") && strstr(fixture_error(&f), "/c: HTTP 503 (raft log replay))"),
           "the step's error names what it waited for: %s", fixture_error(&f));
        ok(!strstr(fixture_error(&f), "chainfire"), "and not the healthy one");
        log = http_stub_log(&stub);
        is_int(count_of(log, "GET /c "), t[1].attempts, "each check reached the server");
        step_fixture_done(&f);
}

static void test_unreachable_and_connect(void) {
        HealthTarget t[4];
        StepFixture f;
        char down[64], url[96];
        const char *port = strrchr(stub.url, ':');

        if (stub_closed_port_url(STUB_IP, down, sizeof down) < 0) {
                ok(false, "a closed port");
                return;
        }
        (void) step_fixture_init(&f, "chainfire-health", NULL, CONFIG, down, down, down);
        (void) health_targets_from_config(f.config, t);
        is_int(health_poll(f.ctx, t, 1, 1 * USEC_PER_SEC), -ETIMEDOUT, "nothing listens: -ETIMEDOUT");
        is_int(t[0].last_status, 0, "no status");
        ok(t[0].last_error[0] != '\0', "the transport error kept: %s", t[0].last_error);
        ok(strstr(fixture_error(&f), "chainfire not healthy after 1 s (") && strstr(fixture_error(&f), down),
           "the error names the URL: %s", fixture_error(&f));

        /* The URL's name is not resolvable: the check connects to the given address instead. */
        snprintf(url, sizeof url, "http://chainfire.invalid%s/ok", port ? port : ":1");
        t[0] = (HealthTarget) { .service = "chainfire", .url = url, .connect = STUB_IP };
        is_int(health_poll(f.ctx, t, 1, 30 * USEC_PER_SEC), 0, "connect: the name's port at another address");
        is_int(t[0].attempts, 1, "at the first check");
        step_fixture_done(&f);
}

int main(void) {
        log_setup(getenv("TEST_STEP_LOG") ? LOG_TARGET_JSON : LOG_TARGET_NULL);

        if (http_stub_start(STUB_IP, routes, ELEMENTSOF(routes), &stub) < 0) {
                printf("Bail out! no stub server on " STUB_IP "\n");
                return 1;
        }
        test_targets();
        test_healthy_after_503s();
        test_deadline();
        test_unreachable_and_connect();
        http_stub_stop(&stub);
        return tap_done();
}
