/* SPDX-License-Identifier: MIT */
#pragma once

#include <jansson.h>
#include <stddef.h>

#include "config.h"
#include "problem.h"

#include "config-file.h"

/* Parses and validates JSON text. On success returns 0 and a config; on any problem returns
 * -EINVAL with every problem appended to problems (and no config). Other negative errno: OOM. */
int config_parse(const char *text, size_t size, const char *source, Config **ret,
                 ProblemList *problems);

/* Reads, checks permissions (refuses group/other access with -EPERM), merges the drop-in
 * fragments (config-dropin.h) over it, parses and validates. Permission and read failures are
 * added to problems as well, so the caller prints one list; a problem about a fragment names it
 * in Problem.file. */
int config_load(const char *path, Config **ret, ProblemList *problems);

/* --config wins, then first_boot_agent.config= on the kernel command line, then the default.
 * Returns a new string. */
int config_find_path(const char *explicit_path, char **ret);
