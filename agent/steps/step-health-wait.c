/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <stdio.h>

#include "health-poll.h"
#include "log.h"
#include "step.h"

int step_health_wait(StepContext *ctx) {
        HealthTarget targets[_SERVICE_MAX];
        char detail[256] = "";
        size_t n, used = 0;
        usec_t slowest = 0;
        int r;

        n = health_targets_from_config(ctx->config, targets);
        if (n == 0) {
                log_info("No local service is enabled; nothing to wait for.");
                step_set_detail(ctx, "no local service enabled");
                return 0;
        }

        r = health_poll(ctx, targets, n, ctx->config->timeouts.health_wait);
        if (r < 0)
                return r;

        for (size_t i = 0; i < n; i++) {
                int k = snprintf(detail + used, sizeof detail - used, "%s%s %" PRIu64 " ms",
                                 i > 0 ? ", " : "", targets[i].service,
                                 targets[i].elapsed / USEC_PER_MSEC);
                if (k > 0)
                        used = MIN(used + (size_t) k, sizeof detail - 1);
                slowest = MAX(slowest, targets[i].elapsed);
        }
        step_set_detail(ctx, "healthy: %s", detail);
        log_info("Every enabled service is healthy after %" PRIu64 " ms.", slowest / USEC_PER_MSEC);
        return 0;
}
