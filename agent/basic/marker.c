/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"
#include "marker.h"

int marker_write(const char *dir, const char *name) {
        _cleanup_free_ char *path = path_join(dir, name);
        char buf[ISO8601_MAX + 1];
        int r;

        if (!path)
                return -ENOMEM;
        r = iso8601_format(now_realtime(), buf);
        if (r < 0)
                return r;
        size_t n = strlen(buf);
        buf[n++] = '\n';
        return write_file_atomic(path, buf, n, 0644);
}

int marker_exists(const char *dir, const char *name) {
        _cleanup_free_ char *path = path_join(dir, name);

        if (!path)
                return -ENOMEM;
        if (access(path, F_OK) == 0)
                return 1;
        return errno == ENOENT ? 0 : -errno;
}

int marker_read(const char *dir, const char *name, usec_t *ret) {
        _cleanup_free_ char *path = path_join(dir, name), *data = NULL;
        int r;

        if (!path)
                return -ENOMEM;
        r = read_full_file(path, 256, &data, NULL);
        if (r < 0)
                return r;
        r = iso8601_parse(data, ret);
        return r < 0 ? -EBADMSG : 0;
}

int marker_remove(const char *dir, const char *name) {
        _cleanup_free_ char *path = path_join(dir, name);

        if (!path)
                return -ENOMEM;
        if (unlink(path) < 0)
                return errno == ENOENT ? 0 : -errno;
        return 1;
}
