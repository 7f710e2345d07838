/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include <openssl/evp.h>

#include "digest.h"

struct Digest {
        EVP_MD_CTX *ctx;
        bool finished;
};

int digest_new(Digest **ret) {
        Digest *d;

        d = calloc(1, sizeof *d);
        if (!d)
                return -ENOMEM;
        d->ctx = EVP_MD_CTX_new();
        if (!d->ctx) {
                free(d);
                return -ENOMEM;
        }
        if (EVP_DigestInit_ex(d->ctx, EVP_sha256(), NULL) != 1) {
                digest_free(d);
                return -EIO;
        }
        *ret = d;
        return 0;
}

int digest_update(Digest *d, const void *data, size_t size) {
        if (d->finished)
                return -ESTALE;
        if (size == 0)
                return 0;
        return EVP_DigestUpdate(d->ctx, data, size) == 1 ? 0 : -EIO;
}

int digest_final(Digest *d, uint8_t ret[static DIGEST_SHA256_SIZE]) {
        unsigned n = 0;

        if (d->finished)
                return -ESTALE;
        d->finished = true;
        if (EVP_DigestFinal_ex(d->ctx, ret, &n) != 1 || n != DIGEST_SHA256_SIZE)
                return -EIO;
        return 0;
}

Digest *digest_free(Digest *d) {
        if (!d)
                return NULL;
        EVP_MD_CTX_free(d->ctx);
        free(d);
        return NULL;
}

int digest_sha256(const void *data, size_t size, uint8_t ret[static DIGEST_SHA256_SIZE]) {
        unsigned n = 0;

        if (EVP_Digest(data, size, ret, &n, EVP_sha256(), NULL) != 1 || n != DIGEST_SHA256_SIZE)
                return -EIO;
        return 0;
}

char *digest_to_hex(const uint8_t *data, size_t size, char *buf) {
        static const char hex[] = "0123456789abcdef";

        for (size_t i = 0; i < size; i++) {
                buf[2 * i] = hex[data[i] >> 4];
                buf[2 * i + 1] = hex[data[i] & 15];
        }
        buf[2 * size] = '\0';
        return buf;
}
