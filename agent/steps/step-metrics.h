/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

#include "config.h"
#include "state.h"
#include "step.h"

/* Writes the node_exporter textfile (record/metrics.h) from the state, each step labelled with
 * the service its row in table names; durable (synced) for the last write of a run. Never fails
 * the caller: without metrics.textfile_dir on this machine (node_exporter not installed) it is
 * skipped with a debug record; another failure is a warning, once per run. Nothing when
 * metrics.enabled is false. */
void step_metrics_write(const Config *c, const char *state_dir, const State *s, const Step *table, size_t n,
                        bool durable);
/* The same with the step plan of c. */
void step_metrics_write_config(const Config *c, const char *state_dir, const State *s, bool durable);
