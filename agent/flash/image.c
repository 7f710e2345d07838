/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "image.h"
#include "log.h"
#include "pipeline.h"
#include "progress.h"

/* One image to one disk: open it exclusively, stream through the pipeline while showing
 * progress, then check the hash (and signature) before the held-back partition tables are
 * written. Any failure after the first write wipes the tables again. */

#define WATCH_INTERVAL (200 * USEC_PER_MSEC)

static int percent_of(const Pipeline *p) {
        uint64_t total = atomic_load(&p->total), received = atomic_load(&p->received);
        uint64_t hint = p->writer->size_hint, processed = atomic_load(&p->processed);

        if (total > 0)
                return (int) MIN(received * 100 / total, (uint64_t) 100);
        if (hint > 0)
                return (int) MIN(processed * 100 / hint, (uint64_t) 100);
        return -1;
}

/* Runs the pipeline to its end, logging retries and progress; returns its result. */
static int watch(FlashContext *ctx, Pipeline *p, Progress *progress) {
        bool cancelled = false;
        PipelineEvent e;

        for (;;) {
                bool done = pipeline_wait(p, WATCH_INTERVAL);

                while (pipeline_take_event(p, &e)) {
                        progress_break(progress);
                        log_event_errno(LOG_WARNING, e.error, MID_ATTEMPT_FAILED,
                                        LOG_FIELDS("TARGET", progress->name, "URL", p->url,
                                                   "ATTEMPT", FMT_INT(e.attempt), "BYTES", FMT_U64(e.offset)),
                                        "Download of '%s' broke at byte %" PRIu64 " (%s); resuming there in %.1f s "
                                        "(attempt %u of %u).", progress->name, e.offset, e.text,
                                        (double) e.delay / USEC_PER_SEC, e.attempt, ctx->flash->retries);
                }
                if (done)
                        break;
                if (flash_interrupted() && !cancelled) {
                        cancelled = true;
                        progress_break(progress);
                        log_warning("Interrupted: stopping the flash of '%s'.", progress->name);
                        pipeline_cancel(p);
                }
                progress_update(progress, atomic_load(&p->processed), percent_of(p), false);
        }
        return pipeline_join(p);
}

static void record_result(FlashContext *ctx, json_t *rec, const Pipeline *p, const Writer *w,
                          const char *verdict, usec_t elapsed) {
        char hex[DIGEST_SHA256_HEX_SIZE];

        flash_record_set(ctx, rec, "verdict", json_string(verdict));
        flash_record_set(ctx, rec, "bytes_written", json_integer((json_int_t) atomic_load(&p->processed)));
        flash_record_set(ctx, rec, "bytes_downloaded", json_integer((json_int_t) atomic_load(&p->received)));
        flash_record_set(ctx, rec, "compression", json_string(compression_format_to_string(p->format)));
        flash_record_set(ctx, rec, "resumes", json_integer(p->stats.resumes));
        flash_record_set(ctx, rec, "elapsed_ms", json_integer((json_int_t) (elapsed / USEC_PER_MSEC)));
        if (p->image_size > 0)
                flash_record_set(ctx, rec, "image_size", json_integer((json_int_t) p->image_size));
        if (p->digest_complete)
                flash_record_set(ctx, rec, "sha256", json_string(digest_to_hex(p->digest, DIGEST_SHA256_SIZE, hex)));
        flash_record_set(ctx, rec, "zeroed_bytes", json_integer((json_int_t) w->behind.zero_bytes));
        flash_record_set(ctx, rec, "zero_method", json_string(writer_zero_method(w)));
}

/* After a failure: nothing to do if nothing was written, else the tables are wiped again. */
static void fail_cleanup(const BlockDevice *d, Writer *w) {
        int r;

        if (!w->started) {
                log_info("Nothing was written to %s; it is unchanged.", d->devnode);
                return;
        }
        r = writer_wipe(w);
        if (r < 0)
                log_error_errno(r, "%s. %s may still hold a partial image!", w->error, d->devnode);
        else
                log_notice("Wiped the partition tables of %s: it holds a partial image and will not boot.", d->devnode);
        (void) blockdev_reread_partitions(w->fd);
}

/* Where the time went, per stage: CPU, busy (not blocked on a queue: computing, or waiting for
 * the network or the disk), blocked for input, blocked for room downstream. One debug record,
 * read by tests/bench/bench-flash.sh. */
