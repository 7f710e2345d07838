/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cleanup.h"
#include "http-stub.h"
#include "join.h"
#include "log.h"
#include "step-fixture.h"
#include "tap.h"

/* What both join paths share (join.c): the servers a join asks, the member list pass over them,
 * and the error that names every server; against scripted servers on loopback (127.79.7.0/24). */

#define LEADER_IP "127.79.7.1"
#define PEER_IP   "127.79.7.2"
#define RAFT_ADDR "127.79.7.4:2380"
#define LIST_PATH "/admin/cluster/members"
#define LIST_REQ  "GET " LIST_PATH " \n"
#define MEMBERS   "{\"members\":[{\"id\":\"node01\",\"raft_addr\":\"127.79.7.1:2380\"}," \
                  "{\"id\":\"node02\",\"raft_addr\":\"127.79.7.2:2380\"}]}"

static void setup(StepFixture *f, const char *leader_url, const char *peer_url) {
        const char *port = peer_url ? strrchr(peer_url, ':') + 1 : "2379";

        (void) step_fixture_init(f, "chainfire-join", "chainfire",
                                 "{\"node_id\": \"node04\", \"bootstrap\": false, \"tls\": {\"enabled\": false}, "
                                 "\"leader_url\": \"%s\", \"raft_addr\": \"" RAFT_ADDR "\", "
                                 "\"timeouts\": {\"join_attempts\": 2, \"backoff_initial_ms\": 1, \"backoff_max_ms\": 2}, "
                                 "\"services\": {\"chainfire\": {\"driver\": \"admin\", \"enabled\": true, "
                                 "\"leader_url\": \"%s\", \"api_port\": %s, \"peers\": [\"" PEER_IP ":2380\", "
                                 "\"127.79.7.4:2380\"]}}}", leader_url, leader_url, port);
}

static void test_init(void) {
        _cleanup_(join_done) Join j = {};
        ServiceConfig sc;
        StepFixture f;

        setup(&f, "http://" LEADER_IP ":2379", "http://" PEER_IP ":2379");
        is_int(join_init(f.ctx, f.ctx->service, &j), 0, "a service with what a join needs");
        is_str(j.service, "chainfire", "named");
        ok(j.driver == &member_driver_admin, "with its kind's driver");
        is_int(j.rotation.n, 2, "the leader and the other peer, not this node");
        ok(j.rotation.n == 2 && streq(j.rotation.servers[0].url, "http://" LEADER_IP ":2379") &&
           streq(j.rotation.servers[1].url, "http://" PEER_IP ":2379"), "the leader first");

        sc = *f.ctx->service;
        sc.leader_url = NULL;
        is_int(join_init(f.ctx, &sc, &j), -EINVAL, "no leader URL: -EINVAL");
        sc = *f.ctx->service;
        sc.raft_addr = NULL;
        is_int(join_init(f.ctx, &sc, &j), -EINVAL, "no raft address: -EINVAL");
        sc = *f.ctx->service;
        sc.kind = SERVICE_KIND_IAM;
        is_int(join_init(f.ctx, &sc, &j), -EINVAL, "a kind without a member list: -EINVAL");
        step_fixture_done(&f);
}

static void test_list(void) {
        StubRoute leader_routes[] = {
                { "GET", LIST_PATH, STUB_STATIC, 429, "Retry-After: 60\r\n", "{\"error\":\"slow down\"}", 0, 0, 0 },
        };
        StubRoute peer_routes[] = {
                { "GET", LIST_PATH, STUB_STATIC, 200, NULL, MEMBERS, 0, 2, 0 },
                { "GET", LIST_PATH, STUB_STATIC, 500, NULL, "{\"error\":\"disk full\"}", 0, 0, 0 },
        };
        _cleanup_free_ char *leader_log = NULL, *peer_log = NULL;
        _cleanup_(join_done) Join j = {};
        RotationServer *srv = NULL;
        HttpStub leader, peer;
        StepFixture f;

        if (http_stub_start(LEADER_IP, leader_routes, ELEMENTSOF(leader_routes), &leader) < 0 ||
            http_stub_start(PEER_IP, peer_routes, ELEMENTSOF(peer_routes), &peer) < 0) {
                ok(false, "stub servers");
                return;
        }
        setup(&f, leader.url, peer.url);
        (void) join_init(f.ctx, f.ctx->service, &j);

        is_int(join_list(f.ctx, &j, &srv), 0, "the leader throttles, the peer lists");
        ok(srv == &j.rotation.servers[1], "the peer answered");
        is_int(j.members.n, 2, "its members kept");
        ok(j.rotation.servers[0].not_before > now_monotonic(), "the leader's Retry-After remembered");

        srv = NULL;
        is_int(join_list(f.ctx, &j, &srv), 0, "a second pass");
        ok(srv == &j.rotation.servers[1], "the peer again");
        leader_log = http_stub_log(&leader);
        is_str(leader_log, LIST_REQ, "the throttled leader was not asked again");

        is_int(join_list(f.ctx, &j, NULL), -ENODATA, "nobody lists the members: -ENODATA");
        is_int(j.members.n, 0, "no members left from before");
        ok(strstr(j.rotation.servers[1].last_error, "HTTP 500 (disk full)") != NULL, "the peer's answer recorded: %s",
           j.rotation.servers[1].last_error);
        peer_log = http_stub_log(&peer);
        is_int(count_of(peer_log, LIST_REQ), 3, "one request to the peer per pass");

        is_int(join_failed(f.ctx, &j, "add", -ETIMEDOUT), -ETIMEDOUT, "a failed join keeps its error");
        ok(strstr(fixture_error(&f), "add chainfire: ") && strstr(fixture_error(&f), "HTTP 429 (slow down)") &&
           strstr(fixture_error(&f), "HTTP 500 (disk full)"), "naming every server with its own answer: %s",
           fixture_error(&f));
        is_int(join_failed(f.ctx, &j, "add", -EBADE), -EBADE, "a refused one: -EBADE");

        http_stub_stop(&leader);
        http_stub_stop(&peer);
        step_fixture_done(&f);
}

int main(void) {
        log_setup(getenv("TEST_STEP_LOG") ? LOG_TARGET_JSON : LOG_TARGET_NULL);

        test_init();
        test_list();
        return tap_done();
}
