/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backoff.h"
#include "log.h"
#include "notify.h"
#include "rotation.h"
#include "member.h"
#include "step-progress.h"
#include "strv.h"
#include "url.h"

void rotation_done(Rotation *r) {
        for (size_t i = 0; i < r->n; i++) {
                free(r->servers[i].owned_url);
                free(r->servers[i].leader_hint);
        }
        *r = (Rotation) {};
}

void rotation_init(Rotation *r, const char *leader, char *const *peers) {
        *r = (Rotation) {};
        if (leader)
                r->servers[r->n++] = (RotationServer) { .url = leader };
        STRV_FOREACH(p, peers) {
                bool seen = false;

                if (r->n >= ROTATION_MAX_SERVERS)
                        break;
                for (size_t i = 0; i < r->n; i++)
                        seen = seen || streq(r->servers[i].url, *p);
                if (!seen)
                        r->servers[r->n++] = (RotationServer) { .url = *p };
        }
}

void rotation_record(RotationServer *srv, int error, const HttpResponse *resp) {
        srv->retry_after_s = resp ? resp->retry_after_s : 0;
        srv->leader_hint = mfree(srv->leader_hint);
        if (error == -EREMCHG && resp)
                (void) member_leader_hint(resp, &srv->leader_hint);
        if (resp && resp->status > 0) {
                char reason[160];

                srv->last_status = resp->status;
                snprintf(srv->last_error, sizeof srv->last_error, "HTTP %ld (%s)", resp->status,
                         http_response_reason(resp, reason, sizeof reason));
        } else {
                srv->last_status = 0;
                snprintf(srv->last_error, sizeof srv->last_error, "%s",
                         resp && resp->error[0] ? resp->error : strerror(error < 0 ? -error : error));
        }
}

void rotation_describe(const Rotation *r, char *buf, size_t size) {
        bool asked = false;
        size_t used = 0;

        if (size == 0)
                return;
        buf[0] = '\0';
        for (size_t i = 0; i < r->n; i++)
                asked = asked || r->servers[i].attempts > 0;
        for (size_t i = 0; i < r->n; i++) {
                const RotationServer *srv = &r->servers[i];
                int k;

                if (asked && srv->attempts == 0)
                        continue;
                k = snprintf(buf + used, size - used, "%s%s (%s%u attempt%s, last: %s)", used > 0 ? ", " : "",
                             srv->url, srv->refused ? "refused, " : srv->unusable ? "unusable, " : "",
                             srv->attempts, srv->attempts == 1 ? "" : "s",
                             srv->last_error[0] ? srv->last_error : "not asked");
                if (k > 0)
                        used = MIN(used + (size_t) k, size - 1);
        }
}

static bool usable(const RotationServer *srv) {
        return !srv->refused && !srv->unusable;
}

static bool any_usable(const Rotation *r) {
        for (size_t i = 0; i < r->n; i++)
                if (usable(&r->servers[i]))
                        return true;
        return false;
}

bool rotation_note_busy(Rotation *r, RotationServer *srv, int error, usec_t at_least) {
        if (srv->retry_after_s == 0 && error != -EBUSY)
                return false;
        r->throttled++;
        srv->not_before = now_monotonic() + MAX((usec_t) srv->retry_after_s * USEC_PER_SEC, at_least);
        return true;
}

/* The server of url, added when it is new (a leader named by an answer). -1 when full. */
static ssize_t server_of(Rotation *r, const char *url) {
        for (size_t i = 0; i < r->n; i++)
                if (streq(r->servers[i].url, url) || url_same_server(r->servers[i].url, url))
                        return (ssize_t) i;
        if (r->n >= ROTATION_MAX_SERVERS)
                return -1;
        r->servers[r->n] = (RotationServer) { .owned_url = strdup(url) };
        if (!r->servers[r->n].owned_url)
                return -1;
        r->servers[r->n].url = r->servers[r->n].owned_url;
        return (ssize_t) r->n++;
}

/* Why a "not the leader" answer from srv may not send this request to hint, or NULL: see
 * member_leader_hint_refusal(); the configured servers are those not learnt from answers. */
static const char *hint_refusal(const StepContext *ctx, const Rotation *r, const RotationServer *srv,
                                const char *hint) {
        const char *configured[ROTATION_MAX_SERVERS + 1];
        size_t n = 0;

        for (size_t i = 0; i < r->n; i++)
                if (!r->servers[i].owned_url)
                        configured[n++] = r->servers[i].url;
        configured[n] = NULL;
        return member_leader_hint_refusal(hint, srv->url, configured, !http_client_is_insecure(ctx->http));
}

