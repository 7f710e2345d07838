/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "secret.h"
#include "string-util.h"

#define SECRETS_MAX 16

/* Each secret in the forms it may take on its way back: raw, JSON-escaped, URL-escaped. */
typedef struct Secret {
        char *forms[3];
} Secret;

static Secret secrets[SECRETS_MAX];
static size_t n_secrets;

char *secret_free(char *s) {
        if (s) {
                explicit_bzero(s, strlen(s));
                free(s);
        }
        return NULL;
}

void *secret_free_buffer(void *p, size_t size) {
        if (p) {
                explicit_bzero(p, size);
                free(p);
        }
        return NULL;
}

void free_wiped(void *p) {
        if (p) {
                explicit_bzero(p, malloc_usable_size(p));
                free(p);
        }
}

void *realloc_wiped(void *p, size_t size) {
        size_t old;
        void *n;

        if (!p)
                return malloc(size);
        if (size == 0) {
                free_wiped(p);
                return NULL;
        }
        old = malloc_usable_size(p);
        if (old >= size)
                return p;
        n = malloc(size);
        if (!n)
                return NULL;
        memcpy(n, p, old);
        free_wiped(p);
        return n;
}

/* s as a JSON string's content would carry it: '"' and '\' escaped, control characters as
 * \uXXXX (or \n, \t, …). */
static char *json_escape(const char *s) {
        char *out = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&out, &size);

        if (!f)
                return NULL;
        string_json_escape(f, s, false);
        if (fclose(f) != 0) {
                free(out);
                return NULL;
        }
        return out;
}

int secret_register(const char *s) {
        Secret n = {};

        if (!s || strlen(s) < 4)
                return 0;
        for (size_t i = 0; i < n_secrets; i++)
                if (streq(secrets[i].forms[0], s))
                        return 0;
        if (n_secrets >= SECRETS_MAX)
                return -ENOSPC;

        n.forms[0] = strdup(s);
        n.forms[1] = json_escape(s);
        n.forms[2] = url_escape(s);
        if (!n.forms[0] || !n.forms[1] || !n.forms[2]) {
                for (size_t k = 0; k < ELEMENTSOF(n.forms); k++)
                        secret_free(n.forms[k]);
                return -ENOMEM;
        }
        secrets[n_secrets++] = n;
        return 0;
}

void secret_forget_all(void) {
        for (size_t i = 0; i < n_secrets; i++)
                for (size_t k = 0; k < ELEMENTSOF(secrets[i].forms); k++)
                        secrets[i].forms[k] = secret_free(secrets[i].forms[k]);
        n_secrets = 0;
}

size_t secret_count(void) {
        return n_secrets;
}

/* Replaces every occurrence of needle in *s (reallocated). */
static int replace_all(char **s, const char *needle) {
        size_t nl = strlen(needle), rl = strlen(SECRET_REDACTED);
        char *hit;

        while ((hit = strstr(*s, needle))) {
                size_t before = (size_t) (hit - *s), after = strlen(hit + nl);
                char *n = malloc(before + rl + after + 1);

                if (!n)
                        return -ENOMEM;
                memcpy(n, *s, before);
                memcpy(n + before, SECRET_REDACTED, rl);
                memcpy(n + before + rl, hit + nl, after + 1);
                secret_free(*s);
                *s = n;
        }
        return 0;
}

char *secret_redact(const char *s) {
        char *out;

        if (!s)
                return NULL;
        out = strdup(s);
        if (!out)
                return NULL;
        for (size_t i = 0; i < n_secrets; i++)
                for (size_t k = 0; k < ELEMENTSOF(secrets[i].forms); k++)
                        if (replace_all(&out, secrets[i].forms[k]) < 0)
                                return secret_free(out);
        return out;
}

void secret_redact_buffer(char *buf, size_t size) {
        char *r;
        size_t n;

        if (size == 0 || n_secrets == 0)
                return;
        r = secret_redact(buf);
        if (!r) {
                /* Out of memory: nothing of it may get out. */
                snprintf(buf, size, "%s", SECRET_REDACTED);
                return;
        }
        n = MIN(strlen(r), size - 1);
        explicit_bzero(buf, size);
        memcpy(buf, r, n);
        buf[n] = '\0';
        secret_free(r);
}
