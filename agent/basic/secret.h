/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

/* The secrets of this process (an IAM password, a bootstrap token, an issued token), known for
 * one purpose: to keep them out of everything the agent writes or sends. Once registered, a
 * secret is replaced by "[redacted]" wherever secret_redact() looks: in its raw form, as JSON
 * escapes it (a password with a quote or a backslash, echoed in a JSON error) and as a URL
 * escapes it. Registered copies are wiped when forgotten. Not thread-safe: register and forget
 * from the main thread only. */

#define SECRET_REDACTED "[redacted]"

/* Registers s (copied). Strings shorter than 4 bytes are not worth redacting and are ignored. */
int secret_register(const char *s);
/* Wipes and forgets every registered secret. */
void secret_forget_all(void);
/* How many are registered. */
size_t secret_count(void);

/* A copy of s with every registered secret replaced, in every form above; NULL on OOM (or when
 * s is NULL). Redact first, then cut: a cut secret would no longer be recognised. */
char *secret_redact(const char *s);
/* The same in place, for a buffer of size bytes (the result is cut to fit, after redaction). */
void secret_redact_buffer(char *buf, size_t size);

/* Wipes a NUL-terminated string and frees it. Returns NULL. */
char *secret_free(char *s);
/* Wipes size bytes and frees them. Returns NULL. */
void *secret_free_buffer(void *p, size_t size);

/* free() and realloc() that wipe what they release, for the libraries' allocators (curl,
 * OpenSSL, jansson): what passed through their buffers (a POST body with a password, a received
 * token) is gone when they free them, not left for a core dump. */
void free_wiped(void *p);
void *realloc_wiped(void *p, size_t size);
static inline void secret_freep(char **s) {
        *s = secret_free(*s);
}
