/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>

#include "cleanup.h"
#include "http-stub.h"
#include "member.h"
#include "tap.h"

/* Loopback addresses of this test: 127.8.3.0/24. */

static void test_find(void) {
        MemberList l = {};
        const Member *m;

        ok(member_list_find(&l, "node01", NULL) == NULL, "empty list");
        is_int(member_list_append(&l, "node01", "node01", "10.0.1.10:2380", "active"), 0, "append");
        is_int(member_list_append(&l, "node02", NULL, "10.0.1.11:2380", NULL), 0, "append without name, status");
        is_int(member_list_append(&l, "8e9e05c52164694d", "node03", "10.0.1.12:2380", "started"), 0, "append etcd-like");
        is_int(member_list_append(&l, "1f2e", NULL, "10.0.1.13:2380", "unstarted"), 0, "append unstarted");
        is_int(l.n, 4, "four members");

        m = member_list_find(&l, "node02", NULL);
        ok(m && streq(m->raft_addr, "10.0.1.11:2380"), "by id");
        ok(member_list_find(&l, "node03", NULL) == NULL, "a name alone is not this node (another machine may carry it)");
        m = member_list_find(&l, NULL, "10.0.1.13:2380");
        ok(m && streq(m->id, "1f2e"), "by raft address");
        m = member_list_find(&l, "node04", "10.0.1.13:2380");
        ok(m && streq(m->id, "1f2e"), "unknown id, known address");
        m = member_list_find(&l, "node01", "10.0.1.11:2380");
        ok(m && streq(m->id, "node01"), "id wins over address");
        ok(member_list_find(&l, "node04", "10.0.1.14:2380") == NULL, "neither");
        ok(member_list_find(&l, "", "") == NULL, "empty strings match nothing");
        ok(member_list_find(&l, NULL, NULL) == NULL, "NULLs match nothing");
        ok(member_list_find(&l, NULL, "10.0.1.10") == NULL, "host alone is not an address");
        ok(member_list_find(NULL, "node01", NULL) == NULL, "NULL list");
        is_int(member_list_append(&l, "node05", "node05", "10.0.1.15:2380", "removed"), 0, "append a removed one");
        is_int(member_list_append(&l, "node06", "node06", "10.0.1.16:2380", "Inactive"), 0, "append an inactive one");
        ok(member_list_find(&l, "node05", NULL) == NULL, "a removed entry does not count, by id");
        ok(member_list_find(&l, NULL, "10.0.1.15:2380") == NULL, "nor by address");
        ok(member_list_find(&l, "node06", NULL) == NULL, "an inactive one neither (any case)");
        ok(member_is_current(&l.items[0]) && member_is_current(&l.items[1]), "active and no status are current");

        member_list_done(&l);
        is_int(l.n, 0, "done empties");
        ok(l.items == NULL, "done frees");
}

static void test_errors(void) {
        is_int(member_error_from_status(200), 0, "200");
        is_int(member_error_from_status(201), 0, "201");
        is_int(member_error_from_status(400), -EBADE, "400 → EBADE");
        is_int(member_error_from_status(404), -EBADE, "404 → EBADE");
        is_int(member_error_from_status(503), -EREMOTEIO, "503 → EREMOTEIO");
        is_int(member_error_from_status(302), -EBADMSG, "302 → EBADMSG");
        is_int(member_error_from_status(0), -EBADMSG, "0 → EBADMSG");

        ok(curl_util_error_is_transient(-EREMOTEIO), "EREMOTEIO is transient");
        ok(curl_util_error_is_transient(-ECONNREFUSED), "ECONNREFUSED is transient");
        ok(curl_util_error_is_transient(-ETIMEDOUT), "ETIMEDOUT is transient");
        ok(curl_util_error_is_transient(-EHOSTUNREACH), "EHOSTUNREACH is transient");
        ok(curl_util_error_is_transient(-EPROTO), "EPROTO is transient");
        ok(!curl_util_error_is_transient(-EBADE), "EBADE is not");
        ok(!curl_util_error_is_transient(-EBADMSG), "EBADMSG is not");
        ok(!curl_util_error_is_transient(-EKEYREJECTED), "EKEYREJECTED is not");
        ok(!curl_util_error_is_transient(-ENOENT), "ENOENT is not");
        ok(!curl_util_error_is_transient(-EINVAL), "EINVAL is not");
        ok(!curl_util_error_is_transient(-ESRCH), "ESRCH is not");
        ok(!curl_util_error_is_transient(MEMBER_ADDED), "success is not an error");
        ok(!curl_util_error_is_transient(MEMBER_EXISTS), "exists is not an error");

        ok(member_driver_get(SERVICE_KIND_ADMIN) == &member_driver_admin, "admin driver");
        ok(member_driver_get(SERVICE_KIND_ETCD) == &member_driver_etcd, "etcd driver");
        ok(member_driver_get(SERVICE_KIND_IAM) == NULL, "IAM has no member list");
}

