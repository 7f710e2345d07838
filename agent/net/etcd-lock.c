/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base64.h"
#include "cleanup.h"
#include "etcd-gateway.h"
#include "etcd-lock.h"
#include "json-util.h"
#include "macro.h"
#include "member.h"
#include "string-util.h"

/* The longest value etcd_get() returns: a holder's name, not data. */
#define VALUE_MAX 1024

/* Posts body (a new JSON object, consumed) and parses a 2xx answer into *ret_answer. */
static int call(HttpClient *c, const char *base_url, const char *path, json_t *body, long timeout_ms,
                HttpResponse *resp, json_t **ret_answer) {
        _cleanup_free_ char *text = NULL;
        json_t *answer;
        int r;

        if (!body)
                return -ENOMEM;
        text = json_dumps(body, JSON_COMPACT);
        json_decref(body);
        if (!text)
                return -ENOMEM;
        r = etcd_gateway_post(c, base_url, path, text, timeout_ms, resp);
        if (r < 0)
                return r;
        if (resp->status == 404 && etcd_gateway_mentions(resp, "lease not found"))
                return -ENOENT;
        r = member_error_from_response(resp);
        if (r < 0)
                return r;
        answer = json_loadb(resp->body, resp->body_size, 0, NULL);
        if (!json_is_object(answer)) {
                json_decref(answer);
                return -EBADMSG;
        }
        *ret_answer = answer;
        return 0;
}

/* An int64 that etcd writes as a decimal string (or, from other gateways, a number). */
static int int64_text(json_t *v, char **ret) {
        uint64_t u;
        char buf[24];

        if (json_is_string(v) && parse_uint64(json_string_value(v), &u) >= 0)
                snprintf(buf, sizeof buf, "%" PRIu64, u);
        else if (json_is_integer(v) && json_integer_value(v) >= 0)
                snprintf(buf, sizeof buf, "%" PRIu64, (uint64_t) json_integer_value(v));
        else
                return -EBADMSG;
        *ret = strdup(buf);
        return *ret ? 0 : -ENOMEM;
}

int etcd_lease_grant(HttpClient *c, const char *base_url, unsigned ttl_s, char **ret_id, HttpResponse *resp) {
        _cleanup_json_ json_t *a = NULL;
        int r;

        r = call(c, base_url, "/v3/lease/grant", json_pack("{s:I}", "TTL", (json_int_t) ttl_s), 0, resp, &a);
        if (r < 0)
                return r;
        return int64_text(json_object_get(a, "ID"), ret_id);
}

int etcd_lease_keepalive(HttpClient *c, const char *base_url, const char *id, unsigned *ret_ttl_s,
                         HttpResponse *resp) {
        _cleanup_json_ json_t *a = NULL;
        json_t *ttl;
        uint64_t u = 0;
        int r;

        r = call(c, base_url, "/v3/lease/keepalive", json_pack("{s:s}", "ID", id), 0, resp, &a);
        if (r < 0)
                return r;
        /* A stream of answers in the gateway: one {"result":…} per line, here the only one. */
        ttl = json_object_get(json_object_get(a, "result"), "TTL");
        if (json_is_string(ttl)) {
                if (parse_uint64(json_string_value(ttl), &u) < 0)
                        return -EBADMSG;
        } else if (json_is_integer(ttl) && json_integer_value(ttl) >= 0)
                u = (uint64_t) json_integer_value(ttl);
        else if (ttl)
                return -EBADMSG;
        if (u == 0)
                return -ENOENT;                 /* proto3 leaves out a TTL of 0: the lease is gone */
        *ret_ttl_s = u > UINT32_MAX ? UINT32_MAX : (unsigned) u;
        return 0;
}

int etcd_lease_revoke(HttpClient *c, const char *base_url, const char *id, HttpResponse *resp) {
        _cleanup_json_ json_t *a = NULL;
        int r;

        r = call(c, base_url, "/v3/lease/revoke", json_pack("{s:s}", "ID", id), 0, resp, &a);
        return r == -ENOENT ? 0 : r;
}

/* A new JSON string holding text in base64. */
static json_t *b64(const char *text) {
        _cleanup_free_ char *e = base64_encode(text, strlen(text));

        return e ? json_string(e) : NULL;
}

int etcd_lock(HttpClient *c, const char *base_url, const char *name, const char *lease_id, usec_t wait,
              char **ret_key, HttpResponse *resp) {
        _cleanup_json_ json_t *a = NULL;
        json_t *n = b64(name);
        const char *key;
        int r;

        if (!n)
                return -ENOMEM;
        r = call(c, base_url, "/v3/lock/lock", json_pack("{s:o, s:s}", "name", n, "lease", lease_id),
                 (long) MAX(wait / USEC_PER_MSEC, 1u), resp, &a);
        if (r == -EREMOTEIO && etcd_gateway_mentions(resp, "lease not found"))
                return -ENOENT;
        if (r < 0)
                return r;
        key = json_string_value(json_object_get(a, "key"));
        if (!key || !*key)
                return -EBADMSG;
        *ret_key = strdup(key);
        return *ret_key ? 0 : -ENOMEM;
}

int etcd_unlock(HttpClient *c, const char *base_url, const char *key, HttpResponse *resp) {
        _cleanup_json_ json_t *a = NULL;

        return call(c, base_url, "/v3/lock/unlock", json_pack("{s:s}", "key", key), 0, resp, &a);
}

int etcd_put(HttpClient *c, const char *base_url, const char *key, const char *value, const char *lease_id,
             HttpResponse *resp) {
        _cleanup_json_ json_t *a = NULL;
        json_t *k = b64(key), *v = b64(value);

        if (!k || !v) {
                json_decref(k);
                json_decref(v);
                return -ENOMEM;
        }
        return call(c, base_url, "/v3/kv/put", json_pack("{s:o, s:o, s:s?}", "key", k, "value", v, "lease", lease_id),
                    0, resp, &a);
}

int etcd_get(HttpClient *c, const char *base_url, const char *key, char **ret_value, HttpResponse *resp) {
        _cleanup_json_ json_t *a = NULL;
        char value[VALUE_MAX + 1];
        const char *v;
        size_t n;
        int r;

        json_t *k = b64(key);

        if (!k)
                return -ENOMEM;
        r = call(c, base_url, "/v3/kv/range", json_pack("{s:o}", "key", k), 0, resp, &a);
        if (r < 0)
                return r;
        v = json_string_value(json_object_get(json_array_get(json_object_get(a, "kvs"), 0), "value"));
        if (!v)
                return -ENOENT;
        if (base64_decode(v, strlen(v), value, VALUE_MAX, &n) < 0)
                return -EBADMSG;
        value[n] = '\0';
        if (strlen(value) != n)
                return -EBADMSG;
        *ret_value = strdup(value);
        return *ret_value ? 0 : -ENOMEM;
}
