/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "cleanup.h"
#include "etcd-gateway.h"
#include "json-util.h"
#include "macro.h"
#include "member.h"
#include "string-util.h"

/* etcd's v3 JSON gateway (grpc-gateway in front of the Cluster service):
 *   POST {base}/v3/cluster/member/list   {}                  → {"members":[{"ID":"<uint64>",
 *                                                                 "name","peerURLs":[…],"clientURLs":[…]}]}
 *   POST {base}/v3/cluster/member/add    {"peerURLs":[URL]}  → {"member":{…},"members":[…]}
 *   POST {base}/v3/cluster/member/remove {"ID":<uint64>}
 * 64-bit integers travel as decimal strings. Errors come as {"error","message","code"} with the
 * gRPC code; etcd 3.4 answers a second add of the same peer URL with 412 and code 9 ("Peer URLs
 * already exists"), but only when its strict reconfiguration check lets the request through:
 * while an added member has not started yet, or in a one-member cluster, a repeated add is
 * refused first with 503 "unhealthy cluster" or 500 "not enough started members". So a failed
 * add looks at the member list before it counts as a failure.
 *
 * A member that was added but has not started has no name and no client URLs yet; its name
 * appears once etcd runs there with --name. Members are identified by the hex form of their ID,
 * as etcdctl prints it. */

#define GRPC_ALREADY_EXISTS 6
#define GRPC_FAILED_PRECONDITION 9

/* "http://10.0.1.13:2380/" → "10.0.1.13:2380" */
static char *peer_url_to_addr(const char *url) {
        const char *s = strstr(url, "://"), *e;

        s = s ? s + 3 : url;
        e = s + strcspn(s, "/?#");
        return strndup(s, (size_t) (e - s));
}

static int parse_member_id(json_t *v, uint64_t *ret) {
        if (json_is_string(v))
                return parse_uint64(json_string_value(v), ret);
        if (json_is_integer(v) && json_integer_value(v) >= 0) {
                *ret = (uint64_t) json_integer_value(v);
                return 0;
        }
        return -EBADMSG;
}

static int etcd_parse_member(json_t *m, MemberList *l) {
        _cleanup_free_ char *addr = NULL;
        json_t *name = json_object_get(m, "name"), *peers = json_object_get(m, "peerURLs"),
               *clients = json_object_get(m, "clientURLs");
        const char *status;
        char hex[17];
        uint64_t id;
        int r;

        if (!json_is_object(m) || parse_member_id(json_object_get(m, "ID"), &id) < 0)
                return -EBADMSG;
        (void) snprintf(hex, sizeof hex, "%" PRIx64, id);

        if (json_is_array(peers) && json_is_string(json_array_get(peers, 0))) {
                addr = peer_url_to_addr(json_string_value(json_array_get(peers, 0)));
                if (!addr)
                        return -ENOMEM;
        }

        if (json_is_true(json_object_get(m, "isLearner")))
                status = "learner";
        else if ((json_is_string(name) && json_string_length(name) > 0) ||
                 (json_is_array(clients) && json_array_size(clients) > 0))
                status = "started";
        else
                status = "unstarted";

        r = member_list_append(l, hex,
                               json_is_string(name) && json_string_length(name) > 0 ? json_string_value(name) : NULL,
                               addr, status);
        if (r < 0)
                return r;
        l->items[l->n - 1].learner = json_is_true(json_object_get(m, "isLearner"));
        if (json_is_array(peers) && json_array_size(peers) > 0) {
                _cleanup_free_ char *joined = NULL;
                size_t size = 0, i;
                json_t *u;
                FILE *f = open_memstream(&joined, &size);

                if (!f)
                        return -ENOMEM;
                json_array_foreach(peers, i, u)
                        if (json_is_string(u))
                                fprintf(f, "%s%s", i > 0 ? "," : "", json_string_value(u));
                if (fclose(f) != 0)
                        return -ENOMEM;
                l->items[l->n - 1].peer_urls = TAKE_PTR(joined);
        }
        l->items[l->n - 1].started = (json_is_string(name) && json_string_length(name) > 0) ||
                                     (json_is_array(clients) && json_array_size(clients) > 0);
        return 0;
}

static int etcd_parse_list(const HttpResponse *resp, MemberList *ret) {
        /* proto3 JSON leaves out empty lists */
        return member_list_parse(resp, true, etcd_parse_member, ret);
}

static int etcd_list(HttpClient *c, const char *base_url, MemberList *ret, HttpResponse *resp) {
        int r;

        r = etcd_gateway_post(c, base_url, "/v3/cluster/member/list", "{}", 0, resp);
        if (r < 0)
                return r;
        r = member_error_from_response(resp);
        if (r < 0)
                return r;
        return etcd_parse_list(resp, ret);
}

/* The error message of an etcd answer ("etcdserver: …"), or "". */
static const char *answer_message(json_t *j) {
        return json_string_value(json_object_get(j, "message")) ?: json_string_value(json_object_get(j, "error")) ?: "";
}

/* 412 {"code":9,"message":"etcdserver: Peer URLs already exists"} and its kin. */
static bool answer_says_exists(const HttpResponse *resp) {
        _cleanup_json_ json_t *j = NULL;
        json_t *code;
        const char *msg;

        if (resp->status == 409)
                return true;
        if (resp->status < 400 || resp->status >= 500)
                return false;

        j = json_loadb(resp->body, resp->body_size, 0, NULL);
        if (!json_is_object(j))
                return false;
        code = json_object_get(j, "code");
        msg = answer_message(j);
        if (!strcasestr(msg, "already exist"))
                return false;
        return !json_is_integer(code) || json_integer_value(code) == GRPC_FAILED_PRECONDITION ||
               json_integer_value(code) == GRPC_ALREADY_EXISTS;
}

