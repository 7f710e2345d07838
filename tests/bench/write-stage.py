#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The write stage of a flash alone, for tests/bench/bench-flash.sh: the I/O that putting IMAGE
on DEVICE cannot avoid, with nothing decoded, hashed or received.

    write-stage.py DEVICE IMAGE

IMAGE must be sparse where it is zero (fallocate --dig-holes): its data extents (SEEK_DATA /
SEEK_HOLE) are written to DEVICE at their offsets with O_DIRECT, in requests of 2 MiB (the
agent's block) from a buffer of random bytes; the holes are zeroed by the device
(fallocate(PUNCH_HOLE) on the block device: the kernel's Write Zeroes, what the agent tries
first; BLKZEROOUT where that is refused); then DEVICE is synced. Prints the bytes written and
zeroed. Python 3 standard library only."""

import ctypes
import fcntl
import mmap
import os
import struct
import sys

BLOCK = 2 << 20
FALLOC_FL_KEEP_SIZE = 0x01
FALLOC_FL_PUNCH_HOLE = 0x02
BLKZEROOUT = 0x127F

libc = ctypes.CDLL(None, use_errno=True)
libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_long, ctypes.c_long]


def extents(fd, size):
    """(offset, length, is_data) pieces covering [0, size)."""
    pos = 0
    while pos < size:
        try:
            data = os.lseek(fd, pos, os.SEEK_DATA)
        except OSError:
            data = size
        if data > pos:
            yield pos, data - pos, False
        if data >= size:
            return
        hole = os.lseek(fd, data, os.SEEK_HOLE)
        yield data, hole - data, True
        pos = hole


def zero(fd, offset, length):
    if libc.fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, length) == 0:
        return
    fcntl.ioctl(fd, BLKZEROOUT, struct.pack("QQ", offset, length))


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: write-stage.py DEVICE IMAGE")
    dev = os.open(sys.argv[1], os.O_WRONLY | os.O_DIRECT)
    img = os.open(sys.argv[2], os.O_RDONLY)
    size = os.fstat(img).st_size
    buf = mmap.mmap(-1, BLOCK)          # page-aligned, as O_DIRECT wants
    buf.write(os.urandom(BLOCK))
    view = memoryview(buf)
    written = zeroed = 0
    for offset, length, is_data in extents(img, size):
        if not is_data:
            zero(dev, offset, length)
            zeroed += length
            continue
        end = offset + length
        while offset < end:
            n = min(BLOCK - offset % BLOCK, end - offset)
            os.pwrite(dev, view[:n], offset)
            offset += n
            written += n
    os.fsync(dev)
    print("written %d zeroed %d" % (written, zeroed))


if __name__ == "__main__":
    main()
