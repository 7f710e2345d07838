/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etcd-lock.h"
#include "join.h"
#include "log.h"
#include "notify.h"
#include "step-progress.h"

/* The etcd join lock: one node at a time between "add as a learner" and "promoted", so at most
 * one learner catches up and no add meets etcd's "too many learner members". It is etcd's own
 * lock (a key under first-boot-agent/join/SERVICE/ tied to this node's lease): a node that dies
 * holding it frees it when its lease runs out (timeouts.join_lock_ttl_s). While the lock is
 * held, first-boot-agent/join-holder/SERVICE names the holder for those who wait. */

#define LOCK_PREFIX "first-boot-agent/join/"
#define HOLDER_PREFIX "first-boot-agent/join-holder/"

static int grant_one(StepContext *ctx, RotationServer *srv, void *userdata) {
        JoinLock *l = userdata;
        HttpResponse resp = {};
        int r;

        free(l->lease);
        l->lease = NULL;
        r = etcd_lease_grant(ctx->http, srv->url, (unsigned) (l->ttl / USEC_PER_SEC), &l->lease, &resp);
        if (r < 0)
                rotation_record(srv, r, &resp);
        http_response_done(&resp);
        return r;
}

static int grant(StepContext *ctx, JoinLock *l) {
        RotationServer *srv = NULL;
        char what[128];
        int r;

        snprintf(what, sizeof what, "take a lease for the %s join lock", l->join->service);
        r = rotation_run(ctx, &l->join->rotation, l->join->service, what, grant_one, l, &srv);
        if (r < 0)
                return r;
        l->server = srv->url;
        l->renewed = now_monotonic();
        return 0;
}

/* Who holds the lock now, as the holder key says ("node07"), into buf; "another node" when it
 * cannot be read. */
static const char *holder(StepContext *ctx, JoinLock *l, char *buf, size_t size) {
        _cleanup_free_ char *v = NULL;
        HttpResponse resp = {};

        if (etcd_get(ctx->http, l->server, l->holder_key, &v, &resp) >= 0) {
                string_make_printable(v);
                snprintf(buf, size, "%s", v);
        } else
                snprintf(buf, size, "another node");
        http_response_done(&resp);
        return buf;
}

/* Renews the lease; -ENOENT when it is gone. */
static int renew(StepContext *ctx, JoinLock *l) {
        HttpResponse resp = {};
        unsigned ttl = 0;
        int r;

        r = etcd_lease_keepalive(ctx->http, l->server, l->lease, &ttl, &resp);
        http_response_done(&resp);
        if (r >= 0)
                l->renewed = now_monotonic();
        return r;
}

/* Run while the holder waits (the learner's start, its health, its promotion). */
static void keepalive(StepContext *ctx, void *userdata) {
        JoinLock *l = userdata;
        int r;

        if (!l->key || now_monotonic() - l->renewed < l->ttl / 3)
                return;
        r = renew(ctx, l);
        if (r == -ENOENT) {
                log_event(LOG_WARNING, MID_JOIN_LOCK_LOST,
                          LOG_FIELDS("SERVICE", l->join->service, "PEER", l->server),
                          "The %s join lock's lease ran out while this node held it (it could not be renewed in "
                          "time): another node may start its join now. etcd still takes one learner at a "
                          "time; raise timeouts.join_lock_ttl_s if this node's etcd needs longer to catch up.",
                          l->join->service);
                l->key = mfree(l->key);
        } else if (r < 0)
                log_debug("Could not renew the %s join lock's lease at %s: %s; trying again while it lasts.",
                          l->join->service, l->server, strerror(-r));
}

/* The next server to wait at, after one that failed. */
static void next_server(JoinLock *l) {
        const Rotation *rot = &l->join->rotation;

        for (size_t i = 0; i < rot->n; i++)
                if (streq(rot->servers[i].url, l->server)) {
                        l->server = rot->servers[(i + 1) % rot->n].url;
                        return;
                }
        l->server = rot->servers[0].url;
}

static int took(StepContext *ctx, JoinLock *l, usec_t since) {
        const Config *c = ctx->config;
        HttpResponse resp = {};
        int r;

        /* Best effort: only those who wait read it. */
        r = etcd_put(ctx->http, l->server, l->holder_key, c->node_id, l->lease, &resp);
        if (r < 0)
                log_debug("Could not name this node as the %s join lock's holder: %s.", l->join->service, strerror(-r));
        http_response_done(&resp);

        step_set_keepalive(ctx, keepalive, l);
        log_event(LOG_INFO, MID_JOIN_LOCK_TAKEN,
                  LOG_FIELDS("SERVICE", l->join->service, "PEER", l->server, "LOCK", l->name,
                             "ELAPSED_MS", FMT_U64((now_monotonic() - since) / USEC_PER_MSEC)),
                  "This node holds the %s join lock ('%s', lease %s, TTL %" PRIu64 " s) after %" PRIu64 " ms; "
                  "it adds its learner now.", l->join->service, l->name, l->lease, l->ttl / USEC_PER_SEC,
                  (now_monotonic() - since) / USEC_PER_MSEC);
        return 0;
}

