/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <unistd.h>

#include "io-util.h"

int pwrite_full(int fd, const void *buf, size_t size, uint64_t offset) {
        const uint8_t *p = buf;

        while (size > 0) {
                ssize_t n = pwrite(fd, p, size, (off_t) offset);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        return -EIO;
                p += n;
                size -= (size_t) n;
                offset += (uint64_t) n;
        }
        return 0;
}

int pread_full(int fd, void *buf, size_t size, uint64_t offset) {
        uint8_t *p = buf;

        while (size > 0) {
                ssize_t n = pread(fd, p, size, (off_t) offset);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        return -EIO;
                p += n;
                size -= (size_t) n;
                offset += (uint64_t) n;
        }
        return 0;
}
