/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "problem.h"

/* What the parser knows beyond the Config itself, for the checks that involve more than one
 * field. Filled in by config-load.c (the top level) and the section parsers. */
typedef struct ConfigParser {
        Config *config;
        ProblemList *problems;
        bool template;                          /* node fields optional (config-provisioning.h) */
        int bootstrap;                          /* 1, 0, or -1 when missing or not a boolean */
        uint16_t raft_addr_port;                /* port of raft_addr, 0 when it is not valid */
} ConfigParser;
