/* SPDX-License-Identifier: MIT */
#pragma once

#include "config.h"

/* Which run this boot is: flash (the installer), first boot (the installed system), or neither
 * decided yet (the done marker decides next). */
typedef enum RunMode {
        RUN_MODE_NONE,
        RUN_MODE_FIRSTBOOT,
        RUN_MODE_FLASH,
} RunMode;

const char *run_mode_to_string(RunMode m);     /* "firstboot", "flash", NULL */

/* first_boot_agent.mode= on the kernel command line: RUN_MODE_NONE when absent or not valid (a
 * warning names it). */
RunMode run_mode_from_cmdline(void);

/* The mode for c when the command line did not decide (cmdline RUN_MODE_NONE): flash when it has
 * a "flash" section and the root file system is not on a flash target, else first boot. Logs
 * MID_MODE_DECIDED with what decided. */
RunMode run_mode_decide(const Config *c, RunMode cmdline);
