/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "exit-code.h"
#include "flash-internal.h"
#include "led.h"
#include "log.h"
#include "notify.h"
#include "power.h"

/* The flash run: check everything that can be checked before a byte is written (the
 * configuration, the key, every target), then firmware, then images, each verified; then the
 * LED, the report, the power action. The per-entry records in the state file say how far it got. */

#define SIGNATURE_MAX_SIZE (16 * 1024)

static volatile sig_atomic_t interrupted;

static void on_signal(int sig) {
        interrupted = sig;
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

static json_t *json_now(void) {
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

static int context_init(FlashContext *ctx, const Config *c, State *s, const FlashOptions *o) {
        const FlashConfig *f = c->flash;
        int r;

        *ctx = (FlashContext) {
                .config = c,
                .flash = f,
                .options = o,
                .state = s,
                .download = {
                        .ca_file = f->ca_cert_path ?: c->tls.ca_cert_path,
                        .insecure = c->tls.insecure_skip_verify,
                        .connect_timeout_ms = (long) (c->timeouts.connect / USEC_PER_MSEC),
                        .stall_timeout_s = (long) (f->stall_timeout / USEC_PER_SEC),
                        .retries = f->retries,
                        .backoff_initial = c->timeouts.backoff_initial,
                        .backoff_max = c->timeouts.backoff_max,
                },
        };
        if (ctx->download.insecure)
                log_event(LOG_WARNING, MID_TLS_INSECURE, NO_FIELDS,
                          "TLS verification is turned off (tls.insecure_skip_verify): image downloads are "
                          "not authenticated; only their SHA-256 protects them.");
        if (f->public_key) {
                r = signature_key_load(f->public_key, &ctx->key);
                if (r < 0)
                        return log_error_errno(r, "Failed to load the public key '%s' (%s): %m", f->public_key,
                                               r == -EOPNOTSUPP ? "only Ed25519 and RSA keys are supported"
                                                                : "a PEM public key is expected");
        }
        if (s) {
                json_decref(s->flash);
                s->flash = json_pack("{s:o, s:s, s:{}, s:{}}", "started", json_now(), "result", "running",
                                     "images", "firmware");
                ctx->record = s->flash;
        }
        (void) reporter_init(&ctx->reporter, c);
        return 0;
}

static void context_done(FlashContext *ctx) {
        reporter_done(&ctx->reporter);
        signature_key_free(ctx->key);
        target_context_done(&ctx->targets);
}

/* Every image's disk is chosen and checked before anything is written. */
static int choose_all(FlashContext *ctx, int *indexes) {
        int r;

        r = target_context_load(&ctx->targets);
        if (r < 0)
                return log_error_errno(r, "Failed to list the block devices: %m");
        for (size_t i = 0; i < ctx->flash->n_images; i++) {
                const FlashImage *img = &ctx->flash->images[i];
                const BlockDevice *d;
                _cleanup_free_ char *desc = NULL;

                r = target_choose(&ctx->targets, img, img->size);
                if (r == -ENODEV)
                        flash_set_error(ctx, "no disk matches the target of image '%s'", img->name);
                else if (r == -ENOTUNIQ)
                        flash_set_error(ctx, "several disks match the target of image '%s'", img->name);
                else if (r < 0)
                        flash_set_error(ctx, "the disk for image '%s' was refused (see the log)", img->name);
                if (r < 0)
                        return r;
                indexes[i] = r;
                d = &ctx->targets.devices.items[r];
                for (size_t j = 0; j < i; j++)
                        if (indexes[j] == indexes[i])
                                return log_error_errno(EINVAL, "Images '%s' and '%s' both match %s; refusing.",
                                                       ctx->flash->images[j].name, img->name, d->devnode);
                desc = target_describe(d);
                log_info("Image '%s' goes to %s.", img->name, strna(desc));
        }
        return 0;
}

static void report_outcome(FlashContext *ctx, int r) {
        json_t *f = r < 0 ? json_pack("{s:s}", "error", ctx->error) : NULL;

        reporter_send(&ctx->reporter, r < 0 ? "flash-failed" : "flash-done", f);
        json_decref(f);
}

static int run_all(FlashContext *ctx) {
        _cleanup_free_ int *indexes = NULL;
        int r;

        indexes = calloc(MAX(ctx->flash->n_images, (size_t) 1), sizeof *indexes);
        if (!indexes)
                return log_oom();
        r = choose_all(ctx, indexes);
        if (r < 0)
                return r;
        if (ctx->options && ctx->options->dry_run) {
                log_info("Dry run: the targets are chosen and safe; nothing was written.");
                return 0;
        }

        led_set(ctx->flash->led, LED_PATTERN_FLASHING);
        reporter_send(&ctx->reporter, "flash-started", NULL);
        for (size_t i = 0; i < ctx->flash->n_firmware; i++) {
                r = flash_firmware(ctx, &ctx->flash->firmware[i]);
                if (r < 0)
                        return r;
                if (flash_interrupted())
                        return log_error_errno(EINTR, "Interrupted.");
        }
        for (size_t i = 0; i < ctx->flash->n_images; i++) {
                r = flash_image(ctx, &ctx->flash->images[i], indexes[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

int flash_run(const Config *c, State *s, const FlashOptions *o) {
        FlashContext ctx = {};
        struct sigaction sa = { .sa_handler = on_signal }, old_int, old_term;
        FlashPowerAction action;
        int r;

        if (!c->flash) {
                log_error("The configuration '%s' has no \"flash\" section: nothing to flash.", strna(c->path));
                return EXIT_CONFIG;
        }
        r = context_init(&ctx, c, s, o);
        if (r < 0) {
                context_done(&ctx);
                return EXIT_CONFIG;
        }

        /* SIGINT/SIGTERM stop the pipeline, so the disk is wiped before exiting. */
        interrupted = 0;
        sigemptyset(&sa.sa_mask);
        (void) sigaction(SIGINT, &sa, &old_int);
        (void) sigaction(SIGTERM, &sa, &old_term);

        notify_status("Flashing");
        r = run_all(&ctx);

        (void) sigaction(SIGINT, &old_int, NULL);
        (void) sigaction(SIGTERM, &old_term, NULL);

        if (ctx.options && ctx.options->dry_run) {
                if (ctx.record)
                        (void) json_object_set_new(ctx.record, "result", json_string(r < 0 ? "refused" : "dry-run"));
                flash_record_save(&ctx);
                context_done(&ctx);
                return r < 0 ? EXIT_FLASH_FAILED : EXIT_OK;
        }

        if (r < 0 && !ctx.error[0])
                flash_set_error(&ctx, "%s", strerror(-r));
        if (ctx.record) {
                (void) json_object_set_new(ctx.record, "finished", json_now());
                (void) json_object_set_new(ctx.record, "result", json_string(r < 0 ? "failed" : "done"));
                if (r < 0)
                        (void) json_object_set_new(ctx.record, "error", json_string(ctx.error));
        }
        flash_record_save(&ctx);
        led_set(ctx.flash->led, r < 0 ? LED_PATTERN_FAILED : LED_PATTERN_DONE);
        report_outcome(&ctx, r);
        if (r < 0) {
                notify_status("Flashing failed: %s", ctx.error);
                log_error("Flashing failed: %s.", ctx.error);
        } else {
                notify_status("Flashing done");
                log_info("Flashing done: %zu image(s), %zu firmware(s).", c->flash->n_images, c->flash->n_firmware);
        }

        action = r < 0 ? c->flash->on_failure : c->flash->on_success;
        context_done(&ctx);
        if (action != FLASH_POWER_NONE && !(o && o->no_power_action) && !flash_interrupted())
                (void) power_action(action);
        else if (action != FLASH_POWER_NONE)
                log_info("Not performing the configured %s (%s).", flash_power_action_to_string(action),
                         flash_interrupted() ? "interrupted" : "--no-power-action");
        return r < 0 ? EXIT_FLASH_FAILED : EXIT_OK;
}
