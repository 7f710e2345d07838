/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "cleanup.h"
#include "log.h"
#include "mountinfo.h"
#include "strv.h"
#include "target.h"

/* The mounts whose disks are "the running system": never a flash target. */
static const char *const system_mount_points[] = { "/", "/boot", "/boot/efi", "/efi", "/usr", NULL };

/* The device a mount entry lives on: its st_dev, or for filesystems with anonymous device
 * numbers (btrfs) the node named as source. */
static dev_t mount_device(const MountEntry *e) {
        struct stat st;

        if (major(e->devnum) != 0)
                return e->devnum;
        if (startswith(e->source, "/dev/") && stat(e->source, &st) >= 0 && S_ISBLK(st.st_mode))
                return st.st_rdev;
        return 0;
}

static bool disks_contain(const dev_t *l, size_t n, dev_t d) {
        for (size_t i = 0; i < n; i++)
                if (l[i] == d)
                        return true;
        return false;
}

int target_context_load(TargetContext *ret) {
        _cleanup_(mountinfo_done) MountTable mounts = {};
        TargetContext c = {};
        int r;

        r = blockdev_enumerate(&c.devices);
        if (r < 0)
                return r;
        r = mountinfo_read(NULL, &mounts);
        if (r < 0) {
                target_context_done(&c);
                return r;
        }
        for (const char *const *m = system_mount_points; *m; m++) {
                const MountEntry *e = mountinfo_find(&mounts, *m);
                _cleanup_free_ dev_t *disks = NULL;
                size_t n = 0;

                if (!e || blockdev_backing_disks(mount_device(e), &disks, &n) < 0)
                        continue;
                for (size_t i = 0; i < n; i++) {
                        dev_t *l;

                        if (disks_contain(c.system_disks, c.n_system_disks, disks[i]))
                                continue;
                        l = realloc(c.system_disks, (c.n_system_disks + 1) * sizeof *l);
                        if (!l || strv_extend(&c.system_mounts, *m) < 0) {
                                if (l)
                                        c.system_disks = l;
                                target_context_done(&c);
                                return -ENOMEM;
                        }
                        c.system_disks = l;
                        c.system_disks[c.n_system_disks++] = disks[i];
                }
        }
        *ret = c;
        return 0;
}

void target_context_done(TargetContext *c) {
        blockdev_list_done(&c->devices);
        free(c->system_disks);
        strv_free(c->system_mounts);
        *c = (TargetContext) {};
}

static bool pattern_matches(const char *pattern, const char *value) {
        if (!pattern)
                return true;
        return value && fnmatch(pattern, value, 0) == 0;
}

static bool kind_matches(FlashTargetType t, BlockDeviceKind k) {
        switch (t) {
        case FLASH_TARGET_NVME:
                return k == BLOCK_KIND_NVME;
        case FLASH_TARGET_VIRTIO:
                return k == BLOCK_KIND_VIRTIO;
        case FLASH_TARGET_MMC:
                return k == BLOCK_KIND_MMC;
        case FLASH_TARGET_SCSI:
                return k == BLOCK_KIND_SCSI;
        case FLASH_TARGET_LOOP:
                return k == BLOCK_KIND_LOOP;
        case FLASH_TARGET_PATH:
                return true;
        default:
                return false;
        }
}

bool target_matches(const FlashTarget *t, const BlockDevice *d) {
        if (!kind_matches(t->type, d->kind))
                return false;
        if (t->path) {
                struct stat st;

                /* By device number, so that /dev/disk/by-id/… links match their disk. */
                if (stat(t->path, &st) < 0 || !S_ISBLK(st.st_mode) || st.st_rdev != d->devnum)
                        return false;
        }
        if (t->min_size > 0 && d->size < t->min_size)
                return false;
        return pattern_matches(t->serial, d->serial) && pattern_matches(t->wwn, d->wwn) &&
               pattern_matches(t->model, d->model) && pattern_matches(t->backing_file, d->backing_file);
}

char *target_describe(const BlockDevice *d) {
        char *s = NULL;

        if (asprintf(&s, "%s: %s, %s%s%s%s%s%s%s%s%s%s%s", d->devnode, blockdev_kind_to_string(d->kind),
                     FMT_BYTES(d->size), d->serial ? ", serial=" : "", strempty(d->serial),
                     d->wwn ? ", wwn=" : "", strempty(d->wwn), d->model ? ", model=" : "",
                     strempty(d->model), d->backing_file ? ", backing_file=" : "",
                     strempty(d->backing_file), d->read_only ? ", read-only" : "",
                     d->removable ? ", removable" : "") < 0)
                return NULL;
        return s;
}

static void log_candidates(const TargetContext *c, const size_t *idx, size_t n, const char *what) {
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *desc = target_describe(&c->devices.items[idx ? idx[i] : i]);

                log_notice("  %s %s", what, strna(desc));
        }
}

static int refuse(const BlockDevice *d, const char *image_name, int error, const char *reason) {
        return log_event_errno(LOG_ERR, error, MID_TARGET_REFUSED,
                               LOG_FIELDS("TARGET", image_name, "DEVICE", d->devnode, "ERROR", reason),
                               "Refusing to flash image '%s' to %s: %s.", image_name, d->devnode, reason);
}

