/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* pwrite()/pread() of the whole buffer at offset, restarting after signals and short
 * transfers. A read that hits the end first is -EIO. */
int pwrite_full(int fd, const void *buf, size_t size, uint64_t offset);
int pread_full(int fd, void *buf, size_t size, uint64_t offset);
