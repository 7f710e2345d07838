/* SPDX-License-Identifier: MIT */
#pragma once

#include <sys/types.h>

/* Files of KEY=VALUE lines, as systemd's EnvironmentFile= and the files in /etc/default read them.
 * env_file_set() rewrites the given keys (replacing each earlier line of the key, commented or
 * not, by one line at its place, or appending it) and keeps every other line as it was. The
 * file is written atomically; a missing file is created with mode. Values with characters
 * beyond [A-Za-z0-9 =,:/._+@%-] are double-quoted. pairs: key, value, …, NULL. */
int env_file_set(const char *path, const char *const *pairs, mode_t mode);

/* The value of key (unquoted) as a new string: 1 when present, 0 when not, negative errno. */
int env_file_get(const char *path, const char *key, char **ret);
