/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/reboot.h>
#include <sys/wait.h>
#include <unistd.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>

#include "cleanup.h"
#include "log.h"
#include "power.h"


static int via_bus(const char *unit) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = sd_bus_open_system(&bus);
        if (r < 0)
                return r;
        r = sd_bus_call_method(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                               "org.freedesktop.systemd1.Manager", "StartUnit", &error, NULL, "ss",
                               unit, "replace-irreversibly");
        if (r < 0)
                log_warning("Asking systemd to start %s failed: %s", unit,
                            error.message ? error.message : strerror(-r));
        sd_bus_error_free(&error);
        return r;
}

static int via_systemctl(const char *verb) {
        pid_t pid;
        int status;

        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                execlp("systemctl", "systemctl", verb, (char *) NULL);
                _exit(127);
        }
        if (waitpid(pid, &status, 0) < 0)
                return -errno;
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

int power_action(FlashPowerAction a) {
        const char *verb = flash_power_action_to_string(a);
        int r;

        if (a == FLASH_POWER_NONE)
                return 0;

        log_event(LOG_NOTICE, MID_POWER_ACTION, LOG_FIELDS("MODE", verb), "Flashing finished: %s now.",
                  a == FLASH_POWER_POWEROFF ? "powering off" : "rebooting");
        sync();

        if (sd_booted() > 0) {
                r = via_bus(a == FLASH_POWER_POWEROFF ? "poweroff.target" : "reboot.target");
                if (r >= 0)
                        return 0;
                r = via_systemctl(verb);
                if (r >= 0)
                        return 0;
                return log_error_errno(r, "Failed to %s through systemd: %m", verb);
        }

        /* No service manager (an initramfs): the kernel does it. */
        if (reboot(a == FLASH_POWER_POWEROFF ? RB_POWER_OFF : RB_AUTOBOOT) < 0)
                return log_error_errno(errno, "Failed to %s: %m", verb);
        return 0;
}
