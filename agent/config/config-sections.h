/* SPDX-License-Identifier: MIT */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "config-parser.h"

/* The nested sections: "services", "tls", "network", "timeouts", "iam", "health_check",
 * "report", "metrics". Every problem goes to p->problems; returns 0, or -ENOMEM. */
int config_parse_sections(ConfigParser *p, json_t *root);
