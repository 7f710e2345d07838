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

/* The admin-API join (step_join_admin) against scripted servers playing the leader and a peer
 * on loopback (127.79.1.0/24): what it asks, in which order, and what the step's record says. */

#define LEADER_IP "127.79.1.1"
#define PEER_IP   "127.79.1.2"
#define RAFT_ADDR "127.79.1.4:2380"

#define LIST_PATH "/admin/cluster/members"
#define ADD_PATH  "/admin/member/add"
#define WITHOUT_US "{\"members\":[{\"id\":\"node01\",\"raft_addr\":\"127.79.1.1:2380\",\"status\":\"leader\"}]}"
#define WITH_US    "{\"members\":[{\"id\":\"node01\",\"raft_addr\":\"127.79.1.1:2380\"}," \
                   "{\"id\":\"node04\",\"raft_addr\":\"" RAFT_ADDR "\"}]}"
#define WITH_STALE "{\"members\":[{\"id\":\"node01\",\"raft_addr\":\"127.79.1.1:2380\"}," \
                   "{\"id\":\"node09\",\"raft_addr\":\"" RAFT_ADDR "\"}]}"
#define ADD_BODY   "{\"id\":\"node04\",\"raft_addr\":\"" RAFT_ADDR "\"}"

static const char *port_of(const char *url) {
        const char *p = strrchr(url, ':');

        return p ? p + 1 : "1";
}

/* chainfire with the leader at leader_url and one peer, the stub peer (its API port is the
 * service's api_port, as the configuration derives peer URLs), or none. */
static int setup(StepFixture *f, const char *leader_url, const HttpStub *peer, bool bootstrap, bool replace) {
        return step_fixture_init(f, "chainfire-join", "chainfire",
                                 "{\"node_id\": \"node04\", \"bootstrap\": %s, \"tls\": {\"enabled\": false}, \"leader_url\": \"%s\", \"raft_addr\": \"" RAFT_ADDR "\", "
                                 "\"initial_peers\": [\"127.79.1.1:2380\"], "
                                 "\"timeouts\": {\"join_attempts\": 2, \"backoff_initial_ms\": 1, \"backoff_max_ms\": 2, "
                                 "\"join_start_delay_max_ms\": 0, \"connect_s\": 2, \"request_s\": 5}, "
                                 "\"services\": {\"chainfire\": {\"driver\": \"admin\", \"enabled\": true, "
                                 "\"leader_url\": \"%s\", \"raft_addr\": \"" RAFT_ADDR "\", \"api_port\": %s, "
                                 "\"peers\": [%s], \"replace_stale_member\": %s}}}",
                                 bootstrap ? "true" : "false", leader_url, leader_url, peer ? port_of(peer->url) : "2379",
                                 peer ? "\"" PEER_IP ":2380\"" : "", replace ? "true" : "false");
}

/* Runs the join against a leader stub with these routes; the request log into *ret_log. */
static int join_with(StubRoute *routes, size_t n, bool replace, StepFixture *f, char **ret_log) {
        HttpStub leader;
        int r;

        *ret_log = NULL;
        if (http_stub_start(LEADER_IP, routes, n, &leader) < 0) {
                printf("# no stub server on " LEADER_IP "\n");
                return -ENOTRECOVERABLE;
        }
        if (setup(f, leader.url, NULL, false, replace) < 0)
                r = -ENOTRECOVERABLE;
        else
                r = step_join_admin(f->ctx);
        *ret_log = http_stub_log(&leader);
        http_stub_stop(&leader);
        return r;
}

static void test_already_member(void) {
        StubRoute routes[] = {
                { "GET", LIST_PATH, STUB_STATIC, 200, NULL, WITH_US, 0, 0, 0 },
                { "POST", ADD_PATH, STUB_STATIC, 201, NULL, "{}", 0, 0, 0 },
        };
        _cleanup_free_ char *log = NULL;
        StepFixture f;

        is_int(join_with(routes, ELEMENTSOF(routes), false, &f, &log), 0, "listed already: the join succeeds");
        is_str(log, "GET " LIST_PATH " \n", "only the member list was asked for");
        ok(strstr(fixture_detail(&f), "already a member (listed by http://" LEADER_IP ":"),
           "the detail says so: %s", fixture_detail(&f));
        step_fixture_done(&f);
}

