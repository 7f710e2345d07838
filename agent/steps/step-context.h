/* SPDX-License-Identifier: MIT */
#pragma once

#include "config.h"
#include "http.h"
#include "report.h"
#include "state.h"

/* The longest a progress report may take, connect and answer (the context's progress reporter). */
#define STEP_PROGRESS_TIMEOUT (2 * USEC_PER_SEC)

typedef struct StepContext StepContext;

/* What a step that holds something with a lifetime (a lock's lease) does while it waits. */
typedef void (*StepKeepalive)(StepContext *ctx, void *userdata);

/* What a step works with: the loaded config, the state directory (resolved once by the verb),
 * the state being recorded, one HTTP client for the cluster's endpoints and the reporter. */
struct StepContext {
        const Config *config;           /* borrowed */
        const char *state_dir;          /* borrowed: markers, state file, lock */
        State *state;                   /* borrowed */
        HttpClient *http;
        Reporter *reporter;             /* sends nothing without report.url */
        Reporter *progress;             /* the same server, with a short timeout: a slow report
                                         * server must not slow the steps down */
        StepState *current;             /* the running step's record */
        const ServiceConfig *service;   /* the running step's service, or NULL */

        /* Where the walk is, for the progress reports (step-progress.h). */
        const char *step_name;          /* the running or last step */
        const char *phase;              /* its phase */
        size_t step_index;              /* 1-based */
        size_t steps_total;
        usec_t progress_sent;           /* CLOCK_MONOTONIC of the last progress report */
        usec_t progress_quiet_until;    /* after one failed: none before this */
        uint64_t progress_waiting;      /* what the last one said the step waits for (a hash), 0: nothing */

        StepKeepalive keepalive;        /* run while the step waits, or NULL */
        void *keepalive_userdata;

        Config *owned_config;           /* set by step_context_adopt_config(); config points to it */
};

/* The config, the state directory and the state stay the caller's and must outlive the context. */
int step_context_new(const Config *config, const char *state_dir, State *state, StepContext **ret);
StepContext *step_context_free(StepContext *ctx);
DEFINE_TRIVIAL_CLEANUP_FUNC(StepContext *, step_context_free);

/* Another HTTP client like ctx->http (the cluster's TLS, the timeouts), for a step that must
 * not leave what it sent and received in the shared one. */
int step_context_new_client(const StepContext *ctx, HttpClient **ret);

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
/* Sends the reports that wait in the spool (a report server that was down earlier); logs what
 * went. Never fails the step. */
void step_context_flush_reports(StepContext *ctx);
/* Saves the state file; a failure is a warning ("status" lags behind), never the step's. */
void step_context_save(StepContext *ctx);
/* The keep-alive step_wait() runs; NULL clears it. */
void step_set_keepalive(StepContext *ctx, StepKeepalive fn, void *userdata);
/* Seeds backoff jitter from node id, pid and time. */
uint64_t step_context_jitter_seed(const StepContext *ctx);
