/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "backoff.h"
#include "log.h"
#include "member.h"
#include "notify.h"
#include "step.h"
#include "strv.h"

/* Joining one cluster service (chainfire, flaredb): the same walk for both, driven by the
 * service's config and its member driver.
 *
 * Order of servers: the leader first, then every peer in the configured order. Each gets up to
 * timeouts.join_attempts adds with backoff before the next one is tried, so a leader that is
 * down for good costs exactly its attempts, and a leader that comes back within them is still
 * the one asked. A 409 means an earlier run (or a person) already added this node; any other
 * 4xx is final: retrying the same request cannot change the answer. */

typedef struct JoinServer {
        const char *url;
        unsigned attempts;
        long last_status;               /* 0: no HTTP answer */
        char last_error[256];
} JoinServer;

typedef struct Join {
        StepContext *ctx;
        const char *service;            /* "chainfire" */
        const ServiceConfig *sc;
        const MemberDriver *driver;
        JoinServer servers[16];
        size_t n_servers;
} Join;

/* "https://node02:2379/x" → "node02", for the one-line status. */
static const char *url_host(const char *url, char *buf, size_t size) {
        const char *p = strstr(url, "://"), *end;

        p = p ? p + 3 : url;
        if (*p == '[') {
                end = strchr(p, ']');
                p++;
        } else
                end = p + strcspn(p, ":/");
        if (!end)
                end = p + strlen(p);
        snprintf(buf, size, "%.*s", (int) (end - p), p);
        return buf;
}

static void join_record(JoinServer *srv, int r, const HttpResponse *resp) {
        if (resp->status > 0) {
                char reason[160];

                srv->last_status = resp->status;
                snprintf(srv->last_error, sizeof srv->last_error, "HTTP %ld (%s)", resp->status,
                         http_response_reason(resp, reason, sizeof reason));
        } else {
                srv->last_status = 0;
                snprintf(srv->last_error, sizeof srv->last_error, "%s",
                         resp->error[0] ? resp->error : strerror(-r));
        }
}

/* Asks the leader, then the peers, for the member list, and stops at the first answer.
 * Returns 1 when this node is listed, 0 when it is not or nobody answered (the add that
 * follows is safe either way: a member already present gives 409). */
static int join_find_self(Join *j) {
        const Config *c = j->ctx->config;

        for (size_t i = 0; i < j->n_servers; i++) {
                JoinServer *srv = &j->servers[i];
                _cleanup_(member_list_done) MemberList l = {};
                HttpResponse resp = {};
                const Member *m;
                int r;

                r = j->driver->list(j->ctx->http, srv->url, &l, &resp);
                if (r < 0) {
                        join_record(srv, r, &resp);
                        http_response_done(&resp);
                        log_info("Could not list the %s members at %s (%s)%s.", j->service, srv->url,
                                 srv->last_error,
                                 i + 1 < j->n_servers ? "; asking the next server" : "; adding this node anyway");
                        continue;
                }
                http_response_done(&resp);

                m = member_list_find(&l, c->node_id, j->sc->raft_addr);
                if (!m) {
                        log_debug("%s lists %zu %s members, not this node; adding it.", srv->url, l.n, j->service);
                        return 0;
                }

                if (!streq(strempty(m->raft_addr), j->sc->raft_addr) ||
                    !(streq(strempty(m->id), c->node_id) || streq(strempty(m->name), c->node_id)))
                        log_warning("%s lists a %s member '%s' with raft address %s, but this node is '%s' "
                                    "with raft address %s. Treating it as this node; check the cluster's "
                                    "member list if that is wrong.",
                                    srv->url, j->service, strna(m->name ?: m->id), strna(m->raft_addr),
                                    c->node_id, j->sc->raft_addr);

                log_event(LOG_INFO, MID_MEMBER_ALREADY,
                          LOG_FIELDS("SERVICE", j->service,
                                     "PEER", srv->url,
                                     "MEMBER_ID", m->id,
                                     "RAFT_ADDR", m->raft_addr),
                          "This node is already a %s member (listed by %s as '%s', %s); nothing to add.",
                          j->service, srv->url, strna(m->id), strna(m->raft_addr));
                step_set_detail(j->ctx, "already a member (listed by %s)", srv->url);
                return 1;
        }

        return 0;
}

