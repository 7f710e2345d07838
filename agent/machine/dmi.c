/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cleanup.h"
#include "dmi.h"
#include "macro.h"
#include "sysfs.h"

bool dmi_value_is_placeholder(const char *s) {
        static const char *const words[] = {
                "none", "not specified", "not applicable", "not available", "n/a", "na", "unknown",
                "to be filled by o.e.m.", "default string", "system serial number",
                "system product name", "system manufacturer", "chassis serial number", "oem",
                "0123456789", "123456789", "xxxxxxxxxx",
                /* The UUID a family of boards ships with, the same on every one. */
                "03000200-0400-0500-0006-000700080009",
        };
        bool all_same = true;

        if (!s || !*s)
                return true;
        for (size_t i = 0; i < ELEMENTSOF(words); i++)
                if (strcasecmp(s, words[i]) == 0)
                        return true;
        /* "0000…", "ffff-ffff…", "        ": one character repeated, dashes aside. */
        for (const char *p = s; *p; p++)
                if (*p != '-' && tolower((unsigned char) *p) != tolower((unsigned char) s[0]))
                        all_same = false;
        return all_same;
}

/* The attribute when it holds a real value; NULL otherwise. */
static int read_value(const char *root, const char *attr, bool lower, char **ret, bool *unreadable) {
        _cleanup_free_ char *rel = NULL, *v = NULL;
        int r;

        *ret = NULL;
        if (asprintf(&rel, "class/dmi/id/%s", attr) < 0) {
                rel = NULL;
                return -ENOMEM;
        }
        r = sysfs_read_line(root, rel, &v);
        if (r == -ENOMEM)
                return r;
        if (r == -EACCES || r == -EPERM)
                *unreadable = true;
        if (r < 0 || dmi_value_is_placeholder(v))
                return 0;
        if (lower)
                for (char *p = v; *p; p++)
                        *p = (char) tolower((unsigned char) *p);
        *ret = TAKE_PTR(v);
        return 0;
}

int dmi_read(const char *sysfs, Dmi *ret) {
        const char *root = sysfs_root(sysfs);
        Dmi d = {};

        if (read_value(root, "product_uuid", true, &d.uuid, &d.unreadable) < 0 ||
            read_value(root, "product_serial", false, &d.serial, &d.unreadable) < 0 ||
            read_value(root, "sys_vendor", false, &d.vendor, &d.unreadable) < 0 ||
            read_value(root, "product_name", false, &d.product, &d.unreadable) < 0) {
                dmi_done(&d);
                return -ENOMEM;
        }
        *ret = d;
        return 0;
}

void dmi_done(Dmi *d) {
        if (!d)
                return;
        free(d->uuid);
        free(d->serial);
        free(d->vendor);
        free(d->product);
        *d = (Dmi) {};
}
