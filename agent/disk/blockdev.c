/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <libudev.h>

#include "blockdev.h"
#include "cleanup.h"
#include "fileio.h"
#include "string-util.h"
#include "strv.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct udev *, udev_unref);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct udev_enumerate *, udev_enumerate_unref);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct udev_device *, udev_device_unref);

static const char *const kind_table[_BLOCK_KIND_MAX] = {
        [BLOCK_KIND_NVME] = "nvme",
        [BLOCK_KIND_VIRTIO] = "virtio",
        [BLOCK_KIND_MMC] = "mmc",
        [BLOCK_KIND_SCSI] = "scsi",
        [BLOCK_KIND_LOOP] = "loop",
        [BLOCK_KIND_OTHER] = "other",
};

const char *blockdev_kind_to_string(BlockDeviceKind k) {
        return k >= 0 && k < _BLOCK_KIND_MAX ? kind_table[k] : NULL;
}

/* A copy without surrounding white space; NULL for NULL or an empty result. */
static char *strdup_trimmed(const char *s) {
        size_t n;

        if (!s)
                return NULL;
        while (isspace((unsigned char) *s))
                s++;
        n = strlen(s);
        while (n > 0 && isspace((unsigned char) s[n - 1]))
                n--;
        return n > 0 ? strndup(s, n) : NULL;
}

/* The first of the udev properties and sysfs attributes that has a value. */
static char *first_value(struct udev_device *d, const char *const *props,
                         const char *const *attrs) {
        for (const char *const *p = props; p && *p; p++) {
                char *v = strdup_trimmed(udev_device_get_property_value(d, *p));

                if (v)
                        return v;
        }
        for (const char *const *a = attrs; a && *a; a++) {
                char *v = strdup_trimmed(udev_device_get_sysattr_value(d, *a));

                if (v)
                        return v;
        }
        return NULL;
}

/* SCSI unit serial number from VPD page 0x80 (binary: 4-byte header, then the text). */
static char *scsi_vpd_serial(const char *syspath) {
        _cleanup_free_ char *p = NULL, *data = NULL;
        size_t size;

        if (asprintf(&p, "%s/device/vpd_pg80", syspath) < 0)
                return NULL;
        if (read_full_file(p, 4096, &data, &size) < 0 || size <= 4)
                return NULL;
        return strdup_trimmed(data + 4);
}

static BlockDeviceKind classify(const char *sysname) {
        if (startswith(sysname, "nvme"))
                return BLOCK_KIND_NVME;
        if (startswith(sysname, "vd"))
                return BLOCK_KIND_VIRTIO;
        if (startswith(sysname, "mmcblk"))
                return BLOCK_KIND_MMC;
        if (startswith(sysname, "sd"))
                return BLOCK_KIND_SCSI;
        if (startswith(sysname, "loop"))
                return BLOCK_KIND_LOOP;
        return BLOCK_KIND_OTHER;
}

static int add_dir_entries(const char *dir, char ***l) {
        _cleanup_closedir_ DIR *d = opendir(dir);
        struct dirent *de;
        int r;

        if (!d)
                return errno == ENOENT ? 0 : -errno;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                r = strv_extend(l, de->d_name);
                if (r < 0)
                        return r;
        }
        return 0;
}

static unsigned attr_unsigned(struct udev_device *d, const char *attr, unsigned def) {
        const char *v = udev_device_get_sysattr_value(d, attr);
        uint64_t u;

        if (!v || parse_uint64(v, &u) < 0 || u > UINT_MAX)
                return def;
        return (unsigned) u;
}

static void device_done(BlockDevice *b) {
        free(b->sysname);
        free(b->devnode);
        free(b->syspath);
        free(b->serial);
        free(b->wwn);
        free(b->model);
        free(b->backing_file);
        free(b->partitions);
        strv_free(b->holders);
        strv_free(b->links);
}

