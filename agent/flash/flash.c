/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "exit-code.h"
#include "firmware.h"
#include "flash-context.h"
#include "flash.h"
#include "image.h"
#include "inventory.h"
#include "led.h"
#include "log.h"
#include "notify.h"
#include "power.h"

/* The flash run: check everything that can be checked before a byte is written (the
 * configuration, the key, every target), then firmware, then images, each verified; then the
 * LED, the report, the power action. The per-entry records in the state file say how far it got. */

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
                s->flash = json_pack("{s:o, s:s, s:{}, s:{}}", "started", flash_record_now(), "result", "running",
                                     "images", "firmware");
                ctx->record = s->flash;
        }
        flash_reporter_init(&ctx->reporter, c);
        return 0;
}

static void context_done(FlashContext *ctx) {
        flash_reporter_done(&ctx->reporter);
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

        flash_report(&ctx->reporter, r < 0 ? "flash-failed" : "flash-done", f);
        json_decref(f);
}

static int run_all(FlashContext *ctx) {
        _cleanup_(json_decrefp) json_t *inventory = NULL;
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
        /* The machine's inventory, so an operator can map it to a node identity before its first boot. */
        inventory = inventory_report_fields();
        flash_report(&ctx->reporter, "flash-started", inventory);
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
        flash_interrupt_catch();

        notify_status("Flashing");
        r = run_all(&ctx);

        flash_interrupt_release();

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
                (void) json_object_set_new(ctx.record, "finished", flash_record_now());
                (void) json_object_set_new(ctx.record, "result", json_string(r < 0 ? "failed" : "done"));
                if (r < 0)
                        (void) json_object_set_new(ctx.record, "error", json_string(ctx.error));
        }
        flash_record_save(&ctx);
        flash_metrics_write(c, s);
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
