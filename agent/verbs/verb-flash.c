/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "config.h"
#include "exit-code.h"
#include "fileio.h"
#include "flash.h"
#include "log.h"
#include "state.h"
#include "verbs.h"

static void help(void) {
        printf("Usage: first-boot-agent [OPTIONS] flash [--dry-run] [--no-power-action] [--no-progress]\n\n"
               "Writes the images of the configuration's \"flash\" section to their disks and its\n"
               "firmware to MTD devices, verifies them, reports, and powers off or reboots as\n"
               "configured. Each disk is chosen by its properties (type, serial, WWN, model, path);\n"
               "a disk holding the running system, mounted, in use or too small is refused.\n\n"
               "Options:\n"
               "      --dry-run          choose and check the targets, print them, write nothing\n"
               "      --no-power-action  neither power off nor reboot afterwards\n"
               "      --no-progress      no progress line on a terminal\n"
               "  -h, --help             show this help\n\n"
               "Exit codes: 0 flashed, 2 usage, 3 configuration, 6 flash failed (a disk written to is\n"
               "left without a partition table), 7 another run is in progress.\n");
}

int verb_flash(int argc, char *argv[], const GlobalOptions *g) {
        enum { ARG_DRY_RUN = 0x100, ARG_NO_POWER, ARG_NO_PROGRESS };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "dry-run", no_argument, NULL, ARG_DRY_RUN },
                { "no-power-action", no_argument, NULL, ARG_NO_POWER },
                { "no-progress", no_argument, NULL, ARG_NO_PROGRESS },
                {},
        };
        _cleanup_(config_freep) Config *c = NULL;
        _cleanup_(state_freep) State *s = NULL;
        _cleanup_close_ int lock = -1;
        FlashOptions o = { .progress = true };
        const char *dir;
        int opt, r, code, holder = 0;

        optind = 0;
        while ((opt = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (opt) {
                case 'h':
                        help();
                        return EXIT_OK;
                case ARG_DRY_RUN:
                        o.dry_run = true;
                        break;
                case ARG_NO_POWER:
                        o.no_power_action = true;
                        break;
                case ARG_NO_PROGRESS:
                        o.progress = false;
                        break;
                default:
                        return EXIT_USAGE;
                }
        if (optind < argc) {
                fprintf(stderr, "first-boot-agent flash: unexpected argument '%s' (see --help).\n", argv[optind]);
                return EXIT_USAGE;
        }

        r = verbs_config_load(g, &c);
        if (r != EXIT_OK)
                return r;
        if (c->node_id)
                log_set_node_id(c->node_id);
        if (!c->flash) {
                log_error("The configuration '%s' has no \"flash\" section: nothing to flash.", c->path);
                return EXIT_CONFIG;
        }
        if (o.dry_run)
                return flash_run(c, NULL, &o);

        dir = verbs_state_dir(g, c);
        r = mkdir_p(dir, 0700);
        if (r < 0)
                return log_error_errno(r, "Failed to create the state directory '%s': %m", dir), EXIT_INTERNAL;
        lock = verbs_lock_state_dir(dir, &holder);
        if (lock == -EBUSY) {
                if (holder > 0)
                        log_error("Another run (pid %d) holds %s/.lock; not flashing at the same time.", holder, dir);
                else
                        log_error("Another run holds %s/.lock; not flashing at the same time.", dir);
                return EXIT_PENDING;
        }
        if (lock < 0)
                return log_error_errno(lock, "Failed to lock '%s': %m", dir), EXIT_INTERNAL;
        r = state_load(dir, &s);
        if (r < 0)
                return log_error_errno(r, "Failed to read the state in '%s': %m (remove state.json to start over)",
                                       dir), EXIT_INTERNAL;

        free(s->mode);
        s->mode = strdup("flash");
        s->pid = getpid();
        s->run_started = now_realtime();
        s->run_finished = 0;
        s->result = RUN_RESULT_RUNNING;
        r = state_save(s);
        if (r < 0)
                log_warning_errno(r, "Failed to save the state file in '%s': %m", dir);

        code = flash_run(c, s, &o);

        s->run_finished = now_realtime();
        s->result = code == EXIT_OK ? RUN_RESULT_DONE : RUN_RESULT_FAILED;
        s->exit_code = code;
        r = state_save(s);
        if (r < 0)
                log_warning_errno(r, "Failed to save the state file in '%s': %m", dir);
        return code;
}
