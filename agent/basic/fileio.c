/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "dir-trust.h"
#include "fileio.h"
#include "secret.h"

int read_full_file(const char *path, size_t max_size, char **ret_data, size_t *ret_size) {
        _cleanup_close_ int fd = -1;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        return read_full_fd(fd, max_size, ret_data, ret_size);
}

int read_full_fd(int fd, size_t max_size, char **ret_data, size_t *ret_size) {
        _cleanup_free_ char *buf = NULL;
        size_t size = 0, allocated = 0;

        for (;;) {
                ssize_t n;

                if (allocated - size < 4096) {
                        size_t want = allocated ? allocated * 2 : 8192;
                        char *p;

                        /* One byte beyond the limit, to tell "exactly max_size" from "more". */
                        if (want > max_size + 2)
                                want = max_size + 2;
                        if (want <= size + 1)
                                return -EFBIG;
                        p = realloc(buf, want);
                        if (!p)
                                return -ENOMEM;
                        buf = p;
                        allocated = want;
                }
                n = read(fd, buf + size, allocated - size - 1);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                size += (size_t) n;
                if (size > max_size)
                        return -EFBIG;
        }

        buf[size] = '\0';
        *ret_data = TAKE_PTR(buf);
        if (ret_size)
                *ret_size = size;
        return 0;
}

static int write_all(int fd, const void *data, size_t size) {
        const char *p = data;

        while (size > 0) {
                ssize_t n = write(fd, p, size);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += n;
                size -= (size_t) n;
        }
        return 0;
}

static int fsync_directory_of(const char *path) {
        _cleanup_free_ char *copy = strdup(path);
        _cleanup_close_ int dfd = -1;

        if (!copy)
                return -ENOMEM;
        dfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        if (fsync(dfd) < 0)
                return -errno;
        return 0;
}

static int write_atomic(const char *path, const void *data, size_t size, mode_t mode, bool sync) {
        _cleanup_free_ char *tmp = NULL, *copy = NULL;
        _cleanup_close_ int fd = -1;
        int r;

        /* In a directory someone else may write to, that someone could put a file or a link where
         * this one goes, or read what is being written: refuse. */
        copy = strdup(path);
        if (!copy)
                return -ENOMEM;
        r = dir_trust_check(dirname(copy), NULL, NULL);
        if (r < 0)
                return r;

        /* An unpredictable name, created exclusively (mkostemp: O_CREAT|O_EXCL, mode 0600). */
        if (asprintf(&tmp, "%s.XXXXXX", path) < 0) {
                tmp = NULL;
                return -ENOMEM;
        }
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fchmod(fd, mode) < 0) {
                r = -errno;
                goto fail;
        }
        r = write_all(fd, data, size);
        if (r < 0)
                goto fail;
        if (sync && fsync(fd) < 0) {
                r = -errno;
                goto fail;
        }
        fd = safe_close(fd);
        if (rename(tmp, path) < 0) {
                r = -errno;
                goto fail;
        }
        return sync ? fsync_directory_of(path) : 0;

fail:
        (void) unlink(tmp);
        return r;
}

int write_file_atomic(const char *path, const void *data, size_t size, mode_t mode) {
        return write_atomic(path, data, size, mode, true);
}

int write_file_atomic_nosync(const char *path, const void *data, size_t size, mode_t mode) {
        return write_atomic(path, data, size, mode, false);
}

int write_file_if_changed(const char *path, const char *text, mode_t dir_mode, mode_t mode) {
        _cleanup_free_ char *dir = strdup(path);
        _cleanup_(secret_freep) char *old = NULL;
        int r;

        if (!dir)
                return -ENOMEM;
        if (read_full_file(path, 64 * 1024, &old, NULL) >= 0 && strcmp(old, text) == 0)
                return 0;
        r = mkdir_p(dirname(dir), dir_mode);
        if (r < 0)
                return r;
        r = write_file_atomic(path, text, strlen(text), mode);
        return r < 0 ? r : 1;
}

int check_file_private(const char *path, mode_t *ret_mode) {
        struct stat st;

        if (stat(path, &st) < 0)
                return -errno;
        if (ret_mode)
                *ret_mode = st.st_mode & 07777;
        if (st.st_mode & (S_IRWXG | S_IRWXO))
                return -EPERM;
        if (st.st_uid != 0 && st.st_uid != geteuid())
                return -EPERM;
        return 0;
}

int mkdir_p(const char *path, mode_t mode) {
        _cleanup_free_ char *p = strdup(path);

        if (!p)
                return -ENOMEM;
        for (char *s = p + 1; ; s++) {
                if (*s != '/' && *s != '\0')
                        continue;
                char c = *s;
                *s = '\0';
                if (mkdir(p, mode) < 0 && errno != EEXIST)
                        return -errno;
                *s = c;
                if (c == '\0')
                        break;
        }
        return 0;
}

char *path_join(const char *dir, const char *name) {
        char *p;
        size_t n = strlen(dir);

        if (asprintf(&p, "%s%s%s", dir, n > 0 && dir[n - 1] == '/' ? "" : "/", name) < 0)
                return NULL;
        return p;
}
