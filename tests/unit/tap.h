/* SPDX-License-Identifier: MIT */
#pragma once

/* A few lines of TAP (https://testanything.org): meson reads the plan and each "ok"/"not ok". */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned tap_n, tap_failed;

#define ok(cond, ...)                                                                   \
        do {                                                                            \
                int _ok_ = !!(cond);                                                    \
                tap_n++;                                                                \
                if (_ok_)                                                               \
                        printf("ok %u - ", tap_n);                                      \
                else {                                                                  \
                        tap_failed++;                                                   \
                        printf("not ok %u - ", tap_n);                                  \
                }                                                                       \
                printf(__VA_ARGS__);                                                    \
                printf("\n");                                                           \
                if (!_ok_)                                                              \
                        printf("#   failed at %s:%d: %s\n", __FILE__, __LINE__, #cond);  \
        } while (0)

#define is_int(a, b, ...)                                                               \
        do {                                                                            \
                long long _a = (long long) (a), _b = (long long) (b);                   \
                ok(_a == _b, __VA_ARGS__);                                              \
                if (_a != _b)                                                           \
                        printf("#   got %lld, expected %lld\n", _a, _b);                \
        } while (0)

#define is_str(a, b, ...)                                                               \
        do {                                                                            \
                const char *_a = (a), *_b = (b);                                        \
                int _eq = (_a && _b) ? strcmp(_a, _b) == 0 : _a == _b;                  \
                ok(_eq, __VA_ARGS__);                                                   \
                if (!_eq)                                                               \
                        printf("#   got \"%s\", expected \"%s\"\n", _a ? _a : "(null)", \
                               _b ? _b : "(null)");                                     \
        } while (0)

/* A test that cannot run here; the reason names what is missing. */
#define skip(...)                                                                       \
        do {                                                                            \
                tap_n++;                                                                \
                printf("ok %u # SKIP ", tap_n);                                         \
                printf(__VA_ARGS__);                                                    \
                printf("\n");                                                           \
        } while (0)

static inline int tap_done(void) {
        printf("1..%u\n", tap_n);
        return tap_failed == 0 ? 0 : 1;
}