static const Member *find_peer(const MemberList *l, const char *raft_addr) {
        return member_list_find(l, NULL, raft_addr);
}

static int etcd_add(HttpClient *c, const char *base_url, const char *id, const char *raft_addr,
                    unsigned flags, HttpResponse *resp) {
        _cleanup_json_ json_t *j = NULL;
        _cleanup_free_ char *peer = NULL, *body = NULL;
        MemberList l = {};
        HttpResponse lr = {};
        bool found;
        int r;

        /* etcd names a member when it starts; the id is not part of the request. */
        if (!raft_addr)
                return -EINVAL;

        if (asprintf(&peer, "%s://%s", flags & MEMBER_ADD_TLS ? "https" : "http", raft_addr) < 0) {
                peer = NULL;
                return -ENOMEM;
        }
        j = json_pack("{s:[s], s:b}", "peerURLs", peer, "isLearner", !!(flags & MEMBER_ADD_LEARNER));
        if (!j)
                return -ENOMEM;
        body = json_dumps(j, JSON_COMPACT);
        if (!body)
                return -ENOMEM;

        r = etcd_gateway_post(c, base_url, "/v3/cluster/member/add", body, 0, resp);
        if (r < 0)
                return r;
        if (resp->status >= 200 && resp->status < 300)
                return MEMBER_ADDED;
        if (answer_says_exists(resp))
                return MEMBER_EXISTS;

        /* Refused for another reason: already there after all? resp keeps the add's answer. */
        r = etcd_list(c, base_url, &l, &lr);
        found = r >= 0 && find_peer(&l, raft_addr);
        member_list_done(&l);
        http_response_done(&lr);
        if (found)
                return MEMBER_EXISTS;

        /* etcd takes one learner at a time, and no member that would cost it its quorum: both
         * pass (another node's learner is promoted, the cluster heals), so ask again later. */
        if (etcd_gateway_mentions(resp, "too many learner") || etcd_gateway_mentions(resp, "unhealthy cluster") ||
            etcd_gateway_mentions(resp, "not enough started members"))
                return -EAGAIN;
        r = member_error_from_response(resp);
        return r < 0 ? r : -EBADMSG;
}

static const Member *find_member(const MemberList *l, const char *key) {
        const char *hex = key;
        uint64_t dec;
        bool is_dec;

        if (strncasecmp(hex, "0x", 2) == 0)
                hex += 2;
        is_dec = parse_uint64(key, &dec) >= 0;

        for (size_t i = 0; i < l->n; i++)
                if (strcasecmp(l->items[i].id, hex) == 0)
                        return l->items + i;
        for (size_t i = 0; i < l->n; i++)
                if (l->items[i].name && streq(l->items[i].name, key))
                        return l->items + i;
        if (is_dec)
                for (size_t i = 0; i < l->n; i++)
                        if (strtoull(l->items[i].id, NULL, 16) == dec)
                                return l->items + i;
        for (size_t i = 0; i < l->n; i++)
                if (l->items[i].raft_addr && streq(l->items[i].raft_addr, key))
                        return l->items + i;
        return NULL;
}

static int etcd_remove(HttpClient *c, const char *base_url, const char *id, HttpResponse *resp) {
        MemberList l = {};
        const Member *m;
        char body[64];
        uint64_t mid;
        int r;

        if (!id || !*id)
                return -EINVAL;

        /* By name, hex ID (as etcdctl shows it), decimal ID or peer address: look it up. */
        r = etcd_list(c, base_url, &l, resp);
        if (r < 0)
                return r;
        m = find_member(&l, id);
        if (!m) {
                member_list_done(&l);
                return -ESRCH;
        }
        r = parse_uint64_hex(m->id, &mid);
        member_list_done(&l);
        if (r < 0)
                return -EBADMSG;

        (void) snprintf(body, sizeof body, "{\"ID\":%" PRIu64 "}", mid);
        r = etcd_gateway_post(c, base_url, "/v3/cluster/member/remove", body, 0, resp);
        if (r < 0)
                return r;
        return member_error_from_status(resp->status);
}

static int etcd_promote(HttpClient *c, const char *base_url, const char *id, HttpResponse *resp) {
        _cleanup_json_ json_t *j = NULL;
        const char *msg;
        char body[64];
        uint64_t mid;
        int r;

        if (!id || parse_uint64_hex(id, &mid) < 0)
                return -EINVAL;
        (void) snprintf(body, sizeof body, "{\"ID\":%" PRIu64 "}", mid);
        r = etcd_gateway_post(c, base_url, "/v3/cluster/member/promote", body, 0, resp);
        if (r < 0)
                return r;
        if (resp->status >= 200 && resp->status < 300)
                return MEMBER_PROMOTED;

        /* "can only promote a learner member which is in sync with leader": not yet;
         * "can only promote a learner member": it already votes. */
        j = json_loadb(resp->body, resp->body_size, 0, NULL);
        msg = answer_message(j);
        if (strcasestr(msg, "in sync with leader"))
                return -EAGAIN;
        if (strcasestr(msg, "can only promote a learner member"))
                return -EALREADY;
        r = member_error_from_status(resp->status);
        return r < 0 ? r : -EBADMSG;
}

const MemberDriver member_driver_etcd = {
        .name = "etcd",
        .health_first = false,
        .list = etcd_list,
        .parse_list = etcd_parse_list,
        .add = etcd_add,
        .promote = etcd_promote,
        .remove = etcd_remove,
};
