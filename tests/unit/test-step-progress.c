/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cleanup.h"
#include "http-stub.h"
#include "log.h"
#include "step-fixture.h"
#include "step-progress.h"
#include "tap.h"

/* The progress reports of a walk (step-progress.c): what they carry, when one is sent and when
 * not, against a scripted report server on loopback (127.79.5.0/24). The clock is never waited
 * on: the test moves ctx->progress_sent, the time of the last report, instead. */

#define STUB_IP "127.79.5.1"

#define CONFIG                                                                                  \
        "{\"node_id\": \"node04\", \"bootstrap\": true, \"initial_peers\": [\"127.79.5.4:2380\"], "  \
        "\"raft_addr\": \"127.79.5.4:2380\", \"tls\": {\"enabled\": false}, %s"                     \
        "\"report\": {\"url\": \"%s/report\", \"progress_interval_s\": %d}}"

static StubRoute routes[] = {
        { "POST", "/report", STUB_STATIC, 200, NULL, "{}", 0, 0, 0 },
};

static HttpStub stub;

static unsigned sent(void) {
        _cleanup_free_ char *log = http_stub_log(&stub);

        return count_of(log, "POST /report {");
}

static void test_fields(void) {
        _cleanup_(json_decrefp) json_t *j = NULL, *k = NULL, *m = NULL;
        StepFixture f;

        (void) step_fixture_init(&f, "chainfire-join", NULL, CONFIG, "\"cluster_name\": \"prod\", ", stub.url, 10);
        f.ctx->current->attempts = 2;
        f.ctx->phase = "join";
        f.ctx->step_index = 4;
        f.ctx->steps_total = 9;
        f.state->run_started = now_realtime() - 5 * USEC_PER_SEC;

        j = step_progress_fields(f.ctx, NULL, "chainfire members at http://127.79.5.1:2379");
        ok(j != NULL, "the fields");
        is_str(json_string_value(json_object_get(j, "cluster_name")), "prod", "cluster_name");
        is_str(json_string_value(json_object_get(j, "node_role")), "control-plane", "node_role");
        is_str(json_string_value(json_object_get(j, "phase")), "join", "the running step's phase");
        is_str(json_string_value(json_object_get(j, "step")), "chainfire-join", "the running step's name");
        is_int(json_integer_value(json_object_get(j, "step_index")), 4, "step_index");
        is_int(json_integer_value(json_object_get(j, "steps_total")), 9, "steps_total");
        is_int(json_integer_value(json_object_get(j, "attempt")), 2, "its attempts");
        is_str(json_string_value(json_object_get(j, "waiting_for")), "chainfire members at http://127.79.5.1:2379",
               "what it waits for");
        ok(json_integer_value(json_object_get(j, "elapsed_ms")) >= 5000, "the time since the run started");

        f.ctx->current = NULL;
        f.ctx->step_name = "chainfire-health";
        f.state->run_started = 0;
        k = step_progress_fields(f.ctx, "failed", NULL);
        is_str(json_string_value(json_object_get(k, "phase")), "failed", "a phase given wins");
        is_str(json_string_value(json_object_get(k, "step")), "chainfire-health", "without a running step: the last one");
        is_int(json_integer_value(json_object_get(k, "attempt")), 0, "attempt 0");
        ok(json_is_null(json_object_get(k, "waiting_for")), "waiting for nothing: null");
        is_int(json_integer_value(json_object_get(k, "elapsed_ms")), 0, "no start time: 0 ms");
        step_fixture_done(&f);

        (void) step_fixture_init(&f, NULL, NULL, CONFIG, "", stub.url, 10);
        m = step_progress_fields(f.ctx, NULL, NULL);
        ok(json_is_null(json_object_get(m, "cluster_name")), "no cluster_name: null");
        step_fixture_done(&f);
}

