/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>

#include "cleanup.h"
#include "env-file.h"
#include "local-etcd.h"
#include "log.h"
#include "strv.h"

extern char **environ;

int local_etcd_configure(const EtcdLocalConfig *e, const char *initial_cluster, const char *peer_url) {
        const char *const pairs[] = {
                "ETCD_NAME", e->name,
                "ETCD_INITIAL_CLUSTER", initial_cluster,
                "ETCD_INITIAL_CLUSTER_STATE", "existing",
                "ETCD_INITIAL_ADVERTISE_PEER_URLS", peer_url,
                NULL,
        };
        const char *bad = NULL;
        int r;

        r = env_file_check(pairs, &bad);
        if (r < 0) {
                _cleanup_free_ char *shown = NULL;

                for (const char *const *p = pairs; p[0]; p += 2)
                        if (streq(p[0], bad))
                                shown = string_escape(p[1]);
                return log_error_errno(r, "Refusing to write %s=\"%s\" into '%s': the value has a control character "
                                       "(a newline would be read as an assignment of its own). Nothing was written; "
                                       "check where the value came from.", bad, strna(shown), e->env_file);
        }
        r = env_file_set(e->env_file, pairs, 0644);
        if (r < 0)
                return log_error_errno(r, "Failed to write the local etcd's settings to '%s': %m. The member "
                                       "is added; the next start writes them again.", e->env_file);
        log_event(LOG_INFO, MID_ETCD_CONFIGURED,
                  LOG_FIELDS("TARGET", e->env_file, "MEMBER_NAME", e->name, "PEER", peer_url),
                  "Local etcd settings written to '%s': name %s, initial cluster %s, state existing.",
                  e->env_file, e->name, initial_cluster);
        return 0;
}

/* Runs argv and waits for it: 0 and its wait status in *ret_status, or -errno when it could not
 * be started or waited for. */
static int run_command(char *const *argv, int *ret_status) {
        posix_spawn_file_actions_t fa;
        pid_t pid;
        int r, status;

        /* posix_spawn() reports a program it could not execute as its own error, except where
         * the spawn runs as a fork (qemu-user emulates CLONE_VFORK so): there the child would
         * exit 127 instead. Asked first, a missing command is -ENOENT everywhere. */
        if (access(argv[0], X_OK) < 0)
                return -errno;
        posix_spawn_file_actions_init(&fa);
        /* The agent's stdout belongs to its own output (status, member list): keep the
         * command's out of it. */
        posix_spawn_file_actions_adddup2(&fa, STDERR_FILENO, STDOUT_FILENO);
        r = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        if (r != 0)
                return -r;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        *ret_status = status;
        return 0;
}

static int restart_unit(const char *unit) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        sd_bus *bus = NULL;
        int r;

        r = sd_bus_open_system(&bus);
        if (r < 0)
                return log_error_errno(r, "Failed to connect to the system bus to restart %s: %m", unit);
        r = sd_bus_call_method(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                               "org.freedesktop.systemd1.Manager", "RestartUnit", &error, &reply, "ss",
                               unit, "replace");
        sd_bus_message_unref(reply);
        sd_bus_flush_close_unref(bus);
        if (r < 0)
                return log_error_errno(r, "systemd refused to restart %s: %s", unit,
                                       error.message ?: strerror(-r));
        return 0;
}

int local_etcd_restart(const EtcdLocalConfig *e, const char *service) {
        int r;

        if (e->start_command) {
                int status = 0;

                r = run_command(e->start_command, &status);
                if (r < 0)
                        return log_error_errno(r, "Failed to run the local etcd's start command '%s' "
                                               "(services.%s.etcd.start_command): %m", e->start_command[0], service);
                if (WIFSIGNALED(status)) {
                        int sig = WTERMSIG(status);

                        return log_error_errno(EIO, "The local etcd's start command '%s' (services.%s.etcd.start_command) "
                                               "was killed by signal %d (SIG%s, %s)%s. Check what stopped it; the next "
                                               "start runs it again.", e->start_command[0], service, sig,
                                               sigabbrev_np(sig) ?: "?", strsignal(sig),
                                               WCOREDUMP(status) ? ", core dumped" : "");
                }
                if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                        return log_error_errno(EIO, "The local etcd's start command '%s' (services.%s.etcd.start_command) "
                                               "exited with status %d.", e->start_command[0], service,
                                               WIFEXITED(status) ? WEXITSTATUS(status) : -1);
                log_event(LOG_INFO, MID_ETCD_STARTED, LOG_FIELDS("SERVICE", service, "TARGET", e->start_command[0]),
                          "Local etcd (re)started with '%s'.", e->start_command[0]);
                return 0;
        }
        if (sd_booted() <= 0)
                return log_error_errno(EOPNOTSUPP, "Cannot start the local etcd: systemd does not run here and "
                                       "services.%s.etcd.start_command is not set. Set it to a command that "
                                       "(re)starts etcd with the settings in '%s'.", service, e->env_file);
        r = restart_unit(e->unit);
        if (r < 0)
                return r;
        log_event(LOG_INFO, MID_ETCD_STARTED, LOG_FIELDS("SERVICE", service, "TARGET", e->unit),
                  "Local etcd restarted: %s (systemd).", e->unit);
        return 0;
}
