/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "cleanup.h"
#include "config-load.h"
#include "config-provisioned.h"
#include "curl-util.h"
#include "config.h"
#include "exit-code.h"
#include "fileio.h"
#include "log.h"
#include "memory.h"
#include "secret.h"
#include "verbs.h"

/* What every verb shares: where the state is, how the configuration is loaded, the run lock. */

static const char *state_dir_env(void) {
        const char *e = getenv("FIRST_BOOT_AGENT_STATE_DIR");

        return e && *e ? e : NULL;
}

const char *verbs_state_dir(const GlobalOptions *g, const Config *c) {
        if (g && g->state_dir)
                return g->state_dir;
        if (state_dir_env())
                return state_dir_env();
        if (c && c->state_dir && *c->state_dir)
                return c->state_dir;
        return CONFIG_STATE_DIR_DEFAULT;
}

const char *verbs_state_dir_early(const GlobalOptions *g) {
        return verbs_state_dir(g, NULL);
}

/* Loads path; a template (a config with "provisioning") then gives way to this node's own
 * configuration once the identity step has stored it in the state directory. path is replaced by
 * the one the problems are about. */
static int load_config(const GlobalOptions *g, char **path, Config **ret, ProblemList *problems) {
        _cleanup_(config_freep) Config *c = NULL;
        Config *stored = NULL;
        char *stored_path = NULL;
        int r;

        r = config_load(*path, &c, problems);
        if (r < 0)
                return r;
        if (c->provisioning) {
                r = config_provisioned_load_stored(verbs_state_dir(g, c), &stored, &stored_path, problems);
                if (r < 0) {
                        _cleanup_free_ char *p = config_provisioned_path(verbs_state_dir(g, c));

                        if (p) {
                                free(*path);
                                *path = TAKE_PTR(p);
                        }
                        return r;
                }
                if (r > 0) {
                        config_free(TAKE_PTR(c));
                        c = stored;
                        free(*path);
                        *path = stored_path;
                }
        }
        *ret = TAKE_PTR(c);
        return 0;
}

int verbs_config_load_quiet(const GlobalOptions *g, Config **ret) {
        _cleanup_free_ char *path = NULL;
        ProblemList problems = {};
        int r;

        r = config_find_path(g->config_path, &path);
        if (r < 0)
                return r;
        r = load_config(g, &path, ret, &problems);
        problem_list_done(&problems);
        return r;
}

static int lock_read_holder(int fd) {
        char buf[24] = {};
        ssize_t n;
        long pid;
        char *end;

        n = pread(fd, buf, sizeof(buf) - 1, 0);
        if (n <= 0)
                return 0;
        errno = 0;
        pid = strtol(buf, &end, 10);
        if (errno != 0 || end == buf || pid <= 0 || pid > INT32_MAX)
                return 0;
        return (int) pid;
}

int verbs_lock_state_dir(const char *dir, int *ret_holder) {
        _cleanup_free_ char *path = path_join(dir, VERBS_LOCK_FILE);
        _cleanup_close_ int fd = -1;
        char buf[24];
        int n;

        if (!path)
                return -ENOMEM;
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
        if (fd < 0)
                return -errno;
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                int r = -errno;

                if (r == -EWOULDBLOCK) {
                        if (ret_holder)
                                *ret_holder = lock_read_holder(fd);
                        return -EBUSY;
                }
                return r;
        }

        /* The holder's pid, for the message the next one prints. Advisory only: the lock is
         * the flock, not the content. */
        n = snprintf(buf, sizeof(buf), "%d\n", (int) getpid());
        if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t) n, 0) != n)
                return -errno;
        return TAKE_FD(fd);
}

int verbs_config_load(const GlobalOptions *g, Config **ret) {
        _cleanup_free_ char *path = NULL;
        ProblemList problems = {};
        int r;

        r = config_find_path(g->config_path, &path);
        if (r < 0) {
                log_error_errno(r, "Failed to find the configuration file: %m");
                return EXIT_CONFIG;
        }
        r = load_config(g, &path, ret, &problems);
        if (r >= 0) {
                problem_list_done(&problems);
                curl_util_set_node((*ret)->node_id);
                return EXIT_OK;
        }
        for (size_t i = 0; i < problems.n; i++) {
                _cleanup_free_ char *line = problem_format(&problems.items[i]);

                fprintf(stderr, "%s: %s\n", problem_file(&problems.items[i], path),
                        line ? line : "(out of memory)");
        }
        if (problems.n == 0)
                fprintf(stderr, "%s: %s\n", path, strerror(-r));
        log_event_errno(LOG_ERR, r, MID_CONFIG_INVALID, NO_FIELDS,
                        "Configuration '%s' refused: %zu problem%s, listed on standard error; "
                        "\"first-boot-agent validate %s\" checks it again.",
                        path, problems.n, problems.n == 1 ? "" : "s", path);
        problem_list_done(&problems);
        return EXIT_CONFIG;
}

void verbs_wipe_freed_memory(void) {
        (void) crypto_memory_wipe_on_free();
        json_set_alloc_funcs(malloc, free_wiped);
}

int verbs_no_operands(const char *verb, int argc, char *argv[]) {
        if (optind >= argc)
                return EXIT_OK;
        fprintf(stderr, "%s takes no arguments, got '%s'. Try 'first-boot-agent %s --help'.\n", verb, argv[optind],
                verb);
        return EXIT_USAGE;
}
