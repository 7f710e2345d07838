/* SPDX-License-Identifier: MIT */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "cleanup.h"
#include "time-util.h"

/* The state file (STATE_DIR/state.json): what "status" shows. Markers decide what runs; this
 * file only records what happened, so losing it loses history, never progress. It never
 * holds a secret. */

#define STATE_FILE_NAME "state.json"

typedef enum StepStatus {
        STEP_STATUS_PENDING,
        STEP_STATUS_RUNNING,
        STEP_STATUS_DONE,
        STEP_STATUS_SKIPPED,            /* marker already present */
        STEP_STATUS_DISABLED,           /* turned off in the config */
        STEP_STATUS_FAILED,
        _STEP_STATUS_MAX,
} StepStatus;

typedef struct StepState {
        char *name;
        StepStatus status;
        usec_t started;                 /* CLOCK_REALTIME, 0 if never */
        usec_t finished;
        uint64_t duration_ms;
        unsigned attempts;
        char *last_error;               /* NULL if none */
        char *detail;                   /* "joined via https://node02:2379", … */
} StepState;

typedef enum RunResult {
        RUN_RESULT_NONE,
        RUN_RESULT_RUNNING,
        RUN_RESULT_DONE,
        RUN_RESULT_FAILED,
        _RUN_RESULT_MAX,
} RunResult;

typedef struct State {
        char *path;
        char *node_id;
        char *mode;                     /* "firstboot", "flash" */
        pid_t pid;                      /* of the run in progress or last run */
        usec_t run_started;
        usec_t run_finished;
        RunResult result;
        int exit_code;
        StepState **steps;              /* each allocated on its own: a record's address stays */
        size_t n_steps;
        json_t *flash;                  /* the flasher's per-target record, or NULL */
} State;

/* Loads dir/state.json; a missing file gives an empty state (not an error). A corrupt file
 * gives -EBADMSG. */
int state_load(const char *dir, State **ret);
/* An empty state for dir/state.json, as state_load() gives for a missing file: what a caller
 * starts from when the file was corrupt. */
int state_new(const char *dir, State **ret);
/* Writes atomically (0600). */
int state_save(const State *s);
State *state_free(State *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(State *, state_free);

/* Finds the step's record, creating it (pending) if absent. NULL on OOM. */
StepState *state_step(State *s, const char *name);
/* Drops the records of the steps keep() says no to (steps of an earlier version's table), keeping
 * the order of the others. Invalidates StepState pointers. */
void state_steps_retain(State *s, bool (*keep)(const char *name, void *userdata), void *userdata);
int state_step_set_error(StepState *st, const char *error);
int state_step_set_detail(StepState *st, const char *detail);

/* True while the recorded pid is alive and the run is marked running. */
bool state_run_in_progress(const State *s);

const char *step_status_to_string(StepStatus s);
int step_status_from_string(const char *s);
const char *run_result_to_string(RunResult r);
int run_result_from_string(const char *s);

/* The state as JSON (what "status --json" prints and the report carries). */
json_t *state_to_json(const State *s);
