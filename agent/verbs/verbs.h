/* SPDX-License-Identifier: MIT */
#pragma once

/* The run lock, in the state directory. */
#define VERBS_LOCK_FILE ".lock"

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
int verb_inventory(int argc, char *argv[], const GlobalOptions *g);

/* For a verb that takes no operands: EXIT_OK when none is left after the options (optind), else
 * says so on standard error, naming the first, and returns EXIT_USAGE. */
int verbs_no_operands(const char *verb, int argc, char *argv[]);

/* The state directory to use before the config is read (for run's fast path and status):
 * --state-dir, then $FIRST_BOOT_AGENT_STATE_DIR, then the default. */
const char *verbs_state_dir_early(const GlobalOptions *g);

struct Config;
/* The state directory every verb uses: --state-dir, then $FIRST_BOOT_AGENT_STATE_DIR, then the
 * config's state_dir (when c is not NULL and sets one), then the default. */
const char *verbs_state_dir(const GlobalOptions *g, const struct Config *c);

/* Loads the config (--config, the kernel command line, the default path) without printing or
 * logging anything, for verbs that can do without one. Returns 0 or negative errno. A template
 * (a config with "provisioning") is replaced by this node's configuration once the identity
 * step has stored it (STATE_DIR/cluster-config.json); verbs_config_load() does the same. */
int verbs_config_load_quiet(const GlobalOptions *g, struct Config **ret);

/* Loads the config as a verb that needs one: on failure every problem is printed on standard
 * error, one per line, and a MID_CONFIG_INVALID record is logged. Returns EXIT_OK or EXIT_CONFIG. */
int verbs_config_load(const GlobalOptions *g, struct Config **ret);

/* Takes the exclusive run lock (DIR/.lock, flock) that keeps two runs, or a run and a reset,
 * from interleaving. Returns the open fd (the lock lasts until it is closed); -EBUSY when
 * another process holds it, with its pid in ret_holder (0 if unknown); other negative errno on
 * failure. The directory must exist. */
int verbs_lock_state_dir(const char *dir, int *ret_holder);

/* Has OpenSSL and jansson wipe what they free (secret.h; curl-util.c does it for libcurl): the
 * IAM password and tokens pass through their buffers. First thing in main(), before any of them
 * allocates. */
void verbs_wipe_freed_memory(void);