static void test_add(void) {
        StubRoute routes[] = {
                { "GET", LIST_PATH, STUB_STATIC, 200, NULL, WITHOUT_US, 0, 0, 0 },
                { "POST", ADD_PATH, STUB_STATIC, 201, NULL, "{}", 0, 0, 0 },
        };
        _cleanup_free_ char *log = NULL;
        StepFixture f;

        is_int(join_with(routes, ELEMENTSOF(routes), false, &f, &log), 0, "not listed: added");
        is_str(log, "GET " LIST_PATH " \nPOST " ADD_PATH " " ADD_BODY "\n",
               "the list, then one add with this node's id and raft address");
        ok(strstr(fixture_detail(&f), "joined via http://" LEADER_IP ":"), "the detail names the leader: %s",
           fixture_detail(&f));
        is_int(f.ctx->current->attempts, 1, "one attempt recorded");
        step_fixture_done(&f);
}

static void test_conflict(void) {
        StubRoute routes[] = {
                { "GET", LIST_PATH, STUB_STATIC, 200, NULL, WITHOUT_US, 0, 0, 0 },
                { "POST", ADD_PATH, STUB_STATIC, 409, NULL, "{\"error\":\"already a member\"}", 0, 0, 0 },
        };
        _cleanup_free_ char *log = NULL;
        StepFixture f;

        is_int(join_with(routes, ELEMENTSOF(routes), false, &f, &log), 0, "409: already a member, the join succeeds");
        is_int(count_of(log, "POST " ADD_PATH), 1, "one add, not retried");
        ok(strstr(fixture_detail(&f), "already a member (HTTP 409 from http://" LEADER_IP ":"),
           "the detail names the 409: %s", fixture_detail(&f));
        is_str(fixture_error(&f), "", "no error recorded");
        step_fixture_done(&f);
}

static void test_refused(void) {
        StubRoute routes[] = {
                { "GET", LIST_PATH, STUB_STATIC, 200, NULL, WITHOUT_US, 0, 0, 0 },
                { "POST", ADD_PATH, STUB_STATIC, 400, NULL, "{\"error\":\"raft_addr must be host:port\"}", 0, 0, 0 },
        };
        StubRoute peer_routes[] = {
                { "GET", LIST_PATH, STUB_STATIC, 200, NULL, WITHOUT_US, 0, 0, 0 },
                { "POST", ADD_PATH, STUB_STATIC, 201, NULL, "{}", 0, 0, 0 },
        };
        _cleanup_free_ char *log = NULL, *peer_log = NULL;
        HttpStub leader, peer;
        StepFixture f;
        int r = -ENOTRECOVERABLE;

        if (http_stub_start(LEADER_IP, routes, ELEMENTSOF(routes), &leader) < 0 ||
            http_stub_start(PEER_IP, peer_routes, ELEMENTSOF(peer_routes), &peer) < 0) {
                ok(false, "stub servers");
                return;
        }
        if (setup(&f, leader.url, &peer, false, false) == 0)
                r = step_join_admin(f.ctx);
        log = http_stub_log(&leader);
        peer_log = http_stub_log(&peer);
        http_stub_stop(&leader);
        http_stub_stop(&peer);

        is_int(r, -EBADE, "a 400 refusal: -EBADE (exit 5)");
        is_int(count_of(log, "POST " ADD_PATH), 1, "the refusal was not retried");
        is_str(peer_log, "", "and the peer was not asked");
        ok(strstr(fixture_error(&f), "add chainfire: http://" LEADER_IP ":") &&
           strstr(fixture_error(&f), "HTTP 400 (raft_addr must be host:port)"),
           "the error names the server and its reason: %s", fixture_error(&f));
        step_fixture_done(&f);
}

static void test_leader_down(void) {
        StubRoute peer_routes[] = {
                { "GET", LIST_PATH, STUB_STATIC, 200, NULL, WITHOUT_US, 0, 0, 0 },
                { "POST", ADD_PATH, STUB_STATIC, 201, NULL, "{}", 0, 0, 0 },
        };
        _cleanup_free_ char *peer_log = NULL;
        char down[64];
        HttpStub peer;
        StepFixture f;
        int r = -ENOTRECOVERABLE;

        if (stub_closed_port_url(LEADER_IP, down, sizeof down) < 0 ||
            http_stub_start(PEER_IP, peer_routes, ELEMENTSOF(peer_routes), &peer) < 0) {
                ok(false, "stub server");
                return;
        }
        if (setup(&f, down, &peer, false, false) == 0)
                r = step_join_admin(f.ctx);
        peer_log = http_stub_log(&peer);

        is_int(r, 0, "the leader down: joined through the peer");
        is_str(peer_log, "GET " LIST_PATH " \nPOST " ADD_PATH " " ADD_BODY "\n", "the peer listed, then added");
        ok(strstr(fixture_detail(&f), peer.url) != NULL, "the detail names the peer: %s", fixture_detail(&f));
        is_int(f.ctx->current->attempts, 2, "two attempts: the leader, then the peer");
        http_stub_stop(&peer);
        step_fixture_done(&f);
}

