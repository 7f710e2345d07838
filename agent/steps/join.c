/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "join.h"
#include "log.h"

/* What both join paths share: the servers to ask, the member list, the error that names every
 * server with its own answer. */

int join_list_one(StepContext *ctx, RotationServer *srv, void *userdata) {
        Join *j = userdata;
        HttpResponse resp = {};
        int r;

        member_list_done(&j->members);
        r = j->driver->list(ctx->http, srv->url, &j->members, &resp);
        if (r < 0)
                rotation_record(srv, r, &resp);
        http_response_done(&resp);
        return r;
}

int join_list(StepContext *ctx, Join *j, RotationServer **ret_server) {
        Rotation *rot = &j->rotation;
        char what[96];

        /* One pass over the servers, the leader first: the add that follows is safe when nobody
         * answers. A server that asked for time (Retry-After) is left alone, and remembered. */
        snprintf(what, sizeof what, "list the %s members", j->service);
        for (size_t k = 0; k < rot->n; k++) {
                size_t i = k == 0 ? rot->leader : k <= rot->leader ? k - 1 : k;
                RotationServer *srv = &rot->servers[i];
                int r;

                if (srv->not_before > now_monotonic()) {
                        log_debug("Not asking %s to %s: it asked to wait.", srv->url, what);
                        continue;
                }
                r = join_list_one(ctx, srv, j);
                if (r >= 0) {
                        if (ret_server)
                                *ret_server = srv;
                        return 0;
                }
                (void) rotation_note_busy(rot, srv, r, ctx->config->timeouts.backoff_initial);
                log_info("Could not %s at %s (%s)%s.", what, srv->url, srv->last_error,
                         k + 1 < rot->n ? "; asking the next server" : "");
        }
        return -ENODATA;
}

int join_failed(StepContext *ctx, Join *j, const char *phase, int r) {
        const Config *c = ctx->config;
        char tried[1024];

        rotation_describe(&j->rotation, tried, sizeof tried);
        step_set_error(ctx, "%s %s: %s", phase, j->service, tried);
        if (r == -EBADE) {
                log_event_errno(LOG_ERR, EBADE, MID_JOIN_REFUSED,
                                LOG_FIELDS("SERVICE", j->service, "ERROR", tried),
                                "The %s cluster refused to %s '%s' (%s): %s. A member of the cluster answered "
                                "with a refusal, so no other server is asked and retrying cannot change it: fix "
                                "the cause on the cluster side (or node_id and raft_addr in the config), then "
                                "start the agent again.",
                                j->service, phase, c->node_id, strna(j->sc->raft_addr), tried);
                return -EBADE;
        }
        return log_error_errno(r == -ETIMEDOUT ? ETIMEDOUT : r,
                               "Could not %s '%s' (%s) in the %s cluster: %s. Check that the servers are up and "
                               "reachable from this node ('curl -v %s/health'); the next start tries again.",
                               phase, c->node_id, strna(j->sc->raft_addr), j->service, tried, j->rotation.servers[0].url);
}

int join_init(StepContext *ctx, const ServiceConfig *sc, Join *ret) {
        const Config *c = ctx->config;

        *ret = (Join) { .service = sc->name, .sc = sc };
        if (!sc->leader_url)
                return log_error_errno(EINVAL, "No leader URL for %s: set \"leader_url\" (or services.%s.leader_url) "
                                       "in '%s'.", ret->service, ret->service, strna(c->path));
        if (!sc->raft_addr)
                return log_error_errno(EINVAL, "No raft address for %s: set \"raft_addr\" (or services.%s.raft_addr) "
                                       "in '%s'.", ret->service, ret->service, strna(c->path));
        ret->driver = member_driver_get(sc->kind);
        if (!ret->driver)
                return log_error_errno(EINVAL, "No member driver for %s.", ret->service);
        rotation_init(&ret->rotation, sc->leader_url, sc->peer_urls);
        return 0;
}

void join_done(Join *j) {
        member_list_done(&j->members);
        rotation_done(&j->rotation);
}
