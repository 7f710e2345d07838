/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "mtd.h"
#include "tap.h"

static void add(const char *dir, const char *dev, const char *name) {
        char p[512];
        FILE *f;

        snprintf(p, sizeof p, "%s/%s", dir, dev);
        mkdir(p, 0755);
        snprintf(p, sizeof p, "%s/%s/name", dir, dev);
        f = fopen(p, "w");
        fprintf(f, "%s\n", name);
        fclose(f);
}

int main(void) {
        char dir[] = "/tmp/test-mtd-XXXXXX";
        char *path = NULL;
        MtdInfo info = { .size = 1 << 20, .erase_size = 65536, .write_size = 1 };

        ok(mkdtemp(dir) != NULL, "temporary sysfs");
        add(dir, "mtd0", "u-boot");
        add(dir, "mtd0ro", "u-boot");
        add(dir, "mtd1", "spi-nor firmware");
        add(dir, "mtd2", "dup");
        add(dir, "mtd3", "dup");

        ok(mtd_find_by_name(dir, "/dev", "u-boot", &path) == 0 && streq(path, "/dev/mtd0"),
           "by name, the read-only twin left out");
        free(path);
        ok(mtd_find_by_name(dir, "/dev", "spi-nor firmware", &path) == 0 && streq(path, "/dev/mtd1"),
           "names with spaces");
        free(path);
        is_int(mtd_find_by_name(dir, "/dev", "missing", &path), -ENOENT, "unknown name");
        is_int(mtd_find_by_name(dir, "/dev", "dup", &path), -ENOTUNIQ, "ambiguous name");
        is_int(mtd_find_by_name("/nonexistent", "/dev", "x", &path), -ENOENT, "no MTD class at all");
        is_int(mtd_erase(-1, &info, 1000, 65536), -EINVAL, "unaligned erase refused before any ioctl");
        is_int(mtd_erase(-1, &info, 0, 2 << 20), -EINVAL, "erase past the end refused");
        is_int(mtd_open(dir, &info), -EISDIR, "a directory is no MTD device");
        ok(system("rm -rf /tmp/test-mtd-*") == 0, "cleanup");
        return tap_done();
}
