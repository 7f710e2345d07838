/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "exit-code.h"
#include "fileio.h"
#include "log.h"
#include "marker.h"
#include "state.h"
#include "step.h"
#include "verbs.h"

static void help(const StepPlan *plan) {
        printf("Usage: first-boot-agent [OPTIONS] reset STEP | --all [--yes]\n\n"
               "Removes the marker of STEP and those of every later step, plus %s, so the next\n"
               "run does them again. The state file records those steps as pending.\n\n"
               "Steps, in order (of this node's configuration):\n", MARKER_DONE);
        for (size_t i = 0; i < plan->n; i++)
                printf("  %-17s %s\n", plan->steps[i].name, strempty(plan->steps[i].summary));
        printf("\nOptions:\n"
               "      --all       every step (the same as \"reset %s\")\n"
               "      --list      print the steps' names, one per line, and exit\n"
               "  -y, --yes       do not ask for confirmation\n"
               "  -h, --help      show this help\n\n"
               "Reset only forgets what this node did: it does not remove the node from a cluster.\n"
               "To undo a join, use \"first-boot-agent member remove\" first.\n\n"
               "Exit codes: 0 ok, 1 internal error, 2 usage (an unknown step), 7 a run is in progress.\n",
               plan->steps[0].name);
}

static void list_steps(FILE *f, const StepPlan *plan) {
        for (size_t i = 0; i < plan->n; i++)
                fprintf(f, "%s%s", i == 0 ? "" : ", ", plan->steps[i].name);
}

static int unknown_step(const char *name, const StepPlan *plan) {
        _cleanup_free_ const char **names = calloc(plan->n + 1, sizeof(char *));
        const char *near;

        if (!names)
                return log_oom();
        for (size_t i = 0; i < plan->n; i++)
                names[i] = plan->steps[i].name;
        near = nearest_string(name, names);

        fprintf(stderr, "Unknown step '%s'. ", name);
        if (near)
                fprintf(stderr, "Did you mean '%s'? ", near);
        fprintf(stderr, "Steps: ");
        list_steps(stderr, plan);
        fprintf(stderr, ".\n");
        return EXIT_USAGE;
}

/* Every marker from step "from" on, then the done marker; NULL-terminated (the strings are the
 * plan's). NULL on OOM. */
static const char **collect_markers(const StepPlan *plan, size_t from) {
        const char **l = calloc(2 * plan->n + 2, sizeof(char *));
        size_t n = 0;

        if (!l)
                return NULL;
        for (size_t i = from; i < plan->n; i++)
                for (const char *const *m = plan->steps[i].markers; m && *m; m++)
                        l[n++] = *m;
        l[n] = MARKER_DONE;
        return l;
}

static bool confirm(const char *dir, const char *const *markers) {
        char answer[16] = "";
        size_t present = 0;

        for (const char *const *m = markers; *m; m++)
                if (marker_exists(dir, *m) > 0) {
                        if (present++ == 0)
                                printf("This removes:\n");
                        printf("  %s/%s\n", dir, *m);
                }
        if (present == 0)
                return true;    /* nothing to remove: nothing to ask */
        printf("Proceed? [y/N] ");
        fflush(stdout);
        if (!fgets(answer, sizeof(answer), stdin))
                return false;
        return answer[0] == 'y' || answer[0] == 'Y';
}

static void mark_pending(const char *dir, const StepPlan *plan, size_t from) {
        _cleanup_(state_freep) State *s = NULL;
        int r;

        r = state_load(dir, &s);
        if (r == -EBADMSG)
                return;         /* the next run starts a fresh record anyway */
        if (r < 0) {
                log_warning_errno(r, "Failed to read the state file in '%s': %m", dir);
                return;
        }
        for (size_t i = from; i < plan->n; i++) {
                StepState *st = state_step(s, plan->steps[i].name);

                if (!st) {
                        log_oom();
                        return;
                }
                st->status = STEP_STATUS_PENDING;
                st->started = st->finished = 0;
                st->duration_ms = 0;
                st->attempts = 0;
                (void) state_step_set_error(st, NULL);
                (void) state_step_set_detail(st, NULL);
        }
        r = state_save(s);
        if (r < 0)
                log_warning_errno(r, "Failed to update the state file '%s': %m", s->path);
}

