/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* What is mounted and what is swap, from /proc/self/mountinfo and /proc/swaps. */

typedef struct MountEntry {
        dev_t devnum;                   /* st_dev of the filesystem (major:minor field) */
        char *mount_point;              /* unescaped */
        char *fstype;
        char *source;                   /* "/dev/vda1", "tmpfs", … (unescaped) */
} MountEntry;

typedef struct MountTable {
        MountEntry *entries;
        size_t n;
} MountTable;

/* path NULL: /proc/self/mountinfo. */
int mountinfo_read(const char *path, MountTable *ret);
void mountinfo_done(MountTable *t);
/* The entry mounted last at exactly mount_point (the visible one), or NULL. */
const MountEntry *mountinfo_find(const MountTable *t, const char *mount_point);

/* The device nodes in use as swap (path NULL: /proc/swaps); swap files are left out.
 * A NULL-terminated list. */
int swaps_read(const char *path, char ***ret);