static int join_exhausted(Join *j) {
        const Config *c = j->ctx->config;
        char tried[1024] = "";
        size_t used = 0;

        for (size_t i = 0; i < j->n_servers; i++) {
                const JoinServer *srv = &j->servers[i];
                int k;

                k = snprintf(tried + used, sizeof tried - used, "%s%s (%u attempts, last: %s)",
                             i > 0 ? ", " : "", srv->url, srv->attempts, srv->last_error);
                if (k > 0)
                        used = MIN(used + (size_t) k, sizeof tried - 1);
        }

        step_set_error(j->ctx, "could not join %s: tried %s", j->service, tried);
        return log_error_errno(ETIMEDOUT,
                               "Could not join the %s cluster as '%s' (%s): tried %s. Check that the leader "
                               "is up and reachable from this node ('curl -v %s/health'); the next start "
                               "tries again.",
                               j->service, c->node_id, j->sc->raft_addr, tried, j->servers[0].url);
}

/* One server: up to join_attempts adds. Returns 0 (joined), -EBADE (refused), -EAGAIN (this
 * server is used up: try the next), or another negative errno (give up). */
static int join_try_server(Join *j, size_t index, Backoff *b) {
        StepContext *ctx = j->ctx;
        const Config *c = ctx->config;
        const unsigned max = MAX(c->timeouts.join_attempts, 1u);
        JoinServer *srv = &j->servers[index];
        char host[128];

        url_host(srv->url, host, sizeof host);
        backoff_reset(b);

        for (unsigned attempt = 1; attempt <= max; attempt++) {
                HttpResponse resp = {};
                char reason[160];
                usec_t delay;
                int r;

                step_count_attempt(ctx);
                srv->attempts++;
                notify_status("joining %s via %s, attempt %u/%u", j->service, host, attempt, max);

                r = j->driver->add(ctx->http, srv->url, c->node_id, j->sc->raft_addr, c->tls.enabled, &resp);
                if (r == MEMBER_EXISTS) {
                        log_event(LOG_INFO, MID_MEMBER_ALREADY,
                                  LOG_FIELDS("SERVICE", j->service,
                                             "PEER", srv->url,
                                             "HTTP_STATUS", FMT_INT(resp.status),
                                             "ATTEMPT", FMT_INT(attempt)),
                                  "This node is already a %s member (HTTP 409 from %s: %s).",
                                  j->service, srv->url, http_response_reason(&resp, reason, sizeof reason));
                        step_set_detail(ctx, "already a member (HTTP 409 from %s)", srv->url);
                        http_response_done(&resp);
                        return 0;
                }
                if (r >= 0) {
                        log_event(LOG_NOTICE, MID_MEMBER_JOINED,
                                  LOG_FIELDS("SERVICE", j->service,
                                             "PEER", srv->url,
                                             "HTTP_STATUS", FMT_INT(resp.status),
                                             "ATTEMPT", FMT_INT(attempt),
                                             "MEMBER_ID", c->node_id,
                                             "RAFT_ADDR", j->sc->raft_addr),
                                  "Joined the %s cluster via %s as '%s' (%s), HTTP %ld, attempt %u.",
                                  j->service, srv->url, c->node_id, j->sc->raft_addr, resp.status, attempt);
                        step_set_detail(ctx, "joined via %s", srv->url);
                        http_response_done(&resp);
                        return 0;
                }

                join_record(srv, r, &resp);
                http_response_done(&resp);

                if (r == -EBADE) {
                        log_event_errno(LOG_ERR, EBADE, MID_JOIN_REFUSED,
                                        LOG_FIELDS("SERVICE", j->service,
                                                   "PEER", srv->url,
                                                   "HTTP_STATUS", FMT_INT(srv->last_status),
                                                   "ERROR", srv->last_error,
                                                   "ATTEMPT", FMT_INT(attempt)),
                                        "%s at %s refused to add '%s' (%s): %s. Retrying cannot change this "
                                        "answer: fix the cause on the cluster side (or the node's id and "
                                        "raft_addr in the config), then start the agent again.",
                                        j->service, srv->url, c->node_id, j->sc->raft_addr, srv->last_error);
                        step_set_error(ctx, "%s refused the join: %s", srv->url, srv->last_error);
                        return -EBADE;
                }

                step_set_error(ctx, "%s: %s", srv->url, srv->last_error);

                if (!curl_util_error_is_transient(r))
                        return log_error_errno(r, "Could not ask %s to add this node to %s: %s. This will "
                                               "not pass by retrying: check the TLS files and URLs in the config.",
                                               srv->url, j->service, srv->last_error);

                if (attempt == max) {
                        log_event_errno(LOG_WARNING, r, MID_ATTEMPT_FAILED,
                                        LOG_FIELDS("SERVICE", j->service,
                                                   "PEER", srv->url,
                                                   "ATTEMPT", FMT_INT(attempt),
                                                   "MAX_ATTEMPTS", FMT_INT(max),
                                                   "HTTP_STATUS", srv->last_status > 0 ? FMT_INT(srv->last_status) : NULL,
                                                   "ERROR", srv->last_error),
                                        "Join attempt %u/%u at %s failed: %s. No attempts left for this server.",
                                        attempt, max, srv->url, srv->last_error);
                        break;
                }

                delay = backoff_next(b);
                log_event_errno(LOG_WARNING, r, MID_ATTEMPT_FAILED,
                                LOG_FIELDS("SERVICE", j->service,
                                           "PEER", srv->url,
                                           "ATTEMPT", FMT_INT(attempt),
                                           "MAX_ATTEMPTS", FMT_INT(max),
                                           "HTTP_STATUS", srv->last_status > 0 ? FMT_INT(srv->last_status) : NULL,
                                           "ERROR", srv->last_error),
                                "Join attempt %u/%u at %s failed: %s. Retrying in %" PRIu64 " ms.",
                                attempt, max, srv->url, srv->last_error, delay / USEC_PER_MSEC);
                sleep_usec(delay);
        }

        return -EAGAIN;
}

