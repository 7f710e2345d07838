/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Whole-disk block devices and their identifying properties, read with libudev from sysfs (the
 * udev database adds ID_SERIAL_SHORT, ID_WWN and ID_MODEL when a udev daemon runs; without one,
 * as in an installer initramfs, the sysfs attributes still give them). */

typedef enum BlockDeviceKind {
        BLOCK_KIND_NVME,
        BLOCK_KIND_VIRTIO,
        BLOCK_KIND_MMC,
        BLOCK_KIND_SCSI,
        BLOCK_KIND_LOOP,
        BLOCK_KIND_OTHER,               /* dm, md, zram, nbd, …: only by path */
        _BLOCK_KIND_MAX,
} BlockDeviceKind;

typedef struct BlockDevice {
        char *sysname;                  /* "nvme0n1" */
        char *devnode;                  /* "/dev/nvme0n1" */
        char *syspath;
        dev_t devnum;
        BlockDeviceKind kind;
        uint64_t size;                  /* bytes */
        unsigned logical_block_size;
        unsigned physical_block_size;
        char *serial;                   /* NULL when unknown */
        char *wwn;
        char *model;
        char *backing_file;             /* loop devices */
        bool read_only;
        bool removable;
        dev_t *partitions;
        size_t n_partitions;
        char **holders;                 /* "dm-0", … of the disk and its partitions (NULL-terminated) */
        char **links;                   /* /dev/disk/by-… from the udev database, may be NULL */
} BlockDevice;

typedef struct BlockDeviceList {
        BlockDevice *items;
        size_t n;
} BlockDeviceList;

/* Every whole disk with a non-zero size. mmcblk boot and RPMB areas are left out. */
int blockdev_enumerate(BlockDeviceList *ret);
void blockdev_list_done(BlockDeviceList *l);
const char *blockdev_kind_to_string(BlockDeviceKind k);

/* The whole disks under a device: itself for a disk, its disk for a partition, the disks under
 * every slave for dm and md devices (recursively). Deduplicated; *ret_n may be 0 (tmpfs, …). */
int blockdev_backing_disks(dev_t dev, dev_t **ret, size_t *ret_n);

/* Opens a whole disk for writing: O_EXCL (fails with -EBUSY while mounted or claimed by
 * another exclusive opener) and O_DIRECT. */
int blockdev_open_exclusive(const char *devnode);

/* Asks the kernel to read the partition table again (BLKRRPART). */
int blockdev_reread_partitions(int fd);
