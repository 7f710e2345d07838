/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "decompress.h"
#include "digest.h"
#include "firmware.h"
#include "log.h"
#include "mtd.h"

/* Firmware for SPI-NOR (or any MTD) partitions: small enough to hold in memory, so it is
 * downloaded and checked completely before the device is touched. Then the device is compared
 * erase block by erase block: identical blocks are left alone (no wear), the others are erased,
 * written and read back. */

#define FIRMWARE_FILE_MAX (256U * 1024 * 1024)

static int unpack(const uint8_t *data, size_t size, uint64_t limit, uint8_t **ret, size_t *ret_size,
                  CompressionFormat *ret_format) {
        _cleanup_(decompress_freep) Decompressor *d = NULL;
        _cleanup_free_ uint8_t *out = NULL;
        size_t in_pos = 0, out_size = 0, cap = (size_t) limit + 1;
        CompressionFormat f = decompress_sniff(data, size);
        int r;

        r = decompress_new(f, &d);
        if (r < 0)
                return r;
        out = malloc(cap);
        if (!out)
                return -ENOMEM;
        for (;;) {
                size_t iu = 0, ou = 0;

                r = decompress_run(d, data + in_pos, size - in_pos, &iu, out + out_size, cap - out_size, &ou, true);
                in_pos += iu;
                out_size += ou;
                if (r < 0)
                        return r;
                if (r > 0)
                        break;
                if (out_size == cap)
                        return -EFBIG;
                if (iu == 0 && ou == 0)
                        return -EPIPE;
        }
        *ret = TAKE_PTR(out);
        *ret_size = out_size;
        *ret_format = f;
        return 0;
}

/* Erases, writes and verifies the erase blocks whose content differs. */
static int program(int fd, const MtdInfo *info, const uint8_t *fw, size_t size, const char *dev,
                   unsigned *ret_erased) {
        _cleanup_free_ uint8_t *cur = malloc(info->erase_size), *want = malloc(info->erase_size);
        unsigned erased = 0;
        int r;

        if (!cur || !want)
                return log_oom();
        for (uint64_t o = 0; o < size; o += info->erase_size) {
                size_t n = (size_t) MIN((uint64_t) info->erase_size, size - o);
                /* Written length: whole write pages, padded with the erased value. */
                size_t wn = (n + info->write_size - 1) / info->write_size * info->write_size;

                r = pread_full(fd, cur, n, o);
                if (r < 0)
                        return log_error_errno(r, "Failed to read %s at offset %" PRIu64 ": %m", dev, o);
                if (memcmp(cur, fw + o, n) == 0)
                        continue;

                memset(want, 0xff, info->erase_size);
                memcpy(want, fw + o, n);
                r = mtd_erase(fd, info, o, info->erase_size);
                if (r < 0)
                        return log_error_errno(r, "Failed to erase %s at offset %" PRIu64 ": %m", dev, o);
                erased++;
                r = pwrite_full(fd, want, MIN(wn, (size_t) info->erase_size), o);
                if (r < 0)
                        return log_error_errno(r, "Failed to write %s at offset %" PRIu64 ": %m", dev, o);
                r = pread_full(fd, cur, n, o);
                if (r < 0)
                        return log_error_errno(r, "Failed to read back %s at offset %" PRIu64 ": %m", dev, o);
                if (memcmp(cur, fw + o, n) != 0)
                        return log_error_errno(EIO, "Verification of %s failed: the erase block at offset %" PRIu64
                                               " reads back differently from what was written.", dev, o);
        }
        *ret_erased = erased;
        return 0;
}

