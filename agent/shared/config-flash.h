/* SPDX-License-Identifier: MIT */
#pragma once

#include <jansson.h>

#include "config.h"

/* The "flash" section (images for block devices, firmware for MTD). Parsed by config_parse()
 * through this function so that its problems appear in the same list as the rest.
 * path is the JSON path of the section (".flash"). */
int flash_config_parse(json_t *section, const char *path, FlashConfig **ret, ProblemList *problems);
FlashConfig *flash_config_free(FlashConfig *f);
