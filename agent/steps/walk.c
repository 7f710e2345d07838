/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exit-code.h"
#include "fileio.h"
#include "log.h"
#include "marker.h"
#include "notify.h"
#include "step-metrics.h"
#include "step-progress.h"
#include "report-spool.h"
#include "walk.h"

/* The runner: walks a step table once, skipping what is disabled or marked done, running the
 * rest in order, writing each step's marker, and stopping at the first failure (which is
 * recorded, logged and reported). */

typedef enum Outcome {
        OUTCOME_NOT_RUN,
        OUTCOME_DONE,           /* ran now, or its marker was there */
        OUTCOME_DISABLED,
        OUTCOME_FAILED,
} Outcome;

static void walk_report_failure(StepContext *ctx, const Step *s, const StepState *st, int exit_code) {
        const Config *c = ctx->config;
        _cleanup_(json_decrefp) json_t *state = NULL, *fields = NULL;
        const char *url = reporter_url(ctx->reporter);
        ReportResult res;
        int r;

        if (!url)
                return;

        state = state_to_json(ctx->state);
        fields = state ? step_progress_fields(ctx, "failed", NULL) : NULL;
        if (!fields || json_object_update_new(fields, json_pack("{s:s?, s:s, s:s?, s:i, s:O?}",
                                                            "cluster_name", c->cluster_name,
                                                            "step", s->name,
                                                            "error", st->last_error,
                                                            "exit_code", exit_code,
                                                            "steps", json_object_get(state, "steps"))) < 0) {
                log_oom();
                return;
        }

        r = report_deliver(ctx->reporter, "firstboot-failed", fields, &res);
        if (r == REPORT_SPOOLED)
                log_event(LOG_WARNING, MID_REPORT_FAILED, LOG_FIELDS("URL", url, "ERROR", res.error),
                          "The failure report could not be delivered to '%s' (%s); it waits in '%s/%s' and is "
                          "sent on the next start.", url, res.error, ctx->state_dir, REPORT_SPOOL_DIR);
        else if (r >= 0)
                log_event(LOG_INFO, MID_REPORT_SENT,
                          LOG_FIELDS("URL", url, "HTTP_STATUS", FMT_INT(res.status)),
                          "Failure report sent to '%s'.", url);
        else if (res.status > 0)
                log_event(LOG_WARNING, MID_REPORT_FAILED,
                          LOG_FIELDS("URL", url, "HTTP_STATUS", FMT_INT(res.status)),
                          "The provisioning server at '%s' did not accept the failure report: %s.",
                          url, res.error);
        else
                log_event_errno(LOG_WARNING, r, MID_REPORT_FAILED,
                                LOG_FIELDS("URL", url, "ERROR", res.error),
                                "Failed to send the failure report to '%s': %s. The failure is in the log and in \"status\".",
                                url, res.error);
}

/* The node_exporter textfile, at each step's start and end and at the end of the walk; the verb
 * writes the run's last one, synced. */
static void walk_metrics(StepContext *ctx, const Step *table, size_t n) {
        step_metrics_write(ctx->config, ctx->state_dir, ctx->state, table, n, false);
}

static int walk_failed(StepContext *ctx, const Step *table, size_t n, const Step *s, StepState *st, int error) {
        int code = error == -EBADE ? EXIT_STEP_REFUSED : EXIT_STEP_FAILED;
        const char *e = st->last_error ? st->last_error : strerror(-error);

        ctx->state->result = RUN_RESULT_FAILED;
        ctx->state->exit_code = code;
        ctx->state->run_finished = now_realtime();
        step_context_save(ctx);
        walk_metrics(ctx, table, n);

        log_event(LOG_ERR, MID_RUN_FAILED,
                  LOG_FIELDS("STEP", s->name, "ERROR", e, "EXIT_CODE", FMT_INT(code)),
                  "First boot stopped at step '%s': %s. %s", s->name, e,
                  code == EXIT_STEP_REFUSED ?
                  "A server refused the request: fix the cause, then start the agent again." :
                  "The next start resumes at this step.");
        notify_status("failed at step %s", s->name);
        walk_report_failure(ctx, s, st, code);
        return code;
}

