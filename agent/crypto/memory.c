/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>

#include <openssl/crypto.h>

#include "memory.h"
#include "secret.h"

static void *wipe_malloc(size_t size, const char *file, int line) {
        return malloc(size);
}

static void wipe_free(void *p, const char *file, int line) {
        free_wiped(p);
}

static void *wipe_realloc(void *p, size_t size, const char *file, int line) {
        return realloc_wiped(p, size);
}

int crypto_memory_wipe_on_free(void) {
        return CRYPTO_set_mem_functions(wipe_malloc, wipe_realloc, wipe_free) ? 0 : -EBUSY;
}
