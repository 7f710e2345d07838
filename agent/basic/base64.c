/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "base64.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *base64_encode(const void *data, size_t size) {
        const uint8_t *in = data;
        char *out, *o;

        if (size > (SIZE_MAX - 1) / 4 * 3 - 3)
                return NULL;
        out = o = malloc((size + 2) / 3 * 4 + 1);
        if (!out)
                return NULL;
        for (size_t i = 0; i < size; i += 3) {
                uint32_t v = (uint32_t) in[i] << 16;
                size_t left = size - i;

                if (left > 1)
                        v |= (uint32_t) in[i + 1] << 8;
                if (left > 2)
                        v |= in[i + 2];
                *o++ = alphabet[(v >> 18) & 63];
                *o++ = alphabet[(v >> 12) & 63];
                *o++ = left > 1 ? alphabet[(v >> 6) & 63] : '=';
                *o++ = left > 2 ? alphabet[v & 63] : '=';
        }
        *o = '\0';
        return out;
}

static int sextet(char c) {
        if (c >= 'A' && c <= 'Z')
                return c - 'A';
        if (c >= 'a' && c <= 'z')
                return c - 'a' + 26;
        if (c >= '0' && c <= '9')
                return c - '0' + 52;
        if (c == '+')
                return 62;
        if (c == '/')
                return 63;
        return -1;
}

static int is_space(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

int base64_decode(const char *text, size_t size, void *out, size_t max, size_t *ret_size) {
        uint8_t *o = out;
        uint32_t v = 0;
        size_t n = 0, chars = 0, pad = 0;

        for (size_t i = 0; i < size; i++) {
                char c = text[i];
                int s;

                if (is_space(c))
                        continue;
                if (c == '=') {
                        /* Padding only ends the last quantum: 2 or 3 characters, then 2 or 1 '='. */
                        if (chars % 4 < 2 || ++pad > 2)
                                return -EINVAL;
                        chars++;
                        continue;
                }
                s = sextet(c);
                if (s < 0 || pad > 0)
                        return -EINVAL;
                v = v << 6 | (uint32_t) s;
                if (++chars % 4 == 0) {
                        if (n + 3 > max)
                                return -ENOBUFS;
                        o[n++] = (uint8_t) (v >> 16);
                        o[n++] = (uint8_t) (v >> 8);
                        o[n++] = (uint8_t) v;
                        v = 0;
                }
        }
        if (chars == 0 || chars % 4 != 0)
                return -EINVAL;
        if (pad > 0) {
                /* The last quantum held 4 - pad characters: 12 or 18 bits of v. */
                size_t k = 3 - pad;

                v <<= 6 * pad;
                if (n + k > max)
                        return -ENOBUFS;
                o[n++] = (uint8_t) (v >> 16);
                if (k == 2)
                        o[n++] = (uint8_t) (v >> 8);
        }
        *ret_size = n;
        return 0;
}