/* "node02" of "https://node02:2379/x", for the one-line status. */
static const char *url_host(const char *url, char *buf, size_t size) {
        const char *p = strstr(url, "://"), *end;

        p = p ? p + 3 : url;
        if (*p == '[') {
                p++;
                end = strchr(p, ']');
        } else
                end = p + strcspn(p, ":/");
        if (!end)
                end = p + strlen(p);
        snprintf(buf, size, "%.*s", (int) (end - p), p);
        return buf;
}

/* One record per failed attempt: MID_PEER_FALLBACK when another server is asked next in this
 * round, MID_ATTEMPT_FAILED when the next request waits for the next round. The last failure,
 * after which nothing is asked any more, is left to the caller's own record. */
static void log_failed_attempt(const Rotation *r, const RotationServer *srv, int error, const char *service,
                               const char *what, unsigned round, unsigned rounds, const RotationServer *next) {
        const char *why = srv->unusable ? " (it cannot be used: not asked again)" :
                          error == -EREMCHG ? " (not the leader)" : "";
        char wait[64] = "";

        if (srv->retry_after_s > 0)
                snprintf(wait, sizeof wait, " (it asked to wait %u s)", srv->retry_after_s);
        if (next)
                log_event_errno(LOG_WARNING, error, MID_PEER_FALLBACK,
                                LOG_FIELDS("SERVICE", service, "PEER", next->url, "FAILED_PEER", srv->url,
                                           "ATTEMPT", FMT_INT(round), "MAX_ATTEMPTS", FMT_INT(rounds),
                                           "HTTP_STATUS", srv->last_status > 0 ? FMT_INT(srv->last_status) : NULL,
                                           "ERROR", srv->last_error),
                                "Could not %s at %s: %s%s%s; asking %s.", what, srv->url, srv->last_error, why, wait,
                                next->url);
        else if (round < rounds && any_usable(r))
                log_event_errno(LOG_WARNING, error, MID_ATTEMPT_FAILED,
                                LOG_FIELDS("SERVICE", service, "PEER", srv->url, "ATTEMPT", FMT_INT(round),
                                           "MAX_ATTEMPTS", FMT_INT(rounds),
                                           "HTTP_STATUS", srv->last_status > 0 ? FMT_INT(srv->last_status) : NULL,
                                           "ERROR", srv->last_error),
                                "Could not %s at %s (round %u/%u): %s%s%s; every server was asked in this round, "
                                "the next round follows.", what, srv->url, round, rounds, srv->last_error, why, wait);
}

/* The order of one round: the known leader first, then the others in their order. */
static size_t round_order(const Rotation *r, size_t order[static ROTATION_MAX_SERVERS]) {
        size_t n = 0;

        order[n++] = r->leader;
        for (size_t i = 0; i < r->n; i++)
                if (i != r->leader)
                        order[n++] = i;
        return n;
}

/* The next server this round will ask after position k, or NULL. */
static const RotationServer *next_asked(const Rotation *r, const size_t *order, size_t n, size_t k, usec_t now) {
        for (size_t j = k + 1; j < n; j++) {
                const RotationServer *s = &r->servers[order[j]];

                if (usable(s) && !s->asked && s->not_before <= now)
                        return s;
        }
        return NULL;
}

