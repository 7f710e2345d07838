/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gpt.h"
#include "writer-behind.h"

/* Writes an image to a block device as it streams in, so that the device never holds a
 * partition table next to a partial image:
 *   - before the first byte of the image is written, the partition-table areas are wiped and
 *     synced: the first MiB, the last MiB of the device, the backup table the old primary header
 *     points to, and the place of the image's own backup table;
 *   - the image's first MiB (MBR, primary GPT) and its backup GPT are held back in memory and
 *     written only by writer_commit(), after the caller checked the hash;
 *   - runs of all-zero 4 KiB blocks of 64 KiB or more are zeroed by the kernel (zeroout.h)
 *     instead of being written, collected and issued in batches on a thread of their own (a
 *     "zero behind": the ranges are disjoint from everything else written, so their order does
 *     not matter), so that neither the data writes nor the intake of blocks stops for them;
 *     everything else goes out in large O_DIRECT writes;
 *   - a piece with no data at all (the free end of an image, typically, which the decoder
 *     takes a while to produce) starts syncing what was written so far on a thread of its own
 *     (a "sync behind"), so that the final sync has little left to do; never while data is
 *     being written, where a flush would only slow the writes down. At most one runs at a
 *     time, and at most one zero behind; writer_finish() and writer_done() wait for both.
 * It never logs: errors come back as negative errno with a text in error. */

typedef struct HeldRange {
        uint8_t *data;                  /* aligned buffer */
        uint64_t offset;
        uint64_t size;                  /* bytes of the image in this range */
        uint64_t filled;                /* bytes received so far */
} HeldRange;

/* A zero run this long is zeroed at once, without waiting for its end, so that the device works
 * on a long run of zeroes (the free end of a disk image) while the rest of it is decoded. */
#define WRITER_ZERO_RUN_MAX (128ULL * 1024 * 1024)
/* A sync behind starts only after this much was written since the last one began. */
#define WRITER_SYNC_BEHIND_MIN (32ULL * 1024 * 1024)

typedef struct Writer {
        int fd;
        uint64_t device_size;
        unsigned sector_size;
        uint64_t size_hint;             /* announced image size, 0 if unknown */

        bool started;                   /* areas wiped, writing began */
        bool has_gpt;
        GptLocation gpt;                /* of the image */
        uint64_t old_backup_offset, old_backup_end;     /* of what the device held, or 0 */
        HeldRange head, backup;

        uint64_t zero_offset, zero_size;        /* the zero run being extended */
        WriterRange zero_batch[WRITER_ZERO_BATCH];      /* finished runs not zeroed yet */
        unsigned n_zero_batch;
        WriterBehind behind;            /* zeroing and syncing beside the writes; their totals */
        uint64_t image_end;             /* bytes of the image seen */
        uint64_t data_bytes;            /* written with write() */
        uint64_t unsynced;              /* bytes written or zeroed since the last sync began */
        uint64_t sync_behind_min;       /* WRITER_SYNC_BEHIND_MIN (tests use less) */
        uint64_t write_usec, wipe_usec; /* time spent in each kind of call */
        uint8_t *bounce;                /* aligned copy for odd addresses and the last sector */
        const uint64_t *map;            /* zero map of the piece being written, or NULL */
        uint64_t map_base;              /* image offset of the map's first grain */

        char error[256];
} Writer;

/* Reads the device's current partition table to know what to wipe. fd is O_DIRECT. */
int writer_init(Writer *w, int fd, uint64_t device_size, unsigned sector_size);
void writer_done(Writer *w);

#define WRITER_GRAIN 4096

/* Takes the next piece of the image (offsets are consecutive). The first call checks the image's
 * partition table against the device and wipes the old tables. zero_map: NULL, or one bit per
 * WRITER_GRAIN bytes of data, set for grains known to be all zeroes (their bytes in data are
 * then not read at all); without a map the writer looks at the bytes itself. */
int writer_write(Writer *w, const uint8_t *data, size_t size, uint64_t offset, const uint64_t *zero_map);
/* Everything but the held-back areas is on the device and synced. */
int writer_finish(Writer *w);
/* Writes the held-back backup table and first MiB, syncs. Call only once the image is known good. */
int writer_commit(Writer *w);
/* Wipes the partition-table areas again (after a failure) and syncs. */
int writer_wipe(Writer *w);

const char *writer_zero_method(const Writer *w);
