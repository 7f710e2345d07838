/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

#include "step.h"

/* Walks the table: skips disabled and marked steps, runs the rest, writes markers, stops at the
 * first failure. Returns an exit code (EXIT_OK, EXIT_STEP_FAILED, EXIT_STEP_REFUSED, …). */
int step_walk(StepContext *ctx);
/* The same walk over any table (the tests walk tables of fake steps). */
int step_walk_table(StepContext *ctx, const Step *table, size_t n);
