/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "macro.h"
#include "time-util.h"
#include "writer.h"
#include "zeroout.h"

#define GRAIN WRITER_GRAIN              /* zero detection unit */
#define ZERO_RUN_MIN (64 * 1024)        /* shorter zero runs inside data are written */
#define BOUNCE_SIZE (256 * 1024)
#define WIPE_TAIL_SIZE (1024 * 1024)    /* the end of the device: backup GPT */
#define HELD_BACKUP_MAX (4 * 1024 * 1024)

#define fail(w, err, ...) ({ snprintf((w)->error, sizeof (w)->error, __VA_ARGS__); -abs(err); })

static void *aligned_alloc_zero(size_t size) {
        void *p;

        if (posix_memalign(&p, 4096, MAX(size, (size_t) 4096)) != 0)
                return NULL;
        memset(p, 0, MAX(size, (size_t) 4096));
        return p;
}

/* The backup table of whatever GPT the device holds now (found through its primary header). */
static void read_old_table(Writer *w) {
        _cleanup_free_ uint8_t *buf = aligned_alloc_zero(8192);
        GptLocation loc;

        if (!buf || w->device_size < 8192 || pread(w->fd, buf, 8192, 0) != 8192)
                return;
        if (gpt_locate(buf, 8192, &loc) <= 0 || loc.backup_end > w->device_size)
                return;
        w->old_backup_offset = loc.backup_offset;
        w->old_backup_end = loc.backup_end;
}

int writer_init(Writer *w, int fd, uint64_t device_size, unsigned sector_size) {
        *w = (Writer) {
                .fd = fd,
                .device_size = device_size,
                .sector_size = sector_size ?: 512,
                .sync_behind_min = WRITER_SYNC_BEHIND_MIN,
        };
        writer_behind_init(&w->behind, fd);
        w->bounce = aligned_alloc_zero(BOUNCE_SIZE);
        w->head = (HeldRange) { .offset = 0, .size = GPT_PRIMARY_AREA_SIZE };
        w->head.data = aligned_alloc_zero(GPT_PRIMARY_AREA_SIZE);
        if (!w->bounce || !w->head.data)
                return -ENOMEM;
        read_old_table(w);
        return 0;
}

void writer_done(Writer *w) {
        writer_behind_done(&w->behind);
        free(w->head.data);
        free(w->backup.data);
        free(w->bounce);
        w->head.data = w->backup.data = w->bounce = NULL;
}

const char *writer_zero_method(const Writer *w) {
        return zero_method_to_string(w->behind.zeroer.method);
}

/* Writes any length at any offset: whole sectors directly (through the bounce buffer when the
 * memory is not aligned), a partial last sector by read-modify-write. */
