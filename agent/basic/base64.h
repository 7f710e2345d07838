/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

/* Standard base64 (RFC 4648 §4, with padding): what etcd's JSON gateway uses for keys and values,
 * and what a detached signature may be written in. */

/* size bytes as a new NUL-terminated string. */
char *base64_encode(const void *data, size_t size);

/* Base64 text of size characters (whitespace between them allowed) to at most max bytes at out.
 * 0 and *ret_size, -EINVAL when it is not base64 (bad character, length, padding), -ENOBUFS when
 * the bytes do not fit. */
int base64_decode(const char *text, size_t size, void *out, size_t max, size_t *ret_size);
