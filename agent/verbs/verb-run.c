/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "dir-trust.h"
#include "done-marker.h"
#include "exit-code.h"
#include "fileio.h"
#include "flash.h"
#include "log.h"
#include "marker.h"
#include "notify.h"
#include "report-spool.h"
#include "run-mode.h"
#include "state.h"
#include "step-context.h"
#include "step-metrics.h"
#include "step.h"
#include "verbs.h"
#include "walk.h"

static void help(void) {
        printf("Usage: first-boot-agent [OPTIONS] run [--no-power-action]\n\n"
               "Decides what this boot is and acts on it:\n"
               "  flash      the installer: write the images and firmware of the \"flash\" section;\n"
               "  firstboot  the installed system: walk the steps (identity, config, health-wait,\n"
               "             chainfire-join, flaredb-join, iam-setup, health-report);\n"
               "  done       %s exists in the state directory and no step marker was\n"
               "             removed since: exit 0 at once.\n\n"
               "The first signal that applies decides: first_boot_agent.mode=flash|firstboot on the\n"
               "kernel command line; the done marker; a \"flash\" section in the configuration while\n"
               "the root file system is not on a flash target; else first boot.\n\n"
               "Options:\n"
               "      --no-power-action  after flashing, neither power off nor reboot\n"
               "  -h, --help             show this help\n\n"
               "Exit codes: 0 done, 1 internal error, 2 usage, 3 configuration, 4 step failed (the next\n"
               "start resumes there), 5 refused by a server, 6 flash failed, 7 another run is in progress.\n",
               MARKER_DONE);
}

/* The every-boot path: 1 when the done marker is there, the directory is unchanged since it was
 * stamped, and both are trusted (a stat() and an lstat()). Anything else takes the full path,
 * which says what is wrong. */
static bool done_marker_present(const char *dir) {
        return done_marker_fresh(dir) > 0;
}

/* Markers count only in a directory nobody else can write to: anyone who can create an entry
 * there could mark a step done (or first boot, with .first-boot-done) without it having run.
 * Refuses such a directory with what to run; a missing one is created 0700 later. */
static int check_state_dir(const char *dir) {
        mode_t mode = 0;
        uid_t uid = 0;
        int r;

        r = dir_trust_check(dir, &mode, &uid);
        if (r >= 0 || r == -ENOENT)
                return 0;
        if (r == -EPERM && (mode & (S_IWGRP | S_IWOTH)))
                return log_error_errno(r, "Refusing the state directory '%s': group or others may write to it "
                                       "(mode %04o), so a marker in it (or '%s') may be anybody's and proves no "
                                       "step done. Run: chmod go-w '%s' (and check the markers in it).",
                                       dir, (unsigned) mode, MARKER_DONE, dir);
        if (r == -EPERM)
                return log_error_errno(r, "Refusing the state directory '%s': it belongs to uid %u, not to root, "
                                       "so a marker in it (or '%s') may be that user's and proves no step done. "
                                       "Run: chown root: '%s' (and check the markers in it).",
                                       dir, (unsigned) uid, MARKER_DONE, dir);
        return log_error_errno(r, "Cannot use the state directory '%s': %m", dir);
}

/* With the config: the done marker checked against every enabled step's marker, when the
 * directory changed since it was stamped. true: done. */
static bool done_marker_holds(const char *dir, const Config *c) {
        _cleanup_free_ char *missing = NULL;
        int r;

        r = done_marker_fresh(dir);
        if (r > 0)
                return true;
        if (r == 0)
                r = done_marker_verify(dir, c, &missing);
        if (r < 0) {
                log_warning_errno(r, "Cannot check the markers in '%s' (%m); walking the steps.", dir);
                return false;
        }
        if (missing)
                log_event(LOG_NOTICE, MID_MARKER_REMOVED, LOG_FIELDS("MARKER", missing),
                          "The marker '%s' was removed after first boot was complete: '%s' no longer "
                          "holds and is removed; the steps without their marker run again.",
                          missing, MARKER_DONE);
        return r > 0;
}

/* True when reports wait in dir's spool (a report server that was down during the last run). */
static bool reports_waiting(const char *dir) {
        _cleanup_free_ char *spool = path_join(dir, REPORT_SPOOL_DIR);
        size_t n = 0;

        return spool && report_spool_pending(spool, &n, NULL, NULL) >= 0 && n > 0;
}

/* A done node with reports waiting: deliver them (the unit starts while any wait), then done;
 * the metrics then show how many still wait. */
