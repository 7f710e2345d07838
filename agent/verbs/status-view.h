/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

#include "config.h"
#include "state.h"
#include "step.h"
#include "verbs.h"

/* What "status" shows, put together from the state file, the markers and the report spool:
 * the model behind the table and the JSON (verb-status.c). */

/* What one step looks like once the state file and the markers are put together. */
typedef struct StepView {
        const Step *step;
        StepStatus status;              /* done also when only the marker says so */
        char label[192];                /* "done (marker)", "does not apply (services.iam.enabled is false)" */
        const StepState *record;        /* NULL when the state file has none */
        const char *marker;             /* the marker found, or NULL */
        usec_t marker_time;
        usec_t when;
} StepView;

typedef struct StatusView {
        const char *dir;
        Config *config;                 /* NULL when not readable */
        State *state;
        bool state_corrupt;
        bool untrusted;                 /* the directory fails dir_trust_check(): no marker counts */
        bool done;                      /* MARKER_DONE present (in a trusted directory) */
        usec_t done_time;
        bool running;
        StepPlan *plan;                 /* of config, else of the seed's services */
        StepView *steps;
        size_t n_steps;
        int exit_code;
        size_t reports_waiting;         /* in STATE_DIR/reports */
        char *oldest_report;            /* its event */
        usec_t oldest_report_time;
} StatusView;

/* Reads the state directory of config (NULL: not readable) into v, released first. */
int status_view_build(const GlobalOptions *g, Config *config, StatusView *v);
void status_view_done(StatusView *v);
