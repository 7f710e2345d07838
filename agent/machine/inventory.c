/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "blockdev.h"
#include "cleanup.h"
#include "inventory.h"
#include "strv.h"

static void disk_done(InventoryDisk *d) {
        free(d->name);
        free(d->serial);
        free(d->wwn);
        free(d->model);
        *d = (InventoryDisk) {};
}

void inventory_done(Inventory *inv) {
        if (!inv)
                return;
        nic_list_done(&inv->nics);
        dmi_done(&inv->system);
        for (size_t i = 0; i < inv->n_disks; i++)
                disk_done(&inv->disks[i]);
        free(inv->disks);
        *inv = (Inventory) {};
}

static int dup_or_null(const char *s, char **ret) {
        *ret = NULL;
        if (!s)
                return 0;
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

/* The disks a machine is bought with: loop devices, device-mapper, zram and the like are not. */
static int gather_disks(Inventory *inv) {
        _cleanup_(blockdev_list_done) BlockDeviceList l = {};
        int r;

        r = blockdev_enumerate(&l);
        if (r == -ENOMEM)
                return r;
        if (r < 0 || l.n == 0)
                return 0;       /* no udev, no disks: an inventory without them */

        inv->disks = calloc(l.n, sizeof(InventoryDisk));
        if (!inv->disks)
                return -ENOMEM;
        for (size_t i = 0; i < l.n; i++) {
                const BlockDevice *b = &l.items[i];
                InventoryDisk *d = &inv->disks[inv->n_disks];

                if (b->kind == BLOCK_KIND_LOOP || b->kind == BLOCK_KIND_OTHER)
                        continue;
                inv->n_disks++;
                d->type = blockdev_kind_to_string(b->kind);
                d->size = b->size;
                d->removable = b->removable;
                if (dup_or_null(b->sysname, &d->name) < 0 || dup_or_null(b->serial, &d->serial) < 0 ||
                    dup_or_null(b->wwn, &d->wwn) < 0 || dup_or_null(b->model, &d->model) < 0)
                        return -ENOMEM;
        }
        return 0;
}

int inventory_gather(const char *sysfs, Inventory *ret) {
        _cleanup_(inventory_done) Inventory inv = {};
        struct sysinfo si;
        long cpus;
        int r;

        r = nic_enumerate(sysfs, &inv.nics);
        if (r == -ENOMEM)
                return r;
        r = dmi_read(sysfs, &inv.system);
        if (r < 0)
                return r;
        cpus = sysconf(_SC_NPROCESSORS_ONLN);
        inv.cpus = cpus > 0 ? (unsigned) cpus : 0;
        if (sysinfo(&si) == 0)
                inv.memory = (uint64_t) si.totalram * si.mem_unit;
        r = gather_disks(&inv);
        if (r < 0)
                return r;

        *ret = inv;
        inv = (Inventory) {};
        return 0;
}

json_t *inventory_to_json(const Inventory *inv) {
        _cleanup_(json_decrefp) json_t *o = NULL, *nics = json_array(), *disks = json_array();

        if (!nics || !disks)
                return NULL;
        for (size_t i = 0; i < inv->nics.n; i++) {
                const Nic *n = &inv->nics.items[i];

                if (json_array_append_new(nics, json_pack("{s:s, s:s, s:s?}", "name", n->name,
                                                          "mac", n->mac, "driver", n->driver)) < 0)
                        return NULL;
        }
        for (size_t i = 0; i < inv->n_disks; i++) {
                const InventoryDisk *d = &inv->disks[i];

                if (json_array_append_new(disks, json_pack("{s:s, s:s?, s:I, s:s?, s:s?, s:s?, s:b}",
                                                           "name", d->name, "type", d->type,
                                                           "size_bytes", (json_int_t) d->size,
                                                           "serial", d->serial, "wwn", d->wwn,
                                                           "model", d->model, "removable", d->removable)) < 0)
                        return NULL;
        }
        o = json_pack("{s:O, s:{s:s?, s:s?, s:s?, s:s?}, s:I, s:I, s:O}",
                      "nics", nics,
                      "system", "uuid", inv->system.uuid, "serial", inv->system.serial,
                      "vendor", inv->system.vendor, "product", inv->system.product,
                      "cpus", (json_int_t) inv->cpus,
                      "memory_bytes", (json_int_t) inv->memory,
                      "disks", disks);
        return TAKE_PTR(o);
}

json_t *inventory_report_fields(void) {
        _cleanup_(inventory_done) Inventory inv = {};

        if (inventory_gather(NULL, &inv) < 0)
                return NULL;
        return json_pack("{s:o?}", "inventory", inventory_to_json(&inv));
}

char **inventory_disk_serials(const Inventory *inv) {
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));

        if (!l)
                return NULL;
        for (size_t i = 0; i < inv->n_disks; i++)
                if (inv->disks[i].serial && !strv_contains(l, inv->disks[i].serial) &&
                    strv_extend(&l, inv->disks[i].serial) < 0)
                        return NULL;
        return TAKE_PTR(l);
}

char **inventory_macs(const Inventory *inv) {
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));

        if (!l)
                return NULL;
        for (size_t i = 0; i < inv->nics.n; i++)
                if (strv_extend(&l, inv->nics.items[i].mac) < 0)
                        return NULL;
        return TAKE_PTR(l);
}
