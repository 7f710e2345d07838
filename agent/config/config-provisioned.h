/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

#include "config-answer-binding.h"
#include "config-provisioning.h"
#include "config.h"
#include "problem.h"

/* A node's configuration as the provisioning server completes it: the server's answer, a JSON
 * object, checked for the machine it is bound to ("match", "not_after"), merged over the
 * image's configuration as a JSON merge patch (RFC 7386: members replace, objects merge member
 * by member, null removes), compared with the image's configuration (an answer changes only
 * what it may), then read like any configuration file, so every problem of the result is named.
 * The result is stored in the state directory and read from there in place of the image's file
 * from then on. Never logs. */

#define CONFIG_PROVISIONED_FILE "cluster-config.json"

/* STATE_DIR/cluster-config.json, a new string (NULL on OOM). */
char *config_provisioned_path(const char *state_dir);
/* The configuration stored in state_dir, which takes the template's place: 1 with it (and its
 * path, when ret_path is not NULL), 0 when none is stored, negative errno when it cannot be read
 * or is not valid (every problem in problems, as config_load() gives them). */
int config_provisioned_load_stored(const char *state_dir, Config **ret, char **ret_path, ProblemList *problems);

typedef struct ProvisionedAnswer {
        Config *config;                 /* the node's configuration */
        char *text;                     /* what to store: the merged JSON, indented, with a final
                                         * newline, without "match" and "not_after" */
        AnswerBinding binding;          /* what "match" and "not_after" said */
} ProvisionedAnswer;

void provisioned_answer_done(ProvisionedAnswer *a);

/* Reads an answer. source names it in problems ("the answer of https://…"), path is where it
 * will be stored (the config's path). The checks, in order, each adding every problem it finds
 * (each path prefixed with source) and stopping there:
 *   -EINVAL        not a JSON object, or no node_id;
 *   -EKEYREJECTED  "match" or "not_after" malformed or not fitting check (config-answer-binding.h);
 *   -EINVAL        the merged configuration fails validation (an unknown member among them);
 *   -EPERM         members changed that the answer may not change (config-answer-policy.h):
 *                  one problem per member, each naming it.
 * 0 with *ret filled in; -ENOMEM. */
int config_provisioned_build(const ProvisioningConfig *pc, const AnswerCheck *check, const char *answer,
                             size_t size, const char *source, const char *path, ProvisionedAnswer *ret,
                             ProblemList *problems);
