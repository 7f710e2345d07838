/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "backoff.h"
#include "log.h"
#include "notify.h"
#include "rotation.h"
#include "strv.h"

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
        size_t used = 0;

        if (size == 0)
                return;
        buf[0] = '\0';
        for (size_t i = 0; i < r->n; i++) {
                const RotationServer *srv = &r->servers[i];
                int k;

                k = snprintf(buf + used, size - used, "%s%s (%s%u attempt%s, last: %s)", i > 0 ? ", " : "",
                             srv->url, srv->refused ? "refused, " : srv->unusable ? "unusable, " : "",
                             srv->attempts, srv->attempts == 1 ? "" : "s",
                             srv->last_error[0] ? srv->last_error : "not asked");
                if (k > 0)
                        used = MIN(used + (size_t) k, size - 1);
        }
}

static bool any_usable(const Rotation *r) {
        for (size_t i = 0; i < r->n; i++)
                if (!r->servers[i].refused && !r->servers[i].unusable)
                        return true;
        return false;
}

static bool all_refused(const Rotation *r) {
        for (size_t i = 0; i < r->n; i++)
                if (!r->servers[i].refused)
                        return false;
        return r->n > 0;
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
static void log_failed_attempt(StepContext *ctx, const Rotation *r, const RotationServer *srv, int error,
                               const char *service, const char *what, unsigned round, unsigned rounds,
                               ssize_t next_in_round) {
        const char *why = srv->refused ? " (it refused: not asked again)" :
                          srv->unusable ? " (it cannot be used: not asked again)" : "";

        if (next_in_round >= 0)
                log_event_errno(LOG_WARNING, error, MID_PEER_FALLBACK,
                                LOG_FIELDS("SERVICE", service, "PEER", r->servers[next_in_round].url,
                                           "FAILED_PEER", srv->url, "ATTEMPT", FMT_INT(round),
                                           "MAX_ATTEMPTS", FMT_INT(rounds),
                                           "HTTP_STATUS", srv->last_status > 0 ? FMT_INT(srv->last_status) : NULL,
                                           "ERROR", srv->last_error),
                                "Could not %s at %s: %s%s; asking %s.", what, srv->url, srv->last_error, why,
                                r->servers[next_in_round].url);
        else if (round < rounds && any_usable(r))
                log_event_errno(LOG_WARNING, error, MID_ATTEMPT_FAILED,
                                LOG_FIELDS("SERVICE", service, "PEER", srv->url, "ATTEMPT", FMT_INT(round),
                                           "MAX_ATTEMPTS", FMT_INT(rounds),
                                           "HTTP_STATUS", srv->last_status > 0 ? FMT_INT(srv->last_status) : NULL,
                                           "ERROR", srv->last_error),
                                "Could not %s at %s (round %u/%u): %s%s; every server was asked in this round, "
                                "the next round follows.", what, srv->url, round, rounds, srv->last_error, why);
}

/* The next usable server after i in this round, or -1. */
static ssize_t next_in_round(const Rotation *r, size_t i) {
        for (size_t j = i + 1; j < r->n; j++)
                if (!r->servers[j].refused && !r->servers[j].unusable)
                        return (ssize_t) j;
        return -1;
}

int rotation_run(StepContext *ctx, Rotation *r, const char *service, const char *what, RotationFn fn,
                 void *userdata, RotationServer **ret_server) {
        const TimeoutConfig *tc = &ctx->config->timeouts;
        const unsigned rounds = MAX(tc->join_attempts, 1u);
        int first_permanent = 0;
        Backoff b;

        backoff_init(&b, tc->backoff_initial, tc->backoff_max, step_context_jitter_seed(ctx));

        for (unsigned round = 1; round <= rounds; round++) {
                for (size_t i = 0; i < r->n; i++) {
                        RotationServer *srv = &r->servers[i];
                        char host[128];
                        int k;

                        if (srv->refused || srv->unusable)
                                continue;

                        step_count_attempt(ctx);
                        srv->attempts++;
                        notify_status("%s: %s via %s, attempt %u, round %u/%u", service, what,
                                      url_host(srv->url, host, sizeof host),
                                      ctx->current ? ctx->current->attempts : srv->attempts, round, rounds);
                        k = fn(ctx, srv, userdata);
                        if (k >= 0) {
                                if (ret_server)
                                        *ret_server = srv;
                                return k;
                        }

                        if (k == -EBADE)
                                srv->refused = true;
                        else if (k != -EAGAIN && !curl_util_error_is_transient(k)) {
                                srv->unusable = true;
                                if (first_permanent == 0)
                                        first_permanent = k;
                        }
                        step_set_error(ctx, "%s: %s", srv->url, srv->last_error);
                        log_failed_attempt(ctx, r, srv, k, service, what, round, rounds, next_in_round(r, i));
                }

                if (!any_usable(r))
                        return all_refused(r) ? -EBADE : first_permanent ?: -EBADE;
                if (round < rounds) {
                        usec_t delay = backoff_next(&b);

                        log_info("No server could %s in round %u/%u; the next round starts in %" PRIu64 " ms.",
                                 what, round, rounds, delay / USEC_PER_MSEC);
                        sleep_usec(delay);
                }
        }
        return -ETIMEDOUT;
}