static StubRoute admin_routes[] = {
        { "GET", "/admin/cluster/members", STUB_STATIC, 200, NULL,
          "{\"members\":[{\"id\":\"node01\",\"raft_addr\":\"127.8.3.1:2380\",\"status\":\"leader\"},"
          "{\"id\":\"node02\",\"raft_addr\":\"127.8.3.2:2380\"}]}", 0, 1 },
        { "GET", "/admin/cluster/members", STUB_STATIC, 200, NULL, "<html>not json</html>", 0, 1 },
        { "GET", "/admin/cluster/members", STUB_STATIC, 200, NULL, "{\"members\":[{\"raft_addr\":\"x:1\"}]}", 0, 1 },
        { "GET", "/admin/cluster/members", STUB_STATIC, 503, NULL, "{\"error\":\"no leader\"}", 0, 1 },
        { "POST", "/admin/member/add", STUB_STATIC, 201, NULL, "{}", 0, 1 },
        { "POST", "/admin/member/add", STUB_STATIC, 409, NULL, "{\"error\":\"already a member\"}", 0, 1 },
        { "POST", "/admin/member/add", STUB_STATIC, 400, NULL, "{\"error\":\"raft_addr must be host:port\"}", 0, 1 },
        { "POST", "/admin/member/add", STUB_STATIC, 500, NULL, "oops", 0, 1 },
        { "POST", "/admin/member/add", STUB_STATIC, 302, "Location: http://127.8.3.2:8081/admin/member/add\r\n", "", 0, 1 },
        { "POST", "/admin/member/add", STUB_STATIC, 302, NULL, "", 0, 1 },
        { "POST", "/admin/member/add", STUB_STATIC, 421, NULL, "{\"error\":\"not the leader\",\"leader\":\"http://127.8.3.3:8081\"}", 0, 1 },
        { "POST", "/admin/member/add", STUB_STATIC, 429, "Retry-After: 2\r\n", "{\"error\":\"slow down\"}", 0, 1 },
        { "DELETE", "/admin/member/node%2F4%20x", STUB_STATIC, 200, NULL, "{}", 0, 0 },
        { "DELETE", "/admin/member/node09", STUB_STATIC, 404, NULL, "{\"error\":\"no member node09\"}", 0, 0 },
};

