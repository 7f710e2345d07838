/* SPDX-License-Identifier: MIT */
#pragma once

#include "config.h"
#include "http.h"
#include "report.h"
#include "state.h"

/* What a step works with: the loaded config, the state directory (resolved once by the verb),
 * the state being recorded, one HTTP client for the cluster's endpoints and the reporter. */
typedef struct StepContext {
        const Config *config;           /* borrowed */
        const char *state_dir;          /* borrowed: markers, state file, lock */
        State *state;                   /* borrowed */
        HttpClient *http;
        Reporter *reporter;             /* sends nothing without report.url */
        StepState *current;             /* the running step's record */
        Config *owned_config;           /* set by step_context_adopt_config(); config points to it */
} StepContext;

/* The config, the state directory and the state stay the caller's and must outlive the context. */
int step_context_new(const Config *config, const char *state_dir, State *state, StepContext **ret);
StepContext *step_context_free(StepContext *ctx);
DEFINE_TRIVIAL_CLEANUP_FUNC(StepContext *, step_context_free);

/* Hands the walk another configuration, for the steps that follow (the identity step's: this
 * node's own). The context takes ownership of c; the HTTP client and the reporter are set up
 * again from it. On failure (logged) c is freed and the context is unchanged. */
int step_context_adopt_config(StepContext *ctx, Config *c);

/* Counts one more attempt of the running step and saves the state, so "status" shows it live. */
void step_count_attempt(StepContext *ctx);
/* Records a human detail for the running step ("joined via …"). */
void step_set_detail(StepContext *ctx, const char *format, ...) _printf_(2, 3);
/* Records the latest error of the running step (also saved on failure). */
void step_set_error(StepContext *ctx, const char *format, ...) _printf_(2, 3);
/* Saves the state file; a failure is a warning ("status" lags behind), never the step's. */
void step_context_save(StepContext *ctx);
/* Seeds backoff jitter from node id, pid and time. */
uint64_t step_context_jitter_seed(const StepContext *ctx);
