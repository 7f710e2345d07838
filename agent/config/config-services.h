/* SPDX-License-Identifier: MIT */
#pragma once

#include <jansson.h>

#include "config-parser.h"

/* The "services" map: the seed's three services (chainfire, flaredb, iam: their defaults when the
 * map leaves them out), then every other entry in the map's order, each with its "driver" (a
 * kind, service-kind.h) and settings; sorted so that every service comes after the ones its
 * "after" names. Problems (an unknown driver, an "after" naming no service, a cycle, two
 * services on one port) go to p->problems; returns 0, or -ENOMEM. */
int config_parse_services(ConfigParser *p, json_t *root);

/* The seed's three services alone, as a configuration without a "services" map has them (for
 * "status" when the configuration cannot be read). c has none yet. 0 or -ENOMEM. */
int config_default_services(Config *c);
