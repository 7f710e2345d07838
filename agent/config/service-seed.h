/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "service-kind.h"

/* The seed's services: present in every configuration (a worker has them turned off), with the
 * ports the older automation used, in its order. A "services" entry of the same name changes
 * one; any other name declares a service of its own. */
typedef struct ServiceSeed {
        const char *name;
        ServiceKind kind;
        uint16_t api_port, raft_port;
} ServiceSeed;

#define SERVICE_SEEDS_N 3

extern const ServiceSeed service_seeds[SERVICE_SEEDS_N];

/* True for the name of one of them. */
bool service_is_seed(const char *name);
