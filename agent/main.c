/* SPDX-License-Identifier: MIT */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "exit-code.h"
#include "log.h"
#include "macro.h"
#include "verbs.h"

typedef struct Verb {
        const char *name;
        VerbFunction fn;
        const char *summary;
} Verb;

static const Verb verbs[] = {
        { "run",      verb_run,      "decide the mode (flash, first boot, done) and act on it" },
        { "flash",    verb_flash,    "write the images and firmware of the \"flash\" section" },
        { "status",   verb_status,   "show each step's state, times, attempts and last error" },
        { "validate", verb_validate, "check a configuration file and list every problem" },
        { "reset",    verb_reset,    "remove a step's marker (and the later ones) to run it again" },
        { "member",   verb_member,   "list, add or remove cluster members by hand" },
        { "inventory", verb_inventory, "print this machine's NICs, SMBIOS identity, CPUs, memory and disks" },
};

static void help(void) {
        printf("Usage: first-boot-agent [OPTIONS] VERB [ARGS…]\n\n"
               "Turns a freshly installed node into a cluster member, once, with nobody at the keyboard.\n\n"
               "Verbs:\n");
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                printf("  %-10s %s\n", verbs[i].name, verbs[i].summary);
        printf("\nOptions:\n"
               "  -c, --config FILE     configuration (default: first_boot_agent.config= on the\n"
               "                        kernel command line, else /etc/nixos/secrets/cluster-config.json)\n"
               "      --state-dir DIR   markers and state (default: the config's state_dir,\n"
               "                        else /var/lib/first-boot-automation)\n"
               "      --log-target T    auto, journal, json or console (default: auto: the journal\n"
               "                        under systemd, else JSON lines on standard error)\n"
               "  -h, --help            show this help; VERB --help shows a verb's\n"
               "      --version         show the version\n\n"
               "Exit codes: 0 ok, 1 internal error, 2 usage, 3 configuration, 4 step failed (resumes\n"
               "on the next start), 5 refused by a server, 6 flash failed, 7 not finished, 8 timed out.\n"
               "See first-boot-agent(8).\n");
}

int main(int argc, char *argv[]) {
        enum { ARG_STATE_DIR = 0x100, ARG_LOG_TARGET, ARG_VERSION };
        static const struct option options[] = {
                { "config",     required_argument, NULL, 'c' },
                { "state-dir",  required_argument, NULL, ARG_STATE_DIR },
                { "log-target", required_argument, NULL, ARG_LOG_TARGET },
                { "help",       no_argument,       NULL, 'h' },
                { "version",    no_argument,       NULL, ARG_VERSION },
                {}
        };
        GlobalOptions g = {};
        LogTarget target = LOG_TARGET_AUTO;
        int c;

        /* Before any library allocates. */
        verbs_wipe_freed_memory();

        /* "+": stop at the verb, whose own options follow it. */
        while ((c = getopt_long(argc, argv, "+c:h", options, NULL)) >= 0)
                switch (c) {
                case 'c':
                        g.config_path = optarg;
                        break;
                case ARG_STATE_DIR:
                        g.state_dir = optarg;
                        break;
                case ARG_LOG_TARGET:
                        target = log_target_from_string(optarg);
                        if ((int) target < 0) {
                                fprintf(stderr, "Unknown --log-target '%s': expected auto, journal, json or console.\n", optarg);
                                return EXIT_USAGE;
                        }
                        break;
                case 'h':
                        help();
                        return EXIT_OK;
                case ARG_VERSION:
                        printf("first-boot-agent %s\n", PACKAGE_VERSION);
                        return EXIT_OK;
                default:
                        fprintf(stderr, "Try 'first-boot-agent --help'.\n");
                        return EXIT_USAGE;
                }

        if (optind >= argc) {
                fprintf(stderr, "No verb given. Try 'first-boot-agent --help'.\n");
                return EXIT_USAGE;
        }

        log_setup(target);

        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(argv[optind], verbs[i].name)) {
                        char **verb_argv = argv + optind;
                        int verb_argc = argc - optind;

                        optind = 0;     /* the verb runs its own getopt_long() from the start */
                        return verbs[i].fn(verb_argc, verb_argv, &g);
                }

        fprintf(stderr, "Unknown verb '%s'. Known verbs: run, flash, status, validate, reset, member, inventory.\n",
                argv[optind]);
        return EXIT_USAGE;
}
