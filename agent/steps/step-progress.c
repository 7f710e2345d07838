/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "cleanup.h"
#include "log.h"
#include "step-progress.h"

json_t *step_progress_fields(const StepContext *ctx, const char *phase, const char *waiting_for) {
        const Config *c = ctx->config;
        const StepState *st = ctx->current;
        usec_t started = ctx->state ? ctx->state->run_started : 0, now = now_realtime();

        return json_pack("{s:s?, s:s, s:s?, s:s?, s:I, s:I, s:I, s:s?, s:I}",
                         "cluster_name", c->cluster_name,
                         "node_role", node_role_to_string(c->node_role),
                         "phase", phase ?: ctx->phase,
                         "step", st ? st->name : ctx->step_name,
                         "step_index", (json_int_t) ctx->step_index,
                         "steps_total", (json_int_t) ctx->steps_total,
                         "attempt", (json_int_t) (st ? st->attempts : 0),
                         "waiting_for", waiting_for,
                         "elapsed_ms", (json_int_t) (started > 0 && now > started ? (now - started) / USEC_PER_MSEC : 0));
}

/* FNV-1a over the text without its digits; 0 for none. */
static uint64_t waiting_key(const char *s) {
        uint64_t h = 14695981039346656037ULL;

        if (!s)
                return 0;
        for (; *s; s++)
                if (*s < '0' || *s > '9') {
                        h ^= (unsigned char) *s;
                        h *= 1099511628211ULL;
                }
        return h ?: 1;
}

void step_progress_report(StepContext *ctx, const char *waiting_for, bool force) {
        const usec_t interval = ctx->config->report.progress_interval;
        _cleanup_(json_decrefp) json_t *fields = NULL;
        usec_t now = now_monotonic();
        ReportResult res;
        uint64_t key;
        int r;

        if (!reporter_url(ctx->progress) || interval == 0)
                return;
        if (now < ctx->progress_quiet_until)
                return;
        /* What the step waits for, said when it changes (not more than once a second; numbers,
         * such as a round or a delay, do not make a change), else once per interval. */
        key = waiting_key(waiting_for);
        if (!force && ctx->progress_sent > 0 && now - ctx->progress_sent < interval &&
            !(key != ctx->progress_waiting && now - ctx->progress_sent >= STEP_PROGRESS_CHANGE_MIN))
                return;

        fields = step_progress_fields(ctx, NULL, waiting_for);
        if (!fields) {
                log_oom();
                return;
        }
        ctx->progress_sent = now;
        ctx->progress_waiting = key;
        r = report_send(ctx->progress, "firstboot-progress", fields, &res);
        if (r < 0) {
                ctx->progress_quiet_until = now_monotonic() + interval;
                log_debug("The progress report to %s was not delivered (%s); the next one in %" PRIu64 " s.",
                          reporter_url(ctx->progress), res.error[0] ? res.error : strerror(-r), interval / USEC_PER_SEC);
        }
}

void step_wait(StepContext *ctx, usec_t usec, const char *waiting_for) {
        usec_t end = now_monotonic() + usec, now;

        if (ctx->keepalive)
                ctx->keepalive(ctx, ctx->keepalive_userdata);
        step_progress_report(ctx, waiting_for, false);
        now = now_monotonic();
        if (end > now)
                sleep_usec(end - now);
}
