/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "done-marker.h"
#include "fileio.h"
#include "marker.h"
#include "step.h"

static bool same_time(const struct timespec *a, const struct timespec *b) {
        return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

int done_marker_fresh(const char *dir) {
        _cleanup_free_ char *path = path_join(dir, MARKER_DONE);
        struct stat d, m;

        if (!path)
                return -ENOMEM;
        if (stat(path, &m) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (stat(dir, &d) < 0)
                return -errno;
        return same_time(&d.st_mtim, &m.st_mtim);
}

int done_marker_stamp(const char *dir) {
        _cleanup_close_ int fd = -1;
        struct stat d;

        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &d) < 0)
                return -errno;
        /* Changing a file's times leaves the directory's mtime alone. */
        if (utimensat(fd, MARKER_DONE, (const struct timespec[2]) { { .tv_nsec = UTIME_OMIT }, d.st_mtim },
                      AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        return 0;
}

int done_marker_verify(const char *dir, const Config *c, const char **ret_missing) {
        int r;

        *ret_missing = NULL;
        r = marker_exists(dir, MARKER_DONE);
        if (r <= 0)
                return r;

        for (size_t i = 0; i < step_table_size; i++) {
                const Step *s = &step_table[i];
                const char *m;

                if (step_skip_reason(s, c))
                        continue;
                m = s->marker ? s->marker(c) : NULL;
                if (!m)
                        continue;
                r = marker_exists(dir, m);
                if (r < 0)
                        return r;
                if (r == 0) {
                        r = marker_remove(dir, MARKER_DONE);
                        if (r < 0)
                                return r;
                        *ret_missing = m;
                        return 0;
                }
        }

        r = done_marker_stamp(dir);
        return r < 0 ? r : 1;
}
