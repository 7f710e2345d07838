/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

#include "step-context.h"

/* Steps are data: a row of this table and a function. The runner walks the rows in order;
 * "after" names the rows that must be done (or not apply) first. */
typedef struct Step {
        const char *name;
        const char *phase;                              /* what the progress reports call it:
                                                         * "config", "health", "join", "iam", … */
        const char *summary;                            /* one line for --help and status */
        const char *service;                            /* the cluster service it works on
                                                         * ("chainfire"), or NULL: the node's own
                                                         * (the metrics' "service" label) */
        const char *const *after;                       /* NULL-terminated, may be NULL */
        const char *(*skip)(const Config *c);           /* why it does not apply ("services.iam.
                                                         * enabled is false"), or NULL; NULL:
                                                         * always applies */
        const char *serves;                             /* a step without a marker that only
                                                         * prepares this one runs only when this
                                                         * one runs; NULL: runs whenever work is left */
        const char *(*marker)(const Config *c);         /* NULL or returns NULL: no marker */
        const char *const *markers;                     /* every name marker() may return */
        int (*run)(StepContext *ctx);                   /* 0, or negative errno (logged) */
} Step;

extern const Step step_table[];
extern const size_t step_table_size;

/* Written by the runner once every step is done: the unit's ConditionPathExists=! and "run"'s
 * fast path look only at this file. */
#define MARKER_DONE ".first-boot-done"

const Step *step_find(const char *name);
/* Index in step_table, or -ENOENT. */
int step_index(const char *name);

/* Why the step does not apply to this configuration, or NULL. */
const char *step_skip_reason(const Step *s, const Config *c);

/* The steps (step-*.c). */
int step_identity(StepContext *ctx);
int step_config(StepContext *ctx);
int step_chainfire_health(StepContext *ctx);
int step_flaredb_health(StepContext *ctx);
int step_iam_health(StepContext *ctx);
int step_chainfire_join(StepContext *ctx);
int step_flaredb_join(StepContext *ctx);
int step_iam_setup(StepContext *ctx);
int step_health_report(StepContext *ctx);