static int read_partitions(struct udev *udev, struct udev_device *disk, BlockDevice *b) {
        _cleanup_(udev_enumerate_unrefp) struct udev_enumerate *e = udev_enumerate_new(udev);
        struct udev_list_entry *item;
        _cleanup_free_ char *holders_dir = NULL;
        int r;

        if (!e)
                return -ENOMEM;
        if (udev_enumerate_add_match_parent(e, disk) < 0 ||
            udev_enumerate_add_match_subsystem(e, "block") < 0 ||
            udev_enumerate_add_match_property(e, "DEVTYPE", "partition") < 0 ||
            udev_enumerate_scan_devices(e) < 0)
                return -EIO;

        udev_list_entry_foreach(item, udev_enumerate_get_list_entry(e)) {
                _cleanup_(udev_device_unrefp) struct udev_device *p = NULL;
                _cleanup_free_ char *dir = NULL;
                dev_t *n;

                p = udev_device_new_from_syspath(udev, udev_list_entry_get_name(item));
                if (!p || !udev_device_get_devtype(p) || !streq(udev_device_get_devtype(p), "partition"))
                        continue;
                n = realloc(b->partitions, (b->n_partitions + 1) * sizeof *n);
                if (!n)
                        return -ENOMEM;
                b->partitions = n;
                b->partitions[b->n_partitions++] = udev_device_get_devnum(p);
                if (asprintf(&dir, "%s/holders", udev_device_get_syspath(p)) < 0)
                        return -ENOMEM;
                r = add_dir_entries(dir, &b->holders);
                if (r < 0)
                        return r;
        }
        if (asprintf(&holders_dir, "%s/holders", b->syspath) < 0)
                return -ENOMEM;
        return add_dir_entries(holders_dir, &b->holders);
}

static int read_device(struct udev *udev, struct udev_device *d, BlockDevice *b) {
        static const char *const serial_props[] = { "ID_SERIAL_SHORT", NULL };
        static const char *const serial_attrs[] = { "serial", "device/serial", NULL };
        static const char *const wwn_props[] = { "ID_WWN_WITH_EXTENSION", "ID_WWN", NULL };
        static const char *const wwn_attrs[] = { "wwid", "device/wwid", NULL };
        static const char *const model_props[] = { "ID_MODEL", NULL };
        static const char *const model_attrs[] = { "device/model", "device/name", NULL };
        struct udev_list_entry *link;
        const char *v;
        uint64_t sectors = 0;

        b->sysname = strdup(udev_device_get_sysname(d));
        b->syspath = strdup(udev_device_get_syspath(d));
        b->devnode = strdup(udev_device_get_devnode(d));
        if (!b->sysname || !b->syspath || !b->devnode)
                return -ENOMEM;
        b->devnum = udev_device_get_devnum(d);
        b->kind = classify(b->sysname);

        v = udev_device_get_sysattr_value(d, "size");
        if (v && parse_uint64(v, &sectors) >= 0)
                b->size = sectors * 512;
        b->logical_block_size = attr_unsigned(d, "queue/logical_block_size", 512);
        b->physical_block_size = attr_unsigned(d, "queue/physical_block_size", b->logical_block_size);
        b->read_only = attr_unsigned(d, "ro", 0) != 0;
        b->removable = attr_unsigned(d, "removable", 0) != 0;

        b->serial = first_value(d, serial_props, serial_attrs);
        if (!b->serial && b->kind == BLOCK_KIND_SCSI)
                b->serial = scsi_vpd_serial(b->syspath);
        b->wwn = first_value(d, wwn_props, wwn_attrs);
        b->model = first_value(d, model_props, model_attrs);
        if (b->kind == BLOCK_KIND_LOOP)
                b->backing_file = strdup_trimmed(udev_device_get_sysattr_value(d, "loop/backing_file"));

        udev_list_entry_foreach(link, udev_device_get_devlinks_list_entry(d))
                if (strv_extend(&b->links, udev_list_entry_get_name(link)) < 0)
                        return -ENOMEM;

        return read_partitions(udev, d, b);
}

