/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

/* Files of KEY=VALUE assignments, as systemd's EnvironmentFile= and a shell sourcing them (the
 * files in /etc/default) read them. One writer for the format: a value never carries a control
 * character (a newline in one would be read as an assignment of its own), so what is written is
 * read back as exactly the assignments that were given.
 *
 * env_file_set() rewrites the given keys (replacing each earlier entry of the key, commented or
 * not, by one line at its place, or appending it) and keeps every other entry as it was. An
 * entry is what the readers take as one assignment: a line, or several when a quoted value spans
 * them or a line ends in a backslash; it is replaced whole. The file is written atomically; a
 * missing file is created with mode. Values with characters beyond [A-Za-z0-9=,:/._+@%-] are
 * double-quoted, with '"', '\\', '$' and '`' escaped. pairs: key, value, …, NULL. -EINVAL (and
 * nothing written) for a key that is not [A-Za-z_][A-Za-z0-9_]* or a value with a control
 * character. */
int env_file_set(const char *path, const char *const *pairs, mode_t mode);

/* 0 when env_file_set() would take every pair; else -EINVAL and the first key it would refuse
 * (for the error message) in *ret_key. */
int env_file_check(const char *const *pairs, const char **ret_key);
/* True when v has no control character (C0 or DEL). */
bool env_file_value_valid(const char *v);

/* The value of key (unquoted as the shell reads it) as a new string: 1 when present, 0 when not,
 * negative errno. */
int env_file_get(const char *path, const char *key, char **ret);
