/* SPDX-License-Identifier: MIT */
#pragma once

#include "config.h"
#include "flash-options.h"
#include "state.h"

/* The flasher: writes each image of the config's "flash" section to its block device and each
 * firmware to its MTD device, verifies, reports, then performs the configured power action. */

/* Returns a process exit code (EXIT_OK, EXIT_FLASH_FAILED, EXIT_CONFIG, …); logs everything. */
int flash_run(const Config *c, State *s, const FlashOptions *o);