/* Runs one step and records it. Returns 0 or the step's negative errno. */
static int walk_run_step(StepContext *ctx, const Step *table, const Step *s, StepState *st, const char *marker,
                         size_t index, size_t n) {
        const char *dir = ctx->state_dir;
        usec_t t0;
        int r;

        log_set_step(s->name);
        ctx->step_name = s->name;
        ctx->phase = s->phase ?: s->name;
        ctx->step_index = index + 1;
        ctx->steps_total = n;
        st->status = STEP_STATUS_RUNNING;
        st->started = now_realtime();
        st->finished = 0;
        st->duration_ms = 0;
        st->attempts = 0;
        (void) state_step_set_error(st, NULL);
        (void) state_step_set_detail(st, NULL);
        ctx->current = st;
        ctx->service = s->service ? config_service(ctx->config, s->service) : NULL;
        step_context_save(ctx);
        walk_metrics(ctx, table, n);

        log_event(LOG_INFO, MID_STEP_BEGIN, LOG_FIELDS("STEP", s->name),
                  "Step '%s' started: %s.", s->name, strempty(s->summary));
        notify_status("step %zu of %zu: %s", index + 1, n, s->name);

        /* A report server that was down earlier may be back: what waits goes first. */
        step_context_flush_reports(ctx);
        step_progress_report(ctx, NULL, true);

        t0 = now_monotonic();
        r = s->run(ctx);
        if (r >= 0 && marker) {
                int q = marker_write(dir, marker);

                if (q < 0) {
                        log_error_errno(q, "Failed to write the marker '%s' in '%s': %m", marker, dir);
                        step_set_error(ctx, "cannot write the marker %s: %s", marker, strerror(-q));
                        r = q;
                }
        }
        uint64_t elapsed_ms = (now_monotonic() - t0) / USEC_PER_MSEC;

        ctx->current = NULL;
        ctx->service = NULL;
        st->finished = now_realtime();
        st->duration_ms = elapsed_ms;
        if (st->attempts == 0)
                st->attempts = 1;

        if (r < 0) {
                if (!st->last_error)
                        (void) state_step_set_error(st, strerror(-r));
                st->status = STEP_STATUS_FAILED;
                step_context_save(ctx);
                log_event_errno(LOG_ERR, r, MID_STEP_FAILED,
                                LOG_FIELDS("STEP", s->name, "ELAPSED_MS", FMT_U64(elapsed_ms),
                                           "ATTEMPT", FMT_U64(st->attempts), "ERROR", st->last_error),
                                "Step '%s' failed after %" PRIu64 " ms: %s",
                                s->name, elapsed_ms, strna(st->last_error));
                log_set_step(NULL);
                return r;
        }

        st->status = STEP_STATUS_DONE;
        step_context_save(ctx);
        walk_metrics(ctx, table, n);
        log_event(LOG_INFO, MID_STEP_DONE, LOG_FIELDS("STEP", s->name, "ELAPSED_MS", FMT_U64(elapsed_ms)),
                  "Step '%s' done in %" PRIu64 " ms.", s->name, elapsed_ms);
        log_set_step(NULL);
        return 0;
}

static bool walk_after_satisfied(const Step *table, size_t i, const Outcome *outcome, const char **ret_missing) {
        const Step *s = &table[i];

        for (const char *const *dep = s->after; dep && *dep; dep++) {
                size_t j;

                for (j = 0; j < i; j++)
                        if (streq(table[j].name, *dep))
                                break;
                if (j == i || (outcome[j] != OUTCOME_DONE && outcome[j] != OUTCOME_DISABLED)) {
                        *ret_missing = *dep;
                        return false;
                }
        }
        return true;
}

typedef struct Table {
        const Step *steps;
        size_t n;
} Table;

static bool walk_table_has(const char *name, void *userdata) {
        const Table *t = userdata;

        for (size_t i = 0; i < t->n; i++)
                if (streq(t->steps[i].name, name))
                        return true;
        return false;
}

/* True when the step named name is in the table and still has work to do. */
static bool walk_serves_pending(const Step *table, size_t n, const char *name, const bool *pending) {
        for (size_t j = 0; j < n; j++)
                if (streq(table[j].name, name))
                        return pending[j];
        return false;
}

