/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "cleanup.h"

size_t strv_length(char *const *l);
bool strv_contains(char *const *l, const char *s);
/* Appends a copy of s. Returns 0 or -ENOMEM; the list is unchanged on failure. */
int strv_extend(char ***l, const char *s);
/* Appends s itself, taking ownership on success. */
int strv_push(char ***l, char *s);
char **strv_copy(char *const *l);
/* The strings one after the other, separator between them; "" for an empty or NULL list. NULL on
 * OOM. */
char *strv_join(char *const *l, const char *separator);

#define STRV_FOREACH(s, l) for (char *const *s = (l); s && *s; s++)
