/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "config-load.h"
#include "fileio.h"
#include "log.h"
#include "run-mode.h"
#include "tap.h"

/* Which run a boot is (verbs/run-mode.c): first_boot_agent.mode= on a kernel command line the
 * test writes ($FIRST_BOOT_AGENT_PROC_CMDLINE), and the decision when it says nothing. */

static char dir[] = "/tmp/test-run-mode.XXXXXX", cmdline[PATH_MAX];

static RunMode from(const char *line) {
        if (write_file_atomic(cmdline, line, strlen(line), 0644) < 0)
                return (RunMode) -1;
        return run_mode_from_cmdline();
}

int main(void) {
        _cleanup_(config_freep) Config *c = NULL;
        ProblemList l = {};
        const char *text = "{\"node_id\": \"node04\", \"bootstrap\": true, \"initial_peers\": [\"127.79.14.4:2380\"], "
                           "\"raft_addr\": \"127.79.14.4:2380\"}";

        log_setup(LOG_TARGET_NULL);
        if (!mkdtemp(dir))
                return 1;
        snprintf(cmdline, sizeof cmdline, "%s/cmdline", dir);
        setenv("FIRST_BOOT_AGENT_PROC_CMDLINE", cmdline, 1);

        is_str(run_mode_to_string(RUN_MODE_FIRSTBOOT), "firstboot", "firstboot");
        is_str(run_mode_to_string(RUN_MODE_FLASH), "flash", "flash");
        ok(run_mode_to_string(RUN_MODE_NONE) == NULL, "none: NULL");

        is_int(from("BOOT_IMAGE=/vmlinuz root=/dev/nvme0n1p2 first_boot_agent.mode=flash quiet\n"), RUN_MODE_FLASH,
               "mode=flash");
        is_int(from("first_boot_agent.mode=firstboot"), RUN_MODE_FIRSTBOOT, "mode=firstboot");
        is_int(from("root=/dev/sda1 quiet"), RUN_MODE_NONE, "absent: none");
        is_int(from("first_boot_agent.mode=install"), RUN_MODE_NONE, "not a mode: none");
        is_int(from("first_boot_agent.mode="), RUN_MODE_NONE, "empty: none");
        (void) unlink(cmdline);
        is_int(run_mode_from_cmdline(), RUN_MODE_NONE, "no command line to read: none");

        ok(config_parse(text, strlen(text), "test.json", &c, &l) >= 0, "a configuration without a flash section");
        problem_list_done(&l);
        if (c) {
                is_int(run_mode_decide(c, RUN_MODE_NONE), RUN_MODE_FIRSTBOOT, "no signal: first boot");
                is_int(run_mode_decide(c, RUN_MODE_FLASH), RUN_MODE_FLASH, "the command line decides");
                is_int(run_mode_decide(c, RUN_MODE_FIRSTBOOT), RUN_MODE_FIRSTBOOT, "either way");
        }
        (void) rmdir(dir);
        return tap_done();
}
