/* SPDX-License-Identifier: MIT */
#pragma once

/* Options given before the verb, shared by all verbs. */
typedef struct GlobalOptions {
        const char *config_path;        /* --config, or NULL: kernel command line, then default */
        const char *state_dir;          /* --state-dir, or NULL: $FIRST_BOOT_AGENT_STATE_DIR,
                                         * then the config's state_dir, then the default */
} GlobalOptions;

/* Each verb gets argv starting at its own name, parses its own options (and --help), and
 * returns a process exit code from exit-code.h. */
typedef int (*VerbFunction)(int argc, char *argv[], const GlobalOptions *g);

int verb_run(int argc, char *argv[], const GlobalOptions *g);
int verb_flash(int argc, char *argv[], const GlobalOptions *g);
int verb_status(int argc, char *argv[], const GlobalOptions *g);
int verb_validate(int argc, char *argv[], const GlobalOptions *g);
int verb_reset(int argc, char *argv[], const GlobalOptions *g);
int verb_member(int argc, char *argv[], const GlobalOptions *g);

/* The state directory to use before the config is read (for run's fast path and status). */
const char *verbs_state_dir_early(const GlobalOptions *g);
