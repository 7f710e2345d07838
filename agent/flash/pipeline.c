/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "macro.h"
#include "pipeline.h"
#include "zeroout.h"

/* Buffer sizes: chunks of the file as received, blocks of the image as written. A block is one
 * write() (or zero-out) at most; a few of each keep every thread busy while the others work.
 * Memory: 8 × 512 KiB + 4 × 2 MiB = 12 MiB, plus the decoder's window. */
#define CHUNK_SIZE (512 * 1024)
#define N_CHUNKS 8
#define BLOCK_SIZE (2 * 1024 * 1024)
#define N_BLOCKS 4

#define GRAIN QUEUE_GRAIN

static const char *const stage_table[_PIPELINE_STAGE_MAX] = {
        [PIPELINE_RECEIVE] = "receive",
        [PIPELINE_HASH] = "hash",
        [PIPELINE_DECODE] = "decode",
        [PIPELINE_WRITE] = "write",
};

const char *pipeline_stage_to_string(PipelineStageId s) {
        return s >= 0 && s < _PIPELINE_STAGE_MAX ? stage_table[s] : NULL;
}

_printf_(4, 0)
static void store_error(Pipeline *p, const char *stage, int error, const char *format, va_list ap) {
        if (p->first_error != 0)
                return;
        p->first_error = -abs(error);
        p->error_stage = stage;
        vsnprintf(p->error, sizeof p->error, format, ap);
}

_printf_(4, 5)
int pipeline_fail(Pipeline *p, const char *stage, int error, const char *format, ...) {
        va_list ap;

        pthread_mutex_lock(&p->lock);
        va_start(ap, format);
        store_error(p, stage, error, format, ap);
        va_end(ap);
        atomic_store(&p->cancel, true);
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->lock);
        queue_close(&p->chunks);
        queue_close(&p->blocks);
        return -abs(error);
}

_printf_(3, 4)
int pipeline_fail_data(Pipeline *p, int error, const char *format, ...) {
        va_list ap;

        if (p->scope != FLASH_DIGEST_FILE) {
                char text[sizeof p->error];

                va_start(ap, format);
                vsnprintf(text, sizeof text, format, ap);
                va_end(ap);
                pthread_mutex_lock(&p->lock);
                p->data_error = p->first_error == 0;
                pthread_mutex_unlock(&p->lock);
                return pipeline_fail(p, "decompress", error, "%s", text);
        }
        pthread_mutex_lock(&p->lock);
        p->data_error = p->first_error == 0;
        va_start(ap, format);
        store_error(p, "decompress", error, format, ap);
        va_end(ap);
        pthread_mutex_unlock(&p->lock);
        queue_close(&p->blocks);
        return -abs(error);
}

void pipeline_thread_ended(Pipeline *p, PipelineStageId id) {
        PipelineStageStats *st = &p->stage[id];
        struct timespec ts;

        pthread_mutex_lock(&p->lock);
        /* Added: the frame workers add theirs to the decode stage's. */
        if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) >= 0)
                st->cpu_usec += (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000;
        st->wall_usec = now_monotonic() - p->started;
        p->running--;
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->lock);
}

void pipeline_drain_chunks(Pipeline *p, unsigned stage, QueueBuffer *in) {
        for (;;) {
                bool last = in->last;

                if (queue_pass(&p->chunks, stage, in) < 0 || last)
                        return;
                in = queue_take(&p->chunks, stage);
                if (!in)
                        return;
        }
}

/* ---- receive thread ---- */

static int push_chunk(Pipeline *p, bool last) {
        QueueBuffer *c = p->chunk;

        p->chunk = NULL;
        c->last = last;
        return queue_pass(&p->chunks, 0, c);
}

/* curl hands over its receive buffer; the one copy left on the way in goes into the chunk
 * that the hash and the decoder then read in place (libcurl cannot receive into buffers of the
 * caller's). */
