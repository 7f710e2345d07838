/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <mtd/mtd-user.h>

#include "cleanup.h"
#include "fileio.h"
#include "mtd.h"
#include "string-util.h"

int mtd_find_by_name(const char *sysfs_dir, const char *dev_dir, const char *name, char **ret_path) {
        _cleanup_closedir_ DIR *d = NULL;
        _cleanup_free_ char *found = NULL;
        struct dirent *de;

        sysfs_dir = sysfs_dir ?: "/sys/class/mtd";
        dev_dir = dev_dir ?: "/dev";
        d = opendir(sysfs_dir);
        if (!d)
                return errno == ENOENT ? -ENOENT : -errno;

        while ((de = readdir(d))) {
                _cleanup_free_ char *p = NULL, *data = NULL;
                size_t size;
                const char *s = de->d_name;

                /* "mtd0" but not "mtd0ro". */
                if (!startswith(s, "mtd") || !s[3])
                        continue;
                if (strspn(s + 3, "0123456789") != strlen(s + 3))
                        continue;
                if (asprintf(&p, "%s/%s/name", sysfs_dir, s) < 0)
                        return -ENOMEM;
                if (read_full_file(p, 4096, &data, &size) < 0)
                        continue;
                if (size > 0 && data[size - 1] == '\n')
                        data[size - 1] = '\0';
                if (!streq(data, name))
                        continue;
                if (found)
                        return -ENOTUNIQ;
                if (asprintf(&found, "%s/%s", dev_dir, s) < 0)
                        return -ENOMEM;
        }
        if (!found)
                return -ENOENT;
        *ret_path = TAKE_PTR(found);
        return 0;
}

int mtd_open(const char *path, MtdInfo *ret_info) {
        _cleanup_close_ int fd = -1;
        struct mtd_info_user mi = {};

        fd = open(path, O_RDWR | O_CLOEXEC | O_SYNC);
        if (fd < 0)
                return -errno;
        if (ioctl(fd, MEMGETINFO, &mi) < 0)
                return errno == ENOTTY ? -ENOTTY : -errno;
        if (mi.erasesize == 0 || mi.size == 0)
                return -EINVAL;
        *ret_info = (MtdInfo) {
                .type = mi.type,
                .flags = mi.flags,
                .size = mi.size,
                .erase_size = mi.erasesize,
                .write_size = mi.writesize ?: 1,
        };
        return TAKE_FD(fd);
}

bool mtd_info_writable(const MtdInfo *info) {
        return info->flags & MTD_WRITEABLE;
}

const char *mtd_type_to_string(uint8_t type) {
        switch (type) {
        case MTD_ABSENT:
                return "absent";
        case MTD_RAM:
                return "ram";
        case MTD_ROM:
                return "rom";
        case MTD_NORFLASH:
                return "nor";
        case MTD_NANDFLASH:
                return "nand";
        case MTD_DATAFLASH:
                return "dataflash";
        case MTD_UBIVOLUME:
                return "ubi";
        case MTD_MLCNANDFLASH:
                return "mlc-nand";
        default:
                return "unknown";
        }
}

int mtd_erase(int fd, const MtdInfo *info, uint64_t offset, uint64_t size) {
        if (offset % info->erase_size != 0 || size % info->erase_size != 0 ||
            offset + size > info->size || offset + size < offset)
                return -EINVAL;
        for (uint64_t o = offset; o < offset + size; o += info->erase_size) {
                struct erase_info_user64 e = { .start = o, .length = info->erase_size };

                if (ioctl(fd, MEMERASE64, &e) < 0)
                        return -errno;
        }
        return 0;
}
