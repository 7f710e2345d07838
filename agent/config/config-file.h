/* SPDX-License-Identifier: MIT */
#pragma once

#include <jansson.h>

#include "config.h"
#include "problem.h"

/* A configuration file (or a drop-in fragment) as read from disk. */

#define CONFIG_MAX_SIZE (1024 * 1024)

/* Reads path — private to its owner (0600), at most CONFIG_MAX_SIZE — as JSON: 0 and the
 * document. When it cannot be used, the problem is added and the read error returned (-ENOENT,
 * -EPERM, -EFBIG, …), -EINVAL for JSON that does not parse; -ENOMEM. */
int config_file_load_json(const char *path, json_t **ret, ProblemList *problems);

/* The problem for JSON that does not parse (with its line and column): -EINVAL, or -ENOMEM. */
int config_file_syntax_problem(ProblemList *problems, const json_error_t *err);