static void log_stages(const Pipeline *p, const Writer *w, usec_t elapsed) {
        char line[512];
        size_t n = 0;

        for (PipelineStageId i = 0; i < _PIPELINE_STAGE_MAX; i++) {
                const PipelineStageStats *st = &p->stage[i];
                uint64_t waits = st->wait_in_usec + st->wait_out_usec;
                uint64_t busy = st->wall_usec > waits ? st->wall_usec - waits : 0;
                int k;

                k = snprintf(line + n, sizeof line - n, "%s%s cpu=%" PRIu64 " busy=%" PRIu64 " in=%" PRIu64
                             " out=%" PRIu64, i > 0 ? "; " : "", pipeline_stage_to_string(i),
                             st->cpu_usec / 1000, busy / 1000, st->wait_in_usec / 1000,
                             st->wait_out_usec / 1000);
                if (k < 0 || (size_t) k >= sizeof line - n)
                        break;
                n += (size_t) k;
        }
        log_debug("Pipeline stages (ms): %s; zero-scan busy=%" PRIu64 "; zero-runs busy=%" PRIu64 " bytes=%" PRIu64
                  "; frames=%u threads=%u workers-cpu=%" PRIu64 "; write: data=%" PRIu64 " zero=%" PRIu64
                  " (%u batches) sync=%" PRIu64 " (%u) wipe=%" PRIu64 "; wall=%" PRIu64 ".",
                  line, p->scan_usec / 1000, p->zero_usec / 1000, p->zero_run_bytes, p->frames, p->decode_cores,
                  p->workers_cpu_usec / 1000, w->write_usec / 1000, w->behind.zero_usec / 1000, w->behind.zero_calls,
                  w->behind.sync_usec / 1000, w->behind.syncs, w->wipe_usec / 1000, elapsed / 1000);
}

/* The decoder refused the data, and the file was still received and hashed to its end: which
 * check failed decides the verdict. A file that does not match its SHA-256 was damaged on the
 * way or is not the published one (the decoder's complaint follows from that); one that matches
 * was published corrupt. Returns the verdict. */
static const char *data_failure(FlashContext *ctx, const FlashImage *img, const BlockDevice *d, const Pipeline *p) {
        char got[DIGEST_SHA256_HEX_SIZE], want[DIGEST_SHA256_HEX_SIZE];

        digest_to_hex(p->digest, DIGEST_SHA256_SIZE, got);
        digest_to_hex(img->sha256, DIGEST_SHA256_SIZE, want);
        if (memcmp(p->digest, img->sha256, DIGEST_SHA256_SIZE) != 0) {
                flash_set_error(ctx, "the file does not match its SHA-256 (expected %s, got %s); its data is also "
                                "unusable: %s", want, got, p->error);
                log_event(LOG_ERR, MID_FLASH_FAILED,
                          LOG_FIELDS("TARGET", img->name, "DEVICE", d->devnode, "IMAGE_SHA256", got,
                                     "ERROR", "sha256 mismatch"),
                          "Flashing '%s' to %s failed: the file as served does not match its SHA-256 (expected %s, "
                          "got %s), so it was damaged on the way or is not the published file; its data is "
                          "unusable too (%s). Check the file on the server against the configured hash.",
                          img->name, d->devnode, want, got, p->error);
                return "hash-mismatch";
        }
        flash_set_error(ctx, "%s; the file matches its SHA-256, so the published file itself is corrupt", p->error);
        log_event(LOG_ERR, MID_FLASH_FAILED,
                  LOG_FIELDS("TARGET", img->name, "DEVICE", d->devnode, "IMAGE_SHA256", got, "ERROR", p->error),
                  "Flashing '%s' to %s failed: %s. The file matches its SHA-256 (%s), so the published file "
                  "itself is corrupt: publish it again and update the hash.", img->name, d->devnode, p->error, got);
        return "failed";
}

