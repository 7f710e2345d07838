/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>

#include "cleanup.h"
#include "etcd-lock.h"
#include "http-stub.h"
#include "macro.h"
#include "tap.h"

/* The answers are etcd 3.4's, as its gateway gives them. */
#define HEADER "\"header\":{\"cluster_id\":\"14117578536836696070\",\"member_id\":\"15506545250530657025\",\"revision\":\"2\",\"raft_term\":\"2\"}"
#define LEASE_GONE "{\"error\":\"etcdserver: requested lease not found\",\"message\":\"etcdserver: requested lease not found\",\"code\":5}"

static StubRoute routes[] = {
        { "POST", "/v3/lease/grant", STUB_STATIC, 200, NULL, "{" HEADER ",\"ID\":\"216632555804830469\",\"TTL\":\"30\"}", 0, 1 },
        { "POST", "/v3/lease/grant", STUB_STATIC, 200, NULL, "{" HEADER ",\"TTL\":\"30\"}", 0, 1 },
        { "POST", "/v3/lease/grant", STUB_STATIC, 429, "Retry-After: 3\r\n", "{\"error\":\"slow down\"}", 0, 1 },
        { "POST", "/v3/lease/keepalive", STUB_STATIC, 200, NULL,
          "{\"result\":{" HEADER ",\"ID\":\"216632555804830469\",\"TTL\":\"30\"}}", 0, 1 },
        { "POST", "/v3/lease/keepalive", STUB_STATIC, 200, NULL, "{\"result\":{" HEADER ",\"ID\":\"12345\"}}", 0, 1 },
        { "POST", "/v3/lease/keepalive", STUB_STATIC, 200, NULL, "{\"result\":{\"TTL\":\"soon\"}}", 0, 1 },
        { "POST", "/v3/lease/revoke", STUB_STATIC, 200, NULL, "{" HEADER "}", 0, 1 },
        { "POST", "/v3/lease/revoke", STUB_STATIC, 404, NULL, LEASE_GONE, 0, 1 },
        { "POST", "/v3/lease/revoke", STUB_STATIC, 500, NULL, "{\"error\":\"oops\"}", 0, 1 },
        { "POST", "/v3/lock/lock", STUB_STATIC, 200, NULL, "{" HEADER ",\"key\":\"ZmJhL2pvaW4vMzAxYTIyOTY3ODgyYjA3\"}", 0, 1 },
        { "POST", "/v3/lock/lock", STUB_STATIC, 200, NULL, "{" HEADER ",\"key\":\"late\"}", 1500, 1 },
        { "POST", "/v3/lock/lock", STUB_STATIC, 500, NULL,
          "{\"error\":\"etcdserver: requested lease not found\",\"message\":\"etcdserver: requested lease not found\",\"code\":2}", 0, 1 },
        { "POST", "/v3/lock/unlock", STUB_STATIC, 200, NULL, "{" HEADER "}", 0, 1 },
        { "POST", "/v3/kv/put", STUB_STATIC, 200, NULL, "{" HEADER "}", 0, 1 },
        /* "node07" */
        { "POST", "/v3/kv/range", STUB_STATIC, 200, NULL,
          "{" HEADER ",\"kvs\":[{\"key\":\"eA==\",\"value\":\"bm9kZTA3\",\"lease\":\"7\"}],\"count\":\"1\"}", 0, 1 },
        { "POST", "/v3/kv/range", STUB_STATIC, 200, NULL, "{" HEADER "}", 0, 1 },
        /* "a\0b": not a text */
        { "POST", "/v3/kv/range", STUB_STATIC, 200, NULL, "{" HEADER ",\"kvs\":[{\"value\":\"YQBi\"}]}", 0, 1 },
};