static void test_when(void) {
        const usec_t interval = 10 * USEC_PER_SEC;
        unsigned before = sent();
        StepFixture f;

        (void) step_fixture_init(&f, "chainfire-health", NULL, CONFIG, "", stub.url, 10);
        step_progress_report(f.ctx, "chainfire health at http://127.79.5.4:2379/health: HTTP 503", true);
        is_int(sent(), before + 1, "a step begins: sent");
        {
                _cleanup_free_ char *log = http_stub_log(&stub);
                ok(strstr(log, "\"event\":\"firstboot-progress\"") && strstr(log, "\"node_id\":\"node04\"") &&
                   strstr(log, "\"step\":\"chainfire-health\"") && strstr(log, "HTTP 503\""),
                   "a firstboot-progress report of this node, its step and what it waits for");
        }

        step_progress_report(f.ctx, "chainfire health at http://127.79.5.4:2379/health: HTTP 503", false);
        is_int(sent(), before + 1, "the same again at once: not sent");

        f.ctx->progress_sent = now_monotonic() - 2 * USEC_PER_SEC;
        step_progress_report(f.ctx, "chainfire health at http://127.79.5.4:2379/health: HTTP 502", false);
        is_int(sent(), before + 1, "only a number changed: not sent before the interval");

        step_progress_report(f.ctx, "chainfire health at http://127.79.5.4:2379/health: connection refused", false);
        is_int(sent(), before + 2, "what it waits for changed (a second later): sent");

        f.ctx->progress_sent = now_monotonic() - interval - 1;
        step_progress_report(f.ctx, "chainfire health at http://127.79.5.4:2379/health: connection refused", false);
        is_int(sent(), before + 3, "the same after report.progress_interval_s: sent");
        step_fixture_done(&f);

        (void) step_fixture_init(&f, "chainfire-health", NULL, CONFIG, "", stub.url, 0);
        step_progress_report(f.ctx, "anything", true);
        is_int(sent(), before + 3, "progress_interval_s 0: none, even when a step begins");
        step_fixture_done(&f);
}

static void test_failed_report(void) {
        char down[64];
        StepFixture f;

        if (stub_closed_port_url(STUB_IP, down, sizeof down) < 0) {
                ok(false, "a closed port");
                return;
        }
        (void) step_fixture_init(&f, "chainfire-health", NULL, CONFIG, "", down, 10);
        step_progress_report(f.ctx, "x", true);
        ok(f.ctx->progress_sent > 0, "a report was tried");
        ok(f.ctx->progress_quiet_until > now_monotonic(), "after it failed, a quiet time");
        f.ctx->progress_sent = 0;
        step_progress_report(f.ctx, "y", true);
        is_int(f.ctx->progress_sent, 0, "in which none is tried, not even when forced");
        step_fixture_done(&f);
}

static void keepalive(StepContext *ctx, void *userdata) {
        unsigned *n = userdata;

        (*n)++;
}

static void test_wait(void) {
        unsigned before = sent(), kept = 0;
        StepFixture f;

        (void) step_fixture_init(&f, "chainfire-join", NULL, CONFIG, "", stub.url, 10);
        step_set_keepalive(f.ctx, keepalive, &kept);
        step_wait(f.ctx, 0, "the etcd learner catching up");
        is_int(kept, 1, "a wait runs the step's keep-alive");
        is_int(sent(), before + 1, "and sends the first progress report");
        {
                _cleanup_free_ char *log = http_stub_log(&stub);
                ok(strstr(log, "\"waiting_for\":\"the etcd learner catching up\"") != NULL, "saying what it waits for");
        }
        step_wait(f.ctx, 0, "the etcd learner catching up");
        is_int(kept, 2, "every wait runs it");
        is_int(sent(), before + 1, "a report is not due again");
        step_set_keepalive(f.ctx, NULL, NULL);
        step_wait(f.ctx, 0, NULL);
        is_int(kept, 2, "cleared: not run");
        step_fixture_done(&f);
}

int main(void) {
        log_setup(getenv("TEST_STEP_LOG") ? LOG_TARGET_JSON : LOG_TARGET_NULL);

        if (http_stub_start(STUB_IP, routes, ELEMENTSOF(routes), &stub) < 0) {
                printf("Bail out! no stub server on " STUB_IP "\n");
                return 1;
        }
        test_fields();
        test_when();
        test_failed_report();
        test_wait();
        http_stub_stop(&stub);
        return tap_done();
}
