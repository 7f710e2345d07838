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

/* "https://localhost:2379/health" → "https://localhost:2379": a bootstrap node without a
 * leader URL asks its own API. */
static char *url_base_of(const char *url) {
        const char *p = strstr(url, "://");

        p = p ? p + 3 : url;
        return strndup(url, (size_t) (p - url) + strcspn(p, "/"));
}

/* 0 when this node is listed, negative errno (logged) otherwise. */
static int report_check_member(StepContext *ctx, ServiceId id, usec_t deadline) {
        const Config *c = ctx->config;
        const ServiceConfig *sc = &c->services[id];
        const char *service = service_to_string(id);
        const MemberDriver *driver = member_driver_get(sc->driver);
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
                                               "run 'first-boot-agent reset %s-join' and start the agent again.",
                                               c->node_id, strna(sc->raft_addr), service, *u, l.n,
                                               used > 0 ? names : "none", c->bootstrap ? "bootstrap" : "join",
                                               service);
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

/* The members of the firstboot-done report beyond event, node_id and time. */
static json_t *report_fields(StepContext *ctx, const ReportService *services) {
        const Config *c = ctx->config;
        json_t *list, *state, *steps, *fields;

        list = json_array();
        for (int s = 0; s < _SERVICE_MAX; s++) {
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
        ReportService services[_SERVICE_MAX] = {};
        HealthTarget targets[_SERVICE_MAX];
        size_t n;
        int r;

        notify_status("checking health and membership");

        n = health_targets_from_config(c, targets);
        r = health_poll(ctx, targets, n, timeout);
        if (r < 0)
                return r;

        for (int s = 0; s < _SERVICE_MAX; s++) {
                services[s] = (ReportService) {
                        .name = service_to_string(s),
                        .enabled = c->services[s].enabled,
                        .healthy = c->services[s].enabled,
                        .member = -1,
                };
                if (!c->services[s].enabled || s == SERVICE_IAM)
                        continue;

                r = report_check_member(ctx, s, deadline);
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