int main(void) {
        _cleanup_(http_client_freep) HttpClient *c = NULL;
        _cleanup_free_ char *log = NULL;
        HttpResponse resp = {};
        HttpStub stub;
        unsigned ttl = 0;

        if (http_stub_start("127.8.5.1", routes, ELEMENTSOF(routes), &stub) < 0) {
                ok(false, "stub server on 127.8.5.1");
                return tap_done();
        }
        is_int(http_client_new(NULL, 1000, 5000, &c), 0, "client");

        {
                _cleanup_free_ char *id = NULL;

                is_int(etcd_lease_grant(c, stub.url, 30, &id, &resp), 0, "lease granted");
                is_str(id, "216632555804830469", "its ID, as etcd writes it");
        }
        {
                char *id = NULL;

                is_int(etcd_lease_grant(c, stub.url, 30, &id, &resp), -EBADMSG, "an answer without an ID");
                ok(!id, "nothing returned");
                is_int(etcd_lease_grant(c, stub.url, 30, &id, &resp), -EBUSY, "429: busy");
                is_int((int) resp.retry_after_s, 3, "with its Retry-After");
        }

        is_int(etcd_lease_keepalive(c, stub.url, "216632555804830469", &ttl, &resp), 0, "keepalive");
        is_int((int) ttl, 30, "the TTL again");
        ttl = 99;
        is_int(etcd_lease_keepalive(c, stub.url, "12345", &ttl, &resp), -ENOENT, "no TTL: the lease is gone");
        is_int((int) ttl, 99, "no TTL returned");
        is_int(etcd_lease_keepalive(c, stub.url, "12345", &ttl, &resp), -EBADMSG, "a TTL that is no number");

        is_int(etcd_lease_revoke(c, stub.url, "216632555804830469", &resp), 0, "revoked");
        is_int(etcd_lease_revoke(c, stub.url, "216632555804830469", &resp), 0, "revoking a lease that is gone is fine");
        is_int(etcd_lease_revoke(c, stub.url, "216632555804830469", &resp), -EREMOTEIO, "a server error is not");

        {
                _cleanup_free_ char *key = NULL;
                char *none = NULL;

                is_int(etcd_lock(c, stub.url, "first-boot-agent/join/chainfire", "216632555804830469", 5 * USEC_PER_SEC,
                                 &key, &resp), 0, "locked");
                is_str(key, "ZmJhL2pvaW4vMzAxYTIyOTY3ODgyYjA3", "the key that holds it");
                is_int(etcd_lock(c, stub.url, "first-boot-agent/join/chainfire", "216632555804830469", 300 * USEC_PER_MSEC,
                                 &none, &resp), -ETIMEDOUT, "held by another for longer than the wait");
                ok(!none, "no key");
                is_int(etcd_lock(c, stub.url, "first-boot-agent/join/chainfire", "216632555804830469", 5 * USEC_PER_SEC,
                                 &none, &resp), -ENOENT, "the lease is gone");
                is_int(etcd_unlock(c, stub.url, key, &resp), 0, "unlocked");
        }

        is_int(etcd_put(c, stub.url, "first-boot-agent/join-holder/chainfire", "node04", "216632555804830469", &resp), 0,
               "put");
        {
                _cleanup_free_ char *v = NULL;
                char *none = NULL;

                is_int(etcd_get(c, stub.url, "first-boot-agent/join-holder/chainfire", &v, &resp), 0, "get");
                is_str(v, "node07", "the value, decoded");
                is_int(etcd_get(c, stub.url, "first-boot-agent/join-holder/chainfire", &none, &resp), -ENOENT, "no such key");
                is_int(etcd_get(c, stub.url, "first-boot-agent/join-holder/chainfire", &none, &resp), -EBADMSG,
                       "a value with a NUL byte is not a text");
                ok(!none, "nothing returned");
        }

        log = http_stub_log(&stub);
        ok(log && strstr(log, "POST /v3/lease/grant {\"TTL\":30}\n"), "grant body");
        ok(log && strstr(log, "POST /v3/lock/lock {\"name\":\"Zmlyc3QtYm9vdC1hZ2VudC9qb2luL2NoYWluZmlyZQ==\","
                              "\"lease\":\"216632555804830469\"}\n"), "lock body: the name in base64, the lease");
        ok(log && strstr(log, "POST /v3/lock/unlock {\"key\":\"ZmJhL2pvaW4vMzAxYTIyOTY3ODgyYjA3\"}\n"), "unlock body");
        ok(log && strstr(log, "POST /v3/kv/put {\"key\":\"Zmlyc3QtYm9vdC1hZ2VudC9qb2luLWhvbGRlci9jaGFpbmZpcmU=\","
                              "\"value\":\"bm9kZTA0\",\"lease\":\"216632555804830469\"}\n"), "put body");
        ok(log && strstr(log, "POST /v3/lease/keepalive {\"ID\":\"216632555804830469\"}\n"), "keepalive body");

        http_response_done(&resp);
        http_stub_stop(&stub);
        return tap_done();
}