static void test_admin(void) {
        _cleanup_(http_client_freep) HttpClient *c = NULL;
        _cleanup_free_ char *log = NULL;
        const MemberDriver *d = &member_driver_admin;
        HttpResponse resp = {};
        MemberList l = {};
        char base[128];
        HttpStub stub;

        if (http_stub_start("127.8.3.1", admin_routes, ELEMENTSOF(admin_routes), &stub) < 0) {
                ok(false, "admin stub server");
                return;
        }
        snprintf(base, sizeof base, "%s/", stub.url);     /* a trailing slash is fine */
        is_int(http_client_new(NULL, 1000, 5000, &c), 0, "client");

        is_int(d->list(c, base, &l, &resp), 0, "list");
        is_int(l.n, 2, "two members");
        ok(l.n == 2 && streq(l.items[0].id, "node01") && streq(l.items[0].name, "node01") &&
           streq(l.items[0].raft_addr, "127.8.3.1:2380") && streq(l.items[0].status, "leader"), "first member");
        ok(l.n == 2 && streq(l.items[1].id, "node02") && !l.items[1].status, "second member, no status");
        member_list_done(&l);
        is_int(d->list(c, base, &l, &resp), -EBADMSG, "list: not JSON");
        is_int(d->list(c, base, &l, &resp), -EBADMSG, "list: member without id");
        is_int(d->list(c, base, &l, &resp), -EREMOTEIO, "list: 503");
        is_int(l.n, 0, "nothing returned on failure");

        is_int(d->add(c, base, "node04", "127.8.3.4:2380", MEMBER_ADD_TLS, &resp), MEMBER_ADDED, "add: 201");
        is_int(resp.status, 201, "status kept");
        is_int(d->add(c, base, "node04", "127.8.3.4:2380", MEMBER_ADD_TLS, &resp), MEMBER_EXISTS, "add: 409");
        is_int(d->add(c, base, "node04", "bad", MEMBER_ADD_TLS, &resp), -EBADE, "add: 400");
        is_int(resp.status, 400, "status 400 kept for the message");
        ok(strstr(resp.body, "raft_addr must be host:port") != NULL, "body kept for the message");
        is_int(d->add(c, base, "node04", "127.8.3.4:2380", MEMBER_ADD_TLS, &resp), -EREMOTEIO, "add: 500");
        is_int(d->add(c, base, "node04", "127.8.3.4:2380", MEMBER_ADD_TLS, &resp), -EREMCHG, "add: a redirect names the leader");
        {
                _cleanup_free_ char *hint = NULL;
                is_int(member_leader_hint(&resp, &hint), 1, "the redirect is a leader hint");
                is_str(hint, "http://127.8.3.2:8081", "the hint is the leader's base URL");
        }
        is_int(d->add(c, base, "node04", "127.8.3.4:2380", MEMBER_ADD_TLS, &resp), -EBADMSG,
               "add: 302 without a Location is not understood");
        is_int(d->add(c, base, "node04", "127.8.3.4:2380", MEMBER_ADD_TLS, &resp), -EREMCHG, "add: 421 naming the leader");
        {
                _cleanup_free_ char *hint = NULL;
                is_int(member_leader_hint(&resp, &hint), 1, "the body's leader is a hint");
                is_str(hint, "http://127.8.3.3:8081", "the hint from the body");
        }
        is_int(d->add(c, base, "node04", "127.8.3.4:2380", MEMBER_ADD_TLS, &resp), -EBUSY, "add: 429 → EBUSY");
        is_int((int) resp.retry_after_s, 2, "Retry-After kept");

        is_int(d->remove(c, base, "node/4 x", &resp), 0, "remove with an escaped id");
        is_int(d->remove(c, base, "node09", &resp), -EBADE, "remove: 404");
        is_int(resp.status, 404, "status 404");
        is_int(d->remove(c, base, "", &resp), -EINVAL, "remove: empty id");

        log = http_stub_log(&stub);
        ok(log && strstr(log, "POST /admin/member/add {\"id\":\"node04\",\"raft_addr\":\"127.8.3.4:2380\"}\n"),
           "add body");
        ok(log && strstr(log, "DELETE /admin/member/node%2F4%20x \n"), "remove path");

        http_response_done(&resp);
        http_stub_stop(&stub);
}