static int download_sink(const void *data, size_t size, void *userdata) {
        Pipeline *p = userdata;
        const uint8_t *d = data;
        int r;

        if (atomic_load(&p->total) == 0 && p->stats.total > 0)
                atomic_store(&p->total, p->stats.total);
        while (size > 0) {
                size_t n;

                if (!p->chunk) {
                        p->chunk = queue_take(&p->chunks, 0);
                        if (!p->chunk)
                                return -ECANCELED;
                        p->chunk->offset = atomic_load(&p->received);
                }
                n = MIN(size, p->chunk->capacity - p->chunk->size);
                memcpy(p->chunk->data + p->chunk->size, d, n);
                p->chunk->size += n;
                d += n;
                size -= n;
                atomic_fetch_add(&p->received, n);
                if (p->chunk->size == p->chunk->capacity) {
                        r = push_chunk(p, false);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

static void download_retry(unsigned attempt, int error, const char *text, uint64_t offset,
                           usec_t delay, void *userdata) {
        Pipeline *p = userdata;
        PipelineEvent *e;

        pthread_mutex_lock(&p->lock);
        e = &p->events[p->events_posted % PIPELINE_MAX_EVENTS];
        *e = (PipelineEvent) { .attempt = attempt, .error = error, .offset = offset, .delay = delay };
        snprintf(e->text, sizeof e->text, "%s", text);
        p->events_posted++;
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->lock);
}

static void *receive_thread(void *userdata) {
        Pipeline *p = userdata;
        int r;

        r = download_stream(p->url, &p->download, download_sink, download_retry, p, &p->stats);
        atomic_store(&p->total, p->stats.total);
        if (r < 0) {
                if (r != -ECANCELED || !atomic_load(&p->cancel))
                        pipeline_fail(p, "download", r, "downloading '%s' failed at byte %" PRIu64 ": %s",
                                      p->url, p->stats.received,
                                      p->stats.error[0] ? p->stats.error : strerror(-r));
                goto out;
        }
        if (!p->chunk)
                p->chunk = queue_take(&p->chunks, 0);
        if (p->chunk)
                (void) push_chunk(p, true);
out:
        pipeline_thread_ended(p, PIPELINE_RECEIVE);
        return NULL;
}

/* ---- hash thread ---- */

/* Zero grains of a block may hold anything (the decoder left their zeroes in the cache), so
 * their bits stand for them. */
static int hash_buffer(Pipeline *p, const QueueBuffer *b) {
        static const uint8_t zeroes[GRAIN];
        int r;

        if (!b->zero_map)
                return digest_update(p->hash, b->data, b->size);
        for (size_t i = 0; i < b->size; i += GRAIN) {
                size_t n = MIN((size_t) GRAIN, b->size - i);

                r = digest_update(p->hash, QUEUE_ZERO_MAP_TEST(b, i / GRAIN) ? zeroes : b->data + i, n);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Hashes the chunks (the file as served) or the blocks (the image) as they pass by. */
static void *hash_thread(void *userdata) {
        Pipeline *p = userdata;
        Queue *q = p->scope == FLASH_DIGEST_FILE ? &p->chunks : &p->blocks;
        QueueBuffer *b;
        int r;

        while ((b = queue_take(q, 1))) {
                bool last = b->last;

                r = hash_buffer(p, b);
                (void) queue_pass(q, 1, b);
                if (r < 0) {
                        pipeline_fail(p, "hash", r, "computing the SHA-256 failed");
                        break;
                }
                if (last) {
                        r = digest_final(p->hash, p->digest);
                        if (r < 0)
                                pipeline_fail(p, "hash", r, "computing the SHA-256 failed");
                        else
                                p->digest_complete = true;
                        break;
                }
        }
        pipeline_thread_ended(p, PIPELINE_HASH);
        return NULL;
}

/* ---- write thread ---- */

static void *write_thread(void *userdata) {
        Pipeline *p = userdata;
        unsigned stage = p->blocks.n_stages - 1;        /* after the hash thread, if there */
        QueueBuffer *b;
        int r;

        while ((b = queue_take(&p->blocks, stage))) {
                bool last;

                last = b->last;
                r = writer_write(p->writer, b->data, b->size, b->offset, b->zero_map);
                atomic_store(&p->processed, b->offset + b->size);
                (void) queue_pass(&p->blocks, stage, b);
                if (r < 0) {
                        pipeline_fail(p, "write", r, "%s", p->writer->error);
                        break;
                }
                if (last) {
                        r = writer_finish(p->writer);
                        if (r < 0)
                                pipeline_fail(p, "write", r, "%s", p->writer->error);
                        break;
                }
        }
        pipeline_thread_ended(p, PIPELINE_WRITE);
        return NULL;
}

/* ---- control ---- */

int pipeline_start(Pipeline *p) {
        void *(*fns[_PIPELINE_STAGE_MAX])(void *) = {
                [PIPELINE_RECEIVE] = receive_thread,
                [PIPELINE_HASH] = hash_thread,
                [PIPELINE_DECODE] = pipeline_decode_thread,
                [PIPELINE_WRITE] = write_thread,
        };
        bool file = p->scope == FLASH_DIGEST_FILE;
        int r;

        pthread_mutex_init(&p->lock, NULL);
        pthread_cond_init(&p->wake, NULL);
        p->download.cancel = &p->cancel;
        p->started = now_monotonic();
        r = digest_new(&p->hash);
        if (r < 0)
                return r;
        /* The hash thread is a stage of the queue whose bytes it covers. */
        r = queue_init(&p->chunks, N_CHUNKS, CHUNK_SIZE, file ? 3 : 2, false);
        if (r < 0)
                return r;
        r = queue_init(&p->blocks, N_BLOCKS, BLOCK_SIZE, file ? 2 : 3, true);
        if (r < 0)
                return r;

        for (size_t i = 0; i < ELEMENTSOF(fns); i++) {
                pthread_mutex_lock(&p->lock);
                p->running++;
                pthread_mutex_unlock(&p->lock);
                r = pthread_create(&p->threads[i], NULL, fns[i], p);
                if (r != 0) {
                        pthread_mutex_lock(&p->lock);
                        p->running--;
                        pthread_mutex_unlock(&p->lock);
                        pipeline_fail(p, "start", r, "starting a thread failed: %s", strerror(r));
                        return -r;
                }
                p->n_threads++;
        }
        return 0;
}

bool pipeline_wait(Pipeline *p, usec_t timeout) {
        struct timespec ts;
        bool done;

        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += (time_t) (timeout / USEC_PER_SEC);
        ts.tv_nsec += (long) (timeout % USEC_PER_SEC) * 1000;
        if (ts.tv_nsec >= 1000000000) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000;
        }
        pthread_mutex_lock(&p->lock);
        if (p->running > 0 && p->events_taken == p->events_posted)
                (void) pthread_cond_timedwait(&p->wake, &p->lock, &ts);
        done = p->running == 0;
        pthread_mutex_unlock(&p->lock);
        return done;
}

bool pipeline_take_event(Pipeline *p, PipelineEvent *ret) {
        bool have = false;

        pthread_mutex_lock(&p->lock);
        if (p->events_posted - p->events_taken > PIPELINE_MAX_EVENTS)
                p->events_taken = p->events_posted - PIPELINE_MAX_EVENTS;
        if (p->events_taken != p->events_posted) {
                *ret = p->events[p->events_taken % PIPELINE_MAX_EVENTS];
                p->events_taken++;
                have = true;
        }
        pthread_mutex_unlock(&p->lock);
        return have;
}

void pipeline_cancel(Pipeline *p) {
        pipeline_fail(p, "cancel", ECANCELED, "cancelled");
}

int pipeline_join(Pipeline *p) {
        bool file = p->scope == FLASH_DIGEST_FILE;
        /* Which thread waits at which stage of which queue (queue.h: stage 0 holds the free
         * buffers, so waiting there is waiting for room downstream). */
        const struct {
                PipelineStageId id;
                const Queue *q;
                unsigned stage;
                bool in;
        } waits[] = {
                { PIPELINE_RECEIVE, &p->chunks, 0, false },
                { PIPELINE_HASH, file ? &p->chunks : &p->blocks, 1, true },
                { PIPELINE_DECODE, &p->chunks, p->chunks.n_stages - 1, true },
                { PIPELINE_DECODE, &p->blocks, 0, false },
                { PIPELINE_WRITE, &p->blocks, p->blocks.n_stages - 1, true },
        };

        for (unsigned i = 0; i < p->n_threads; i++)
                (void) pthread_join(p->threads[i], NULL);
        p->n_threads = 0;
        for (size_t i = 0; i < ELEMENTSOF(waits); i++) {
                PipelineStageStats *st = &p->stage[waits[i].id];

                if (!waits[i].q->buffers)
                        continue;
                if (waits[i].in)
                        st->wait_in_usec += waits[i].q->stages[waits[i].stage].wait_usec;
                else
                        st->wait_out_usec += waits[i].q->stages[waits[i].stage].wait_usec;
        }
        return p->first_error;
}

void pipeline_done(Pipeline *p) {
        if (p->n_threads > 0) {
                pipeline_cancel(p);
                (void) pipeline_join(p);
        }
        queue_done(&p->chunks);
        queue_done(&p->blocks);
        digest_free(p->hash);
        p->hash = NULL;
        pthread_mutex_destroy(&p->lock);
        pthread_cond_destroy(&p->wake);
}
