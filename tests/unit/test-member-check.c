/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cleanup.h"
#include "http-stub.h"
#include "join-procedure.h"
#include "log.h"
#include "step-fixture.h"
#include "tap.h"

/* The health report's membership check (member_check_list) against scripted servers playing
 * the leader and a peer on loopback (127.79.3.0/24). */

#define LEADER_IP "127.79.3.1"
#define PEER_IP   "127.79.3.2"
#define RAFT_ADDR "127.79.3.4:2380"
#define LIST_PATH "/admin/cluster/members"
#define LIST_REQ  "GET " LIST_PATH " \n"
#define WITHOUT_US "{\"members\":[{\"id\":\"node01\",\"raft_addr\":\"127.79.3.1:2380\"}," \
                   "{\"id\":\"node02\",\"raft_addr\":\"127.79.3.2:2380\"}]}"
#define WITH_US    "{\"members\":[{\"id\":\"node01\",\"raft_addr\":\"127.79.3.1:2380\"}," \
                   "{\"id\":\"node04\",\"raft_addr\":\"" RAFT_ADDR "\"}]}"

static const char *port_of(const char *url) {
        const char *p = strrchr(url, ':');

        return p ? p + 1 : "1";
}

static void setup(StepFixture *f, const char *leader_url, const HttpStub *peer) {
        (void) step_fixture_init(f, "health-report", "chainfire",
                                 "{\"node_id\": \"node04\", \"bootstrap\": false, \"tls\": {\"enabled\": false}, "
                                 "\"leader_url\": \"%s\", \"raft_addr\": \"" RAFT_ADDR "\", "
                                 "\"timeouts\": {\"backoff_initial_ms\": 1, \"backoff_max_ms\": 2, \"connect_s\": 2, "
                                 "\"request_s\": 5}, "
                                 "\"services\": {\"chainfire\": {\"driver\": \"admin\", \"enabled\": true, "
                                 "\"leader_url\": \"%s\", \"api_port\": %s, \"peers\": [%s]}}}",
                                 leader_url, leader_url, peer ? port_of(peer->url) : "2379",
                                 peer ? "\"" PEER_IP ":2380\"" : "");
}

/* The check against a leader stub with these routes (and the peer stub, or none), the deadline
 * this far away; the leader's request log into *ret_log. */
static int check_with(StubRoute *routes, size_t n, const HttpStub *peer, usec_t within, StepFixture *f,
                      char **ret_log) {
        HttpStub leader;
        int r;

        *ret_log = NULL;
        if (http_stub_start(LEADER_IP, routes, n, &leader) < 0) {
                printf("# no stub server on " LEADER_IP "\n");
                return -ENOTRECOVERABLE;
        }
        setup(f, leader.url, peer);
        r = member_check_list(f->ctx, f->ctx->service, now_monotonic() + within);
        *ret_log = http_stub_log(&leader);
        http_stub_stop(&leader);
        return r;
}

static void test_listed(void) {
        StubRoute routes[] = { { "GET", LIST_PATH, STUB_STATIC, 200, NULL, WITH_US, 0, 0, 0 } };
        _cleanup_free_ char *log = NULL;
        StepFixture f;

        is_int(check_with(routes, 1, NULL, 30 * USEC_PER_SEC, &f, &log), 0, "listed by the leader");
        is_str(log, LIST_REQ, "one request");
        is_str(fixture_error(&f), "", "no error");
        ok(join_procedure(SERVICE_KIND_ADMIN)->member_check == member_check_list &&
           join_procedure(SERVICE_KIND_ETCD)->member_check == member_check_list,
           "the check of the kinds with a member list");
        ok(join_procedure(SERVICE_KIND_IAM)->member_check == NULL, "IAM has none");
        step_fixture_done(&f);
}

static void test_not_listed(void) {
        StubRoute routes[] = { { "GET", LIST_PATH, STUB_STATIC, 200, NULL, WITHOUT_US, 0, 0, 0 } };
        StubRoute peer_routes[] = { { "GET", LIST_PATH, STUB_STATIC, 200, NULL, WITH_US, 0, 0, 0 } };
        _cleanup_free_ char *log = NULL, *peer_log = NULL;
        HttpStub peer;
        StepFixture f;

        if (http_stub_start(PEER_IP, peer_routes, 1, &peer) < 0) {
                ok(false, "peer stub");
                return;
        }
        is_int(check_with(routes, 1, &peer, 30 * USEC_PER_SEC, &f, &log), -ENXIO,
               "the leader answers without this node: -ENXIO at once");
        peer_log = http_stub_log(&peer);
        http_stub_stop(&peer);
        is_str(log, LIST_REQ, "one request to the leader");
        is_str(peer_log, "", "the peer is not asked: a member answered");
        ok(strstr(fixture_error(&f), "'node04' is not in the chainfire member list at http://" LEADER_IP ":"),
           "the error names the node, the service and the server: %s", fixture_error(&f));
        step_fixture_done(&f);
}

