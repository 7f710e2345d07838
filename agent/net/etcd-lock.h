/* SPDX-License-Identifier: MIT */
#pragma once

#include "http.h"
#include "time-util.h"

/* etcd's lease and lock services through the v3 gateway:
 *   POST /v3/lease/grant     {"TTL":60}                    → {"ID":"<int64>","TTL":"60"}
 *   POST /v3/lease/keepalive {"ID":"…"}                    → {"result":{"ID","TTL"}} (no TTL: gone)
 *   POST /v3/lease/revoke    {"ID":"…"}                    → {} (404 "lease not found": gone)
 *   POST /v3/lock/lock       {"name":b64,"lease":"…"}      → {"key":b64}, once every earlier
 *                                                            holder has let go
 *   POST /v3/lock/unlock     {"key":b64}
 *   POST /v3/kv/put          {"key":b64,"value":b64,"lease":"…"}
 *   POST /v3/kv/range        {"key":b64}                   → {"kvs":[{"value":b64}]}
 * A lock is a key under NAME/ tied to the caller's lease: when the holder dies, its lease runs
 * out and the next in line gets the lock. A lock request that gives up (its timeout) takes its
 * place in the line back with it.
 *
 * Errors: those of http_perform(), member_error_from_response()'s for an answer that is not a
 * success, -ENOENT for a lease that is gone, -EBADMSG for an answer not understood. */

/* A new lease of ttl_s seconds: its ID (decimal, as etcd writes it). */
int etcd_lease_grant(HttpClient *c, const char *base_url, unsigned ttl_s, char **ret_id, HttpResponse *resp);
/* Renews it: 0 and the TTL it has again, -ENOENT when it is gone (expired, revoked). */
int etcd_lease_keepalive(HttpClient *c, const char *base_url, const char *id, unsigned *ret_ttl_s,
                         HttpResponse *resp);
/* Ends it and frees every key tied to it (the lock): 0, also when it was gone already. */
int etcd_lease_revoke(HttpClient *c, const char *base_url, const char *id, HttpResponse *resp);

/* Waits up to wait for the lock name, held under the lease: 0 and the key that holds it (base64,
 * for etcd_unlock()); -ETIMEDOUT when another holder kept it that long, -ENOENT when the lease is
 * gone. */
int etcd_lock(HttpClient *c, const char *base_url, const char *name, const char *lease_id, usec_t wait,
              char **ret_key, HttpResponse *resp);
int etcd_unlock(HttpClient *c, const char *base_url, const char *key, HttpResponse *resp);

/* A text value under key, tied to the lease (NULL: none). */
int etcd_put(HttpClient *c, const char *base_url, const char *key, const char *value, const char *lease_id,
             HttpResponse *resp);
/* The text value of key: 0 and a new string, -ENOENT when there is none. */
int etcd_get(HttpClient *c, const char *base_url, const char *key, char **ret_value, HttpResponse *resp);
