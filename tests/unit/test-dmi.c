/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cleanup.h"
#include "dmi.h"
#include "fileio.h"
#include "tap.h"

/* The SMBIOS record from a sysfs tree made here; placeholders count as absent. */

static char root[] = "/tmp/test-dmi.XXXXXX";

static void put(const char *attr, const char *value) {
        _cleanup_free_ char *dir = path_join(root, "class/dmi/id"), *p = path_join(dir, attr);

        (void) mkdir_p(dir, 0755);
        (void) write_file_atomic(p, value, strlen(value), 0644);
}

int main(void) {
        Dmi d = {};

        ok(dmi_value_is_placeholder("To Be Filled By O.E.M."), "O.E.M. placeholder");
        ok(dmi_value_is_placeholder("Default string"), "Default string");
        ok(dmi_value_is_placeholder("0123456789"), "0123456789");
        ok(dmi_value_is_placeholder("00000000-0000-0000-0000-000000000000"), "the all-zero UUID");
        ok(dmi_value_is_placeholder("FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF"), "the all-F UUID");
        ok(dmi_value_is_placeholder("03000200-0400-0500-0006-000700080009"), "the UUID every board of a family has");
        ok(dmi_value_is_placeholder("   "), "blanks");
        ok(dmi_value_is_placeholder(""), "empty");
        ok(!dmi_value_is_placeholder("CZ1234ABCD"), "a real serial");
        ok(!dmi_value_is_placeholder("4c4c4544-0044-3010-8052-b4c04f4d4e31"), "a real UUID");

        if (!mkdtemp(root)) {
                ok(false, "temporary directory");
                return tap_done();
        }
        is_int(dmi_read(root, &d), 0, "no SMBIOS at all: read");
        ok(!d.uuid && !d.serial && !d.vendor && !d.product, "an empty record");
        dmi_done(&d);

        put("product_uuid", "4C4C4544-0044-3010-8052-B4C04F4D4E31\n");
        put("product_serial", "System Serial Number\n");
        put("sys_vendor", "Dell Inc.  \n");
        put("product_name", "PowerEdge R650\n");
        is_int(dmi_read(root, &d), 0, "read");
        is_str(d.uuid, "4c4c4544-0044-3010-8052-b4c04f4d4e31", "UUID in lower case");
        ok(d.serial == NULL, "placeholder serial: absent");
        is_str(d.vendor, "Dell Inc.", "vendor, trailing blanks removed");
        is_str(d.product, "PowerEdge R650", "product");
        ok(!d.unreadable, "everything readable");
        dmi_done(&d);
        {
                char cmd[64];

                snprintf(cmd, sizeof cmd, "rm -rf %s", root);
                (void) !system(cmd);
        }
        return tap_done();
}