static int firmware_do(FlashContext *ctx, const FlashFirmware *fw, json_t *rec) {
        _cleanup_free_ char *dev = NULL;
        _cleanup_free_ void *file = NULL, *signature = NULL;
        _cleanup_free_ uint8_t *image = NULL, *current = NULL;
        _cleanup_close_ int fd = -1;
        uint8_t file_digest[DIGEST_SHA256_SIZE], image_digest[DIGEST_SHA256_SIZE], cur_digest[DIGEST_SHA256_SIZE];
        char hex[DIGEST_SHA256_HEX_SIZE];
        CompressionFormat format;
        DownloadStats stats;
        size_t file_size, image_size, signature_size = 0;
        unsigned erased = 0;
        MtdInfo info;
        int r;

        r = mtd_find_by_name(getenv("FIRST_BOOT_AGENT_MTD_SYSFS_DIR"), NULL, fw->mtd, &dev);
        if (r == -ENOTUNIQ)
                return log_error_errno(r, "Several MTD devices are named '%s'; refusing to guess.", fw->mtd);
        if (r < 0)
                return log_error_errno(r, "No MTD device is named '%s' (see /sys/class/mtd/*/name): %m", fw->mtd);
        flash_record_set(ctx, rec, "device", json_string(dev));

        fd = mtd_open(dev, &info);
        if (fd < 0)
                return log_error_errno(fd, "Failed to open MTD device %s: %m", dev);
        if (!mtd_info_writable(&info))
                return log_error_errno(EROFS, "MTD device %s ('%s') is read-only.", dev, fw->mtd);
        log_info("Firmware '%s': %s is a %s device of %s, erase blocks of %s, write size %" PRIu32 ".",
                 fw->name, dev, mtd_type_to_string(info.type), FMT_BYTES(info.size),
                 FMT_BYTES(info.erase_size), info.write_size);

        /* Everything is checked before the device is touched. */
        r = flash_fetch_signature(ctx, fw->name, fw->signature_url, &signature, &signature_size);
        if (r < 0)
                return r;
        r = download_to_memory(fw->url, &ctx->download, FIRMWARE_FILE_MAX, &file, &file_size, &stats);
        if (r < 0)
                return log_error_errno(r, "Failed to download firmware '%s' from '%s': %s", fw->name, fw->url,
                                       stats.error[0] ? stats.error : strerror(-r));
        r = digest_sha256(file, file_size, file_digest);
        if (r < 0)
                return log_error_errno(r, "Failed to hash firmware '%s': %m", fw->name);
        r = unpack(file, file_size, info.size, &image, &image_size, &format);
        if (r == -EFBIG)
                return log_error_errno(r, "Firmware '%s' does not fit: %s holds %s.", fw->name, dev,
                                       FMT_BYTES(info.size));
        if (r < 0)
                return log_error_errno(r, "Failed to decompress firmware '%s': %m", fw->name);
        r = digest_sha256(image, image_size, image_digest);
        if (r < 0)
                return log_error_errno(r, "Failed to hash firmware '%s': %m", fw->name);

        r = flash_verify(ctx, fw->name, fw->sha256_of == FLASH_DIGEST_FILE ? file_digest : image_digest,
                         fw->sha256, fw->sha256_of, signature, signature_size);
        if (r < 0)
                return r;
        flash_record_set(ctx, rec, "sha256", json_string(digest_to_hex(image_digest, DIGEST_SHA256_SIZE, hex)));
        flash_record_set(ctx, rec, "bytes", json_integer((json_int_t) image_size));
        if (image_size == 0)
                return log_error_errno(ENODATA, "Firmware '%s' is empty.", fw->name);
        if ((uint64_t) image_size > info.size)
                return log_error_errno(EFBIG, "Firmware '%s' is %zu bytes; %s holds only %" PRIu64 ".",
                                       fw->name, image_size, dev, info.size);
        if ((uint64_t) (image_size + info.erase_size - 1) / info.erase_size * info.erase_size > info.size)
                return log_error_errno(EFBIG, "Firmware '%s' rounded up to whole erase blocks does not fit %s.",
                                       fw->name, dev);

        /* Already there? Hash what the device holds over the same length. */
        current = malloc(image_size);
        if (!current)
                return log_oom();
        r = pread_full(fd, current, image_size, 0);
        if (r < 0)
                return log_error_errno(r, "Failed to read %s: %m", dev);
        r = digest_sha256(current, image_size, cur_digest);
        if (r < 0)
                return log_error_errno(r, "Failed to hash %s: %m", dev);
        if (memcmp(cur_digest, image_digest, DIGEST_SHA256_SIZE) == 0) {
                log_event(LOG_INFO, MID_FIRMWARE_CURRENT,
                          LOG_FIELDS("TARGET", fw->name, "DEVICE", dev, "IMAGE_SHA256", hex),
                          "Firmware '%s' on %s is already current (SHA-256 %s); not rewriting it.",
                          fw->name, dev, hex);
                flash_record_set(ctx, rec, "verdict", json_string("current"));
                return 0;
        }

        r = program(fd, &info, image, image_size, dev, &erased);
        if (r < 0)
                return r;
        log_event(LOG_NOTICE, MID_FIRMWARE_WRITTEN,
                  LOG_FIELDS("TARGET", fw->name, "DEVICE", dev, "IMAGE_SHA256", hex, "BYTES", FMT_U64(image_size)),
                  "Firmware '%s' written to %s and verified (%s, %u erase blocks rewritten, %s).",
                  fw->name, dev, FMT_BYTES(image_size), erased, compression_format_to_string(format));
        flash_record_set(ctx, rec, "verdict", json_string("written"));
        flash_record_set(ctx, rec, "erase_blocks_written", json_integer(erased));
        return 0;
}

int flash_firmware(FlashContext *ctx, const FlashFirmware *fw) {
        json_t *rec = flash_record_entry(ctx, "firmware", fw->name);
        usec_t start = now_monotonic();
        int r;

        flash_record_set(ctx, rec, "mtd", json_string(fw->mtd));
        flash_record_set(ctx, rec, "verdict", json_string("running"));
        flash_record_save(ctx);

        r = firmware_do(ctx, fw, rec);
        flash_record_set(ctx, rec, "elapsed_ms", json_integer((json_int_t) ((now_monotonic() - start) / USEC_PER_MSEC)));
        if (r < 0) {
                flash_record_set(ctx, rec, "verdict", json_string("failed"));
                flash_record_set(ctx, rec, "error", json_string(strerror(-r)));
        }
        flash_record_save(ctx);
        return r;
}