int verb_reset(int argc, char *argv[], const GlobalOptions *g) {
        enum { ARG_ALL = 0x100, ARG_LIST };
        static const struct option options[] = {
                { "all",  no_argument, NULL, ARG_ALL },
                { "list", no_argument, NULL, ARG_LIST },
                { "yes",  no_argument, NULL, 'y' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        _cleanup_(config_freep) Config *config = NULL;
        _cleanup_(step_plan_freep) StepPlan *plan = NULL;
        _cleanup_close_ int lock_fd = -1;
        _cleanup_free_ const char **markers = NULL;
        const char *dir, *name;
        bool all = false, yes = false;
        size_t removed = 0;
        int c, r, idx, holder = 0;

        /* The steps are those of this node's configuration (its services); without one, the
         * seed's. */
        (void) verbs_config_load_quiet(g, &config);
        r = step_plan_new(config, &plan);
        if (r < 0)
                return log_oom();

        while ((c = getopt_long(argc, argv, "yh", options, NULL)) >= 0)
                switch (c) {
                case ARG_ALL:
                        all = true;
                        break;
                case 'y':
                        yes = true;
                        break;
                case ARG_LIST:
                        for (size_t i = 0; i < plan->n; i++)
                                printf("%s\n", plan->steps[i].name);
                        return EXIT_OK;
                case 'h':
                        help(plan);
                        return EXIT_OK;
                default:
                        fprintf(stderr, "Try 'first-boot-agent reset --help'.\n");
                        return EXIT_USAGE;
                }

        if (all == (optind < argc) || argc - optind > 1) {
                fprintf(stderr, "%s. Try 'first-boot-agent reset --help'.\n",
                        all ? "Give either a step or --all, not both" :
                        optind < argc ? "Give one step only" : "Give a step (or --all)");
                return EXIT_USAGE;
        }
        name = all ? plan->steps[0].name : argv[optind];
        idx = step_plan_index(plan, name);
        if (idx < 0)
                return unknown_step(name, plan);
        if (all && !yes && !isatty(STDIN_FILENO)) {
                fprintf(stderr, "--all removes every marker; add --yes to confirm.\n");
                return EXIT_USAGE;
        }

        dir = verbs_state_dir(g, config);
        if (access(dir, F_OK) < 0) {
                if (errno != ENOENT) {
                        fprintf(stderr, "Cannot access the state directory '%s': %s\n", dir, strerror(errno));
                        return EXIT_INTERNAL;
                }
                printf("nothing to remove (no state directory '%s')\n", dir);
                return EXIT_OK;
        }

        lock_fd = verbs_lock_state_dir(dir, &holder);
        if (lock_fd == -EBUSY) {
                if (holder > 0)
                        fprintf(stderr, "A run (pid %d) is in progress; reset when it has finished.\n", holder);
                else
                        fprintf(stderr, "A run is in progress; reset when it has finished.\n");
                return EXIT_PENDING;
        }
        if (lock_fd < 0) {
                fprintf(stderr, "Failed to lock the state directory '%s': %s\n", dir, strerror(-lock_fd));
                return EXIT_INTERNAL;
        }

        markers = collect_markers(plan, (size_t) idx);
        if (!markers)
                return log_oom();
        if (!yes && isatty(STDIN_FILENO) && !confirm(dir, markers)) {
                printf("Nothing removed.\n");
                return EXIT_OK;
        }

        for (const char *const *m = markers; *m; m++) {
                _cleanup_free_ char *path = path_join(dir, *m);

                r = marker_remove(dir, *m);
                if (r < 0) {
                        fprintf(stderr, "Failed to remove '%s/%s': %s\n", dir, *m, strerror(-r));
                        return EXIT_INTERNAL;
                }
                if (r > 0) {
                        printf("removed %s\n", path ? path : *m);
                        removed++;
                }
        }
        if (removed == 0)
                printf("nothing to remove\n");

        mark_pending(dir, plan, (size_t) idx);

        log_event(LOG_NOTICE, MID_STATE_RESET, LOG_FIELDS("STEP", name),
                  "Reset from step '%s': %zu marker%s removed; the next run does these steps again.",
                  name, removed, removed == 1 ? "" : "s");
        return EXIT_OK;
}
