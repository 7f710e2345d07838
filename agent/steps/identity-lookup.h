/* SPDX-License-Identifier: MIT */
#pragma once

#include "config.h"
#include "inventory.h"
#include "step-context.h"

/* The identity step's first phase: asking the provisioning server who this machine is, until
 * it knows (an unknown machine and a server that does not answer are retried with backoff,
 * for provisioning.wait_s or for ever), then checking the answer and keeping it.
 *
 * An answer is refused, and nothing is written, when it is larger than provisioning.max_size,
 * ambiguous (a 409, or two identifiers answering differently), unsigned or badly signed while
 * provisioning.public_key is set, not a valid configuration once merged over the image's, or
 * for another node than the one the state directory already records. A refusal is final for
 * this run (-EBADE, exit code 5): retrying cannot change it.
 *
 * An accepted answer is stored atomically, 0600, at STATE_DIR/cluster-config.json, then the
 * marker .identity-fetched records where it came from (URL, what matched, its SHA-256). */

#define IDENTITY_FETCHED_MARKER ".identity-fetched"

/* Returns 0 with this node's configuration (for step_context_adopt_config()), or negative
 * errno (logged, and recorded as the step's error). */
int identity_lookup(StepContext *ctx, const Inventory *inv, Config **ret);
