/* SPDX-License-Identifier: MIT */
#pragma once

#include "io-util.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Linux MTD character devices (SPI-NOR and friends): lookup by name, geometry, erase, write,
 * read. */

typedef struct MtdInfo {
        uint8_t type;                   /* MTD_NORFLASH, MTD_RAM, … */
        uint32_t flags;
        uint64_t size;
        uint32_t erase_size;
        uint32_t write_size;
} MtdInfo;

/* The character device (/dev/mtdN) whose sysfs name is name. sysfs_dir NULL: /sys/class/mtd;
 * dev_dir NULL: /dev. -ENOENT when none has that name, -ENOTUNIQ when several do. */
int mtd_find_by_name(const char *sysfs_dir, const char *dev_dir, const char *name, char **ret_path);

/* Opens the device read-write and reads its geometry (MEMGETINFO). Returns the fd. */
int mtd_open(const char *path, MtdInfo *ret_info);
bool mtd_info_writable(const MtdInfo *info);
const char *mtd_type_to_string(uint8_t type);

/* Erases [offset, offset + size); both must be multiples of the erase size. */
int mtd_erase(int fd, const MtdInfo *info, uint64_t offset, uint64_t size);
/* Reads and writes are plain pread_full()/pwrite_full() (io-util.h) on the fd. */