int join_lock_take(StepContext *ctx, Join *j, JoinLock *l) {
        const usec_t start = now_monotonic(), deadline = start + ctx->config->timeouts.health_wait;
        char who[128] = "another node", waiting[256];
        unsigned failures = 0;
        bool told = false;
        int r;

        *l = (JoinLock) { .join = j, .ctx = ctx, .ttl = ctx->config->timeouts.join_lock_ttl };
        if (l->ttl == 0) {
                log_info("The %s join runs without the cluster's join lock (timeouts.join_lock_ttl_s is 0).", j->service);
                return 0;
        }
        if (asprintf(&l->name, LOCK_PREFIX "%s", j->service) < 0 ||
            asprintf(&l->holder_key, HOLDER_PREFIX "%s", j->service) < 0)
                return log_oom();

        r = grant(ctx, l);
        if (r < 0)
                return join_failed(ctx, j, "take a lease for the join lock of", r);

        for (;;) {
                usec_t now = now_monotonic(), wait;
                HttpResponse resp = {};
                _cleanup_free_ char *key = NULL;

                if (now >= deadline)
                        break;
                /* Never longer than a third of the lease: it is renewed between two waits. The
                 * first wait is short, so a node that waits says at once for whom. */
                wait = MIN(deadline - now, told ? MAX(l->ttl / 3, USEC_PER_SEC) : MIN(l->ttl / 3, USEC_PER_SEC));
                notify_status("%s: waiting for the join lock (held by %s)", j->service, who);
                r = etcd_lock(ctx->http, l->server, l->name, l->lease, wait, &key, &resp);
                http_response_done(&resp);
                if (r >= 0) {
                        l->key = TAKE_PTR(key);
                        return took(ctx, l, start);
                }

                if (r == -ETIMEDOUT) {
                        holder(ctx, l, who, sizeof who);
                        if (!told)
                                log_event(LOG_NOTICE, MID_JOIN_LOCK_WAITING,
                                          LOG_FIELDS("SERVICE", j->service, "PEER", l->server, "LOCK", l->name,
                                                     "HOLDER", who),
                                          "The %s join lock is held by %s, which is adding its own member; this "
                                          "node waits its turn (at most %" PRIu64 " s, timeouts.health_wait_s).",
                                          j->service, who, ctx->config->timeouts.health_wait / USEC_PER_SEC);
                        told = true;
                        snprintf(waiting, sizeof waiting, "the %s join lock, held by %s", j->service, who);
                        step_progress_report(ctx, waiting, false);
                        failures = 0;
                } else
                        log_debug("Waiting for the %s join lock at %s failed: %s.", j->service, l->server, strerror(-r));

                /* The lease first: a gone one (revoked, or this node was stopped too long) is replaced. */
                if (r == -ENOENT || renew(ctx, l) == -ENOENT) {
                        r = grant(ctx, l);
                        if (r < 0)
                                return join_failed(ctx, j, "take a lease for the join lock of", r);
                } else if (r != -ETIMEDOUT) {
                        next_server(l);
                        if (++failures >= j->rotation.n) {
                                snprintf(waiting, sizeof waiting, "a %s server that answers lock requests", j->service);
                                step_wait(ctx, ctx->config->timeouts.backoff_initial, waiting);
                        }
                }
        }

        step_set_error(ctx, "the %s join lock stayed with %s for %" PRIu64 " s", j->service, who,
                       ctx->config->timeouts.health_wait / USEC_PER_SEC);
        return log_error_errno(ETIMEDOUT, "Waited %" PRIu64 " s for the %s join lock ('%s'), held by %s all along. "
                               "A node that holds it is adding its member; one that died frees it within %" PRIu64 " s. "
                               "Check 'etcdctl member list' for a learner that does not catch up; the next start "
                               "waits again.", ctx->config->timeouts.health_wait / USEC_PER_SEC, j->service, l->name,
                               who, l->ttl / USEC_PER_SEC);
}

void join_lock_release(JoinLock *l) {
        HttpResponse resp = {};
        int r;

        if (!l->ctx)
                return;
        if (l->ctx->keepalive_userdata == l)
                step_set_keepalive(l->ctx, NULL, NULL);
        if (l->lease) {
                /* Revoking the lease frees the lock and the holder key with it. */
                r = etcd_lease_revoke(l->ctx->http, l->server, l->lease, &resp);
                if (r < 0)
                        log_warning_errno(r, "Could not release the %s join lock at %s: %m. It frees itself when "
                                          "its lease runs out, within %" PRIu64 " s.", l->join->service, l->server,
                                          l->ttl / USEC_PER_SEC);
                else if (l->key)
                        log_info("Released the %s join lock.", l->join->service);
                http_response_done(&resp);
        }
        free(l->lease);
        free(l->key);
        free(l->name);
        free(l->holder_key);
        *l = (JoinLock) {};
}
