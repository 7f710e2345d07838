/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <endian.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "writer.h"
#include "zeroout.h"

#define MIB (1024 * 1024)
#define DEV_SIZE (8 * MIB)
#define IMG_SIZE (6 * MIB + 3 * 512)

static void gpt_header(uint8_t *buf, uint64_t alt) {
        uint8_t *h = buf + 512;
        uint32_t v32;
        uint64_t v64;

        memcpy(h, "EFI PART", 8);
        v32 = htole32(92);
        memcpy(h + 12, &v32, 4);
        v64 = htole64(1);
        memcpy(h + 24, &v64, 8);
        v64 = htole64(alt);
        memcpy(h + 32, &v64, 8);
        v32 = htole32(128);
        memcpy(h + 80, &v32, 4);
        memcpy(h + 84, &v32, 4);
}

static int is_zero(const uint8_t *p, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (p[i])
                        return 0;
        return 1;
}

static int feed(Writer *w, const uint8_t *img, size_t size, size_t piece) {
        uint8_t *buf;
        int r = 0;

        if (posix_memalign((void **) &buf, 4096, piece) != 0)
                return -ENOMEM;
        for (size_t o = 0; o < size && r >= 0; o += piece) {
                size_t n = size - o < piece ? size - o : piece;

                memcpy(buf, img + o, n);
                r = writer_write(w, buf, n, o, NULL);
        }
        free(buf);
        return r;
}

