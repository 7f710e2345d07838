/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backoff.h"
#include "health-poll.h"
#include "join-procedure.h"
#include "log.h"
#include "step-progress.h"
#include "member.h"
#include "notify.h"
#include "report-spool.h"
#include "step.h"
#include "strv.h"

/* The last step: every enabled service answers its health check, this node is in the member
 * list of every cluster it joined or formed, and the provisioning server hears about it. The
 * report is best effort: a provisioning server that is down does not fail the node. */

#define HEALTH_REPORT_TIMEOUT (30 * USEC_PER_SEC)

typedef struct ReportService {
        const char *name;
        bool enabled;
        bool healthy;
        int member;                     /* 1 listed, 0 not, -1 no member list (IAM) */
} ReportService;

/* The members of the firstboot-done report beyond event, node_id and time. */
static json_t *report_fields(StepContext *ctx, const ReportService *services) {
        const Config *c = ctx->config;
        json_t *list, *state, *steps, *fields;

        list = json_array();
        for (size_t s = 0; s < ctx->config->n_services; s++) {
                if (!services[s].enabled)
                        continue;
                json_array_append_new(list, json_pack("{s:s, s:b, s:o}",
                                                      "name", services[s].name,
                                                      "healthy", services[s].healthy,
                                                      "member", services[s].member < 0 ? json_null() :
                                                                json_boolean(services[s].member)));
        }

        state = state_to_json(ctx->state);
        steps = json_object_get(state, "steps");
        if (steps)
                json_incref(steps);
        else
                steps = state ? json_incref(state) : json_null();
        json_decref(state);

        /* The fleet's members (progress.h), then this report's own. */
        fields = step_progress_fields(ctx, "done", NULL);
        if (!fields) {
                json_decref(list);
                json_decref(steps);
                return NULL;
        }
        if (json_object_update_new(fields, json_pack("{s:b, s:s, s:o, s:o}", "bootstrap", c->bootstrap,
                                                     "mode", "firstboot", "services", list, "steps", steps)) < 0) {
                json_decref(fields);
                return NULL;
        }
        return fields;
}

static void report_done(StepContext *ctx, const ReportService *services) {
        const char *url = reporter_url(ctx->reporter);
        ReportResult res;
        json_t *fields;
        int r;

        fields = report_fields(ctx, services);
        if (!fields) {
                log_oom();
                return;
        }
        r = report_deliver(ctx->reporter, "firstboot-done", fields, &res);
        json_decref(fields);

        if (r == REPORT_SPOOLED)
                log_event(LOG_WARNING, MID_REPORT_FAILED,
                          LOG_FIELDS("URL", url, "HTTP_STATUS", res.status > 0 ? FMT_INT(res.status) : NULL,
                                     "ERROR", res.error),
                          "Could not deliver the report to %s now (%s); it waits in '%s/%s' and is sent on a "
                          "later start (the unit starts again while reports wait).", url, res.error,
                          ctx->state_dir, REPORT_SPOOL_DIR);
        else if (r >= 0)
                log_event(LOG_INFO, MID_REPORT_SENT,
                          LOG_FIELDS("URL", url,
                                     "HTTP_STATUS", FMT_INT(res.status)),
                          "Report sent to %s (HTTP %ld).", url, res.status);
        else
                log_event(LOG_WARNING, MID_REPORT_FAILED,
                          LOG_FIELDS("URL", url,
                                     "HTTP_STATUS", res.status > 0 ? FMT_INT(res.status) : NULL,
                                     "ERROR", res.error),
                          "Could not deliver the report to %s: %s. The node is set up all the same; "
                          "the provisioning server will not hear about it from this run.",
                          url, res.error);
}

int step_health_report(StepContext *ctx) {
        const Config *c = ctx->config;
        const usec_t timeout = MIN(HEALTH_REPORT_TIMEOUT, c->timeouts.health_wait);
        const usec_t deadline = now_monotonic() + timeout;
        _cleanup_free_ ReportService *services = calloc(c->n_services + 1, sizeof(ReportService));
        _cleanup_free_ HealthTarget *targets = calloc(c->n_services + 1, sizeof(HealthTarget));
        size_t n;
        int r;

        if (!services || !targets)
                return log_oom();

        notify_status("checking health and membership");

        n = health_targets_from_config(c, targets);
        r = health_poll(ctx, targets, n, timeout);
        if (r < 0)
                return r;

        for (size_t s = 0; s < c->n_services; s++) {
                const ServiceConfig *sc = &c->services[s];
                const JoinProcedure *proc = join_procedure(sc->kind);

                services[s] = (ReportService) {
                        .name = sc->name,
                        .enabled = sc->enabled,
                        .healthy = sc->enabled,
                        .member = -1,
                };
                if (!sc->enabled || !proc->member_check)
                        continue;

                r = proc->member_check(ctx, sc, deadline);
                if (r < 0)
                        return r;
                services[s].member = 1;
        }

        if (reporter_url(ctx->reporter)) {
                notify_status("sending the report to %s", reporter_url(ctx->reporter));
                report_done(ctx, services);
                step_set_detail(ctx, "healthy, member of every cluster; report to %s", reporter_url(ctx->reporter));
        } else
                step_set_detail(ctx, "healthy, member of every cluster; no report server configured");

        return 0;
}
