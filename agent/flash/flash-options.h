/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

/* How a flash run was asked for, from the command line. */
typedef struct FlashOptions {
        bool no_power_action;           /* --no-power-action: never power off or reboot */
        bool progress;                  /* a progress line on a terminal */
        bool dry_run;                   /* choose and check the targets, write nothing */
} FlashOptions;
