/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backoff.h"
#include "join-procedure.h"
#include "log.h"
#include "member.h"
#include "service-kind.h"
#include "step-progress.h"
#include "step.h"
#include "strv.h"

/* The health report's membership check for the kinds with a member list (admin, etcd): the
 * leader, then the peers, are asked until one lists this node; one that answers without it
 * fails the check at once (the join did not take effect). */

/* "https://localhost:2379/health" → "https://localhost:2379": a bootstrap node without a
 * leader URL asks its own API. */
static char *url_base_of(const char *url) {
        const char *p = strstr(url, "://");

        p = p ? p + 3 : url;
        return strndup(url, (size_t) (p - url) + strcspn(p, "/"));
}

int member_check_list(StepContext *ctx, const ServiceConfig *sc, usec_t deadline) {
        const Config *c = ctx->config;
        const char *service = sc->name;
        const MemberDriver *driver = member_driver_get(sc->kind);
        _cleanup_strv_free_ char **urls = NULL;
        char last_error[512] = "";
        Backoff b;

        if (!driver)
                return log_error_errno(EINVAL, "No member driver for %s.", service);

        if (sc->leader_url) {
                if (strv_extend(&urls, sc->leader_url) < 0)
                        return log_oom();
                STRV_FOREACH(p, sc->peer_urls)
                        if (!strv_contains(urls, *p) && strv_extend(&urls, *p) < 0)
                                return log_oom();
        } else if (sc->health_url) {
                char *base = url_base_of(sc->health_url);

                if (!base || strv_push(&urls, base) < 0) {
                        free(base);
                        return log_oom();
                }
        } else
                return log_error_errno(EINVAL, "Cannot check %s membership: no leader URL and no health URL "
                                       "for %s in '%s'.", service, service, strna(c->path));

        backoff_init(&b, c->timeouts.backoff_initial, c->timeouts.backoff_max, step_context_jitter_seed(ctx));

        for (;;) {
                STRV_FOREACH(u, urls) {
                        _cleanup_(member_list_done) MemberList l = {};
                        HttpResponse resp = {};
                        char names[256] = "";
                        size_t used = 0;
                        int r;

                        r = driver->list(ctx->http, *u, &l, &resp);
                        if (r < 0) {
                                char reason[160];

                                if (resp.status > 0)
                                        snprintf(last_error, sizeof last_error, "%s: HTTP %ld (%s)", *u,
                                                 resp.status, http_response_reason(&resp, reason, sizeof reason));
                                else
                                        snprintf(last_error, sizeof last_error, "%s: %s", *u,
                                                 resp.error[0] ? resp.error : strerror(-r));
                                http_response_done(&resp);
                                log_debug("Could not list the %s members: %s.", service, last_error);
                                continue;
                        }
                        http_response_done(&resp);

                        if (member_list_find(&l, c->node_id, sc->raft_addr)) {
                                log_info("This node is in the %s member list (%s, %zu members).", service, *u, l.n);
                                return 0;
                        }

                        for (size_t i = 0; i < l.n; i++) {
                                int k = snprintf(names + used, sizeof names - used, "%s%s", i > 0 ? ", " : "",
                                                 strna(l.items[i].name ?: l.items[i].id));
                                if (k > 0)
                                        used = MIN(used + (size_t) k, sizeof names - 1);
                        }
                        step_set_error(ctx, "'%s' is not in the %s member list at %s", c->node_id, service, *u);
                        return log_error_errno(ENXIO,
                                               "This node ('%s', raft address %s) is not in the %s member list "
                                               "that %s answered (%zu members: %s). The %s did not take effect: "
                                               "run 'first-boot-agent reset %s-%s' and start the agent again.",
                                               c->node_id, strna(sc->raft_addr), service, *u, l.n,
                                               used > 0 ? names : "none", c->bootstrap ? "bootstrap" : "join",
                                               service, service_kind(sc->kind)->join_step);
                }

                usec_t now = now_monotonic();

                if (now >= deadline)
                        break;
                char waiting[512];

                snprintf(waiting, sizeof waiting, "the %s member list (%.400s)", service, last_error);
                step_wait(ctx, MIN(backoff_next(&b), deadline - now), waiting);
        }

        step_set_error(ctx, "could not list the %s members: %s", service, last_error);
        return log_error_errno(ETIMEDOUT, "Could not confirm that this node is a %s member: no server answered "
                               "the member list request (last: %s).", service, last_error);
}

