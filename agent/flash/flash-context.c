/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flash-context.h"
#include "log.h"

/* The helpers every part of a flash run shares: the failure reason, the record in the state
 * file, signatures and verification, and the interruption flag. */

#define SIGNATURE_MAX_SIZE (16 * 1024)

static volatile sig_atomic_t interrupted;
static struct sigaction old_int, old_term;

static void on_signal(int sig) {
        interrupted = sig;
}

void flash_interrupt_catch(void) {
        struct sigaction sa = { .sa_handler = on_signal };

        interrupted = 0;
        sigemptyset(&sa.sa_mask);
        (void) sigaction(SIGINT, &sa, &old_int);
        (void) sigaction(SIGTERM, &sa, &old_term);
}

void flash_interrupt_release(void) {
        (void) sigaction(SIGINT, &old_int, NULL);
        (void) sigaction(SIGTERM, &old_term, NULL);
}

bool flash_interrupted(void) {
        return interrupted != 0;
}

void flash_set_error(FlashContext *ctx, const char *format, ...) {
        va_list ap;

        if (ctx->error[0])
                return;
        va_start(ap, format);
        vsnprintf(ctx->error, sizeof ctx->error, format, ap);
        va_end(ap);
}

json_t *flash_record_entry(FlashContext *ctx, const char *kind, const char *name) {
        json_t *group, *e;

        if (!ctx->record)
                return NULL;
        group = json_object_get(ctx->record, kind);
        if (!group) {
                group = json_object();
                if (!group || json_object_set_new(ctx->record, kind, group) < 0)
                        return NULL;
        }
        e = json_object_get(group, name);
        if (!e) {
                e = json_object();
                if (!e || json_object_set_new(group, name, e) < 0)
                        return NULL;
        }
        return e;
}

void flash_record_set(FlashContext *ctx, json_t *entry, const char *key, json_t *value) {
        if (!entry || !value) {
                json_decref(value);
                return;
        }
        (void) json_object_set_new(entry, key, value);
}

json_t *flash_record_now(void) {
        char ts[ISO8601_MAX];

        if (iso8601_format(now_realtime(), ts) < 0)
                return json_null();
        return json_string(ts);
}

void flash_record_save(FlashContext *ctx) {
        int r;

        if (!ctx->state || !ctx->state->path)
                return;
        r = state_save(ctx->state);
        if (r < 0)
                log_warning_errno(r, "Failed to save the state file: %m");
}

int flash_fetch_signature(FlashContext *ctx, const char *name, const char *url, void **ret, size_t *ret_size) {
        DownloadStats stats;
        int r;

        *ret = NULL;
        *ret_size = 0;
        if (!url)
                return 0;
        if (!ctx->key)
                return log_error_errno(EINVAL, "'%s' has a signature URL but no public key is configured.", name);
        r = download_to_memory(url, &ctx->download, SIGNATURE_MAX_SIZE, ret, ret_size, &stats);
        if (r < 0)
                return log_error_errno(r, "Failed to download the signature of '%s' from '%s': %s", name, url,
                                       stats.error[0] ? stats.error : strerror(-r));
        return 0;
}

int flash_verify(FlashContext *ctx, const char *name, const uint8_t digest[static DIGEST_SHA256_SIZE],
                 const uint8_t expected[static DIGEST_SHA256_SIZE], FlashDigestScope scope,
                 const void *signature, size_t signature_size) {
        char got[DIGEST_SHA256_HEX_SIZE], want[DIGEST_SHA256_HEX_SIZE];
        const char *what = scope == FLASH_DIGEST_FILE ? "file as served" : "uncompressed image";
        int r;

        digest_to_hex(digest, DIGEST_SHA256_SIZE, got);
        digest_to_hex(expected, DIGEST_SHA256_SIZE, want);
        if (memcmp(digest, expected, DIGEST_SHA256_SIZE) != 0) {
                flash_set_error(ctx, "SHA-256 mismatch for '%s': expected %s, got %s", name, want, got);
                return log_event_errno(LOG_ERR, EBADMSG, MID_FLASH_FAILED,
                                       LOG_FIELDS("TARGET", name, "IMAGE_SHA256", got, "ERROR", "sha256 mismatch"),
                                       "SHA-256 of '%s' (the %s) does not match: expected %s, got %s.",
                                       name, what, want, got);
        }
        if (!signature) {
                log_info("SHA-256 of '%s' (the %s) matches: %s.", name, what, got);
                return 0;
        }
        r = signature_verify(ctx->key, digest, signature, signature_size);
        if (r < 0) {
                flash_set_error(ctx, "the signature of '%s' is not valid", name);
                return log_event_errno(LOG_ERR, r, MID_FLASH_FAILED,
                                       LOG_FIELDS("TARGET", name, "IMAGE_SHA256", got, "ERROR", "bad signature"),
                                       "The signature of '%s' does not verify with the %s key '%s' (SHA-256 %s).",
                                       name, signature_key_type_to_string(signature_key_type(ctx->key)),
                                       ctx->flash->public_key, got);
        }
        log_info("SHA-256 of '%s' (the %s) matches %s and its %s signature is valid.", name, what, got,
                 signature_key_type_to_string(signature_key_type(ctx->key)));
        return 0;
}

