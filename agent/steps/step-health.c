/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <stdio.h>

#include "health-poll.h"
#include "log.h"
#include "step.h"

/* The health steps: one per local service, right before that service's join (or IAM setup),
 * polled until it answers 200 or timeouts.health_wait passes. */

static int health_step(StepContext *ctx, ServiceId id) {
        const ServiceConfig *sc = &ctx->config->services[id];
        HealthTarget t = {
                .service = service_to_string(id),
                .url = sc->health_url,
                .connect = sc->health_connect,
        };
        int r;

        r = health_poll(ctx, &t, 1, ctx->config->timeouts.health_wait);
        if (r < 0)
                return r;
        step_set_detail(ctx, "healthy after %" PRIu64 " ms (%s%s%s)", t.elapsed / USEC_PER_MSEC, t.url,
                        t.connect ? " via " : "", t.connect ?: "");
        return 0;
}

int step_chainfire_health(StepContext *ctx) {
        return health_step(ctx, SERVICE_CHAINFIRE);
}

int step_flaredb_health(StepContext *ctx) {
        return health_step(ctx, SERVICE_FLAREDB);
}

int step_iam_health(StepContext *ctx) {
        return health_step(ctx, SERVICE_IAM);
}
