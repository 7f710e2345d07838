/* SPDX-License-Identifier: MIT */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "problem.h"

/* What a provisioning server's answer may change in the image's configuration. The image's
 * owner fixed the template; the server only says who the node is. By default an answer may
 * change only the members that name and place the node:
 *
 *   .node_id .node_role .bootstrap .cluster_name .raft_addr .node_ip .node_fqdn .datacenter
 *   .rack .network .services.*.enabled
 *
 * Everything else (commands, file paths, URLs, CA and TLS settings, credentials, flash, report,
 * iam, timeouts) stays the image's, unless the template lists it in provisioning.allow.
 * "provisioning" and "state_dir" are never the server's, whatever allow says; nor are the
 * services a node joins and their order (the step plan is the template's): an answer may turn a
 * service on or off, never add or remove one or change its "driver" or "after".
 *
 * A key path names a member as the problems do: a '.' before each member name, "*" for any
 * one member (".services.*.health_url"); it allows that member and everything in it. Member
 * names in a path are letters, digits, '_' and '-'; at most ANSWER_POLICY_DEPTH of them.
 *
 * Only a change is judged: the answer is merged over the template first, and a member whose
 * merged value equals the template's is fine (a whole cluster-config.json served as the answer
 * passes). Never logs. */

#define ANSWER_POLICY_DEPTH 16

/* The default list above, NULL-terminated. */
extern const char *const answer_policy_default[];

/* True when s may be an entry of provisioning.allow; else *ret_hint says why not. */
bool answer_policy_path_is_valid(const char *s, const char **ret_hint);

/* Compares merged (the template with the answer merged over it) with template. Every member
 * that differs and that neither the default list nor allow (NULL-terminated, may be NULL) lets
 * an answer change becomes a problem naming its path, the template's value and the answer's,
 * and what to do. Members inside a changed object are named one by one; an array is one value.
 * Returns how many problems were added, or -ENOMEM. */
int answer_policy_check(json_t *template, json_t *merged, char *const *allow, ProblemList *problems);

/* Whether merged changes the step plan (a service added or removed, a driver or an "after"
 * changed under .services): 1 if it does, 0 if not, or -ENOMEM. Asked before the merged
 * configuration is parsed, so that a service the image does not declare is refused as such by
 * answer_policy_check(), not named as an incomplete service. Adds no problem. */
int answer_policy_changes_plan(json_t *template, json_t *merged);
