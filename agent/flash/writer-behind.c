/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "time-util.h"
#include "writer-behind.h"

void writer_behind_init(WriterBehind *b, int fd) {
        *b = (WriterBehind) { .fd = fd };
        zeroer_init(&b->zeroer, fd, true, true);
}

void writer_behind_done(WriterBehind *b) {
        WriterRange ignored;

        (void) writer_behind_zero_wait(b, &ignored);
        (void) writer_behind_sync_wait(b);
        zeroer_done(&b->zeroer);
}

/* ---- the zero behind ------------------------------------------------------------------- */

static void *zero_thread(void *userdata) {
        WriterBehind *b = userdata;
        usec_t t = now_monotonic();

        for (unsigned i = 0; i < b->n_zero; i++) {
                int r = zeroer_zero(&b->zeroer, b->zero[i].offset, b->zero[i].size);

                if (r < 0) {
                        b->zero_error = r;
                        b->zero_failed = i;
                        break;
                }
                b->zero_batch_bytes += b->zero[i].size;
        }
        b->zero_batch_usec = now_monotonic() - t;
        return NULL;
}

/* Takes the results of the batch: into the totals, its error out. */
static int zero_collect(WriterBehind *b, WriterRange *failed) {
        int r = b->zero_error;

        if (r < 0)
                *failed = b->zero[b->zero_failed];
        b->zero_bytes += b->zero_batch_bytes;
        b->zero_usec += b->zero_batch_usec;
        b->zero_batch_bytes = b->zero_batch_usec = 0;
        b->n_zero = 0;
        b->zero_error = 0;
        return r;
}

int writer_behind_zero_wait(WriterBehind *b, WriterRange *failed) {
        if (!b->zero_started)
                return 0;
        (void) pthread_join(b->zero_thread, NULL);
        b->zero_started = false;
        return zero_collect(b, failed);
}

int writer_behind_zero(WriterBehind *b, const WriterRange *ranges, unsigned n, WriterRange *failed) {
        int r;

        if (n == 0)
                return 0;
        r = writer_behind_zero_wait(b, failed);
        if (r < 0)
                return r;
        memcpy(b->zero, ranges, n * sizeof(WriterRange));
        b->n_zero = n;
        b->zero_calls++;
        if (pthread_create(&b->zero_thread, NULL, zero_thread, b) != 0) {
                (void) zero_thread(b);
                return zero_collect(b, failed);
        }
        b->zero_started = true;
        return 0;
}

/* ---- the sync behind ------------------------------------------------------------------- */

int writer_behind_sync(WriterBehind *b, bool data_only) {
        usec_t t = now_monotonic();
        int r;

        r = (data_only ? fdatasync(b->fd) : fsync(b->fd)) < 0 ? -errno : 0;
        b->sync_usec += now_monotonic() - t;
        b->syncs++;
        return r;
}

static void *sync_thread(void *userdata) {
        WriterBehind *b = userdata;
        int r;

        r = writer_behind_sync(b, true);
        if (r < 0)
                b->sync_error = r;
        atomic_store(&b->sync_running, false);
        return NULL;
}

int writer_behind_sync_wait(WriterBehind *b) {
        if (!b->sync_started)
                return 0;
        (void) pthread_join(b->sync_thread, NULL);
        b->sync_started = false;
        return b->sync_error;
}

int writer_behind_sync_start(WriterBehind *b) {
        int r;

        if (atomic_load(&b->sync_running))
                return 0;
        r = writer_behind_sync_wait(b);
        if (r < 0)
                return r;
        atomic_store(&b->sync_running, true);
        if (pthread_create(&b->sync_thread, NULL, sync_thread, b) != 0) {
                atomic_store(&b->sync_running, false);
                return 1;       /* only an optimisation: the final sync does it all */
        }
        b->sync_started = true;
        return 1;
}
