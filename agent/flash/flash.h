/* SPDX-License-Identifier: MIT */
#pragma once

#include "config.h"
#include "state.h"

/* The flasher: writes each image of the config's "flash" section to its block device and each
 * firmware to its MTD device, verifies, reports, then performs the configured power action. */

typedef struct FlashOptions {
        bool no_power_action;           /* --no-power-action: never power off or reboot */
        bool progress;                  /* a progress line on a terminal */
        bool dry_run;                   /* choose and check the targets, write nothing */
} FlashOptions;

/* Returns a process exit code (EXIT_OK, EXIT_FLASH_FAILED, EXIT_CONFIG, …); logs everything. */
int flash_run(const Config *c, State *s, const FlashOptions *o);

/* 1 when the running system's root (or /boot) lives on a device one of the config's flash
 * targets matches (so this is the installed system, not the installer); 0 when not; negative
 * errno when it cannot be told. */
int flash_root_is_on_target(const Config *c);
