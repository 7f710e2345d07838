/* SPDX-License-Identifier: MIT */
#pragma once

#include "config.h"

/* Fills in every default that depends on other fields: the services' health, leader and peer
 * URLs, raft addresses, the IAM URL and token file. Only called on a configuration without
 * problems; fails only for lack of memory. */
int config_resolve(Config *c);
