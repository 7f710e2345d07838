/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

#include "config-provisioning.h"
#include "config.h"
#include "problem.h"

/* A node's configuration as the provisioning server completes it: the server's answer, a JSON
 * object, merged over the image's configuration as a JSON merge patch (RFC 7386: members
 * replace, objects merge member by member, null removes), then read like any configuration
 * file, so every problem of the result is named. The result is stored in the state directory
 * and read from there in place of the image's file from then on. Never logs. */

#define CONFIG_PROVISIONED_FILE "cluster-config.json"

/* STATE_DIR/cluster-config.json, a new string (NULL on OOM). */
char *config_provisioned_path(const char *state_dir);

/* Reads an answer. source names it in problems ("the answer of https://…"), path is where it
 * will be stored (the config's path). On success returns 0 with the configuration and the text
 * to store (the merged JSON, indented, with a final newline). An answer that is not a JSON
 * object, that sets "provisioning" or "state_dir" (where a node looks itself up and keeps its
 * state are the image's to say), that names no node_id, or whose result fails validation gives
 * -EINVAL with every problem in problems (each path prefixed with source); -ENOMEM. */
int config_provisioned_build(const ProvisioningConfig *pc, const char *answer, size_t size,
                             const char *source, const char *path, Config **ret_config,
                             char **ret_text, ProblemList *problems);