static int image_do(FlashContext *ctx, const FlashImage *img, const BlockDevice *d, json_t *rec) {
        _cleanup_free_ void *signature = NULL;
        _cleanup_close_ int fd = -1;
        char hex[DIGEST_SHA256_HEX_SIZE];
        size_t signature_size = 0;
        Pipeline p = {};
        Progress progress;
        Writer w = {};
        usec_t start;
        double mbps;
        int r;

        r = flash_fetch_signature(ctx, img->name, img->signature_url, &signature, &signature_size);
        if (r < 0)
                return r;

        fd = blockdev_open_exclusive(d->devnode);
        if (fd == -EBUSY) {
                flash_set_error(ctx, "%s is in use", d->devnode);
                return log_event_errno(LOG_ERR, fd, MID_TARGET_REFUSED,
                                       LOG_FIELDS("TARGET", img->name, "DEVICE", d->devnode, "ERROR", "in use"),
                                       "Refusing to flash image '%s' to %s: it is in use (mounted, or opened "
                                       "exclusively by another program).", img->name, d->devnode);
        }
        if (fd < 0)
                return log_error_errno(fd, "Failed to open %s for writing: %m", d->devnode);
        r = writer_init(&w, fd, d->size, d->logical_block_size);
        if (r < 0) {
                writer_done(&w);
                return log_oom();
        }

        log_event(LOG_NOTICE, MID_FLASH_BEGIN,
                  LOG_FIELDS("TARGET", img->name, "DEVICE", d->devnode, "URL", img->url, "IMAGE_SHA256", img->sha256_hex),
                  "Flashing image '%s' from %s to %s (%s).", img->name, img->url, d->devnode, FMT_BYTES(d->size));

        start = now_monotonic();
        p = (Pipeline) {
                .url = img->url,
                .scope = img->sha256_of,
                .expected_size = img->size,
                .download = ctx->download,
                .writer = &w,
        };
        progress_init(&progress, img->name, d->devnode, ctx->options && ctx->options->progress,
                      ctx->flash->progress_interval, &ctx->reporter);
        r = pipeline_start(&p);
        if (r >= 0)
                r = watch(ctx, &p, &progress);
        progress_break(&progress);

        if (r < 0) {
                const char *verdict = "failed";

                if (!flash_interrupted() && p.data_error && p.digest_complete && img->sha256_of == FLASH_DIGEST_FILE)
                        verdict = data_failure(ctx, img, d, &p);
                else {
                        if (flash_interrupted())
                                flash_set_error(ctx, "interrupted");
                        else
                                flash_set_error(ctx, "%s", p.error);
                        log_event_errno(LOG_ERR, r, MID_FLASH_FAILED,
                                        LOG_FIELDS("TARGET", img->name, "DEVICE", d->devnode, "ERROR", p.error,
                                                   "BYTES", FMT_U64(atomic_load(&p.processed))),
                                        "Flashing '%s' to %s failed (%s): %s.", img->name, d->devnode,
                                        p.error_stage ? p.error_stage : "start", p.error[0] ? p.error : strerror(-r));
                }
                fail_cleanup(d, &w);
                record_result(ctx, rec, &p, &w, verdict, now_monotonic() - start);
                goto out;
        }

        /* The image is on the disk except its partition tables: check it before they go out. */
        usec_t t_verify = now_monotonic();
        r = flash_verify(ctx, img->name, p.digest, img->sha256, img->sha256_of, signature, signature_size);
        if (r < 0) {
                fail_cleanup(d, &w);
                record_result(ctx, rec, &p, &w,
                              memcmp(p.digest, img->sha256, DIGEST_SHA256_SIZE) != 0 ? "hash-mismatch" : "bad-signature",
                              now_monotonic() - start);
                goto out;
        }
        usec_t t_commit = now_monotonic();
        r = writer_commit(&w);
        log_debug("Timing: streaming %" PRIu64 " ms, checks %" PRIu64 " ms, partition tables written and synced in %" PRIu64 " ms.",
                  (t_verify - start) / 1000, (t_commit - t_verify) / 1000, (now_monotonic() - t_commit) / 1000);
        if (r < 0) {
                flash_set_error(ctx, "%s", w.error);
                log_event_errno(LOG_ERR, r, MID_FLASH_FAILED,
                                LOG_FIELDS("TARGET", img->name, "DEVICE", d->devnode, "ERROR", w.error),
                                "Flashing '%s' to %s failed: %s.", img->name, d->devnode, w.error);
                fail_cleanup(d, &w);
                record_result(ctx, rec, &p, &w, "failed", now_monotonic() - start);
                goto out;
        }
        r = blockdev_reread_partitions(fd);
        if (r < 0)
                log_debug("Re-reading the partition table of %s failed (%s); it is read at the next boot.",
                          d->devnode, strerror(-r));
        r = 0;

        log_stages(&p, &w, now_monotonic() - start);
        mbps = progress_mbps(&progress, p.image_size);
        progress_update(&progress, p.image_size, 100, true);
        progress_break(&progress);
        digest_to_hex(p.digest, DIGEST_SHA256_SIZE, hex);
        log_event(LOG_NOTICE, MID_FLASH_DONE,
                  LOG_FIELDS("TARGET", img->name, "DEVICE", d->devnode, "IMAGE_SHA256", hex,
                             "BYTES", FMT_U64(p.image_size), "ELAPSED_MS", FMT_U64((now_monotonic() - start) / USEC_PER_MSEC),
                             "MBPS", FMT_INT((int64_t) mbps)),
                  "Image '%s' written to %s and verified: %s (%s, %s written, %s zeroed with %s), %.0f MB/s, "
                  "%u resumed transfer(s).", img->name, d->devnode, FMT_BYTES(p.image_size),
                  compression_format_to_string(p.format), FMT_BYTES(w.data_bytes), FMT_BYTES(w.behind.zero_bytes),
                  writer_zero_method(&w), mbps, p.stats.resumes);
        record_result(ctx, rec, &p, &w, "written", now_monotonic() - start);
out:
        pipeline_done(&p);
        writer_done(&w);
        return r;
}

int flash_image(FlashContext *ctx, const FlashImage *img, int target_index) {
        const BlockDevice *d = &ctx->targets.devices.items[target_index];
        json_t *rec = flash_record_entry(ctx, "images", img->name);
        int r;

        flash_record_set(ctx, rec, "url", json_string(img->url));
        flash_record_set(ctx, rec, "device", json_string(d->devnode));
        flash_record_set(ctx, rec, "expected_sha256", json_string(img->sha256_hex));
        flash_record_set(ctx, rec, "sha256_of", json_string(flash_digest_scope_to_string(img->sha256_of)));
        flash_record_set(ctx, rec, "verdict", json_string("running"));
        flash_record_save(ctx);

        r = image_do(ctx, img, d, rec);
        if (r < 0 && !ctx->error[0])
                flash_set_error(ctx, "flashing '%s' failed: %s", img->name, strerror(-r));
        if (r < 0)
                flash_record_set(ctx, rec, "error", json_string(ctx->error));
        flash_record_save(ctx);
        return r;
}
