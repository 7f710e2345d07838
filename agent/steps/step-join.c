/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "join-procedure.h"
#include "join.h"
#include "log.h"
#include "step-progress.h"
#include "step.h"
#include "strv.h"

/* Joining one cluster service of a kind with a member list (chainfire, flaredb: admin; etcd). A
 * bootstrap node sends nothing: its cluster forms from the initial peers. A joining node asks
 * the leader and the peers in turn (rotation.c): first whether this node is already listed (a
 * rerun never adds twice), then to add it. The etcd kind takes its own longer path from there
 * (etcd-join.c). */

static int join_bootstrap(StepContext *ctx, const ServiceConfig *sc) {
        const Config *c = ctx->config;
        char *const *peers = config_service_peers(c, sc);
        const char *service = sc->name;
        char list[512] = "";
        size_t used = 0;

        STRV_FOREACH(p, peers) {
                int k = snprintf(list + used, sizeof list - used, "%s%s", used > 0 ? ", " : "", *p);
                if (k > 0)
                        used = MIN(used + (size_t) k, sizeof list - 1);
        }
        log_event(LOG_INFO, MID_CLUSTER_BOOTSTRAP,
                  LOG_FIELDS("SERVICE", service, "RAFT_ADDR", sc->raft_addr),
                  "Bootstrap node: the %s cluster forms from its initial peers (%s); no join request is sent.",
                  service, used > 0 ? list : "none listed");
        step_set_detail(ctx, "bootstrap: cluster forms from the initial peers");
        return 0;
}

static int add_one(StepContext *ctx, RotationServer *srv, void *userdata) {
        Join *j = userdata;
        const Config *c = ctx->config;
        HttpResponse resp = {};
        int r;

        r = j->driver->add(ctx->http, srv->url, c->node_id, j->sc->raft_addr,
                           c->tls.enabled ? MEMBER_ADD_TLS : 0, &resp);
        if (r >= 0)
                j->last_status = resp.status;
        else
                rotation_record(srv, r, &resp);
        http_response_done(&resp);
        return r;
}

static int join_admin(StepContext *ctx, Join *j) {
        const Config *c = ctx->config;
        RotationServer *srv = NULL;
        const Member *m;
        char what[128];
        int r;

        if (join_list(ctx, j, &srv) >= 0) {
                m = join_find_stale(j, c->node_id);
                if (m) {
                        r = join_handle_stale(ctx, j, m, c->node_id);
                        if (r < 0)
                                return r;
                        m = NULL;
                } else
                        m = member_list_find(&j->members, c->node_id, j->sc->raft_addr);
                if (m) {
                        log_event(LOG_INFO, MID_MEMBER_ALREADY,
                                  LOG_FIELDS("SERVICE", j->service, "PEER", srv->url, "MEMBER_ID", m->id,
                                             "RAFT_ADDR", m->raft_addr),
                                  "This node is already a %s member (listed by %s as '%s', %s); nothing to add.",
                                  j->service, srv->url, strna(m->id), strna(m->raft_addr));
                        step_set_detail(ctx, "already a member (listed by %s)", srv->url);
                        return 0;
                }
                log_debug("%s lists %zu %s members, not this node; adding it.", srv->url, j->members.n, j->service);
        }

        snprintf(what, sizeof what, "add '%s' to %s", c->node_id, j->service);
        r = rotation_run(ctx, &j->rotation, j->service, what, add_one, j, &srv);
        /* "Exists" may be about the address alone: this node, or a stale member in its place? */
        if (r == MEMBER_EXISTS && join_list(ctx, j, NULL) >= 0 && (m = join_find_stale(j, c->node_id))) {
                r = join_handle_stale(ctx, j, m, c->node_id);
                if (r < 0)
                        return r;
                r = rotation_run(ctx, &j->rotation, j->service, what, add_one, j, &srv);
        }
        if (r == MEMBER_EXISTS) {
                log_event(LOG_INFO, MID_MEMBER_ALREADY,
                          LOG_FIELDS("SERVICE", j->service, "PEER", srv->url, "HTTP_STATUS", FMT_INT(j->last_status)),
                          "This node is already a %s member (HTTP %ld from %s).", j->service, j->last_status, srv->url);
                step_set_detail(ctx, "already a member (HTTP %ld from %s)", j->last_status, srv->url);
                return 0;
        }
        if (r >= 0) {
                log_event(LOG_NOTICE, MID_MEMBER_JOINED,
                          LOG_FIELDS("SERVICE", j->service, "PEER", srv->url, "HTTP_STATUS", FMT_INT(j->last_status),
                                     "ATTEMPT", FMT_INT(ctx->current ? ctx->current->attempts : srv->attempts),
                                     "MEMBER_ID", c->node_id,
                                     "RAFT_ADDR", j->sc->raft_addr),
                          "Joined the %s cluster via %s as '%s' (%s), HTTP %ld.",
                          j->service, srv->url, c->node_id, j->sc->raft_addr, j->last_status);
                step_set_detail(ctx, "joined via %s", srv->url);
                return 0;
        }
        return join_failed(ctx, j, "add", r);
}

/* Nodes powered on together would all ask the leader in the same second: each waits a random
 * time below timeouts.join_start_delay_max_ms first. */
static void join_start_delay(StepContext *ctx, const Join *j) {
        const usec_t max = ctx->config->timeouts.join_start_delay_max;
        char waiting[128];
        usec_t d;

        if (max == 0)
                return;
        d = step_context_jitter_seed(ctx) % max;
        log_event(LOG_INFO, MID_JOIN_DELAYED,
                  LOG_FIELDS("SERVICE", j->service, "ELAPSED_MS", FMT_U64(d / USEC_PER_MSEC)),
                  "Waiting %" PRIu64 " ms before the first %s join request, so nodes started together spread out "
                  "(a random delay below timeouts.join_start_delay_max_ms, %" PRIu64 " ms).",
                  d / USEC_PER_MSEC, j->service, max / USEC_PER_MSEC);
        snprintf(waiting, sizeof waiting, "the random start delay of the %s join", j->service);
        step_wait(ctx, d, waiting);
}

/* What every kind with a member list does first: a bootstrap node sends nothing; a joining one
 * checks its settings and waits its random start delay; then the kind's own procedure. */
static int join_service(StepContext *ctx, int (*procedure)(StepContext *ctx, Join *j)) {
        _cleanup_(join_done) Join j = {};
        int r;

        if (!ctx->service)
                return log_error_errno(EINVAL, "The join step has no service: the step plan is wrong.");
        if (ctx->config->bootstrap)
                return join_bootstrap(ctx, ctx->service);
        r = join_init(ctx, ctx->service, &j);
        if (r < 0)
                return r;
        join_start_delay(ctx, &j);
        return procedure(ctx, &j);
}

int step_join_admin(StepContext *ctx) {
        return join_service(ctx, join_admin);
}

int step_join_etcd(StepContext *ctx) {
        return join_service(ctx, join_etcd);
}
