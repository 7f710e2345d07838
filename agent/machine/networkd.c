/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-bus.h>

#include "cleanup.h"
#include "fileio.h"
#include "networkd.h"


/* A value systemd's unit-file parser reads back as written: one line, no control character, no
 * trailing backslash (it would continue the line), no blank at either end (they are stripped),
 * not empty. */
static bool value_valid(const char *v) {
        size_t n = v ? strlen(v) : 0;

        if (n == 0 || v[0] == ' ' || v[n - 1] == ' ' || v[n - 1] == '\\')
                return false;
        for (const unsigned char *p = (const unsigned char *) v; *p; p++)
                if (*p < 0x20 || *p == 0x7f)
                        return false;
        return true;
}

static int put(FILE *f, const char *key, const char *value, const char **ret_bad) {
        if (!value_valid(value)) {
                *ret_bad = key;
                return -EINVAL;
        }
        fprintf(f, "%s=%s\n", key, value);
        return 0;
}

int networkd_format(const NetworkdStatic *s, char **ret, const char **ret_bad) {
        _cleanup_free_ char *buf = NULL;
        const char *bad = NULL;
        size_t size = 0;
        FILE *f;
        int r;

        if (!s || !s->mac || !s->address)
                return -EINVAL;
        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;
        fputs("# Written by first-boot-agent from this node's configuration (network.static).\n[Match]\n", f);
        r = put(f, "MACAddress", s->mac, &bad);
        if (r >= 0) {
                fputs("\n[Network]\n", f);
                r = put(f, "Address", s->address, &bad);
        }
        if (r >= 0 && s->gateway)
                r = put(f, "Gateway", s->gateway, &bad);
        for (char *const *d = s->dns; r >= 0 && d && *d; d++)
                r = put(f, "DNS", *d, &bad);
        if (fclose(f) != 0)
                return -ENOMEM;
        if (r < 0) {
                if (ret_bad)
                        *ret_bad = bad;
                return r;
        }
        *ret = TAKE_PTR(buf);
        return 0;
}

int networkd_write(const char *dir, const char *name, const char *text) {
        _cleanup_free_ char *path = path_join(dir, name);

        if (!path)
                return -ENOMEM;
        return write_file_if_changed(path, text, 0755, 0644);
}

static int call(sd_bus *bus, const char *method, char *error, size_t error_size, const char *types, ...) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        va_list ap;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, "org.freedesktop.network1", "/org/freedesktop/network1",
                                           "org.freedesktop.network1.Manager", method);
        if (r < 0)
                return r;
        va_start(ap, types);
        r = types ? sd_bus_message_appendv(m, types, ap) : 0;
        va_end(ap);
        if (r < 0)
                return r;
        r = sd_bus_call(bus, m, 0, &e, &reply);
        if (r < 0)
                (void) snprintf(error, error_size, "%s: %s", method, e.message ? e.message : strerror(-r));
        sd_bus_error_free(&e);
        return r;
}

int networkd_apply(int ifindex, char *error, size_t error_size) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int r;

        r = sd_bus_open_system(&bus);
        if (r < 0) {
                (void) snprintf(error, error_size, "no system bus: %s", strerror(-r));
                return r;
        }
        r = call(bus, "Reload", error, error_size, NULL);
        if (r < 0)
                return r;
        if (ifindex > 0)
                r = call(bus, "ReconfigureLink", error, error_size, "i", ifindex);
        return r;
}