int step_walk_table(StepContext *ctx, const Step *table, size_t n) {
        _cleanup_free_ Outcome *outcome = calloc(n + 1, sizeof(Outcome));
        _cleanup_free_ bool *pending = calloc(n + 1, sizeof(bool));
        const char *dir = ctx->state_dir;
        bool any_marked = false, work_left = false;
        int r;

        if (!outcome || !pending) {
                log_oom();
                return EXIT_INTERNAL;
        }

        r = mkdir_p(dir, 0700);
        if (r < 0) {
                log_error_errno(r, "Failed to create the state directory '%s': %m", dir);
                return EXIT_INTERNAL;
        }

        /* Records of steps an earlier version had (its markers are the same names, so its
         * progress carries over) would only confuse "status" and the reports. */
        state_steps_retain(ctx->state, walk_table_has, &(Table) { table, n });
        /* Every step of the table has a record from the start (pending until the walk reaches
         * it), so "status" and the metrics show the whole plan on the first run too. */
        for (size_t i = 0; i < n; i++)
                if (!state_step(ctx->state, table[i].name)) {
                        log_oom();
                        return EXIT_INTERNAL;
                }

        /* The steps without a marker (config, the health checks) run only when there is work:
         * the config step on every walk that has any left, a step that serves another only when
         * that one runs. When every applying marked step is done, nothing runs and the walk only
         * records it. */
        for (size_t i = 0; i < n; i++) {
                const char *m;

                if (step_skip_reason(&table[i], ctx->config))
                        continue;
                m = step_marker(&table[i], ctx->config);
                if (!m)
                        continue;
                any_marked = true;
                if (marker_exists(dir, m) <= 0) {
                        work_left = true;
                        pending[i] = true;
                }
        }
        if (!any_marked)
                work_left = true;

        for (size_t i = 0; i < n; i++) {
                const Step *s = &table[i];
                const char *m, *missing = NULL, *skip;
                StepState *st;
                usec_t t = 0;

                st = state_step(ctx->state, s->name);
                if (!st) {
                        log_oom();
                        return EXIT_INTERNAL;
                }

                skip = step_skip_reason(s, ctx->config);
                if (skip) {
                        st->status = STEP_STATUS_DISABLED;
                        (void) state_step_set_detail(st, skip);
                        outcome[i] = OUTCOME_DISABLED;
                        step_context_save(ctx);
                        log_event(LOG_INFO, MID_STEP_SKIPPED, LOG_FIELDS("STEP", s->name),
                                  "Step '%s' does not apply: %s.", s->name, skip);
                        continue;
                }

                m = step_marker(s, ctx->config);
                if (m) {
                        r = marker_read(dir, m, &t);
                        if (r >= 0 || r == -EBADMSG) {
                                char when[ISO8601_MAX] = "an unknown time";

                                if (r >= 0)
                                        (void) iso8601_format(t, when);
                                if (st->status != STEP_STATUS_DONE) {
                                        st->status = STEP_STATUS_SKIPPED;
                                        st->finished = r >= 0 ? t : 0;
                                }
                                outcome[i] = OUTCOME_DONE;
                                step_context_save(ctx);
                                log_event(LOG_INFO, MID_STEP_SKIPPED, LOG_FIELDS("STEP", s->name),
                                          "Step '%s' skipped: marker '%s' present since %s.", s->name, m, when);
                                continue;
                        }
                        if (r != -ENOENT)
                                log_warning_errno(r, "Cannot read the marker '%s' in '%s', running the step: %m", m, dir);
                } else if (!work_left) {
                        outcome[i] = OUTCOME_DONE;
                        log_event(LOG_INFO, MID_STEP_SKIPPED, LOG_FIELDS("STEP", s->name),
                                  "Step '%s' skipped: every step that has a marker is already done.", s->name);
                        continue;
                } else if (s->serves && !walk_serves_pending(table, n, s->serves, pending)) {
                        outcome[i] = OUTCOME_DONE;
                        log_event(LOG_INFO, MID_STEP_SKIPPED, LOG_FIELDS("STEP", s->name),
                                  "Step '%s' skipped: '%s', which it prepares, is already done.", s->name, s->serves);
                        continue;
                }

                if (!walk_after_satisfied(table, i, outcome, &missing)) {
                        log_error("Step '%s' must run after '%s', which is neither done nor disabled: "
                                  "the step table is wrong. Refusing to run it.", s->name, missing);
                        return EXIT_INTERNAL;
                }

                r = walk_run_step(ctx, table, s, st, m, i, n);
                if (r < 0) {
                        outcome[i] = OUTCOME_FAILED;
                        return walk_failed(ctx, table, n, s, st, r);
                }
                outcome[i] = OUTCOME_DONE;
        }

        r = marker_write(dir, MARKER_DONE);
        if (r < 0) {
                log_error_errno(r, "Every step is done, but the marker '%s' in '%s' cannot be written: %m",
                                MARKER_DONE, dir);
                return EXIT_INTERNAL;
        }
        ctx->state->result = RUN_RESULT_DONE;
        ctx->state->exit_code = EXIT_OK;
        ctx->state->run_finished = now_realtime();
        step_context_save(ctx);
        walk_metrics(ctx, table, n);
        log_event(LOG_NOTICE, MID_RUN_DONE, NO_FIELDS, "First boot complete: every step that applies is done.");
        notify_status("first boot complete");
        return EXIT_OK;
}

int step_walk(StepContext *ctx) {
        _cleanup_(step_plan_freep) StepPlan *plan = NULL;
        int r;

        r = step_plan_new(ctx->config, &plan);
        if (r < 0) {
                log_error_errno(r, "Cannot make the step plan of '%s': %m", strna(ctx->config->path));
                return EXIT_INTERNAL;
        }
        return step_walk_table(ctx, plan->steps, plan->n);
}
