/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "blockdev.h"
#include "config-flash.h"
#include "config.h"

/* Choosing the disk an image goes to: every property the config gives must match, exactly one
 * disk may match, and that disk must be safe to overwrite (not holding the running system, not
 * mounted, not swap, no holders, writable, large enough). */

typedef struct TargetContext {
        BlockDeviceList devices;
        dev_t *system_disks;            /* disks under /, /boot, /boot/efi, /efi, /usr */
        size_t n_system_disks;
        char **system_mounts;           /* for messages: the mount point per system disk */
} TargetContext;

int target_context_load(TargetContext *ret);
void target_context_done(TargetContext *c);

bool target_matches(const FlashTarget *t, const BlockDevice *d);

/* Returns the index of the one safe disk, or a negative errno after logging why not (no match,
 * several, refused). min_size: the image size when known, else 0. */
int target_choose(const TargetContext *c, const FlashImage *img, uint64_t min_size);

/* Checks a chosen disk again right before opening (something may have been mounted since). */
int target_check_safe(const TargetContext *c, const BlockDevice *d, const char *image_name);

/* "loop3: loop, 64.0 MiB, backing_file=/tmp/x.img" — a new string. */
char *target_describe(const BlockDevice *d);

/* 1 when the running system's root (or /boot) lives on a device one of the config's flash
 * targets matches (so this is the installed system, not the installer); 0 when not; negative
 * errno when it cannot be told. */
int target_root_is_on_flash_target(const Config *c);