static void test_leader_down(void) {
        StubRoute peer_routes[] = { { "GET", LIST_PATH, STUB_STATIC, 200, NULL, WITH_US, 0, 0, 0 } };
        _cleanup_free_ char *peer_log = NULL;
        char down[64];
        HttpStub peer;
        StepFixture f;

        if (stub_closed_port_url(LEADER_IP, down, sizeof down) < 0 ||
            http_stub_start(PEER_IP, peer_routes, 1, &peer) < 0) {
                ok(false, "stub server");
                return;
        }
        setup(&f, down, &peer);
        is_int(member_check_list(f.ctx, f.ctx->service, now_monotonic() + 30 * USEC_PER_SEC), 0,
               "the leader down: the peer lists this node");
        peer_log = http_stub_log(&peer);
        http_stub_stop(&peer);
        is_str(peer_log, LIST_REQ, "the peer asked once");
        step_fixture_done(&f);
}

static void test_retry_then_listed(void) {
        StubRoute routes[] = {
                { "GET", LIST_PATH, STUB_STATIC, 503, NULL, "{\"error\":\"no leader\"}", 0, 2, 0 },
                { "GET", LIST_PATH, STUB_STATIC, 200, NULL, WITH_US, 0, 0, 0 },
        };
        _cleanup_free_ char *log = NULL;
        StepFixture f;

        is_int(check_with(routes, ELEMENTSOF(routes), NULL, 60 * USEC_PER_SEC, &f, &log), 0,
               "two 503s, then listed");
        is_int(count_of(log, LIST_REQ), 3, "asked again until it answered");
        step_fixture_done(&f);
}

static void test_deadline(void) {
        StubRoute routes[] = { { "GET", LIST_PATH, STUB_STATIC, 503, NULL, "{\"error\":\"no leader\"}", 0, 0, 0 } };
        _cleanup_free_ char *log = NULL;
        StepFixture f;

        is_int(check_with(routes, 1, NULL, 0, &f, &log), -ETIMEDOUT, "nobody lists the members by the deadline");
        is_str(log, LIST_REQ, "a deadline already passed still gets one pass");
        ok(strstr(fixture_error(&f), "could not list the chainfire members: http://" LEADER_IP ":") &&
           strstr(fixture_error(&f), "HTTP 503 (no leader)"), "the error names the server and its answer: %s",
           fixture_error(&f));
        step_fixture_done(&f);
}

static void test_own_api(void) {
        StubRoute routes[] = { { "GET", LIST_PATH, STUB_STATIC, 200, NULL, WITH_US, 0, 0, 0 } };
        _cleanup_free_ char *log = NULL;
        ServiceConfig sc;
        HttpStub own;
        StepFixture f;

        if (http_stub_start(LEADER_IP, routes, 1, &own) < 0) {
                ok(false, "stub server");
                return;
        }
        (void) step_fixture_init(&f, "health-report", "chainfire",
                                 "{\"node_id\": \"node04\", \"bootstrap\": true, \"tls\": {\"enabled\": false}, \"initial_peers\": [\"127.79.3.4:2380\"], "
                                 "\"raft_addr\": \"" RAFT_ADDR "\", \"timeouts\": {\"backoff_initial_ms\": 1, "
                                 "\"backoff_max_ms\": 2}, \"services\": {\"chainfire\": {\"driver\": \"admin\", "
                                 "\"enabled\": true, \"health_url\": \"%s/health?verbose=1\"}}}", own.url);
        ok(f.ctx->service->leader_url == NULL, "a bootstrap node without a leader URL");
        is_int(member_check_list(f.ctx, f.ctx->service, now_monotonic() + 30 * USEC_PER_SEC), 0,
               "asks its own API");
        log = http_stub_log(&own);
        http_stub_stop(&own);
        is_str(log, LIST_REQ, "at the base of its health URL");

        sc = *f.ctx->service;
        sc.health_url = NULL;
        is_int(member_check_list(f.ctx, &sc, now_monotonic()), -EINVAL, "no leader URL and no health URL: -EINVAL");
        sc = *f.ctx->service;
        sc.kind = SERVICE_KIND_IAM;
        is_int(member_check_list(f.ctx, &sc, now_monotonic()), -EINVAL, "a kind without a member list: -EINVAL");
        step_fixture_done(&f);
}

int main(void) {
        log_setup(getenv("TEST_STEP_LOG") ? LOG_TARGET_JSON : LOG_TARGET_NULL);

        test_listed();
        test_not_listed();
        test_leader_down();
        test_retry_then_listed();
        test_deadline();
        test_own_api();
        return tap_done();
}
