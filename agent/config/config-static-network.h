/* SPDX-License-Identifier: MIT */
#pragma once

#include <jansson.h>

#include "cleanup.h"
#include "time-util.h"

typedef struct ConfigParser ConfigParser;   /* config-parser.h */

/* "network": {"static": {…}}: a static address for this node, which the identity step gives to
 * the interface through a systemd-networkd .network file before it waits for the address.
 *
 *   "static": {
 *     "mac": "52:54:00:12:34:56",  // the interface; optional when the machine has one NIC
 *     "address": "10.0.1.13/24",   // required
 *     "gateway": "10.0.1.1",
 *     "dns": ["10.0.1.1"],
 *     "wait_s": 60                 // how long the address may take to appear
 *   }
 *
 * The other members of "network" stay what they were: names of address ranges. */

typedef struct StaticNetworkConfig {
        char *mac;                      /* lower case, ':' separated; NULL: the only NIC */
        char *address;                  /* ADDRESS/PREFIX */
        char *gateway;
        char **dns;                     /* NULL-terminated, may be NULL */
        usec_t wait;
} StaticNetworkConfig;

/* obj is the value of "static" at path (".network.static"); sets p->config->network_static.
 * Returns 0 or -ENOMEM; problems go to p->problems. */
int config_static_network_parse(ConfigParser *p, json_t *obj, const char *path);

StaticNetworkConfig *static_network_config_free(StaticNetworkConfig *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(StaticNetworkConfig *, static_network_config_free);
