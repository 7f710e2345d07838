/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>

/* A trusted directory: owned by root or by the user running this, and writable by neither group
 * nor others. Only they can create, remove or rename its entries, so what it holds (a marker, a
 * drop-in fragment, a mask, a symlink) was put there by someone trusted. In a directory others
 * may write to, any entry may be someone else's: a marker saying a step is done, an empty file
 * masking a fragment. Who owns an entry is checked besides: a file can be made by its owner
 * elsewhere and moved in only by someone who may write the directory, but a hard link to
 * another user's file needs no more than that either.
 *
 * Never logs. */

/* The rule itself, for a stat() already made: owned by root or the caller (euid), no write
 * permission for group or others. */
bool dir_trust_stat_ok(const struct stat *st);

/* The same rule for an entry of a trusted directory (a file, a symlink): owned by root or the
 * caller, not writable by group or others. */
bool dir_trust_entry_ok(const struct stat *st);

/* Opens dir (following symlinks in its path, like every path the configuration names) and checks
 * the directory itself through the descriptor, so the check and every later openat() are about
 * the same directory. Returns the descriptor (O_DIRECTORY, O_CLOEXEC); -EPERM when it is not
 * trusted; -ENOTDIR; another -errno (-ENOENT) when it cannot be opened. ret_st (may be NULL) is
 * filled whenever the directory could be looked at, for the message. */
int dir_trust_open(const char *dir, struct stat *ret_st);

/* dir_trust_open() without keeping the descriptor: 0, -EPERM (ret_mode and ret_uid, may be
 * NULL, then say what was found), -ENOTDIR, -errno. */
int dir_trust_check(const char *dir, mode_t *ret_mode, uid_t *ret_uid);
