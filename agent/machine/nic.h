/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* The machine's physical network interfaces and their burnt-in MAC addresses, as a provisioning
 * server knows them. Read from sysfs (class/net); never logs.
 *
 * Physical: the interface has a device behind it (class/net/NAME/device) and is Ethernet
 * (type 1). Bridges, bonds, VLANs, veths, tunnels and the loopback have no device and are left
 * out, as are SR-IOV virtual functions (device/physfn). A bond's member reports the bond's MAC
 * as its own; its permanent one (bonding_slave/perm_hwaddr) is used instead, and a MAC seen
 * twice is listed once. */

#define MAC_STRING_MAX 18               /* "52:54:00:12:34:56" and NUL */

typedef struct Nic {
        char *name;                     /* "enp1s0" */
        char mac[MAC_STRING_MAX];       /* lower case, colon separated */
        char *driver;                   /* "virtio_net", NULL when unknown */
        int ifindex;                    /* 0 when unknown */
} Nic;

typedef struct NicList {
        Nic *items;
        size_t n;
} NicList;

/* Every physical interface under sysfs_root (see sysfs.h), sorted by name. A machine without
 * one gives an empty list. Returns 0, -ENOMEM, or the errno of an unreadable class/net. */
int nic_enumerate(const char *sysfs_root, NicList *ret);
void nic_list_done(NicList *l);
/* The interface with that MAC (any case, ':' or '-' separated), or NULL. */
const Nic *nic_find_by_mac(const NicList *l, const char *mac);

/* Writes the MAC in lower case with ':' into out. Accepts six pairs of hex digits separated by
 * ':' or '-'. -EINVAL for anything else. */
int mac_normalize(const char *s, char out[static MAC_STRING_MAX]);
/* "52-54-00-12-34-56": the form used in file names and URL paths. */
void mac_to_dashed(const char *mac, char out[static MAC_STRING_MAX]);
