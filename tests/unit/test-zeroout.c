/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "zeroout.h"

#define SIZE (4 << 20)

static int all(const uint8_t *p, size_t n, uint8_t v) {
        for (size_t i = 0; i < n; i++)
                if (p[i] != v)
                        return 0;
        return 1;
}

int main(void) {
        char path[] = "/var/tmp/test-zeroout-XXXXXX";
        uint8_t *buf = malloc(SIZE);
        Zeroer z;
        int fd = mkstemp(path);

        memset(buf, 0xaa, SIZE);
        ok(pwrite_full(fd, buf, SIZE, 0) == 0, "fill");

        zeroer_init(&z, fd, false, false);
        ok(zeroer_zero(&z, 65536, 1 << 20) == 0, "zero a range of a file");
        is_str(zero_method_to_string(z.method), "fallocate", "regular files use fallocate(ZERO_RANGE)");
        ok(pread_full(fd, buf, SIZE, 0) == 0, "read back");
        ok(all(buf, 65536, 0xaa) && all(buf + 65536, 1 << 20, 0) && all(buf + 65536 + (1 << 20), 4096, 0xaa),
           "exactly the range reads as zeroes");
        is_int(zeroer_zero(&z, 100, 512), -EINVAL, "unaligned offset refused");
        ok(zeroer_zero(&z, 0, 0) == 0, "empty range");
        is_int(z.bytes, 1 << 20, "bytes counted");

        /* The last resort writes zeroes. */
        z.method = ZERO_METHOD_WRITE;
        ok(zeroer_zero(&z, 2 << 20, 3 << 20 >> 1) == 0, "zeroing by writing");
        ok(pread_full(fd, buf, SIZE, 0) == 0 && all(buf + (2 << 20), 3 << 20 >> 1, 0), "written zeroes read back");
        zeroer_done(&z);

        /* A block-device zeroer on a file: the block methods are skipped, not fatal. */
        zeroer_init(&z, fd, true, false);
        ok(zeroer_zero(&z, 0, 4096) == 0, "block methods unsupported on a file fall back");
        zeroer_done(&z);

        close(fd);
        unlink(path);
        free(buf);
        return tap_done();
}
