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

/* The cluster's join lock (join-lock.c) against a scripted etcd v3 gateway on loopback
 * (127.79.16.0/24): a lease, the lock, the holder's name, the keep-alive while it is held, the
 * release; and a lock held by another node until the deadline. */

#define STUB_IP "127.79.16.1"
#define HEADER "\"header\":{\"cluster_id\":\"1\",\"member_id\":\"2\",\"revision\":\"2\",\"raft_term\":\"2\"}"
#define GRANT  "{" HEADER ",\"ID\":\"216632555804830469\",\"TTL\":\"3\"}"
/* "first-boot-agent/join/chainfire", "first-boot-agent/join-holder/chainfire" */
#define LOCK_NAME   "Zmlyc3QtYm9vdC1hZ2VudC9qb2luL2NoYWluZmlyZQ=="
#define HOLDER_NAME "Zmlyc3QtYm9vdC1hZ2VudC9qb2luLWhvbGRlci9jaGFpbmZpcmU="

static int setup(StepFixture *f, Join *j, const char *url, int ttl_s) {
        (void) step_fixture_init(f, "chainfire-join", "chainfire",
                                 "{\"node_id\": \"node04\", \"bootstrap\": false, \"tls\": {\"enabled\": false}, "
                                 "\"leader_url\": \"%s\", \"raft_addr\": \"127.79.16.4:2380\", "
                                 "\"timeouts\": {\"join_attempts\": 1, \"backoff_initial_ms\": 1, \"backoff_max_ms\": 2, "
                                 "\"health_wait_s\": 1, \"join_lock_ttl_s\": %d}, "
                                 "\"services\": {\"chainfire\": {\"driver\": \"admin\", \"leader_url\": \"%s\"}}}",
                                 url, ttl_s, url);
        return join_init(f->ctx, f->ctx->service, j);
}

static void test_taken(void) {
        StubRoute routes[] = {
                { "POST", "/v3/lease/grant", STUB_STATIC, 200, NULL, GRANT, 0, 0, 0 },
                { "POST", "/v3/lock/lock", STUB_STATIC, 200, NULL, "{" HEADER ",\"key\":\"a2V5\"}", 0, 0, 0 },
                { "POST", "/v3/kv/put", STUB_STATIC, 200, NULL, "{" HEADER "}", 0, 0, 0 },
                { "POST", "/v3/lease/revoke", STUB_STATIC, 200, NULL, "{" HEADER "}", 0, 0, 0 },
        };
        _cleanup_free_ char *log = NULL, *log2 = NULL, *log3 = NULL;
        _cleanup_(join_done) Join j = {};
        HttpStub stub;
        StepFixture f;
        JoinLock l;

        if (http_stub_start(STUB_IP, routes, ELEMENTSOF(routes), &stub) < 0) {
                ok(false, "stub server");
                return;
        }
        is_int(setup(&f, &j, stub.url, 6), 0, "a join");
        is_int(join_lock_take(f.ctx, &j, &l), 0, "the lock taken");
        is_str(l.lease, "216632555804830469", "under the lease granted");
        ok(l.key != NULL, "its key kept");
        ok(f.ctx->keepalive != NULL && f.ctx->keepalive_userdata == &l, "the lease is renewed while the step waits");
        log = http_stub_log(&stub);
        ok(log && strstr(log, "POST /v3/lease/grant {\"TTL\":") && strstr(log, "\"TTL\":6"), "a lease of join_lock_ttl_s");
        ok(log && strstr(log, "POST /v3/lock/lock ") && strstr(log, LOCK_NAME), "the service's lock asked for");
        ok(log && strstr(log, "POST /v3/kv/put ") && strstr(log, HOLDER_NAME) && strstr(log, "bm9kZTA0"),
           "this node named as its holder (node04)");

        join_lock_release(&l);
        log2 = http_stub_log(&stub);
        ok(log2 && strstr(log2, "POST /v3/lease/revoke ") && strstr(log2, "216632555804830469"), "released: the lease revoked");
        ok(f.ctx->keepalive == NULL, "no keep-alive after the release");
        ok(l.lease == NULL && l.key == NULL, "nothing held");
        join_lock_release(&l);
        log3 = http_stub_log(&stub);
        is_int(count_of(log3, "revoke"), 1, "a second release sends nothing");
        http_stub_stop(&stub);
        step_fixture_done(&f);
}

static void test_held_by_another(void) {
        StubRoute routes[] = {
                { "POST", "/v3/lease/grant", STUB_STATIC, 200, NULL, GRANT, 0, 0, 0 },
                /* Answers after the agent stopped waiting: the lock stays with another node. */
                { "POST", "/v3/lock/lock", STUB_STATIC, 200, NULL, "{" HEADER ",\"key\":\"late\"}", 1500, 0, 0 },
                /* "node07" */
                { "POST", "/v3/kv/range", STUB_STATIC, 200, NULL,
                  "{" HEADER ",\"kvs\":[{\"key\":\"eA==\",\"value\":\"bm9kZTA3\",\"lease\":\"7\"}],\"count\":\"1\"}", 0, 0, 0 },
                { "POST", "/v3/lease/keepalive", STUB_STATIC, 200, NULL,
                  "{\"result\":{" HEADER ",\"ID\":\"216632555804830469\",\"TTL\":\"3\"}}", 0, 0, 0 },
                { "POST", "/v3/lease/revoke", STUB_STATIC, 200, NULL, "{" HEADER "}", 0, 0, 0 },
        };
        _cleanup_free_ char *log = NULL;
        _cleanup_(join_done) Join j = {};
        HttpStub stub;
        StepFixture f;
        JoinLock l;

        if (http_stub_start(STUB_IP, routes, ELEMENTSOF(routes), &stub) < 0) {
                ok(false, "stub server");
                return;
        }
        (void) setup(&f, &j, stub.url, 6);
        is_int(join_lock_take(f.ctx, &j, &l), -ETIMEDOUT, "held by another node past timeouts.health_wait_s: -ETIMEDOUT");
        is_str(fixture_error(&f), "the chainfire join lock stayed with node07 for 1 s", "the error names the holder");
        ok(l.key == NULL, "not held");
        ok(f.ctx->keepalive == NULL, "no keep-alive set");
        join_lock_release(&l);
        log = http_stub_log(&stub);
        ok(log && strstr(log, "POST /v3/lease/revoke ") != NULL, "the lease given back");
        http_stub_stop(&stub);
        step_fixture_done(&f);
}

static void test_no_lock(void) {
        _cleanup_(join_done) Join j = {};
        StepFixture f;
        JoinLock l;

        (void) setup(&f, &j, "http://" STUB_IP ":9", 0);
        is_int(join_lock_take(f.ctx, &j, &l), 0, "join_lock_ttl_s 0: no lock, at once");
        ok(l.lease == NULL && f.ctx->keepalive == NULL, "nothing taken");
        is_int(f.ctx->current->attempts, 0, "nothing asked");
        join_lock_release(&l);
        step_fixture_done(&f);
}

int main(void) {
        log_setup(getenv("TEST_STEP_LOG") ? LOG_TARGET_JSON : LOG_TARGET_NULL);

        test_taken();
        test_held_by_another();
        test_no_lock();
        return tap_done();
}
