/* SPDX-License-Identifier: MIT */
#pragma once

#include "config.h"
#include "http.h"
#include "state.h"

/* What a step works with: the loaded config, the state being recorded, one HTTP client. */
typedef struct Agent {
        Config *config;
        State *state;
        HttpClient *http;
        StepState *current;             /* the running step's record */
} Agent;

int agent_new(Config *config, State *state, Agent **ret);
Agent *agent_free(Agent *a);
DEFINE_TRIVIAL_CLEANUP_FUNC(Agent *, agent_free);

/* Counts one more attempt of the running step and saves the state, so "status" shows it live. */
void agent_count_attempt(Agent *a);
/* Records a human detail for the running step ("joined via …"). */
void agent_set_detail(Agent *a, const char *format, ...) _printf_(2, 3);
/* Records the latest error of the running step (also saved on failure). */
void agent_set_error(Agent *a, const char *format, ...) _printf_(2, 3);
/* Seeds backoff jitter from node id, pid and time. */
uint64_t agent_jitter_seed(const Agent *a);
