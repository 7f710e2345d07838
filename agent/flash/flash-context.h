/* SPDX-License-Identifier: MIT */
#pragma once

#include <jansson.h>

#include "config-flash.h"
#include "digest.h"
#include "download.h"
#include "flash-options.h"
#include "flash-report.h"
#include "signature.h"
#include "state.h"
#include "target.h"

/* What the run (flash.c) hands to the parts that flash one entry (image.c, firmware.c): the
 * configuration, the record in the state file, the download options, the key, the reports. The
 * parts call these helpers, never back into the run. */
typedef struct FlashContext {
        const Config *config;
        const FlashConfig *flash;
        const FlashOptions *options;
        State *state;
        FlashReporter reporter;
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

/* SIGINT and SIGTERM stop the flash (the disk is wiped before exiting) instead of the process:
 * catch() installs the handlers and clears the flag, release() restores the old handlers. */
void flash_interrupt_catch(void);
void flash_interrupt_release(void);
/* True once SIGINT or SIGTERM arrived: stop, wipe, report. */
bool flash_interrupted(void);

/* The record of one entry in state->flash ("images" or "firmware" member, by name), created
 * when missing. Borrowed. */
json_t *flash_record_entry(FlashContext *ctx, const char *kind, const char *name);
void flash_record_set(FlashContext *ctx, json_t *entry, const char *key, json_t *value);
void flash_record_save(FlashContext *ctx);

/* The current time as a JSON string, for the record. */
json_t *flash_record_now(void);