static int write_at(Writer *w, const uint8_t *data, size_t size, uint64_t offset) {
        size_t whole = size - size % w->sector_size;
        int r;

        if (offset % w->sector_size != 0)
                return -EINVAL;
        if (whole > 0) {
                if (((uintptr_t) data % 512) == 0) {
                        r = pwrite_full(w->fd, data, whole, offset);
                        if (r < 0)
                                return r;
                } else
                        for (size_t done = 0; done < whole;) {
                                size_t n = MIN(whole - done, (size_t) BOUNCE_SIZE);

                                memcpy(w->bounce, data + done, n);
                                r = pwrite_full(w->fd, w->bounce, n, offset + done);
                                if (r < 0)
                                        return r;
                                done += n;
                        }
        }
        if (whole < size) {
                r = pread_full(w->fd, w->bounce, w->sector_size, offset + whole);
                if (r < 0)
                        return r;
                memcpy(w->bounce, data + whole, size - whole);
                r = pwrite_full(w->fd, w->bounce, w->sector_size, offset + whole);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int zero_area(Writer *w, uint64_t offset, uint64_t end) {
        int r;

        end = MIN(end, w->device_size);
        memset(w->bounce, 0, BOUNCE_SIZE);
        for (uint64_t o = offset; o < end;) {
                uint64_t n = MIN(end - o, (uint64_t) BOUNCE_SIZE);

                r = pwrite_full(w->fd, w->bounce, (size_t) n, o);
                if (r < 0)
                        return r;
                o += n;
        }
        return 0;
}

int writer_wipe(Writer *w) {
        usec_t t = now_monotonic();
        int r;

        r = zero_area(w, 0, GPT_PRIMARY_AREA_SIZE);
        if (r >= 0 && w->device_size > WIPE_TAIL_SIZE)
                r = zero_area(w, (w->device_size - WIPE_TAIL_SIZE) & ~(uint64_t) 4095, w->device_size);
        if (r >= 0 && w->old_backup_end > 0)
                r = zero_area(w, w->old_backup_offset, w->old_backup_end);
        if (r >= 0 && w->has_gpt)
                r = zero_area(w, w->gpt.backup_offset, w->gpt.backup_end);
        if (r >= 0 && fdatasync(w->fd) < 0)
                r = -errno;
        w->wipe_usec += now_monotonic() - t;
        if (r < 0)
                return fail(w, r, "wiping the partition-table areas failed: %s", strerror(-r));
        return 0;
}

static int start(Writer *w, const uint8_t *data, size_t size) {
        int r;

        if (w->size_hint > w->device_size)
                return fail(w, EFBIG, "the image is %" PRIu64 " bytes, the device only %" PRIu64,
                            w->size_hint, w->device_size);
        if (gpt_locate(data, size, &w->gpt) > 0) {
                if (w->gpt.sector_size != w->sector_size)
                        return fail(w, EMEDIUMTYPE,
                                    "the image's GPT is for %u-byte sectors, the device has %u-byte sectors",
                                    w->gpt.sector_size, w->sector_size);
                if (w->gpt.backup_end > w->device_size)
                        return fail(w, EFBIG,
                                    "the image's backup GPT ends at byte %" PRIu64 ", past the device's end (%" PRIu64 ")",
                                    w->gpt.backup_end, w->device_size);
                w->has_gpt = w->gpt.backup_end - w->gpt.backup_offset <= HELD_BACKUP_MAX &&
                             w->gpt.backup_offset >= GPT_PRIMARY_AREA_SIZE;
        }

        if (w->has_gpt) {
                w->backup = (HeldRange) { .offset = w->gpt.backup_offset,
                                          .size = w->gpt.backup_end - w->gpt.backup_offset };
                w->backup.data = aligned_alloc_zero(w->backup.size);
                if (!w->backup.data)
                        return -ENOMEM;
        }

        /* From here on the device holds no partition table until writer_commit(). */
        r = writer_wipe(w);
        if (r < 0)
                return r;
        w->started = true;
        return 0;
}

/* Whether the grain holding image offset x is known zero, and how many bytes of it are left. */
static bool map_zero(const Writer *w, uint64_t x, size_t *len) {
        uint64_t rel = x - w->map_base, i = rel / GRAIN;

        *len = (size_t) (GRAIN - rel % GRAIN);
        return (w->map[i / 64] >> (i % 64)) & 1;
}

/* Copies image bytes to memory, writing zeroes for grains the map says are zero. */
static void copy_out(const Writer *w, uint8_t *dst, const uint8_t *src, uint64_t offset, size_t size) {
        while (size > 0) {
                size_t n = size;
                bool zero = false;

                if (w->map) {
                        zero = map_zero(w, offset, &n);
                        n = MIN(n, size);
                }
                if (zero)
                        memset(dst, 0, n);
                else
                        memcpy(dst, src, n);
                dst += n;
                src += n;
                offset += n;
                size -= n;
        }
}

static int zero_failed(Writer *w, int r, const WriterRange *z) {
        return fail(w, r, "zeroing %" PRIu64 " bytes at offset %" PRIu64 " failed: %s", z->size, z->offset,
                    strerror(-r));
}

/* The batched runs go to the zero behind. */
static int zero_batch(Writer *w) {
        WriterRange failed;
        int r;

        if (w->n_zero_batch == 0)
                return 0;
        for (unsigned i = 0; i < w->n_zero_batch; i++)
                w->unsynced += w->zero_batch[i].size;
        r = writer_behind_zero(&w->behind, w->zero_batch, w->n_zero_batch, &failed);
        w->n_zero_batch = 0;
        return r < 0 ? zero_failed(w, r, &failed) : 0;
}

static int zero_wait(Writer *w) {
        WriterRange failed;
        int r;

        r = writer_behind_zero_wait(&w->behind, &failed);
        return r < 0 ? zero_failed(w, r, &failed) : 0;
}

static int sync_behind(Writer *w) {
        int r;

        if (w->unsynced < w->sync_behind_min)
                return 0;
        r = writer_behind_sync_start(&w->behind);
        if (r < 0)
                return fail(w, r, "syncing the device failed: %s", strerror(-r));
        if (r > 0)
                w->unsynced = 0;
        return 0;
}

/* The zero run being extended has ended: into the batch with it. */
static int flush_zero(Writer *w) {
        int r;

        if (w->zero_size == 0)
                return 0;
        if (w->n_zero_batch == WRITER_ZERO_BATCH) {
                r = zero_batch(w);
                if (r < 0)
                        return r;
        }
        w->zero_batch[w->n_zero_batch++] = (WriterRange) { w->zero_offset, w->zero_size };
        w->zero_size = 0;
        return 0;
}

/* A run that grew long is zeroed now; what follows it starts a new run. */
static int zero_long_run(Writer *w) {
        uint64_t end = w->zero_offset + w->zero_size;
        int r;

        if (w->zero_size < WRITER_ZERO_RUN_MAX)
                return 0;
        r = flush_zero(w);
        if (r >= 0)
                r = zero_batch(w);
        w->zero_offset = end;
        return r;
}

static int write_data(Writer *w, const uint8_t *data, size_t size, uint64_t offset) {
        int r;

        usec_t t;

        if (size == 0)
                return 0;
        t = now_monotonic();
        r = write_at(w, data, size, offset);
        w->write_usec += now_monotonic() - t;
        w->unsynced += size;
        if (r < 0)
                return fail(w, r, "writing %zu bytes at offset %" PRIu64 " failed: %s", size,
                            offset, strerror(-r));
        w->data_bytes += size;
        return 0;
}

/* A contiguous piece outside the held-back areas: long zero runs are zeroed, the rest written. */
static int put_range(Writer *w, const uint8_t *data, size_t size, uint64_t offset) {
        size_t data_start = 0, data_len = 0, zeros = 0;
        int r;

        /* A pending zero run only continues if this piece follows it directly. */
        if (w->zero_size > 0 && w->zero_offset + w->zero_size != offset) {
                r = flush_zero(w);
                if (r < 0)
                        return r;
        }

        for (size_t i = 0; i < size;) {
                size_t g = MIN((size_t) GRAIN, size - i);
                bool zero;

                if (w->map) {
                        zero = map_zero(w, offset + i, &g);
                        g = MIN(g, size - i);
                } else
                        zero = g % 512 == 0 && ((uintptr_t) (data + i) % 8) == 0 && buffer_is_zero(data + i, g);

                if (zero) {
                        zeros += g;
                        if (zeros >= ZERO_RUN_MIN || (data_len == 0 && w->zero_size > 0)) {
                                /* A long run: the data before it goes out, the run is zeroed later. */
                                r = write_data(w, data + data_start, data_len, offset + data_start);
                                if (r < 0)
                                        return r;
                                if (w->zero_size == 0)
                                        w->zero_offset = offset + i + g - zeros;
                                w->zero_size += zeros;
                                data_len = 0;
                                zeros = 0;
                                r = zero_long_run(w);
                                if (r < 0)
                                        return r;
                        }
                } else {
                        r = flush_zero(w);
                        if (r < 0)
                                return r;
                        if (data_len == 0)
                                data_start = i - zeros;
                        data_len += zeros + g;
                        zeros = 0;
                }
                i += g;
        }
        r = write_data(w, data + data_start, data_len, offset + data_start);
        if (r < 0)
                return r;
        /* Short zeros at the end start a pending run (the next piece may extend it). */
        if (zeros > 0) {
                if (w->zero_size == 0)
                        w->zero_offset = offset + size - zeros;
                w->zero_size += zeros;
        }
        return 0;
}

static void hold(Writer *w, HeldRange *h, const uint8_t *data, uint64_t offset, uint64_t end) {
        copy_out(w, h->data + (offset - h->offset), data, offset, (size_t) (end - offset));
        h->filled += end - offset;
}

static int write_piece(Writer *w, const uint8_t *data, size_t size, uint64_t offset) {
        uint64_t end = offset + size;
        int r;

        if (end > w->device_size || end < offset)
                return fail(w, EFBIG,
                            "the image is larger than the device (%" PRIu64 " bytes): it goes on past byte %" PRIu64,
                            w->device_size, w->device_size);
        if (!w->started) {
                /* The checks look at the image's first MiB, as the device will hold it. */
                uint64_t e = MIN(end, (uint64_t) GPT_PRIMARY_AREA_SIZE);

                if (offset < e)
                        copy_out(w, w->head.data + offset, data, offset, (size_t) (e - offset));
                r = start(w, w->head.data, (size_t) e);
                if (r < 0)
                        return r;
        }
        w->image_end = MAX(w->image_end, end);

        /* Cut the piece around the held-back areas (head first, the backup later in the image). */
        while (offset < end) {
                HeldRange *areas[] = { &w->head, w->backup.data ? &w->backup : NULL };
                uint64_t next = end;
                bool held = false;

                for (size_t i = 0; i < ELEMENTSOF(areas); i++) {
                        HeldRange *h = areas[i];

                        if (!h)
                                continue;
                        if (offset >= h->offset && offset < h->offset + h->size) {
                                uint64_t e = MIN(end, h->offset + h->size);

                                hold(w, h, data, offset, e);
                                data += e - offset;
                                offset = e;
                                held = true;
                                break;
                        }
                        if (h->offset > offset)
                                next = MIN(next, h->offset);
                }
                if (held)
                        continue;
                r = put_range(w, data, (size_t) (next - offset), offset);
                if (r < 0)
                        return r;
                data += next - offset;
                offset = next;
        }
        return 0;
}

int writer_write(Writer *w, const uint8_t *data, size_t size, uint64_t offset, const uint64_t *zero_map) {
        uint64_t data_before = w->data_bytes;
        int r;

        if (size == 0)
                return 0;
        w->map = zero_map;
        w->map_base = offset;
        r = write_piece(w, data, size, offset);
        w->map = NULL;
        if (r >= 0 && w->started && w->data_bytes == data_before)
                r = sync_behind(w);
        return r;
}

int writer_finish(Writer *w) {
        int r;

        r = flush_zero(w);
        if (r >= 0)
                r = zero_batch(w);
        if (r >= 0)
                r = zero_wait(w);
        if (r < 0)
                return r;
        if (w->has_gpt && w->backup.filled != w->backup.size)
                /* The image ended before its own backup table: nothing to hold back there. */
                w->backup.size = w->backup.filled;
        r = writer_behind_sync_wait(&w->behind);
        if (r >= 0)
                r = writer_behind_sync(&w->behind, false);
        if (r < 0)
                return fail(w, r, "syncing the device failed: %s", strerror(-r));
        return 0;
}

int writer_commit(Writer *w) {
        int r;

        if (!w->started)
                return fail(w, ENODATA, "the image is empty");
        if (w->backup.data && w->backup.size > 0) {
                r = write_at(w, w->backup.data, (size_t) w->backup.size, w->backup.offset);
                if (r < 0)
                        return fail(w, r, "writing the backup partition table failed: %s", strerror(-r));
        }
        if (fdatasync(w->fd) < 0)
                return fail(w, errno, "syncing the device failed: %m");
        /* The first MiB last: once it is there, the disk is complete. */
        r = write_at(w, w->head.data, (size_t) MIN(w->head.filled, w->head.size), 0);
        if (r < 0)
                return fail(w, r, "writing the first MiB failed: %s", strerror(-r));
        if (fsync(w->fd) < 0)
                return fail(w, errno, "syncing the device failed: %m");
        w->data_bytes += w->head.filled + w->backup.size;
        return 0;
}
