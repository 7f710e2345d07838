/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "cleanup.h"
#include "derive.h"
#include "digest.h"
#include "fileio.h"
#include "secret.h"

#define SECRET_FILE_MAX (64 * 1024)

/* purpose ":" name [ "\n" machine ], in a new buffer. */
static char *message(const char *purpose, const char *name, const char *machine) {
        char *m;

        if (asprintf(&m, "%s:%s%s%s", purpose, name, machine ? "\n" : "", machine ?: "") < 0)
                return NULL;
        return m;
}

int derive_password(const void *secret, size_t secret_size, const char *purpose, const char *name,
                    char ret[static DERIVE_PASSWORD_SIZE]) {
        _cleanup_free_ char *m = NULL;
        uint8_t mac[EVP_MAX_MD_SIZE];
        unsigned n = 0;

        if (!secret || secret_size < DERIVE_SECRET_MIN || !purpose || !name || !*name)
                return -EINVAL;
        m = message(purpose, name, NULL);
        if (!m)
                return -ENOMEM;
        if (!HMAC(EVP_sha256(), secret, (int) secret_size, (const uint8_t *) m, strlen(m), mac, &n) ||
            n != DIGEST_SHA256_SIZE)
                return -EIO;
        digest_to_hex(mac, n, ret);
        explicit_bzero(mac, sizeof mac);
        return 0;
}

int derive_secret_read(const char *path, void **ret, size_t *ret_size) {
        char *data = NULL;
        size_t size = 0, n;
        int r;

        r = check_file_private(path, NULL);
        if (r < 0)
                return r;
        r = read_full_file(path, SECRET_FILE_MAX, &data, &size);
        if (r < 0)
                return r;
        n = size;
        while (n > 0 && (data[n - 1] == '\n' || data[n - 1] == '\r'))
                n--;
        if (n < DERIVE_SECRET_MIN) {
                secret_free_buffer(data, size);
                return -EINVAL;
        }
        explicit_bzero(data + n, size - n);
        *ret = data;
        *ret_size = n;
        return 0;
}

int derive_uuid(const char *purpose, const char *name, const char *machine,
                char ret[static DERIVE_UUID_SIZE]) {
        _cleanup_free_ char *m = NULL;
        uint8_t d[DIGEST_SHA256_SIZE];
        char hex[2 * 16 + 1];
        int r;

        if (!purpose || !name || !*name)
                return -EINVAL;
        m = message(purpose, name, machine);
        if (!m)
                return -ENOMEM;
        r = digest_sha256(m, strlen(m), d);
        if (r < 0)
                return r;
        d[6] = (uint8_t) ((d[6] & 0x0f) | 0x80);        /* version 8 */
        d[8] = (uint8_t) ((d[8] & 0x3f) | 0x80);        /* variant 10 */
        digest_to_hex(d, 16, hex);
        snprintf(ret, DERIVE_UUID_SIZE, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16,
                 hex + 20);
        return 0;
}