static void test_all_failing(void) {
        StubRoute routes[] = {
                { "GET", LIST_PATH, STUB_STATIC, 503, NULL, "{\"error\":\"no leader\"}", 0, 0, 0 },
                { "POST", ADD_PATH, STUB_STATIC, 503, NULL, "{\"error\":\"no leader\"}", 0, 0, 0 },
        };
        _cleanup_free_ char *log = NULL;
        StepFixture f;

        is_int(join_with(routes, ELEMENTSOF(routes), false, &f, &log), -ETIMEDOUT,
               "a server that keeps failing: -ETIMEDOUT after the rounds");
        is_int(count_of(log, "POST " ADD_PATH), 2, "one add per round (timeouts.join_attempts 2)");
        ok(strstr(fixture_error(&f), "(2 attempts, last: HTTP 503 (no leader))") != NULL,
           "the error names the attempts and the last answer: %s", fixture_error(&f));
        step_fixture_done(&f);
}

static void test_stale(void) {
        StubRoute routes[] = {
                { "GET", LIST_PATH, STUB_STATIC, 200, NULL, WITH_STALE, 0, 0, 0 },
                { "DELETE", "/admin/member/node09", STUB_STATIC, 200, NULL, "{}", 0, 0, 0 },
                { "POST", ADD_PATH, STUB_STATIC, 201, NULL, "{}", 0, 0, 0 },
        };
        _cleanup_free_ char *log = NULL, *log2 = NULL;
        StepFixture f;

        is_int(join_with(routes, ELEMENTSOF(routes), false, &f, &log), -EBADE,
               "another member at this node's address: refused");
        is_int(count_of(log, "POST") + count_of(log, "DELETE"), 0, "nothing removed, nothing added");
        ok(strstr(fixture_error(&f), "member node09") != NULL, "the error names the member: %s", fixture_error(&f));
        step_fixture_done(&f);

        is_int(join_with(routes, ELEMENTSOF(routes), true, &f, &log2), 0,
               "with replace_stale_member: removed, then added");
        is_str(log2, "GET " LIST_PATH " \nDELETE /admin/member/node09 \nPOST " ADD_PATH " " ADD_BODY "\n",
               "the list, the removal, the add");
        step_fixture_done(&f);
}

static void test_bootstrap_and_plan(void) {
        StubRoute routes[] = { { "GET", LIST_PATH, STUB_STATIC, 200, NULL, WITHOUT_US, 0, 0, 0 } };
        _cleanup_free_ char *log = NULL;
        HttpStub leader;
        StepFixture f;

        if (http_stub_start(LEADER_IP, routes, ELEMENTSOF(routes), &leader) < 0) {
                ok(false, "stub server");
                return;
        }
        if (setup(&f, leader.url, NULL, true, false) == 0) {
                is_int(step_join_admin(f.ctx), 0, "a bootstrap node");
                ok(strstr(fixture_detail(&f), "bootstrap") != NULL, "says it bootstraps: %s", fixture_detail(&f));
                f.ctx->service = NULL;
                is_int(step_join_admin(f.ctx), -EINVAL, "a join step without a service is refused");
        }
        log = http_stub_log(&leader);
        is_str(log, "", "and sends nothing");
        http_stub_stop(&leader);
        step_fixture_done(&f);

        if (setup(&f, "http://" LEADER_IP ":9", NULL, false, false) == 0) {
                f.ctx->service = NULL;
                ok(join_procedure(SERVICE_KIND_ADMIN)->join == step_join_admin, "the admin kind joins with it");
                ok(join_procedure(SERVICE_KIND_ETCD)->join == step_join_etcd, "etcd with its own");
                ok(join_procedure(_SERVICE_KIND_MAX) == NULL, "no procedure beyond the table");
        }
        step_fixture_done(&f);
}

int main(void) {
        log_setup(getenv("TEST_STEP_LOG") ? LOG_TARGET_JSON : LOG_TARGET_NULL);

        test_already_member();
        test_add();
        test_conflict();
        test_refused();
        test_leader_down();
        test_all_failing();
        test_stale();
        test_bootstrap_and_plan();
        return tap_done();
}
