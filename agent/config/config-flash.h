/* SPDX-License-Identifier: MIT */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "cleanup.h"
#include "problem.h"
#include "time-util.h"

/* The "flash" section: images for block devices, firmware for MTD (SPI-NOR) devices.
 *
 *   "flash": {
 *     "images": [ { "name": "system", "url": "https://…/gold.img.zst",
 *                   "sha256": "<64 hex>", "sha256_of": "file",   // file (as served) | image
 *                   "size": 2147483648,                          // optional, uncompressed bytes
 *                   "signature_url": "https://…/gold.img.zst.sig",
 *                   "target": { "type": "nvme", "serial": "S4EW*", "min_size": 64000000000 } } ],
 *     "firmware": [ { "name": "spi", "mtd": "spi-nor", "url": "…", "sha256": "…" } ],
 *     "public_key": "/etc/first-boot-agent/flash.pub",   // PEM, Ed25519 or RSA
 *     "ca_cert_path": "…",            // CA for the image server; default: tls.ca_cert_path
 *     "on_success": "poweroff",       // poweroff | reboot | none
 *     "on_failure": "none",
 *     "led": "ACT",                   // /sys/class/leds/ACT, optional
 *     "retries": 10, "progress_interval_s": 5, "stall_timeout_s": 30
 *   }
 */

typedef enum FlashTargetType {
        FLASH_TARGET_NVME,
        FLASH_TARGET_VIRTIO,
        FLASH_TARGET_MMC,
        FLASH_TARGET_SCSI,              /* SATA, SAS, USB mass storage (sd*) */
        FLASH_TARGET_LOOP,              /* loop devices: tests and image preparation */
        FLASH_TARGET_PATH,              /* any block device, named by its path */
        _FLASH_TARGET_TYPE_MAX,
} FlashTargetType;

/* Every property given must match; text properties are shell patterns (fnmatch). At least one
 * identifying property (path, serial, wwn, model, backing_file) is required: never "the first
 * disk". */
typedef struct FlashTarget {
        FlashTargetType type;
        char *path;                     /* "/dev/nvme0n1", "/dev/disk/by-id/…" */
        char *serial;
        char *wwn;
        char *model;
        char *backing_file;             /* loop devices: their backing file */
        uint64_t min_size;              /* bytes; 0: no minimum beyond the image itself */
} FlashTarget;

typedef enum FlashDigestScope {
        FLASH_DIGEST_FILE,              /* the bytes as served (compressed or not) */
        FLASH_DIGEST_IMAGE,             /* the uncompressed image as written */
        _FLASH_DIGEST_SCOPE_MAX,
} FlashDigestScope;

#define FLASH_SHA256_SIZE 32

typedef struct FlashImage {
        char *name;                     /* for logs and status; default "image0", "image1", … */
        char *url;
        char *sha256_hex;               /* lower case */
        uint8_t sha256[FLASH_SHA256_SIZE];
        FlashDigestScope sha256_of;     /* also what the signature covers */
        uint64_t size;                  /* uncompressed size in bytes, 0 when not given */
        char *signature_url;            /* detached signature, or NULL */
        FlashTarget target;
} FlashImage;

typedef struct FlashFirmware {
        char *name;                     /* default: the MTD name */
        char *mtd;                      /* the MTD device's name (/sys/class/mtd/mtdN/name) */
        char *url;
        char *sha256_hex;
        uint8_t sha256[FLASH_SHA256_SIZE];
        FlashDigestScope sha256_of;
        char *signature_url;
} FlashFirmware;

typedef enum FlashPowerAction {
        FLASH_POWER_NONE,
        FLASH_POWER_POWEROFF,
        FLASH_POWER_REBOOT,
        _FLASH_POWER_ACTION_MAX,
} FlashPowerAction;

typedef struct FlashConfig FlashConfig;

struct FlashConfig {
        FlashImage *images;
        size_t n_images;
        FlashFirmware *firmware;
        size_t n_firmware;
        char *public_key;               /* PEM public key; when set every entry needs a signature */
        char *ca_cert_path;             /* NULL: the tls section's CA */
        FlashPowerAction on_success;    /* default poweroff */
        FlashPowerAction on_failure;    /* default none */
        char *led;                      /* LED name, or NULL */
        unsigned retries;               /* resumes per download, default 10 */
        usec_t progress_interval;       /* default 5 s */
        usec_t stall_timeout;           /* abort a transfer that stalls this long, default 30 s */
};

/* The "flash" section (images for block devices, firmware for MTD). Parsed by config_parse()
 * through this function so that its problems appear in the same list as the rest.
 * path is the JSON path of the section (".flash"). Returns 0, -EINVAL when problems were added
 * (ret untouched), -ENOMEM. */
int flash_config_parse(json_t *section, const char *path, FlashConfig **ret, ProblemList *problems);
FlashConfig *flash_config_free(FlashConfig *f);
DEFINE_TRIVIAL_CLEANUP_FUNC(FlashConfig *, flash_config_free);

const char *flash_target_type_to_string(FlashTargetType t);
int flash_target_type_from_string(const char *s);
const char *flash_power_action_to_string(FlashPowerAction a);
int flash_power_action_from_string(const char *s);
const char *flash_digest_scope_to_string(FlashDigestScope s);
