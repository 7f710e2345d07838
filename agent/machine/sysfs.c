/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "fileio.h"
#include "sysfs.h"

const char *sysfs_root(const char *dir) {
        const char *e;

        if (dir)
                return dir;
        e = getenv("FIRST_BOOT_AGENT_SYSFS_DIR");
        return e && *e ? e : "/sys";
}

int sysfs_read_line(const char *root, const char *path, char **ret) {
        _cleanup_free_ char *full = path_join(root, path), *data = NULL;
        size_t n;
        int r;

        if (!full)
                return -ENOMEM;
        /* Attributes are at most a page. */
        r = read_full_file(full, 4096, &data, NULL);
        if (r < 0)
                return r;
        data[strcspn(data, "\n")] = 0;
        n = strlen(data);
        while (n > 0 && (data[n - 1] == ' ' || data[n - 1] == '\t' || data[n - 1] == '\r'))
                data[--n] = 0;
        if (n == 0)
                return -ENODATA;
        *ret = TAKE_PTR(data);
        return 0;
}
