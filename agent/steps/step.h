/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

#include "step-context.h"

/* Steps are data: a row of a plan and a function. The plan (step-plan.c) is made from the
 * configuration: identity, config, then for each service its health and its join, then the
 * health report. The runner walks the rows in order; "after" names the rows that must be done
 * (or not apply) first. */
typedef struct Step {
        const char *name;
        const char *phase;                              /* what the progress reports call it:
                                                         * "config", "health", "join", "iam", … */
        const char *summary;                            /* one line for --help and status */
        const char *service;                            /* the cluster service it works on
                                                         * ("chainfire"), or NULL: the node's own
                                                         * (the metrics' "service" label) */
        const char *const *after;                       /* NULL-terminated, may be NULL */
        const char *(*skip)(const struct Step *s, const Config *c);
                                                        /* why it does not apply ("services.iam.
                                                         * enabled is false"), or NULL; NULL:
                                                         * always applies */
        const char *off;                                /* what skip() says when the file turns
                                                         * the step's service off, or NULL */
        const char *serves;                             /* a step without a marker that only
                                                         * prepares this one runs only when this
                                                         * one runs; NULL: runs whenever work is left */
        const char *const *markers;                     /* NULL: no marker; else the marker of a
                                                         * bootstrap node, then (when it differs)
                                                         * the marker of a joining node */
        int (*run)(StepContext *ctx);                   /* 0, or negative errno (logged);
                                                         * ctx->service is the step's service */
} Step;

/* The steps of one configuration, in the order they run. */
typedef struct StepPlan {
        Step *steps;
        size_t n;
        char **strings;                 /* what the rows point to */
} StepPlan;

/* The plan of c: every service of c, enabled or not (a disabled one's steps do not apply), so
 * "status" and "reset" name the same steps whatever a service's state. c NULL: the plan of a
 * configuration without a "services" map (the seed's three services). */
int step_plan_new(const Config *c, StepPlan **ret);
StepPlan *step_plan_free(StepPlan *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(StepPlan *, step_plan_free);

/* Written by the runner once every step is done: the unit's ConditionPathExists=! and "run"'s
 * fast path look only at this file. */
#define MARKER_DONE ".first-boot-done"

const Step *step_plan_find(const StepPlan *p, const char *name);
/* Index in the plan, or -ENOENT. */
int step_plan_index(const StepPlan *p, const char *name);

/* Why the step does not apply to this configuration, or NULL. */
const char *step_skip_reason(const Step *s, const Config *c);
/* Its marker under this configuration, or NULL when it has none. */
const char *step_marker(const Step *s, const Config *c);

/* The steps that are not a service's (step-*.c); a service's come from join-procedure.h. */
int step_identity(StepContext *ctx);
int step_config(StepContext *ctx);
int step_health(StepContext *ctx);
int step_health_report(StepContext *ctx);
