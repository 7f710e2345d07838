/* SPDX-License-Identifier: MIT */
#pragma once

#include "io-util.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Making a range of a disk (or file) read back as zeroes without sending zeroes from memory when
 * the kernel and device can do better. Methods, tried in this order and the first that works
 * kept for the following ranges:
 *   1. fallocate(PUNCH_HOLE) on a block device: the device's Write Zeroes command, which may
 *      deallocate the blocks (NVMe Deallocate, SCSI WRITE SAME with UNMAP) only where the device
 *      guarantees they read back as zeroes; the kernel never falls back to writing here;
 *   2. BLKZEROOUT: the kernel's zero-out, Write Zeroes or else zero pages written by the kernel;
 *   3. fallocate(ZERO_RANGE), for regular files;
 *   4. writes from a zero buffer.
 * A plain discard (BLKDISCARD) is never used: most devices do not promise zeroes after it. */

typedef enum ZeroMethod {
        ZERO_METHOD_UNKNOWN,
        ZERO_METHOD_WRITE_ZEROES,
        ZERO_METHOD_ZEROOUT,
        ZERO_METHOD_FALLOCATE,
        ZERO_METHOD_WRITE,
        _ZERO_METHOD_MAX,
} ZeroMethod;

typedef struct Zeroer {
        int fd;
        bool block_device;
        bool direct;                    /* fd has O_DIRECT: writes must be aligned */
        ZeroMethod method;              /* the method that worked, UNKNOWN before the first range */
        void *buffer;                   /* for ZERO_METHOD_WRITE, allocated on first use */
        uint64_t bytes;                 /* zeroed so far */
        unsigned calls;
} Zeroer;

void zeroer_init(Zeroer *z, int fd, bool block_device, bool direct);
void zeroer_done(Zeroer *z);
/* offset and size must be multiples of 512 (4096 for 4K-sector devices). */
int zeroer_zero(Zeroer *z, uint64_t offset, uint64_t size);
const char *zero_method_to_string(ZeroMethod m);

/* True when the n bytes at p are all zero; p 8-byte aligned, n a multiple of 64. Data usually
 * shows itself in the first bytes, so non-zero memory costs almost nothing. */
bool buffer_is_zero(const void *p, size_t n);

/* Writes all of buf at offset (pwrite until done). */