int rotation_run(StepContext *ctx, Rotation *r, const char *service, const char *what, RotationFn fn,
                 void *userdata, RotationServer **ret_server) {
        const TimeoutConfig *tc = &ctx->config->timeouts;
        const unsigned rounds = MAX(tc->join_attempts, 1u);
        int first_permanent = 0;
        Backoff b;

        backoff_init(&b, tc->backoff_initial, tc->backoff_max, step_context_jitter_seed(ctx));
        if (r->n == 0)
                return -EINVAL;

        for (unsigned round = 1; round <= rounds; round++) {
                size_t order[ROTATION_MAX_SERVERS], n = round_order(r, order);
                usec_t wake = USEC_INFINITY, now;

                for (size_t i = 0; i < r->n; i++)
                        r->servers[i].asked = false;

                for (size_t k = 0; k < n; k++) {
                        RotationServer *srv = &r->servers[order[k]];
                        char host[128];
                        int q;

                        if (!usable(srv) || srv->asked)
                                continue;
                        now = now_monotonic();
                        if (srv->not_before > now) {
                                wake = MIN(wake, srv->not_before);
                                continue;
                        }

                        step_count_attempt(ctx);
                        srv->attempts++;
                        srv->asked = true;
                        notify_status("%s: %s via %s, attempt %u, round %u/%u", service, what,
                                      url_host(srv->url, host, sizeof host),
                                      ctx->current ? ctx->current->attempts : srv->attempts, round, rounds);
                        q = fn(ctx, srv, userdata);
                        if (q >= 0) {
                                r->leader = (size_t) (srv - r->servers);
                                if (ret_server)
                                        *ret_server = srv;
                                return q;
                        }

                        if (q == -EINPROGRESS) {
                                /* The cluster, not this server: any other would say the same. */
                                step_set_error(ctx, "%s: %s", srv->url, srv->last_error);
                                log_info("Could not %s at %s (round %u/%u): %s. The cluster is in the middle of a "
                                         "change; no other server is asked in this round.", what, srv->url, round,
                                         rounds, srv->last_error);
                                break;
                        }
                        if (q == -EBADE) {
                                /* A member of the cluster answered and refused: that is the cluster's
                                 * answer. What servers that cannot be reached would say does not
                                 * change it, so none is asked after it. */
                                srv->refused = true;
                                step_set_error(ctx, "%s: %s", srv->url, srv->last_error);
                                return -EBADE;
                        } else if (q == -EBUSY || q == -EREMCHG || q == -EAGAIN || curl_util_error_is_transient(q))
                                ;
                        else {
                                srv->unusable = true;
                                if (first_permanent == 0)
                                        first_permanent = q;
                        }
                        if (rotation_note_busy(r, srv, q, tc->backoff_initial))
                                wake = MIN(wake, srv->not_before);
                        if (q == -EREMCHG) {
                                /* Not the leader: the one it names is asked next, and first from now on. */
                                const char *no = srv->leader_hint ? hint_refusal(ctx, r, srv, srv->leader_hint) : NULL;

                                if (no) {
                                        log_event(LOG_WARNING, MID_LEADER_HINT_REFUSED,
                                                  LOG_FIELDS("SERVICE", service, "PEER", srv->url,
                                                             "LEADER_HINT", srv->leader_hint, "ERROR", no),
                                                  "%s said it is not the leader and named %s; not following it: %s. "
                                                  "The configured servers are asked instead (leader_url and the "
                                                  "peers).", srv->url, srv->leader_hint, no);
                                        srv->leader_hint = mfree(srv->leader_hint);
                                }
                                if (srv->leader_hint) {
                                        ssize_t l = server_of(r, srv->leader_hint);

                                        srv = &r->servers[order[k]];    /* server_of() may not move it, but be safe */
                                        if (l >= 0 && usable(&r->servers[l]) && (size_t) l != order[k]) {
                                                r->redirected++;
                                                r->leader = (size_t) l;
                                                /* Ask it right after this one in this round. */
                                                if (n < ROTATION_MAX_SERVERS && k + 1 <= n) {
                                                        memmove(order + k + 2, order + k + 1, (n - k - 1) * sizeof order[0]);
                                                        order[k + 1] = (size_t) l;
                                                        n++;
                                                }
                                        }
                                }
                        }
                        step_set_error(ctx, "%s: %s", srv->url, srv->last_error);
                        log_failed_attempt(r, srv, q, service, what, round, rounds, next_asked(r, order, n, k, now_monotonic()));
                }

                if (!any_usable(r))
                        return first_permanent ?: -EBADE;
                if (round < rounds) {
                        usec_t delay = backoff_next(&b);

                        now = now_monotonic();
                        /* Not before the server we will ask first may be asked again. */
                        if (wake != USEC_INFINITY && wake > now)
                                delay = MAX(delay, MIN(wake - now, 300 * USEC_PER_SEC));
                        char waiting[512];

                        log_info("No server could %s in round %u/%u; the next round starts in %" PRIu64 " ms.",
                                 what, round, rounds, delay / USEC_PER_MSEC);
                        snprintf(waiting, sizeof waiting, "%s: %s, round %u/%u in %" PRIu64 " ms (%s: %s)", service,
                                 what, round + 1, rounds, delay / USEC_PER_MSEC, r->servers[r->leader].url,
                                 r->servers[r->leader].last_error[0] ? r->servers[r->leader].last_error : "not asked");
                        step_wait(ctx, delay, waiting);
                }
        }
        return -ETIMEDOUT;
}
