/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"
#include "nic.h"
#include "tap.h"

/* The physical NICs of a sysfs tree made here: what counts as physical, which MAC is a NIC's
 * own, and the MAC forms. */

static char root[] = "/tmp/test-nic.XXXXXX";

static void put(const char *rel, const char *value) {
        _cleanup_free_ char *p = path_join(root, rel), *dir = NULL;

        dir = strndup(p, strrchr(p, '/') - p);
        (void) mkdir_p(dir, 0755);
        (void) write_file_atomic(p, value, strlen(value), 0644);
}

static void link_to(const char *rel, const char *target) {
        _cleanup_free_ char *p = path_join(root, rel);

        (void) !symlink(target, p);
}

/* A NIC with a device behind it. */
static void nic(const char *name, const char *type, const char *mac) {
        char rel[256], target[256];

        snprintf(rel, sizeof rel, "devices/pci0000:00/%s/vendor", name);
        put(rel, "0x8086\n");
        snprintf(rel, sizeof rel, "class/net/%s/type", name);
        put(rel, type);
        snprintf(rel, sizeof rel, "class/net/%s/address", name);
        put(rel, mac);
        snprintf(rel, sizeof rel, "class/net/%s/ifindex", name);
        put(rel, "7\n");
        snprintf(rel, sizeof rel, "class/net/%s/device", name);
        snprintf(target, sizeof target, "../../../devices/pci0000:00/%s", name);
        link_to(rel, target);
        snprintf(rel, sizeof rel, "devices/pci0000:00/%s/driver", name);
        link_to(rel, "../../../bus/pci/drivers/igb");
}

int main(void) {
        NicList l = {};
        char mac[MAC_STRING_MAX];

        is_int(mac_normalize("52:54:00:AB:cd:01", mac), 0, "colons, mixed case");
        is_str(mac, "52:54:00:ab:cd:01", "lower case");
        is_int(mac_normalize("52-54-00-AB-CD-01", mac), 0, "dashes");
        is_str(mac, "52:54:00:ab:cd:01", "colons");
        is_int(mac_normalize("52-54:00-ab-cd-01", mac), -EINVAL, "mixed separators refused");
        is_int(mac_normalize("52:54:00:ab:cd", mac), -EINVAL, "five octets refused");
        is_int(mac_normalize("52:54:00:ab:cd:0g", mac), -EINVAL, "not hex refused");
        mac_to_dashed("52:54:00:ab:cd:01", mac);
        is_str(mac, "52-54-00-ab-cd-01", "the dashed form");

        if (!mkdtemp(root)) {
                ok(false, "temporary directory");
                return tap_done();
        }
        nic("eno2", "1\n", "52:54:00:00:00:02\n");
        nic("eno1", "1\n", "52:54:00:00:00:01\n");
        /* A bond member shows the bond's (eno1's) MAC; its own is perm_hwaddr. */
        nic("eno3", "1\n", "52:54:00:00:00:01\n");
        put("class/net/eno3/bonding_slave/perm_hwaddr", "52:54:00:00:00:03\n");
        /* The second member of another bond without perm_hwaddr: the MAC is listed once. */
        nic("eno4", "1\n", "52:54:00:00:00:02\n");
        /* An SR-IOV virtual function. */
        nic("eno5", "1\n", "52:54:00:00:00:05\n");
        put("devices/pci0000:00/eno5/physfn/vendor", "0x8086\n");
        /* InfiniBand, a group address, all zero. */
        nic("ib0", "32\n", "52:54:00:00:00:06\n");
        nic("eno7", "1\n", "53:54:00:00:00:07\n");
        nic("eno8", "1\n", "00:00:00:00:00:00\n");
        /* No device: a bridge, the loopback. */
        put("class/net/br0/type", "1\n");
        put("class/net/br0/address", "52:54:00:00:00:09\n");
        put("class/net/lo/type", "772\n");

        is_int(nic_enumerate(root, &l), 0, "enumerate");
        is_int(l.n, 3, "three physical NICs");
        if (l.n == 3) {
                is_str(l.items[0].name, "eno1", "sorted by name: eno1");
                is_str(l.items[0].mac, "52:54:00:00:00:01", "its MAC");
                is_str(l.items[0].driver, "igb", "its driver");
                is_int(l.items[0].ifindex, 7, "its ifindex");
                is_str(l.items[1].name, "eno2", "eno2");
                is_str(l.items[2].name, "eno3", "eno3, the bond member");
                is_str(l.items[2].mac, "52:54:00:00:00:03", "by its permanent MAC");
        }
        ok(nic_find_by_mac(&l, "52-54-00-00-00-03") == &l.items[2], "found by MAC in any form");
        ok(nic_find_by_mac(&l, "52:54:00:00:00:05") == NULL, "the VF is not there");
        ok(nic_find_by_mac(&l, "nonsense") == NULL, "nonsense finds nothing");
        nic_list_done(&l);

        {
                _cleanup_free_ char *none = path_join(root, "nothing");

                is_int(nic_enumerate(none, &l), -ENOENT, "no class/net: -ENOENT");
        }
        {
                char cmd[64];

                snprintf(cmd, sizeof cmd, "rm -rf %s", root);
                (void) !system(cmd);
        }
        return tap_done();
}
