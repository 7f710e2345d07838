/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "log.h"
#include "notify.h"
#include "proc-cmdline.h"
#include "run-mode.h"
#include "target.h"

const char *run_mode_to_string(RunMode m) {
        switch (m) {
        case RUN_MODE_FIRSTBOOT:
                return "firstboot";
        case RUN_MODE_FLASH:
                return "flash";
        default:
                return NULL;
        }
}

RunMode run_mode_from_cmdline(void) {
        _cleanup_free_ char *value = NULL;

        if (proc_cmdline_get_key("first_boot_agent.mode", &value) <= 0)
                return RUN_MODE_NONE;
        if (streq(value, "firstboot"))
                return RUN_MODE_FIRSTBOOT;
        if (streq(value, "flash"))
                return RUN_MODE_FLASH;
        log_warning("Ignoring first_boot_agent.mode='%s' on the kernel command line: expected flash or firstboot.",
                    value);
        return RUN_MODE_NONE;
}

RunMode run_mode_decide(const Config *c, RunMode cmdline) {
        RunMode mode = RUN_MODE_FIRSTBOOT;
        const char *source = "default";
        int r;

        if (cmdline != RUN_MODE_NONE) {
                mode = cmdline;
                source = "cmdline";
        } else if (c->flash) {
                r = target_root_is_on_flash_target(c);
                if (r == 0) {
                        mode = RUN_MODE_FLASH;
                        source = "flash-section";
                } else if (r < 0)
                        log_warning_errno(r, "Cannot tell whether the root file system is on a flash target (%m); "
                                          "assuming this is the installed system.");
        }

        log_event(LOG_INFO, MID_MODE_DECIDED, LOG_FIELDS("MODE", run_mode_to_string(mode), "MODE_SOURCE", source),
                  "Mode %s, decided by %s.", run_mode_to_string(mode),
                  streq(source, "cmdline") ? "the kernel command line" :
                  streq(source, "flash-section") ? "the \"flash\" section (root is not on a flash target)" :
                  "default (no other signal)");
        notify_status("%s", mode == RUN_MODE_FLASH ? "flashing" : "first boot");
        return mode;
}