/* What etcd 3.4 answers, with a member ID above INT64_MAX and one added but not started. */
#define ETCD_LIST                                                                                       \
        "{\"header\":{\"cluster_id\":\"17793007035626976336\",\"member_id\":\"10535242109746705299\",\"raft_term\":\"2\"}," \
        "\"members\":[{\"ID\":\"9120182764648893796\",\"name\":\"n2\",\"peerURLs\":[\"http://127.8.3.12:2380\"]," \
        "\"clientURLs\":[\"http://127.8.3.12:2379\"]},"                                                  \
        "{\"ID\":\"10535242109746705299\",\"name\":\"n1\",\"peerURLs\":[\"http://127.8.3.11:2380\"],"   \
        "\"clientURLs\":[\"http://127.8.3.11:2379\"]},"                                                  \
        "{\"ID\":\"17156238260726239246\",\"peerURLs\":[\"http://127.8.3.19:2380\"]},"                   \
        "{\"ID\":\"42\",\"name\":\"l1\",\"peerURLs\":[\"https://127.8.3.20:2380/\"],\"isLearner\":true}]}"

static StubRoute etcd_routes[] = {
        { "POST", "/v3/cluster/member/list", STUB_STATIC, 200, NULL, ETCD_LIST, 0, 0 },
        { "POST", "/v3/cluster/member/add", STUB_STATIC, 200, NULL,
          "{\"member\":{\"ID\":\"5634729644448527106\",\"peerURLs\":[\"http://127.8.3.14:2380\"]}}", 0, 1 },
        { "POST", "/v3/cluster/member/add", STUB_STATIC, 412, NULL,
          "{\"error\":\"etcdserver: Peer URLs already exists\",\"message\":\"etcdserver: Peer URLs already exists\",\"code\":9}", 0, 1 },
        { "POST", "/v3/cluster/member/add", STUB_STATIC, 503, NULL,
          "{\"error\":\"etcdserver: unhealthy cluster\",\"message\":\"etcdserver: unhealthy cluster\",\"code\":14}", 0, 2 },
        { "POST", "/v3/cluster/member/add", STUB_STATIC, 400, NULL,
          "{\"error\":\"etcdserver: given member URLs are invalid\",\"message\":\"etcdserver: given member URLs are invalid\",\"code\":3}", 0, 1 },
        { "POST", "/v3/cluster/member/add", STUB_STATIC, 200, NULL,
          "{\"member\":{\"ID\":\"77\",\"peerURLs\":[\"https://127.8.3.15:2380\"],\"isLearner\":true}}", 0, 1 },
        { "POST", "/v3/cluster/member/promote", STUB_STATIC, 412, NULL,
          "{\"error\":\"etcdserver: can only promote a learner member which is in sync with leader\","
          "\"message\":\"etcdserver: can only promote a learner member which is in sync with leader\",\"code\":9}", 0, 1 },
        { "POST", "/v3/cluster/member/promote", STUB_STATIC, 200, NULL, "{\"members\":[]}", 0, 1 },
        { "POST", "/v3/cluster/member/promote", STUB_STATIC, 412, NULL,
          "{\"error\":\"etcdserver: can only promote a learner member\","
          "\"message\":\"etcdserver: can only promote a learner member\",\"code\":9}", 0, 1 },
        { "POST", "/v3/cluster/member/promote", STUB_STATIC, 404, NULL,
          "{\"error\":\"etcdserver: member not found\",\"message\":\"etcdserver: member not found\",\"code\":5}", 0, 1 },
        { "POST", "/v3/cluster/member/remove", STUB_STATIC, 200, NULL, "{\"members\":[]}", 0, 3 },
        { "POST", "/v3/cluster/member/remove", STUB_STATIC, 404, NULL,
          "{\"error\":\"etcdserver: member not found\",\"message\":\"etcdserver: member not found\",\"code\":5}", 0, 1 },
};

