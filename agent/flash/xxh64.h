/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* XXH64, the checksum a zstd frame may carry over its content (its low 32 bits), computed as the
 * content goes by. Runs of zeroes go in as a length: nothing is read from memory for them, only
 * the 4 lanes of the hash turn (about 4 cycles per 32 bytes). */

typedef struct Xxh64 {
        uint64_t v[4];
        uint64_t total;
        uint8_t buf[32];
        unsigned n_buf;
        uint64_t seed;
} Xxh64;

void xxh64_init(Xxh64 *h, uint64_t seed);
void xxh64_update(Xxh64 *h, const void *data, size_t size);
void xxh64_update_zeroes(Xxh64 *h, uint64_t size);
uint64_t xxh64_digest(const Xxh64 *h);
