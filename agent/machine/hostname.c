/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-bus.h>

#include "cleanup.h"
#include "fileio.h"
#include "hostname.h"


static const char *const method_table[_HOSTNAME_METHOD_MAX] = {
        [HOSTNAME_METHOD_HOSTNAMED] = "hostnamed",
        [HOSTNAME_METHOD_DIRECT] = "direct",
};

const char *hostname_method_to_string(HostnameMethod m) {
        return m >= 0 && m < _HOSTNAME_METHOD_MAX ? method_table[m] : NULL;
}

bool hostname_is_valid(const char *s) {
        size_t label = 0, n = 0;
        char prev = '.';

        if (!s || !*s)
                return false;
        for (const char *p = s; *p; p++, n++) {
                if (*p == '.') {
                        if (label == 0 || prev == '-')
                                return false;
                        label = 0;
                } else if (isalnum((unsigned char) *p) || *p == '-') {
                        if (label == 0 && *p == '-')
                                return false;
                        if (++label > 63)
                                return false;
                } else
                        return false;
                prev = *p;
        }
        return n <= HOSTNAME_MAX && prev != '.' && prev != '-';
}

/* True for the errors that mean "nobody answers for hostname1 on this system": no bus, no
 * hostnamed. Anything else (refused, invalid) is an answer and must not be bypassed. */
static bool bus_unavailable(int r) {
        return r == -ENOENT || r == -ECONNREFUSED || r == -ENOTCONN || r == -EHOSTDOWN ||
               r == -ENXIO || r == -ENOMEDIUM || r == -ECONNRESET || r == -ESRCH;
}

static int set_hostnamed(const char *name, HostnameResult *ret) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        static const char *const methods[] = { "SetStaticHostname", "SetHostname" };
        int r;

        r = sd_bus_open_system(&bus);
        if (r < 0) {
                (void) snprintf(ret->error, sizeof(ret->error), "no system bus: %s", strerror(-r));
                return r;
        }
        for (size_t i = 0; i < 2; i++) {
                sd_bus_error error = SD_BUS_ERROR_NULL;

                /* "interactive" false: never wait for a password prompt. */
                r = sd_bus_call_method(bus, "org.freedesktop.hostname1", "/org/freedesktop/hostname1",
                                       "org.freedesktop.hostname1", methods[i], &error, NULL, "sb",
                                       name, 0);
                if (r < 0) {
                        (void) snprintf(ret->error, sizeof(ret->error), "%s: %s", methods[i],
                                        error.message ? error.message : strerror(-r));
                        sd_bus_error_free(&error);
                        return r;
                }
        }
        return 0;
}

static int set_direct(const char *name, const char *etc_hostname, HostnameResult *ret) {
        _cleanup_free_ char *line = NULL;
        int r;

        if (sethostname(name, strlen(name)) < 0) {
                r = -errno;
                (void) snprintf(ret->error, sizeof(ret->error), "sethostname(): %s", strerror(-r));
                return r;
        }
        if (asprintf(&line, "%s\n", name) < 0) {
                line = NULL;
                return -ENOMEM;
        }
        r = write_file_atomic(etc_hostname, line, strlen(line), 0644);
        if (r < 0)
                (void) snprintf(ret->error, sizeof(ret->error), "writing %s: %s", etc_hostname, strerror(-r));
        return r;
}

int hostname_set(const char *name, const char *etc_hostname, HostnameResult *ret) {
        int r;

        *ret = (HostnameResult) { .method = HOSTNAME_METHOD_HOSTNAMED };
        if (!hostname_is_valid(name))
                return -EINVAL;

        r = set_hostnamed(name, ret);
        if (r >= 0 || !bus_unavailable(r))
                return r;

        *ret = (HostnameResult) { .method = HOSTNAME_METHOD_DIRECT };
        return set_direct(name, etc_hostname, ret);
}
