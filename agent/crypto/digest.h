/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "macro.h"

/* SHA-256 through OpenSSL's EVP interface (SHA-NI or AVX2 where the CPU has them). */

#define DIGEST_SHA256_SIZE 32
#define DIGEST_SHA256_HEX_SIZE (2 * DIGEST_SHA256_SIZE + 1)

typedef struct Digest Digest;

int digest_new(Digest **ret);
int digest_update(Digest *d, const void *data, size_t size);
/* Finishes the digest; the object cannot be updated afterwards. */
int digest_final(Digest *d, uint8_t ret[static DIGEST_SHA256_SIZE]);
Digest *digest_free(Digest *d);
DEFINE_TRIVIAL_CLEANUP_FUNC(Digest *, digest_free);

/* One-shot SHA-256 of a buffer. */
int digest_sha256(const void *data, size_t size, uint8_t ret[static DIGEST_SHA256_SIZE]);

/* Lower-case hex of size bytes into buf (2 * size + 1 bytes); returns buf. */
char *digest_to_hex(const uint8_t *data, size_t size, char *buf);
