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

/* Stale members (join-stale.c): which listed member stands where this node would, by the rule
 * of each kind, and what is done about it, against a scripted admin API on loopback
 * (127.79.6.0/24). */

#define STUB_IP "127.79.6.1"
#define OURS    "127.79.6.4:2380"

static void test_find_admin(void) {
        ServiceConfig sc = { .name = (char *) "chainfire", .kind = SERVICE_KIND_ADMIN, .raft_addr = (char *) OURS };
        Join j = { .service = "chainfire", .sc = &sc };
        const Member *m;

        ok(join_find_stale(&j, "node04") == NULL, "an empty list: none");
        (void) member_list_append(&j.members, "node01", NULL, "127.79.6.1:2380", "leader");
        (void) member_list_append(&j.members, "node04", "another-name", OURS, NULL);
        ok(join_find_stale(&j, "node04") == NULL, "this node's id at its address is itself, whatever the name");
        member_list_done(&j.members);

        (void) member_list_append(&j.members, "node01", NULL, "127.79.6.1:2380", NULL);
        (void) member_list_append(&j.members, "node09", "node04", OURS, NULL);
        m = join_find_stale(&j, "node04");
        ok(m && streq(m->id, "node09"), "another id at this node's address is stale (the admin API goes by id)");
        member_list_done(&j.members);

        (void) member_list_append(&j.members, "node04", NULL, "127.79.6.7:2380", NULL);
        m = join_find_stale(&j, "node04");
        ok(m && streq(m->raft_addr, "127.79.6.7:2380"), "this node's id at another address is stale");
        member_list_done(&j.members);

        (void) member_list_append(&j.members, "node09", NULL, OURS, "removed");
        (void) member_list_append(&j.members, "node04", NULL, "127.79.6.7:2380", "left");
        ok(join_find_stale(&j, "node04") == NULL, "members that left do not count");
        member_list_done(&j.members);

        (void) member_list_append(&j.members, "node09", NULL, NULL, NULL);
        ok(join_find_stale(&j, "node04") == NULL, "a member without an address is not in the way");
        member_list_done(&j.members);
}

static void test_find_etcd(void) {
        ServiceConfig sc = { .name = (char *) "etcd", .kind = SERVICE_KIND_ETCD, .raft_addr = (char *) OURS };
        Join j = { .service = "etcd", .sc = &sc };
        const Member *m;

        (void) member_list_append(&j.members, "8e9e05c52164694d", "node04", OURS, NULL);
        ok(join_find_stale(&j, "node04") == NULL, "etcd: this node's name at its address is itself");
        member_list_done(&j.members);

        (void) member_list_append(&j.members, "8e9e05c52164694d", NULL, OURS, NULL);
        ok(join_find_stale(&j, "node04") == NULL, "a member added but not started (no name yet) is this node's own");
        member_list_done(&j.members);

        (void) member_list_append(&j.members, "1f2e", "node09", OURS, NULL);
        m = join_find_stale(&j, "node04");
        ok(m && streq(m->id, "1f2e"), "another name at this node's address is stale (etcd goes by name)");
        member_list_done(&j.members);

        (void) member_list_append(&j.members, "1f2e", "node04", "127.79.6.7:2380", NULL);
        ok(join_find_stale(&j, "node04") != NULL, "this node's name at another address is stale");
        member_list_done(&j.members);
}

/* A Join of chainfire with the stub as its leader, and the stale member node09 at this node's
 * address in its member list. */
static void setup(StepFixture *f, Join *j, const char *leader, bool replace) {
        (void) step_fixture_init(f, "chainfire-join", "chainfire",
                                 "{\"node_id\": \"node04\", \"bootstrap\": false, \"tls\": {\"enabled\": false}, "
                                 "\"leader_url\": \"%s\", \"raft_addr\": \"" OURS "\", "
                                 "\"timeouts\": {\"join_attempts\": 2, \"backoff_initial_ms\": 1, \"backoff_max_ms\": 2}, "
                                 "\"services\": {\"chainfire\": {\"driver\": \"admin\", \"enabled\": true, "
                                 "\"leader_url\": \"%s\", \"replace_stale_member\": %s}}}", leader, leader, replace ? "true" : "false");
        if (join_init(f->ctx, f->ctx->service, j) < 0)
                printf("# join_init failed\n");
        (void) member_list_append(&j->members, "node01", NULL, "127.79.6.1:2380", NULL);
        (void) member_list_append(&j->members, "node09", NULL, OURS, NULL);
}

static void test_handle(void) {
        StubRoute routes[] = {
                { "DELETE", "/admin/member/node09", STUB_STATIC, 200, NULL, "{}", 0, 1, 0 },
                { "DELETE", "/admin/member/node09", STUB_STATIC, 403, NULL, "{\"error\":\"node09 is the leader\"}", 0, 0, 0 },
        };
        _cleanup_free_ char *log = NULL, *log2 = NULL, *log3 = NULL;
        const Member *m;
        HttpStub stub;
        StepFixture f;
        Join j;

        if (http_stub_start(STUB_IP, routes, ELEMENTSOF(routes), &stub) < 0) {
                ok(false, "stub server");
                return;
        }

        setup(&f, &j, stub.url, false);
        m = join_find_stale(&j, "node04");
        ok(m != NULL, "the stale member found");
        is_int(join_handle_stale(f.ctx, &j, m, "node04"), -EBADE, "not allowed to replace it: refused");
        is_str(fixture_error(&f), "chainfire lists member node09 ('node09', " OURS ") at this node's address",
               "the error names the member and why");
        log = http_stub_log(&stub);
        is_str(log, "", "nothing sent");
        join_done(&j);
        step_fixture_done(&f);

        setup(&f, &j, stub.url, true);
        m = join_find_stale(&j, "node04");
        is_int(join_handle_stale(f.ctx, &j, m, "node04"), 0, "replace_stale_member: removed");
        log2 = http_stub_log(&stub);
        is_str(log2, "DELETE /admin/member/node09 \n", "by its id, at the leader");
        ok(j.stale == NULL, "no member left marked as being removed");

        is_int(join_handle_stale(f.ctx, &j, m, "node04"), -EBADE, "the cluster refuses the removal: -EBADE");
        ok(strstr(fixture_error(&f), "remove the stale member before adding chainfire: ") &&
           strstr(fixture_error(&f), "HTTP 403 (node09 is the leader)"), "the error says which step and why: %s",
           fixture_error(&f));
        log3 = http_stub_log(&stub);
        is_int(count_of(log3, "DELETE"), 2, "a refusal is not retried");
        join_done(&j);
        step_fixture_done(&f);
        http_stub_stop(&stub);
}

int main(void) {
        log_setup(getenv("TEST_STEP_LOG") ? LOG_TARGET_JSON : LOG_TARGET_NULL);

        test_find_admin();
        test_find_etcd();
        test_handle();
        return tap_done();
}
