/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"
#include "nic.h"
#include "string-util.h"
#include "sysfs.h"

int mac_normalize(const char *s, char out[static MAC_STRING_MAX]) {
        char sep = 0;

        if (!s || strlen(s) != MAC_STRING_MAX - 1)
                return -EINVAL;
        for (size_t i = 0; i < MAC_STRING_MAX - 1; i++) {
                if (i % 3 == 2) {
                        if ((s[i] != ':' && s[i] != '-') || (sep && s[i] != sep))
                                return -EINVAL;
                        sep = s[i];
                        out[i] = ':';
                } else {
                        if (!isxdigit((unsigned char) s[i]))
                                return -EINVAL;
                        out[i] = (char) tolower((unsigned char) s[i]);
                }
        }
        out[MAC_STRING_MAX - 1] = 0;
        return 0;
}

void mac_to_dashed(const char *mac, char out[static MAC_STRING_MAX]) {
        size_t i;

        for (i = 0; i < MAC_STRING_MAX - 1 && mac[i]; i++)
                out[i] = mac[i] == ':' ? '-' : mac[i];
        out[i] = 0;
}

static void nic_done(Nic *n) {
        free(n->name);
        free(n->driver);
        *n = (Nic) {};
}

void nic_list_done(NicList *l) {
        if (!l)
                return;
        for (size_t i = 0; i < l->n; i++)
                nic_done(&l->items[i]);
        free(l->items);
        *l = (NicList) {};
}

const Nic *nic_find_by_mac(const NicList *l, const char *mac) {
        char want[MAC_STRING_MAX];

        if (!l || mac_normalize(mac, want) < 0)
                return NULL;
        for (size_t i = 0; i < l->n; i++)
                if (streq(l->items[i].mac, want))
                        return &l->items[i];
        return NULL;
}

static int hex_value(char c) {
        return c >= 'a' ? c - 'a' + 10 : c - '0';
}

static bool exists(const char *root, const char *name, const char *rel) {
        _cleanup_free_ char *p = NULL;
        struct stat st;

        if (asprintf(&p, "%s/class/net/%s/%s", root, name, rel) < 0) {
                p = NULL;
                return false;
        }
        return lstat(p, &st) == 0;
}

static int read_attr(const char *root, const char *name, const char *attr, char **ret) {
        _cleanup_free_ char *rel = NULL;

        if (asprintf(&rel, "class/net/%s/%s", name, attr) < 0) {
                rel = NULL;
                return -ENOMEM;
        }
        return sysfs_read_line(root, rel, ret);
}

/* The driver's name: the last component of device/driver, a symbolic link. */
static char *read_driver(const char *root, const char *name) {
        _cleanup_free_ char *p = NULL;
        char target[256];
        ssize_t n;
        const char *slash;

        if (asprintf(&p, "%s/class/net/%s/device/driver", root, name) < 0) {
                p = NULL;
                return NULL;
        }
        n = readlink(p, target, sizeof(target) - 1);
        if (n <= 0)
                return NULL;
        target[n] = 0;
        slash = strrchr(target, '/');
        return strdup(slash ? slash + 1 : target);
}

/* 1 and the interface filled in when name is a physical Ethernet interface with a usable MAC,
 * 0 when it is not, -ENOMEM. */
static int read_nic(const char *root, const char *name, Nic *ret) {
        _cleanup_free_ char *type = NULL, *addr = NULL, *ifindex = NULL;
        char mac[MAC_STRING_MAX];
        uint64_t idx = 0;
        int r;

        if (!exists(root, name, "device") || exists(root, name, "device/physfn"))
                return 0;
        r = read_attr(root, name, "type", &type);
        if (r == -ENOMEM)
                return r;
        if (r < 0 || !streq(type, "1"))
                return 0;

        r = read_attr(root, name, "bonding_slave/perm_hwaddr", &addr);
        if (r < 0 && r != -ENOMEM)
                r = read_attr(root, name, "address", &addr);
        if (r == -ENOMEM)
                return r;
        if (r < 0 || mac_normalize(addr, mac) < 0)
                return 0;
        /* All zero, or a group address (the lowest bit of the first octet): not an interface's own. */
        if (streq(mac, "00:00:00:00:00:00") || (hex_value(mac[1]) & 1))
                return 0;

        r = read_attr(root, name, "ifindex", &ifindex);
        if (r == -ENOMEM)
                return r;
        if (r >= 0 && (parse_uint64(ifindex, &idx) < 0 || idx > INT32_MAX))
                idx = 0;

        *ret = (Nic) { .ifindex = (int) idx };
        memcpy(ret->mac, mac, sizeof(mac));
        ret->name = strdup(name);
        if (!ret->name)
                return -ENOMEM;
        ret->driver = read_driver(root, name);
        return 1;
}

static int compare_name(const void *a, const void *b) {
        return strcmp(((const Nic *) a)->name, ((const Nic *) b)->name);
}

int nic_enumerate(const char *sysfs, NicList *ret) {
        const char *root = sysfs_root(sysfs);
        _cleanup_free_ char *dir_path = path_join(root, "class/net");
        _cleanup_closedir_ DIR *d = NULL;
        _cleanup_(nic_list_done) NicList l = {};
        struct dirent *de;
        size_t allocated = 0;
        int r;

        if (!dir_path)
                return -ENOMEM;
        d = opendir(dir_path);
        if (!d)
                return -errno;

        while ((de = readdir(d))) {
                Nic n = {};

                if (de->d_name[0] == '.')
                        continue;
                r = read_nic(root, de->d_name, &n);
                if (r < 0)
                        return r;
                if (r == 0)
                        continue;
                if (l.n == allocated) {
                        size_t a = allocated ? allocated * 2 : 4;
                        Nic *p = realloc(l.items, a * sizeof(Nic));

                        if (!p) {
                                nic_done(&n);
                                return -ENOMEM;
                        }
                        l.items = p;
                        allocated = a;
                }
                l.items[l.n++] = n;
        }

        /* Sorted first, so that of two interfaces showing one MAC the same one is kept every time. */
        if (l.n > 1)
                qsort(l.items, l.n, sizeof(Nic), compare_name);
        size_t n = l.n;
        l.n = 0;
        for (size_t i = 0; i < n; i++) {
                bool seen = false;

                for (size_t j = 0; j < l.n; j++)
                        if (streq(l.items[j].mac, l.items[i].mac))
                                seen = true;
                if (seen)
                        nic_done(&l.items[i]);
                else
                        l.items[l.n++] = l.items[i];
        }
        *ret = l;
        l = (NicList) {};
        return 0;
}