/* Every mounted filesystem and swap area on the disk, for the refusal message. */
static int in_use_reason(const BlockDevice *d, char **ret) {
        _cleanup_(mountinfo_done) MountTable mounts = {};
        _cleanup_strv_free_ char **swaps = NULL;
        int r;

        r = mountinfo_read(NULL, &mounts);
        if (r < 0)
                return r;
        for (size_t i = 0; i < mounts.n; i++) {
                _cleanup_free_ dev_t *disks = NULL;
                size_t n = 0;

                if (blockdev_backing_disks(mount_device(&mounts.entries[i]), &disks, &n) < 0)
                        continue;
                if (disks_contain(disks, n, d->devnum))
                        return asprintf(ret, "%s (on this disk) is mounted at '%s'",
                                        mounts.entries[i].source, mounts.entries[i].mount_point) < 0 ? -ENOMEM : 1;
        }
        if (swaps_read(NULL, &swaps) >= 0)
                STRV_FOREACH(s, swaps) {
                        _cleanup_free_ dev_t *disks = NULL;
                        struct stat st;
                        size_t n = 0;

                        if (stat(*s, &st) < 0 || !S_ISBLK(st.st_mode) ||
                            blockdev_backing_disks(st.st_rdev, &disks, &n) < 0)
                                continue;
                        if (disks_contain(disks, n, d->devnum))
                                return asprintf(ret, "%s (on this disk) is in use as swap", *s) < 0 ? -ENOMEM : 1;
                }
        return 0;
}

int target_check_safe(const TargetContext *c, const BlockDevice *d, const char *image_name) {
        _cleanup_free_ char *reason = NULL;
        int r;

        for (size_t i = 0; i < c->n_system_disks; i++)
                if (c->system_disks[i] == d->devnum) {
                        if (asprintf(&reason, "it holds the running system ('%s' is on it)",
                                     c->system_mounts[i]) < 0)
                                return log_oom();
                        return refuse(d, image_name, EBUSY, reason);
                }
        r = in_use_reason(d, &reason);
        if (r < 0)
                return log_error_errno(r, "Failed to read the mount table: %m");
        if (r > 0)
                return refuse(d, image_name, EBUSY, reason);
        if (d->holders && d->holders[0]) {
                _cleanup_free_ char *list = NULL;

                for (char **h = d->holders; *h; h++) {
                        char *n;

                        if (asprintf(&n, "%s%s%s", strempty(list), list ? ", " : "", *h) < 0)
                                return log_oom();
                        free(list);
                        list = n;
                }
                if (asprintf(&reason, "it is in use by %s (device mapper, RAID or similar)", list) < 0)
                        return log_oom();
                return refuse(d, image_name, EBUSY, reason);
        }
        if (d->read_only)
                return refuse(d, image_name, EROFS, "it is read-only");
        return 0;
}

int target_choose(const TargetContext *c, const FlashImage *img, uint64_t min_size) {
        _cleanup_free_ size_t *matches = NULL;
        size_t n = 0;
        int r;

        matches = calloc(MAX(c->devices.n, (size_t) 1), sizeof *matches);
        if (!matches)
                return log_oom();
        for (size_t i = 0; i < c->devices.n; i++)
                if (target_matches(&img->target, &c->devices.items[i]))
                        matches[n++] = i;

        if (n == 0) {
                log_event(LOG_ERR, MID_TARGET_REFUSED, LOG_FIELDS("TARGET", img->name, "ERROR", "no matching disk"),
                          "No disk matches the target of image '%s' (type %s%s%s%s%s%s%s%s%s%s%s). The disks seen:",
                          img->name, flash_target_type_to_string(img->target.type),
                          img->target.path ? ", path " : "", strempty(img->target.path),
                          img->target.serial ? ", serial " : "", strempty(img->target.serial),
                          img->target.wwn ? ", wwn " : "", strempty(img->target.wwn),
                          img->target.model ? ", model " : "", strempty(img->target.model),
                          img->target.backing_file ? ", backing_file " : "", strempty(img->target.backing_file));
                log_candidates(c, NULL, c->devices.n, "seen");
                return -ENODEV;
        }
        if (n > 1) {
                log_event(LOG_ERR, MID_TARGET_REFUSED,
                          LOG_FIELDS("TARGET", img->name, "ERROR", "several matching disks"),
                          "%zu disks match the target of image '%s'; refusing to guess. Add a property "
                          "(serial, wwn, model, path) that tells them apart. The matches:", n, img->name);
                log_candidates(c, matches, n, "matches");
                return -ENOTUNIQ;
        }

        const BlockDevice *d = &c->devices.items[matches[0]];
        r = target_check_safe(c, d, img->name);
        if (r < 0)
                return r;
        if (min_size > d->size) {
                _cleanup_free_ char *reason = NULL;

                if (asprintf(&reason, "it is too small: %s (%" PRIu64 " bytes) for an image of %s (%" PRIu64 " bytes)",
                             FMT_BYTES(d->size), d->size, FMT_BYTES(min_size), min_size) < 0)
                        return log_oom();
                return refuse(d, img->name, EFBIG, reason);
        }
        return (int) matches[0];
}

int target_root_is_on_flash_target(const Config *c) {
        _cleanup_(target_context_done) TargetContext ctx = {};
        int r;

        if (!c->flash)
                return 0;
        r = target_context_load(&ctx);
        if (r < 0)
                return r;
        for (size_t i = 0; i < c->flash->n_images; i++)
                for (size_t j = 0; j < ctx.devices.n; j++) {
                        const BlockDevice *d = &ctx.devices.items[j];

                        if (target_matches(&c->flash->images[i].target, d) &&
                            disks_contain(ctx.system_disks, ctx.n_system_disks, d->devnum))
                                return 1;
                }
        return 0;
}
