/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "health-poll.h"
#include "log.h"
#include "notify.h"
#include "step-progress.h"

/* One loop serves every endpoint, so a health check that hangs must not stall the others for
 * the whole request timeout: a local health endpoint slower than this is not healthy anyway.
 * Near the deadline a check still gets the minimum. */
#define HEALTH_REQUEST_MAX (2 * USEC_PER_SEC)
#define HEALTH_REQUEST_MIN (100 * USEC_PER_MSEC)

size_t health_targets_from_config(const Config *c, HealthTarget *targets) {
        size_t n = 0;

        CONFIG_FOREACH_SERVICE(sc, c) {
                if (!sc->enabled || !sc->health_url)
                        continue;
                targets[n++] = (HealthTarget) {
                        .service = sc->name,
                        .url = sc->health_url,
                        .connect = sc->health_connect,
                };
        }
        return n;
}

static void health_check_one(StepContext *ctx, HealthTarget *t, usec_t start, usec_t deadline) {
        const usec_t now = now_monotonic();
        usec_t timeout = MIN(ctx->config->timeouts.request, HEALTH_REQUEST_MAX);
        HttpResponse resp = {};
        HttpRequest req;
        int r;

        /* Never wait on one answer past the deadline (but give it a fair chance at the end). */
        timeout = MIN(timeout, MAX(deadline > now ? deadline - now : 0, HEALTH_REQUEST_MIN));
        req = (HttpRequest) {
                .method = "GET",
                .url = t->url,
                .connect_to = t->connect,
                .timeout_ms = (long) (timeout / USEC_PER_MSEC),
        };

        t->attempts++;
        r = http_perform(ctx->http, &req, &resp);
        if (r >= 0 && resp.status == 200) {
                t->healthy = true;
                t->last_status = 200;
                t->last_error[0] = '\0';
                t->elapsed = now_monotonic() - start;
                log_event(LOG_INFO, MID_SERVICE_HEALTHY,
                          LOG_FIELDS("SERVICE", t->service,
                                     "URL", t->url,
                                     "ELAPSED_MS", FMT_U64(t->elapsed / USEC_PER_MSEC),
                                     "ATTEMPT", FMT_INT(t->attempts)),
                          "%s is healthy: %s answered 200 after %" PRIu64 " ms (check %u).",
                          t->service, t->url, t->elapsed / USEC_PER_MSEC, t->attempts);
                http_response_done(&resp);
                return;
        }

        if (r >= 0) {
                char reason[160];

                t->last_status = resp.status;
                snprintf(t->last_error, sizeof t->last_error, "HTTP %ld (%s)", resp.status,
                         http_response_reason(&resp, reason, sizeof reason));
        } else {
                t->last_status = 0;
                snprintf(t->last_error, sizeof t->last_error, "%s",
                         resp.error[0] ? resp.error : strerror(-r));
        }
        http_response_done(&resp);

        /* One line when the wait begins, then only debug records: a slow service would
         * otherwise fill the journal with one line per check. */
        if (t->attempts == 1)
                log_info("%s is not healthy yet: %s gave %s; checking again until it answers 200.",
                         t->service, t->url, t->last_error);
        else
                log_debug("%s still not healthy (check %u): %s.", t->service, t->attempts, t->last_error);

        t->next = now_monotonic() + backoff_next(&t->backoff);
}

static void health_report_timeout(StepContext *ctx, HealthTarget *targets, size_t n, usec_t timeout) {
        const char *ca = ctx->config->tls.ca_cert_path;
        char summary[1024] = "";
        size_t used = 0;

        for (size_t i = 0; i < n; i++) {
                HealthTarget *t = &targets[i];
                int k;

                if (t->healthy)
                        continue;

                log_event(LOG_ERR, MID_HEALTH_TIMEOUT,
                          LOG_FIELDS("SERVICE", t->service,
                                     "URL", t->url,
                                     "HTTP_STATUS", t->last_status > 0 ? FMT_INT(t->last_status) : NULL,
                                     "ERROR", t->last_error,
                                     "ATTEMPT", FMT_INT(t->attempts)),
                          "%s did not become healthy within %" PRIu64 " s: %s last gave %s (%u checks). "
                          "Check 'systemctl status %s%s' and 'curl -v%s%s %s'.",
                          t->service, timeout / USEC_PER_SEC, t->url, t->last_error, t->attempts,
                          t->unit ?: t->service, t->unit ? "" : ".service", ca ? " --cacert " : "", ca ?: "", t->url);

                k = snprintf(summary + used, sizeof summary - used, "%s%s not healthy after %" PRIu64 " s (%s: %s)",
                             used > 0 ? "; " : "", t->service, timeout / USEC_PER_SEC, t->url, t->last_error);
                if (k > 0)
                        used = MIN(used + (size_t) k, sizeof summary - 1);
        }

        step_set_error(ctx, "%s", summary);
}

int health_poll(StepContext *ctx, HealthTarget *targets, size_t n, usec_t timeout) {
        const TimeoutConfig *tc = &ctx->config->timeouts;
        const usec_t start = now_monotonic(), deadline = start + timeout;
        const usec_t interval_max = MIN(tc->backoff_max, HEALTH_POLL_INTERVAL_MAX);
        const uint64_t seed = step_context_jitter_seed(ctx);
        uint64_t notified = UINT64_MAX;

        for (size_t i = 0; i < n; i++) {
                HealthTarget *t = &targets[i];

                t->healthy = false;
                t->attempts = 0;
                t->last_status = 0;
                t->last_error[0] = '\0';
                t->next = start;
                backoff_init(&t->backoff, MIN(tc->backoff_initial, interval_max), interval_max,
                             seed ^ ((uint64_t) (i + 1) * 0x9e3779b97f4a7c15ULL));
        }

        for (;;) {
                HealthTarget *first = NULL;
                usec_t wake = USEC_INFINITY, now;
                size_t unhealthy = 0;

                for (size_t i = 0; i < n; i++) {
                        HealthTarget *t = &targets[i];

                        if (t->healthy)
                                continue;
                        if (now_monotonic() >= t->next)
                                health_check_one(ctx, t, start, deadline);
                        if (t->healthy)
                                continue;

                        unhealthy++;
                        if (!first)
                                first = t;
                        wake = MIN(wake, t->next);
                }
                if (unhealthy == 0)
                        return 0;

                now = now_monotonic();
                if (now >= deadline)
                        break;

                if ((now - start) / USEC_PER_SEC != notified) {
                        notified = (now - start) / USEC_PER_SEC;
                        if (unhealthy > 1)
                                notify_status("waiting for %s health (%s) and %zu more, %" PRIu64 " s",
                                              first->service, first->url, unhealthy - 1, notified);
                        else
                                notify_status("waiting for %s health (%s), %" PRIu64 " s",
                                              first->service, first->url, notified);
                }

                wake = MIN(wake, deadline);
                if (wake > now) {
                        char waiting[512];

                        snprintf(waiting, sizeof waiting, "%s health at %s: %s", first->service, first->url,
                                 first->last_error[0] ? first->last_error : "no answer yet");
                        step_wait(ctx, wake - now, waiting);
                }
        }

        health_report_timeout(ctx, targets, n, timeout);
        return -ETIMEDOUT;
}