int blockdev_enumerate(BlockDeviceList *ret) {
        _cleanup_(udev_unrefp) struct udev *udev = udev_new();
        _cleanup_(udev_enumerate_unrefp) struct udev_enumerate *e = NULL;
        struct udev_list_entry *item;
        BlockDeviceList l = {};
        int r;

        if (!udev)
                return -ENOMEM;
        e = udev_enumerate_new(udev);
        if (!e)
                return -ENOMEM;
        if (udev_enumerate_add_match_subsystem(e, "block") < 0 ||
            udev_enumerate_add_match_property(e, "DEVTYPE", "disk") < 0 ||
            udev_enumerate_scan_devices(e) < 0)
                return -EIO;

        udev_list_entry_foreach(item, udev_enumerate_get_list_entry(e)) {
                _cleanup_(udev_device_unrefp) struct udev_device *d = NULL;
                const char *sysname, *size;
                BlockDevice *n;

                d = udev_device_new_from_syspath(udev, udev_list_entry_get_name(item));
                if (!d || !udev_device_get_devnode(d))
                        continue;
                sysname = udev_device_get_sysname(d);
                size = udev_device_get_sysattr_value(d, "size");
                if (!size || streq(size, "0"))
                        continue;
                if (startswith(sysname, "mmcblk") && (strstr(sysname, "boot") || strstr(sysname, "rpmb")))
                        continue;

                n = realloc(l.items, (l.n + 1) * sizeof *n);
                if (!n) {
                        blockdev_list_done(&l);
                        return -ENOMEM;
                }
                l.items = n;
                l.items[l.n] = (BlockDevice) {};
                r = read_device(udev, d, &l.items[l.n]);
                l.n++;
                if (r < 0) {
                        blockdev_list_done(&l);
                        return r;
                }
        }
        *ret = l;
        return 0;
}

void blockdev_list_done(BlockDeviceList *l) {
        for (size_t i = 0; i < l->n; i++)
                device_done(&l->items[i]);
        free(l->items);
        *l = (BlockDeviceList) {};
}

static int add_unique(dev_t **l, size_t *n, dev_t d) {
        dev_t *p;

        for (size_t i = 0; i < *n; i++)
                if ((*l)[i] == d)
                        return 0;
        p = realloc(*l, (*n + 1) * sizeof *p);
        if (!p)
                return -ENOMEM;
        *l = p;
        p[(*n)++] = d;
        return 0;
}

static int read_devnum(const char *path, dev_t *ret) {
        _cleanup_free_ char *data = NULL;
        unsigned maj, min;

        if (read_full_file(path, 64, &data, NULL) < 0 || sscanf(data, "%u:%u", &maj, &min) != 2)
                return -EINVAL;
        *ret = makedev(maj, min);
        return 0;
}

static int collect_disks(const char *sysdir, unsigned depth, dev_t **l, size_t *n) {
        _cleanup_free_ char *part = NULL, *slaves = NULL, *dev = NULL, *parent_dev = NULL;
        _cleanup_strv_free_ char **names = NULL;
        dev_t d;
        int r;

        if (depth > 16)
                return -ELOOP;
        if (asprintf(&slaves, "%s/slaves", sysdir) < 0 || asprintf(&part, "%s/partition", sysdir) < 0 ||
            asprintf(&dev, "%s/dev", sysdir) < 0 || asprintf(&parent_dev, "%s/../dev", sysdir) < 0)
                return -ENOMEM;

        r = add_dir_entries(slaves, &names);
        if (r < 0)
                return r;
        if (names) {
                STRV_FOREACH(s, names) {
                        _cleanup_free_ char *sub = NULL;

                        if (asprintf(&sub, "%s/slaves/%s", sysdir, *s) < 0)
                                return -ENOMEM;
                        r = collect_disks(sub, depth + 1, l, n);
                        if (r < 0)
                                return r;
                }
                return 0;
        }
        /* A partition's disk is its parent directory. */
        r = read_devnum(access(part, F_OK) >= 0 ? parent_dev : dev, &d);
        if (r < 0)
                return r;
        return add_unique(l, n, d);
}

int blockdev_backing_disks(dev_t dev, dev_t **ret, size_t *ret_n) {
        _cleanup_free_ char *sysdir = NULL;
        _cleanup_free_ dev_t *l = NULL;
        char resolved[PATH_MAX];
        size_t n = 0;
        int r;

        if (major(dev) == 0) {
                *ret = NULL;
                *ret_n = 0;
                return 0;
        }
        if (asprintf(&sysdir, "/sys/dev/block/%u:%u", major(dev), minor(dev)) < 0)
                return -ENOMEM;
        if (!realpath(sysdir, resolved))
                return -errno;
        r = collect_disks(resolved, 0, &l, &n);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(l);
        *ret_n = n;
        return 0;
}

int blockdev_open_exclusive(const char *devnode) {
        _cleanup_close_ int fd = -1;
        struct stat st;

        fd = open(devnode, O_RDWR | O_EXCL | O_DIRECT | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISBLK(st.st_mode))
                return -ENOTBLK;
        return TAKE_FD(fd);
}

int blockdev_reread_partitions(int fd) {
        if (ioctl(fd, BLKRRPART, 0) < 0)
                return -errno;
        return 0;
}