static void test_etcd(void) {
        _cleanup_(http_client_freep) HttpClient *c = NULL;
        _cleanup_free_ char *log = NULL;
        const MemberDriver *d = &member_driver_etcd;
        HttpResponse resp = {};
        MemberList l = {};
        const Member *m;
        HttpStub stub;

        if (http_stub_start("127.8.3.2", etcd_routes, ELEMENTSOF(etcd_routes), &stub) < 0) {
                ok(false, "etcd stub server");
                return;
        }
        is_int(http_client_new(NULL, 1000, 5000, &c), 0, "client");

        is_int(d->list(c, stub.url, &l, &resp), 0, "etcd list");
        is_int(l.n, 4, "four members");
        m = member_list_find(&l, NULL, "127.8.3.11:2380");
        ok(m && streq(m->id, "9234b2e176307393") && streq(m->name, "n1") && streq(m->raft_addr, "127.8.3.11:2380") && streq(m->status, "started"),
           "n1: hex id, address, started");
        m = member_list_find(&l, NULL, "127.8.3.19:2380");
        ok(m && streq(m->id, "ee1733ccec8d900e") && !m->name && streq(m->status, "unstarted"),
           "unstarted member: ID above INT64_MAX, no name");
        m = member_list_find(&l, "2a", NULL);
        ok(m && streq(m->name, "l1") && streq(m->id, "2a") && streq(m->raft_addr, "127.8.3.20:2380") && streq(m->status, "learner"),
           "learner, https peer URL with a slash");
        ok(m && m->learner && m->started, "flagged a learner that has started");
        is_str(m ? m->peer_urls : NULL, "https://127.8.3.20:2380/", "peer URLs kept as etcd has them");
        m = member_list_find(&l, NULL, "127.8.3.19:2380");
        ok(m && !m->learner && !m->started, "the unstarted voter is neither");
        member_list_done(&l);

        is_int(d->add(c, stub.url, "node14", "127.8.3.14:2380", 0, &resp), MEMBER_ADDED, "etcd add");
        is_int(d->add(c, stub.url, "node14", "127.8.3.14:2380", MEMBER_ADD_TLS, &resp), MEMBER_EXISTS,
               "412 \"Peer URLs already exists\" → exists");
        is_int(d->add(c, stub.url, "node19", "127.8.3.19:2380", 0, &resp), MEMBER_EXISTS,
               "503 but the list has it → exists");
        is_int(resp.status, 503, "resp is the add's answer");
        is_int(d->add(c, stub.url, "node17", "127.8.3.17:2380", 0, &resp), -EAGAIN,
               "503 \"unhealthy cluster\" and not in the list → EAGAIN, try later");
        is_int(d->add(c, stub.url, "node17", "bad", 0, &resp), -EBADE, "400 → EBADE");
        is_int(d->add(c, stub.url, "node15", "127.8.3.15:2380", MEMBER_ADD_LEARNER | MEMBER_ADD_TLS, &resp),
               MEMBER_ADDED, "etcd add as a learner");

        ok(d->promote != NULL && member_driver_admin.promote == NULL, "etcd has learners, the admin API not");
        ok(!d->health_first && member_driver_admin.health_first, "etcd turns healthy only once added");
        is_int(d->promote(c, stub.url, "4d", &resp), -EAGAIN, "promote: not in sync yet → EAGAIN");
        is_int(d->promote(c, stub.url, "4d", &resp), MEMBER_PROMOTED, "promote");
        is_int(d->promote(c, stub.url, "4d", &resp), -EALREADY, "promote a voter → EALREADY");
        is_int(d->promote(c, stub.url, "4d", &resp), -EBADE, "promote an unknown member → EBADE");
        is_int(d->promote(c, stub.url, "not-hex", &resp), -EINVAL, "promote needs a hex ID");

        is_int(d->remove(c, stub.url, "n2", &resp), 0, "remove by name");
        is_int(d->remove(c, stub.url, "EE1733CCEC8D900E", &resp), 0, "remove by hex ID");
        is_int(d->remove(c, stub.url, "10535242109746705299", &resp), 0, "remove by decimal ID");
        is_int(d->remove(c, stub.url, "0x2a", &resp), -EBADE, "remove: 404 from etcd");
        is_int(d->remove(c, stub.url, "nobody", &resp), -ESRCH, "remove: no such member");

        log = http_stub_log(&stub);
        ok(log && strstr(log, "POST /v3/cluster/member/list {}\n"), "list body");
        ok(log && strstr(log, "POST /v3/cluster/member/add {\"peerURLs\":[\"http://127.8.3.14:2380\"],\"isLearner\":false}\n"),
           "add body");
        ok(log && strstr(log, "POST /v3/cluster/member/add {\"peerURLs\":[\"https://127.8.3.14:2380\"],\"isLearner\":false}\n"),
           "add body with tls");
        ok(log && strstr(log, "POST /v3/cluster/member/add {\"peerURLs\":[\"https://127.8.3.15:2380\"],\"isLearner\":true}\n"),
           "learner add body");
        ok(log && strstr(log, "POST /v3/cluster/member/promote {\"ID\":77}\n"), "promote body: the decimal ID");
        ok(log && strstr(log, "POST /v3/cluster/member/remove {\"ID\":9120182764648893796}\n"), "remove body by name");
        ok(log && strstr(log, "POST /v3/cluster/member/remove {\"ID\":17156238260726239246}\n"), "remove body by hex");
        ok(log && strstr(log, "POST /v3/cluster/member/remove {\"ID\":10535242109746705299}\n"), "remove body by decimal");
        ok(log && strstr(log, "POST /v3/cluster/member/remove {\"ID\":42}\n"), "remove body by 0x hex");

        http_response_done(&resp);
        http_stub_stop(&stub);
}

