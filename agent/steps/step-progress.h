/* SPDX-License-Identifier: MIT */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "step-context.h"

/* Where a node is in its first boot, for whoever watches a fleet. Every first-boot report
 * (firstboot-progress, firstboot-done, firstboot-failed) carries the same members beside
 * "event", "node_id" and "time":
 *   "cluster_name", "node_role",
 *   "phase"        "config", "identity", "health", "join", "iam", "report", then "done" or "failed"
 *   "step"         the step running (or the last one), "step_index" (1-based) of "steps_total"
 *   "attempt"      of that step, 0 before its first request
 *   "waiting_for"  what the step waits on now, or null
 *   "elapsed_ms"   since the run started
 * A collector shows the last report of each node_id. */

/* The closest two progress reports come when what the step waits for changes. */
#define STEP_PROGRESS_CHANGE_MIN (1 * USEC_PER_SEC)

/* Those members, for the run's current state. phase NULL: the running step's. A new object, or
 * NULL when out of memory. */
json_t *step_progress_fields(const StepContext *ctx, const char *phase, const char *waiting_for);

/* Sends a firstboot-progress report: always when force is set (a step begins); when what the
 * step waits for changes (other than in its numbers), at most once per STEP_PROGRESS_CHANGE_MIN;
 * else when the last one is report.progress_interval old. Best effort: never spooled (a later one says more),
 * and after one that could not be sent, none for an interval. Never fails the step. */
void step_progress_report(StepContext *ctx, const char *waiting_for, bool force);

/* Waits usec as the running step. waiting_for ("chainfire health at https://…: HTTP 503") goes
 * into a progress report when one is due; the step's keep-alive runs first. */
void step_wait(StepContext *ctx, usec_t usec, const char *waiting_for);
