/* SPDX-License-Identifier: MIT */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "dmi.h"
#include "nic.h"

/* What this machine is, as an operator maps machines to node identities: its physical NICs,
 * the SMBIOS system record, CPUs, memory and disks. The identity step sends part of it to the
 * provisioning server, the flasher's first report carries all of it, and "first-boot-agent
 * inventory" prints it. Gathering never logs and never fails for a missing part: a machine
 * without SMBIOS or NICs gives an inventory without them.
 *
 * As JSON (inventory_to_json()):
 *   {"nics": [{"name": "eno1", "mac": "52:54:00:12:34:56", "driver": "igb"}],
 *    "system": {"uuid": "…", "serial": "…", "vendor": "…", "product": "…"},
 *    "cpus": 8, "memory_bytes": 34359738368,
 *    "disks": [{"name": "nvme0n1", "type": "nvme", "size_bytes": …, "serial": "…",
 *               "wwn": "…", "model": "…", "removable": false}]}
 * Values that are unknown are null. */

typedef struct InventoryDisk {
        char *name;                     /* "nvme0n1" */
        const char *type;               /* "nvme", "virtio", "mmc", "scsi" (static) */
        uint64_t size;                  /* bytes */
        char *serial;
        char *wwn;
        char *model;
        bool removable;
} InventoryDisk;

typedef struct Inventory {
        NicList nics;
        Dmi system;
        unsigned cpus;                  /* online CPUs */
        uint64_t memory;                /* bytes of RAM, 0 when unknown */
        InventoryDisk *disks;           /* whole physical disks: no loop, device-mapper, zram … */
        size_t n_disks;
} Inventory;

/* sysfs_root: see sysfs.h (NULL: /sys or $FIRST_BOOT_AGENT_SYSFS_DIR); the disks always come
 * from the running system through libudev. 0 or -ENOMEM. */
int inventory_gather(const char *sysfs_root, Inventory *ret);
void inventory_done(Inventory *inv);

/* The inventory as the JSON object above; NULL on OOM. */
json_t *inventory_to_json(const Inventory *inv);

/* {"inventory": …} of this machine (gathered now), the members a report carries; NULL when it
 * cannot be gathered (out of memory). */
json_t *inventory_report_fields(void);

/* The serials of the disks that have one, in order, as a NULL-terminated list (may be empty).
 * NULL on OOM. */
char **inventory_disk_serials(const Inventory *inv);
/* The NICs' MACs, in order, NULL-terminated. NULL on OOM. */
char **inventory_macs(const Inventory *inv);