int main(void) {
        char path[] = "/var/tmp/test-writer-XXXXXX";
        uint8_t *img = calloc(1, IMG_SIZE), *dev = malloc(DEV_SIZE), *old = malloc(DEV_SIZE);
        uint64_t alt = IMG_SIZE / 512 - 1, backup = (alt - 32) * 512;
        int fd = mkstemp(path);
        Writer w;
        int r;

        /* The disk holds an older image with its GPT (backup at 7 MiB) and junk everywhere. */
        memset(old, 0xaa, DEV_SIZE);
        memset(old + 512, 0, 512);
        gpt_header(old, 7 * MIB / 512 + 31);
        ok(pwrite_full(fd, old, DEV_SIZE, 0) == 0, "old disk content");

        /* The image: its GPT, a data stretch with small holes, a long zero run, data, the tail. */
        gpt_header(img, alt);
        for (size_t i = 2 * MIB; i < 3 * MIB; i++)
                img[i] = (uint8_t) (i * 7 + 1);
        memset(img + 2 * MIB + 8192, 0, 8192);                  /* short hole: written */
        for (size_t i = 4 * MIB; i < 4 * MIB + 100000; i++)
                img[i] = (uint8_t) (i >> 3);
        memset(img + backup, 0x5b, IMG_SIZE - backup);           /* "backup GPT" bytes */

        ok(writer_init(&w, fd, DEV_SIZE, 512) == 0, "init");
        ok(feed(&w, img, IMG_SIZE, MIB) == 0, "image streamed in 1 MiB pieces");
        ok(writer_finish(&w) == 0, "finish");
        ok(pread_full(fd, dev, DEV_SIZE, 0) == 0, "read the disk");
        ok(is_zero(dev, MIB), "before commit: the first MiB is zeroes");
        ok(is_zero(dev + backup, IMG_SIZE - backup), "before commit: the image's backup GPT is zeroes");
        ok(is_zero(dev + 7 * MIB, 512 * 33), "the old backup GPT is wiped");
        ok(is_zero(dev + DEV_SIZE - MIB, MIB), "the end of the disk is wiped");
        ok(memcmp(dev + MIB, img + MIB, backup - MIB) == 0, "the rest of the image is on the disk");
        ok(w.behind.zero_bytes >= 2 * MIB, "zero runs were zeroed, not written (%llu zeroed, %llu written)",
           (unsigned long long) w.behind.zero_bytes, (unsigned long long) w.data_bytes);

        ok(writer_commit(&w) == 0, "commit");
        ok(pread_full(fd, dev, DEV_SIZE, 0) == 0 && memcmp(dev, img, IMG_SIZE) == 0,
           "after commit the disk holds the image byte for byte");

        ok(writer_wipe(&w) == 0, "wipe");
        ok(pread_full(fd, dev, DEV_SIZE, 0) == 0 && is_zero(dev, MIB) && is_zero(dev + backup, IMG_SIZE - backup),
           "wipe removes both tables again");
        writer_done(&w);

        /* More zero runs than a batch holds, between grains of data, and pieces without any
         * data (which start a sync behind): zeroed in several batches, the image exact. */
        ok(pwrite_full(fd, old, DEV_SIZE, 0) == 0, "old content again");
        memset(img + MIB, 0, backup - MIB);
        for (size_t o = MIB; o + 4096 <= 6 * MIB; o += 68 * 1024)
                memset(img + o, 0x3c, 4096);                    /* 4 KiB of data, 64 KiB of zeroes */
        ok(writer_init(&w, fd, DEV_SIZE, 512) == 0, "init (many zero runs)");
        w.sync_behind_min = 64 * 1024;
        ok(feed(&w, img, IMG_SIZE, 256 * 1024) == 0, "streamed in 256 KiB pieces");
        ok(writer_finish(&w) == 0 && writer_commit(&w) == 0, "finish and commit");
        ok(w.behind.zero_calls >= 2, "the zero runs went out in batches (%u)", w.behind.zero_calls);
        ok(w.behind.syncs >= 2, "pieces without data started a sync behind (%u syncs)", w.behind.syncs);
        ok(pread_full(fd, dev, DEV_SIZE, 0) == 0 && memcmp(dev, img, IMG_SIZE) == 0,
           "the disk holds the image byte for byte");
        writer_done(&w);

        /* A device that refuses to zero (the ranges go out on the zero-behind thread): the
         * failure comes back to the writer, with the range, and the image is not committed. */
        ok(pwrite_full(fd, old, DEV_SIZE, 0) == 0, "old content again");
        ok(writer_init(&w, fd, DEV_SIZE, 512) == 0, "init (zeroing refused)");
        w.behind.zeroer.fd = -1;
        r = feed(&w, img, IMG_SIZE, 256 * 1024);
        if (r >= 0)
                r = writer_finish(&w);
        is_int(r, -EBADF, "a zero range that failed fails the write");
        ok(strstr(w.error, "zeroing ") && strstr(w.error, " at offset "), "the error names the range: %s", w.error);
        ok(pread_full(fd, dev, DEV_SIZE, 0) == 0 && is_zero(dev, MIB), "the first MiB is still wiped");
        writer_done(&w);

        /* Refusals before anything is written. */
        ok(pwrite_full(fd, old, DEV_SIZE, 0) == 0, "old content again");
        ok(writer_init(&w, fd, 4 * MIB, 512) == 0, "init, a 4 MiB device");
        w.size_hint = IMG_SIZE;
        is_int(feed(&w, img, IMG_SIZE, MIB), -EFBIG, "an image announced larger than the device");
        ok(pread_full(fd, dev, DEV_SIZE, 0) == 0 && memcmp(dev, old, DEV_SIZE) == 0, "nothing written");
        writer_done(&w);
        ok(writer_init(&w, fd, DEV_SIZE, 4096) == 0, "init, 4K sectors");
        is_int(feed(&w, img, IMG_SIZE, MIB), -EMEDIUMTYPE, "a 512-byte-sector GPT on a 4K device");
        ok(pread_full(fd, dev, DEV_SIZE, 0) == 0 && memcmp(dev, old, DEV_SIZE) == 0, "nothing written");
        writer_done(&w);
        ok(writer_init(&w, fd, 5 * MIB, 512) == 0, "init, a 5 MiB device, size unknown");
        memset(img + 512, 0, 512);                               /* no GPT: only overflow tells */
        is_int(feed(&w, img, IMG_SIZE, MIB), -EFBIG, "an image running past the end");
        writer_done(&w);

        close(fd);
        unlink(path);
        free(img);
        free(dev);
        free(old);
        return tap_done();
}
