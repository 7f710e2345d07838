/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>

#include "cleanup.h"
#include "local-unit.h"
#include "log.h"

extern char **environ;

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

static int start_command(const LocalUnit *u) {
        const char *cmd = u->start_command[0];
        int r, status = 0;

        r = run_command(u->start_command, &status);
        if (r < 0)
                return log_error_errno(r, "Failed to run the start command of %s '%s' (%s): %m", u->what, cmd,
                                       u->setting);
        if (WIFSIGNALED(status)) {
                int sig = WTERMSIG(status);

                return log_error_errno(EIO, "The start command of %s '%s' (%s) was killed by signal %d (SIG%s, %s)%s. "
                                       "Check what stopped it; the next start runs it again.", u->what, cmd,
                                       u->setting, sig, sigabbrev_np(sig) ?: "?", strsignal(sig),
                                       WCOREDUMP(status) ? ", core dumped" : "");
        }
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return log_error_errno(EIO, "The start command of %s '%s' (%s) exited with status %d.", u->what, cmd,
                                       u->setting, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        return 0;
}

int local_unit_start(const LocalUnit *u) {
        const char *target;
        int r;

        if (u->start_command) {
                r = start_command(u);
                target = u->start_command[0];
        } else if (sd_booted() <= 0)
                return log_error_errno(EOPNOTSUPP, "Cannot start %s: systemd does not run here and %s is not set. "
                                       "Set it to a command that (re)starts it%s%s.", u->what, u->setting,
                                       u->settings_file ? " with the settings in " : "", strempty(u->settings_file));
        else {
                r = restart_unit(u->unit);
                target = u->unit;
        }
        if (r < 0)
                return r;
        log_event(LOG_INFO, MID_SERVICE_STARTED, LOG_FIELDS("SERVICE", u->service, "TARGET", target),
                  "%s (re)started through %s.", u->what, target);
        return 0;
}
