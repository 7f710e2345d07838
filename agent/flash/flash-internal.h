/* SPDX-License-Identifier: MIT */
#pragma once

#include <jansson.h>

#include "config-flash.h"
#include "download.h"
#include "flash.h"
#include "progress.h"
#include "signature.h"
#include "target.h"

/* What every part of one flash run shares. */
typedef struct FlashContext {
        const Config *config;
        const FlashConfig *flash;
        const FlashOptions *options;
        State *state;
        Reporter reporter;
        SignatureKey *key;              /* NULL without public_key */
        DownloadOptions download;
        TargetContext targets;
        json_t *record;                 /* state->flash */
        char error[320];                /* why the run failed, for the report and the state */
} FlashContext;

/* Remembers the first failure's reason (for the report and the state file). */
void flash_set_error(FlashContext *ctx, const char *format, ...) _printf_(2, 3);

/* Downloads a detached signature (before anything is written, so that a missing one stops the
 * flash early). url NULL gives NULL. */
int flash_fetch_signature(FlashContext *ctx, const char *name, const char *url, void **ret, size_t *ret_size);

/* Compares the digest with the expected one and checks the signature when there is one; logs
 * what failed (expected and actual hash). 0 when the data is good. */
int flash_verify(FlashContext *ctx, const char *name, const uint8_t digest[static DIGEST_SHA256_SIZE],
                 const uint8_t expected[static DIGEST_SHA256_SIZE], FlashDigestScope scope,
                 const void *signature, size_t signature_size);

/* True once SIGINT or SIGTERM arrived: stop, wipe, report. */
bool flash_interrupted(void);

/* The record of one entry in state->flash ("images" or "firmware" member, by name), created
 * when missing. Borrowed. */
json_t *flash_record_entry(FlashContext *ctx, const char *kind, const char *name);
void flash_record_set(FlashContext *ctx, json_t *entry, const char *key, json_t *value);
void flash_record_save(FlashContext *ctx);

/* One image (image.c) and one firmware (firmware.c): 0 or a negative errno, logged. */
int flash_image(FlashContext *ctx, const FlashImage *img, int target_index);
int flash_firmware(FlashContext *ctx, const FlashFirmware *fw);