static int join_service(StepContext *ctx, ServiceId id) {
        const Config *c = ctx->config;
        Join j = {
                .ctx = ctx,
                .service = service_to_string(id),
                .sc = &c->services[id],
        };
        Backoff b;
        int r;

        if (c->bootstrap) {
                char *const *peers = id == SERVICE_FLAREDB && c->flaredb_peers ? c->flaredb_peers : c->initial_peers;
                char list[512] = "";
                size_t used = 0;

                STRV_FOREACH(p, peers) {
                        int k = snprintf(list + used, sizeof list - used, "%s%s", used > 0 ? ", " : "", *p);
                        if (k > 0)
                                used = MIN(used + (size_t) k, sizeof list - 1);
                }
                log_event(LOG_INFO, MID_CLUSTER_BOOTSTRAP,
                          LOG_FIELDS("SERVICE", j.service,
                                     "RAFT_ADDR", j.sc->raft_addr),
                          "Bootstrap node: the %s cluster forms from its initial peers (%s); no join request is sent.",
                          j.service, used > 0 ? list : "none listed");
                step_set_detail(ctx, "bootstrap: cluster forms from the initial peers");
                return 0;
        }

        if (!j.sc->leader_url)
                return log_error_errno(EINVAL, "No leader URL for %s: set \"leader_url\" (or services.%s.leader_url) "
                                       "in '%s'.", j.service, j.service, strna(c->path));
        if (!j.sc->raft_addr)
                return log_error_errno(EINVAL, "No raft address for %s: set \"raft_addr\" (or services.%s.raft_addr) "
                                       "in '%s'.", j.service, j.service, strna(c->path));

        j.driver = member_driver_get(j.sc->driver);
        if (!j.driver)
                return log_error_errno(EINVAL, "No member driver for %s.", j.service);

        j.servers[j.n_servers++] = (JoinServer) { .url = j.sc->leader_url };
        STRV_FOREACH(p, j.sc->peer_urls) {
                if (j.n_servers >= ELEMENTSOF(j.servers))
                        break;
                if (streq(*p, j.sc->leader_url))
                        continue;
                j.servers[j.n_servers++] = (JoinServer) { .url = *p };
        }

        if (join_find_self(&j) > 0)
                return 0;

        backoff_init(&b, c->timeouts.backoff_initial, c->timeouts.backoff_max, step_context_jitter_seed(ctx));

        for (size_t i = 0; i < j.n_servers; i++) {
                if (i > 0) {
                        const JoinServer *prev = &j.servers[i - 1];

                        log_event(LOG_NOTICE, MID_PEER_FALLBACK,
                                  LOG_FIELDS("SERVICE", j.service,
                                             "PEER", j.servers[i].url,
                                             "ERROR", prev->last_error),
                                  "%s %s %s after %u attempts (last: %s); trying peer %s (%zu of %zu).",
                                  i == 1 ? "The leader" : "Peer", prev->url,
                                  prev->last_status > 0 ? "kept failing" : "did not answer",
                                  prev->attempts, prev->last_error, j.servers[i].url, i, j.n_servers - 1);
                }

                r = join_try_server(&j, i, &b);
                if (r != -EAGAIN)
                        return r;
        }

        return join_exhausted(&j);
}

int step_chainfire_join(StepContext *ctx) {
        return join_service(ctx, SERVICE_CHAINFIRE);
}

int step_flaredb_join(StepContext *ctx) {
        return join_service(ctx, SERVICE_FLAREDB);
}
