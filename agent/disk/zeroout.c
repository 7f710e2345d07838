/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "macro.h"
#include "zeroout.h"

#define ZERO_BUFFER_SIZE (1024 * 1024)

static const char *const method_table[_ZERO_METHOD_MAX] = {
        [ZERO_METHOD_UNKNOWN] = "unknown",
        [ZERO_METHOD_WRITE_ZEROES] = "write-zeroes",
        [ZERO_METHOD_ZEROOUT] = "zeroout",
        [ZERO_METHOD_FALLOCATE] = "fallocate",
        [ZERO_METHOD_WRITE] = "write",
};

const char *zero_method_to_string(ZeroMethod m) {
        return m >= 0 && m < _ZERO_METHOD_MAX ? method_table[m] : NULL;
}

void zeroer_init(Zeroer *z, int fd, bool block_device, bool direct) {
        *z = (Zeroer) { .fd = fd, .block_device = block_device, .direct = direct };
}

void zeroer_done(Zeroer *z) {
        free(z->buffer);
        z->buffer = NULL;
}

bool buffer_is_zero(const void *p, size_t n) {
        const uint64_t *q = p;
        uint64_t acc = 0;

        if (q[0] | q[1] | q[2] | q[3])
                return false;
        for (size_t i = 0; i < n / 8; i += 8)
                acc |= q[i] | q[i + 1] | q[i + 2] | q[i + 3] | q[i + 4] | q[i + 5] | q[i + 6] | q[i + 7];
        return acc == 0;
}

static int zero_by_writing(Zeroer *z, uint64_t offset, uint64_t size) {
        int r;

        if (!z->buffer) {
                if (posix_memalign(&z->buffer, 4096, ZERO_BUFFER_SIZE) != 0) {
                        z->buffer = NULL;
                        return -ENOMEM;
                }
                memset(z->buffer, 0, ZERO_BUFFER_SIZE);
        }
        while (size > 0) {
                size_t n = (size_t) MIN(size, (uint64_t) ZERO_BUFFER_SIZE);

                r = pwrite_full(z->fd, z->buffer, n, offset);
                if (r < 0)
                        return r;
                offset += n;
                size -= n;
        }
        return 0;
}

static bool unsupported(int e) {
        return e == EOPNOTSUPP || e == ENOTTY || e == EINVAL || e == ENOSYS || e == ENODEV;
}

static int try_method(Zeroer *z, ZeroMethod m, uint64_t offset, uint64_t size) {
        switch (m) {
        case ZERO_METHOD_WRITE_ZEROES:
                if (!z->block_device)
                        return -EOPNOTSUPP;
                if (fallocate(z->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t) offset,
                              (off_t) size) < 0)
                        return -errno;
                return 0;
        case ZERO_METHOD_ZEROOUT: {
                uint64_t range[2] = { offset, size };

                if (!z->block_device)
                        return -EOPNOTSUPP;
                if (ioctl(z->fd, BLKZEROOUT, range) < 0)
                        return -errno;
                return 0;
        }
        case ZERO_METHOD_FALLOCATE:
                if (z->block_device)
                        return -EOPNOTSUPP;
                if (fallocate(z->fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, (off_t) offset,
                              (off_t) size) < 0)
                        return -errno;
                return 0;
        case ZERO_METHOD_WRITE:
                return zero_by_writing(z, offset, size);
        default:
                return -EINVAL;
        }
}

int zeroer_zero(Zeroer *z, uint64_t offset, uint64_t size) {
        int r;

        if (size == 0)
                return 0;
        if (offset % 512 != 0 || size % 512 != 0)
                return -EINVAL;

        if (z->method != ZERO_METHOD_UNKNOWN) {
                r = try_method(z, z->method, offset, size);
                if (r >= 0 || !unsupported(-r))
                        goto done;
                /* Stopped working (a device may reject a size): fall through to the next ones. */
        }
        for (ZeroMethod m = z->method == ZERO_METHOD_UNKNOWN ? ZERO_METHOD_WRITE_ZEROES : z->method + 1;
             m < _ZERO_METHOD_MAX; m++) {
                r = try_method(z, m, offset, size);
                if (r >= 0) {
                        z->method = m;
                        goto done;
                }
                if (!unsupported(-r))
                        return r;
        }
        return -EOPNOTSUPP;
done:
        if (r >= 0) {
                z->bytes += size;
                z->calls++;
        }
        return r;
}