static void deliver_waiting_reports(const GlobalOptions *g, const char *dir) {
        _cleanup_(step_context_freep) StepContext *ctx = NULL;
        _cleanup_(config_freep) Config *config = NULL;
        _cleanup_(state_freep) State *state = NULL;

        if (verbs_config_load(g, &config) != EXIT_OK)
                return;
        log_set_node_id(config->node_id);
        if (step_context_new(config, dir, NULL, &ctx) < 0)
                return;
        step_context_flush_reports(ctx);
        if (state_load(dir, &state) >= 0)
                step_metrics_write_config(config, dir, state, true);
}

static int exit_done(const char *dir) {
        log_event(LOG_INFO, MID_MODE_DECIDED,
                  LOG_FIELDS("MODE", "done", "MODE_SOURCE", "done-marker"),
                  "First boot already complete ('%s/%s' exists); nothing to do.", dir, MARKER_DONE);
        notify_ready();
        return EXIT_OK;
}

/* A done node leaves, after delivering the reports that still wait (the fast path, and the full
 * check of a done marker stamped too close to its last change, both end here). */
static int leave_done(const GlobalOptions *g, const char *dir) {
        if (reports_waiting(dir))
                deliver_waiting_reports(g, dir);
        return exit_done(dir);
}

/* *ret_adopted: the node's own configuration when the identity step put it in the template's
 * place (the run's end is recorded with it), else NULL. */
static int run_firstboot(const Config *c, const char *dir, State *s, Config **ret_adopted) {
        _cleanup_(step_context_freep) StepContext *ctx = NULL;
        int r;

        r = step_context_new(c, dir, s, &ctx);
        if (r < 0)
                return EXIT_INTERNAL;
        r = step_walk(ctx);
        *ret_adopted = TAKE_PTR(ctx->owned_config);
        return r;
}

static int run_flash(const Config *c, State *s, bool no_power_action) {
        FlashOptions o = {
                .no_power_action = no_power_action,
                .progress = isatty(STDERR_FILENO),
        };

        if (!c->flash) {
                log_event(LOG_ERR, MID_CONFIG_INVALID, NO_FIELDS,
                          "Flash mode was asked for, but the configuration '%s' has no \"flash\" section.",
                          strna(c->path));
                return EXIT_CONFIG;
        }
        return flash_run(c, s, &o);
}

static int open_state(const char *dir, const Config *c, RunMode mode, State **ret) {
        _cleanup_(state_freep) State *s = NULL;
        int r;

        r = state_load(dir, &s);
        if (r == -EBADMSG) {
                log_warning("The state file '%s/%s' is corrupt; starting a fresh record. "
                            "Markers are kept, so no progress is lost.", dir, STATE_FILE_NAME);
                r = state_new(dir, &s);
        }
        if (r < 0)
                return log_error_errno(r, "Failed to read the state file in '%s': %m", dir);

        /* A template names no node yet: the state keeps the one it records, if any, for the
         * identity step to compare with the provisioning server's answer. */
        if (c->node_id) {
                free(s->node_id);
                s->node_id = strdup(c->node_id);
                if (!s->node_id)
                        return log_oom();
        }
        free(s->mode);
        s->mode = strdup(run_mode_to_string(mode));
        if (!s->mode)
                return log_oom();
        s->pid = getpid();
        s->run_started = now_realtime();
        s->run_finished = 0;
        s->result = RUN_RESULT_RUNNING;
        s->exit_code = 0;
        r = state_save(s);
        if (r < 0)
                return log_error_errno(r, "Failed to write the state file '%s': %m", s->path);

        *ret = TAKE_PTR(s);
        return 0;
}

/* The every-boot decision, before the configuration is read in full: EXIT_OK when this node is
 * done (the fast path: two stat() calls, no config, no curl — unless reports still wait), -1 to
 * go on. A done marker not stamped (or the directory changed since) is checked against the step
 * markers, which takes the config (loaded into *config when it can be). A done node whose config
 * is gone (removed after first boot) or broken keeps booting: the marker is trusted, with a
 * warning. */
static int run_fast_path(const GlobalOptions *g, Config **config) {
        const char *dir = verbs_state_dir_early(g);

        if (done_marker_present(dir))
                return leave_done(g, dir);
        if (marker_exists(dir, MARKER_DONE) > 0 && dir_trust_check(dir, NULL, NULL) >= 0 &&
            verbs_config_load_quiet(g, config) < 0) {
                log_warning("'%s/%s' exists, but without a usable configuration the step markers cannot be "
                            "checked against it: trusting it. \"first-boot-agent validate\" shows what is wrong "
                            "with the configuration.", dir, MARKER_DONE);
                return exit_done(dir);
        }
        return -1;
}

