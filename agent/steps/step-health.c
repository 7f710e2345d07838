/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "health-poll.h"
#include "log.h"
#include "step.h"

/* The health step of a service (ctx->service), right before its join (or IAM setup): its local
 * health URL polled until it answers 200 or timeouts.health_wait passes. */

int step_health(StepContext *ctx) {
        const ServiceConfig *sc = ctx->service;
        HealthTarget t;
        int r;

        if (!sc)
                return log_error_errno(EINVAL, "The health step has no service: the step plan is wrong.");
        t = (HealthTarget) {
                .service = sc->name,
                .url = sc->health_url,
                .connect = sc->health_connect,
        };
        r = health_poll(ctx, &t, 1, ctx->config->timeouts.health_wait);
        if (r < 0)
                return r;
        step_set_detail(ctx, "healthy after %" PRIu64 " ms (%s%s%s)", t.elapsed / USEC_PER_MSEC, t.url,
                        t.connect ? " via " : "", t.connect ?: "");
        return 0;
}