/* Which "not the leader" hints may be followed. */
static void test_hint_policy(void) {
        const char *const configured[] = { "https://10.0.1.10:2379", "https://10.0.1.11:2379/", NULL };
        const char *why;

        ok(member_leader_hint_refusal("https://10.0.1.11:2379", "https://10.0.1.10:2379", configured, true) == NULL,
           "a configured peer: followed");
        ok(member_leader_hint_refusal("https://10.0.1.11:2379", "https://10.0.1.10:2379", configured, false) == NULL,
           "a configured peer, even without TLS verification");
        ok(member_leader_hint_refusal("https://10.0.1.99:2379", "https://10.0.1.10:2379", configured, true) == NULL,
           "another https server while TLS is verified: followed");
        why = member_leader_hint_refusal("http://10.0.1.99:2379", "https://10.0.1.10:2379", configured, true);
        ok(why && strstr(why, "travel in clear"), "https to http: refused (%s)", why ? why : "");
        why = member_leader_hint_refusal("http://10.0.1.10:2379", "https://10.0.1.10:2379", configured, true);
        ok(why && strstr(why, "travel in clear"), "https to http on the same host: refused");
        why = member_leader_hint_refusal("https://10.0.1.99:2379", "https://10.0.1.10:2379", configured, false);
        ok(why && strstr(why, "TLS verification is off"), "unconfigured https without verification: refused");
        why = member_leader_hint_refusal("http://10.0.1.99:2379", "http://10.0.1.10:2379",
                                         (const char *const[]) { "http://10.0.1.10:2379", NULL }, true);
        ok(why && strstr(why, "no certificate"), "an http cluster: an unconfigured http host refused");
        ok(member_leader_hint_refusal("http://10.0.1.11:2379", "http://10.0.1.10:2379",
                                      (const char *const[]) { "http://10.0.1.10:2379", "http://10.0.1.11:2379", NULL },
                                      true) == NULL, "an http cluster: a configured peer followed");
        why = member_leader_hint_refusal("https://evil?x:2379", "https://10.0.1.10:2379", configured, true);
        ok(why && strstr(why, "not a URL"), "a hint that is no URL: refused");
}

int main(void) {
        test_hint_policy();
        test_find();
        test_errors();
        test_admin();
        test_etcd();
        return tap_done();
}