/* Creates and locks the state directory: two runs never interleave, the second one leaves at
 * once. The lock's fd, or an exit code (negated) when it cannot be taken. */
static int run_lock(const char *dir) {
        int r, fd, holder = 0;

        r = mkdir_p(dir, 0700);
        if (r < 0) {
                log_error_errno(r, "Failed to create the state directory '%s': %m", dir);
                return -EXIT_INTERNAL;
        }
        fd = verbs_lock_state_dir(dir, &holder);
        if (fd == -EBUSY) {
                if (holder > 0)
                        log_error("Another run (pid %d) is in progress; not starting a second one.", holder);
                else
                        log_error("Another run is in progress; not starting a second one.");
                return -EXIT_PENDING;
        }
        if (fd < 0) {
                log_error_errno(fd, "Failed to lock '%s/%s': %m", dir, VERBS_LOCK_FILE);
                return -EXIT_INTERNAL;
        }
        return fd;
}

/* Records how the run ended (state file, metrics, the done marker's stamp) and tells systemd.
 * READY=1 only once the work is done: units ordered after ours start on a node that has joined.
 * A failed run exits without it and the unit fails. */
static int run_finish(const Config *config, const char *dir, State *state, RunMode mode, int r) {
        int q;

        state->run_finished = now_realtime();
        state->result = r == EXIT_OK ? RUN_RESULT_DONE : RUN_RESULT_FAILED;
        state->exit_code = r;
        q = state_save(state);
        if (q < 0)
                log_warning_errno(q, "Failed to save the state file '%s': %m", state->path);
        step_metrics_write_config(config, dir, state, true);
        /* Last change to the directory: from now on the done marker holds until an entry in the
         * directory changes. */
        if (r == EXIT_OK && mode == RUN_MODE_FIRSTBOOT) {
                q = done_marker_stamp(dir);
                if (q < 0)
                        log_warning_errno(q, "Failed to stamp '%s/%s' (%m); the next start checks the markers once.",
                                          dir, MARKER_DONE);
        }
        if (r == EXIT_OK)
                notify_ready();
        return r;
}

int verb_run(int argc, char *argv[], const GlobalOptions *g) {
        enum { ARG_NO_POWER_ACTION = 0x100 };
        static const struct option options[] = {
                { "no-power-action", no_argument, NULL, ARG_NO_POWER_ACTION },
                { "help",            no_argument, NULL, 'h' },
                {}
        };
        _cleanup_(config_freep) Config *config = NULL, *adopted = NULL;
        _cleanup_(state_freep) State *state = NULL;
        _cleanup_close_ int lock_fd = -1;
        bool no_power_action = false;
        RunMode mode;
        const char *dir;
        int c, r;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case ARG_NO_POWER_ACTION:
                        no_power_action = true;
                        break;
                case 'h':
                        help();
                        return EXIT_OK;
                default:
                        fprintf(stderr, "Try 'first-boot-agent run --help'.\n");
                        return EXIT_USAGE;
                }
        r = verbs_no_operands("run", argc, argv);
        if (r != EXIT_OK)
                return r;

        /* The kernel command line wins; else a done node leaves here. */
        mode = run_mode_from_cmdline();
        if (mode == RUN_MODE_NONE) {
                r = run_fast_path(g, &config);
                if (r >= 0)
                        return r;
        }

        log_event(LOG_INFO, MID_AGENT_START, NO_FIELDS, "first-boot-agent %s starting (run).", PACKAGE_VERSION);
        if (!config) {
                r = verbs_config_load(g, &config);
                if (r != EXIT_OK)
                        return r;
        }
        log_set_node_id(config->node_id);
        for (char **d = config->dropins; d && *d; d++)
                log_info("Drop-in '%s' merged over the configuration '%s'.", *d, config->path);

        /* One directory for everyone below, resolved here once (the config's state_dir may hold
         * the done marker instead): the steps get it in their context, the flasher through the
         * state. */
        dir = verbs_state_dir(g, config);
        if (check_state_dir(dir) < 0)
                return EXIT_CONFIG;
        if (mode == RUN_MODE_NONE && done_marker_holds(dir, config))
                return leave_done(g, dir);

        lock_fd = run_lock(dir);
        if (lock_fd < 0)
                return -lock_fd;

        mode = run_mode_decide(config, mode);
        if (open_state(dir, config, mode, &state) < 0)
                return EXIT_INTERNAL;
        r = mode == RUN_MODE_FLASH ? run_flash(config, state, no_power_action) :
                                     run_firstboot(config, dir, state, &adopted);
        return run_finish(adopted ?: config, dir, state, mode, r);
}
