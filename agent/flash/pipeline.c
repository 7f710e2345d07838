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

/* Buffer sizes: chunks of the file as downloaded, blocks of the image as written. A block is one
 * write() (or zero-out) at most; a few of each keep every thread busy while the others work.
 * Memory: 4 × 1 MiB + 4 × 4 MiB, plus the decompressor's window. */
#define CHUNK_SIZE (1024 * 1024)
#define N_CHUNKS 4
#define BLOCK_SIZE (4 * 1024 * 1024)
#define N_BLOCKS 4

_printf_(4, 5)
static int set_error(Pipeline *p, const char *stage, int error, const char *format, ...) {
        va_list ap;

        pthread_mutex_lock(&p->lock);
        if (p->first_error == 0) {
                p->first_error = -abs(error);
                p->error_stage = stage;
                va_start(ap, format);
                vsnprintf(p->error, sizeof p->error, format, ap);
                va_end(ap);
        }
        atomic_store(&p->cancel, true);
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->lock);
        queue_close(&p->chunks);
        queue_close(&p->blocks);
        return -abs(error);
}

static void thread_ended(Pipeline *p) {
        pthread_mutex_lock(&p->lock);
        p->running--;
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->lock);
}

/* ---- download thread ---- */

static int push_chunk(Pipeline *p, bool last) {
        QueueBuffer *c = p->chunk;

        p->chunk = NULL;
        c->last = last;
        return queue_put_full(&p->chunks, c);
}

static int download_sink(const void *data, size_t size, void *userdata) {
        Pipeline *p = userdata;
        const uint8_t *d = data;
        int r;

        if (atomic_load(&p->total) == 0 && p->stats.total > 0)
                atomic_store(&p->total, p->stats.total);
        if (p->scope == FLASH_DIGEST_FILE) {
                r = digest_update(p->hash, data, size);
                if (r < 0)
                        return r;
        }
        while (size > 0) {
                size_t n;

                if (!p->chunk) {
                        p->chunk = queue_get_free(&p->chunks);
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

static void *download_thread(void *userdata) {
        Pipeline *p = userdata;
        int r;

        r = download_stream(p->url, &p->download, download_sink, download_retry, p, &p->stats);
        atomic_store(&p->total, p->stats.total);
        if (r < 0) {
                if (r != -ECANCELED || !atomic_load(&p->cancel))
                        set_error(p, "download", r, "downloading '%s' failed at byte %" PRIu64 ": %s",
                                  p->url, p->stats.received,
                                  p->stats.error[0] ? p->stats.error : strerror(-r));
                goto out;
        }
        if (p->scope == FLASH_DIGEST_FILE) {
                r = digest_final(p->hash, p->digest);
                if (r < 0) {
                        set_error(p, "download", r, "computing the SHA-256 failed");
                        goto out;
                }
        }
        if (!p->chunk)
                p->chunk = queue_get_free(&p->chunks);
        if (p->chunk)
                (void) push_chunk(p, true);
out:
        thread_ended(p);
        return NULL;
}

/* ---- decompress thread ---- */

static int emit_block(Pipeline *p, QueueBuffer **out, bool last) {
        QueueBuffer *b = *out;
        uint64_t next = b->offset + b->size;
        int r;

        if (p->expected_size > 0 && next > p->expected_size)
                return set_error(p, "decompress", EFBIG,
                                 "the image is larger than the configured size (%" PRIu64 " bytes)",
                                 p->expected_size);
        if (p->scope == FLASH_DIGEST_IMAGE) {
                r = digest_update(p->hash, b->data, b->size);
                if (r < 0)
                        return set_error(p, "decompress", r, "computing the SHA-256 failed");
        }
        b->last = last;
        *out = NULL;
        r = queue_put_full(&p->blocks, b);
        if (r < 0)
                return r;
        if (last)
                return 0;
        *out = queue_get_free(&p->blocks);
        if (!*out)
                return -ECANCELED;
        (*out)->offset = next;
        return 0;
}

static int decompress_all(Pipeline *p) {
        _cleanup_(decompress_freep) Decompressor *dec = NULL;
        QueueBuffer *in, *out = NULL;
        uint64_t in_offset = 0;
        int r;

        in = queue_get_full(&p->chunks);
        if (!in)
                return -ECANCELED;
        p->format = decompress_sniff(in->data, in->size);
        p->size_hint = MAX(p->expected_size, decompress_size_hint(p->format, in->data, in->size));
        if (p->format == COMPRESSION_RAW)
                p->size_hint = MAX(p->size_hint, atomic_load(&p->total));
        p->writer->size_hint = p->size_hint;
        r = decompress_new(p->format, &dec);
        if (r < 0) {
                queue_put_free(&p->chunks, in);
                return set_error(p, "decompress", r, "setting up %s decompression failed: %s",
                                 compression_format_to_string(p->format), strerror(-r));
        }
        out = queue_get_free(&p->blocks);
        if (!out) {
                queue_put_free(&p->chunks, in);
                return -ECANCELED;
        }

        for (;;) {
                size_t pos = 0;
                bool last = in->last;

                for (;;) {
                        size_t iu = 0, ou = 0;

                        r = decompress_run(dec, in->data + pos, in->size - pos, &iu,
                                           out->data + out->size, out->capacity - out->size, &ou, last);
                        pos += iu;
                        out->size += ou;
                        if (r < 0) {
                                queue_put_free(&p->chunks, in);
                                queue_put_free(&p->blocks, out);
                                return set_error(p, "decompress", r,
                                                 r == -EPIPE ? "the %s stream ends early, at byte %" PRIu64 " of the file"
                                                             : "corrupt %s data near byte %" PRIu64 " of the file",
                                                 compression_format_to_string(p->format), in_offset + pos);
                        }
                        if (r > 0)
                                break;
                        if (out->size == out->capacity) {
                                r = emit_block(p, &out, false);
                                if (r < 0) {
                                        queue_put_free(&p->chunks, in);
                                        return r;
                                }
                                continue;
                        }
                        if (pos == in->size && !last)
                                break;
                        if (iu == 0 && ou == 0) {
                                queue_put_free(&p->chunks, in);
                                queue_put_free(&p->blocks, out);
                                return set_error(p, "decompress", EBADMSG,
                                                 "the %s stream makes no progress at byte %" PRIu64,
                                                 compression_format_to_string(p->format), in_offset + pos);
                        }
                }
                in_offset += in->size;
                queue_put_free(&p->chunks, in);
                if (r > 0 || last)
                        break;
                in = queue_get_full(&p->chunks);
                if (!in) {
                        queue_put_free(&p->blocks, out);
                        return -ECANCELED;
                }
        }

        p->image_size = out->offset + out->size;
        r = emit_block(p, &out, true);
        if (r < 0)
                return r;
        if (p->scope == FLASH_DIGEST_IMAGE) {
                r = digest_final(p->hash, p->digest);
                if (r < 0)
                        return set_error(p, "decompress", r, "computing the SHA-256 failed");
        }
        if (p->expected_size > 0 && p->image_size != p->expected_size)
                return set_error(p, "decompress", EBADMSG,
                                 "the image is %" PRIu64 " bytes, the configured size is %" PRIu64,
                                 p->image_size, p->expected_size);
        return 0;
}

static void *decompress_thread(void *userdata) {
        Pipeline *p = userdata;

        (void) decompress_all(p);
        thread_ended(p);
        return NULL;
}

/* ---- writer thread ---- */

static void *writer_thread(void *userdata) {
        Pipeline *p = userdata;
        QueueBuffer *b;
        int r;

        while ((b = queue_get_full(&p->blocks))) {
                bool last = b->last;

                r = writer_write(p->writer, b->data, b->size, b->offset);
                atomic_store(&p->processed, b->offset + b->size);
                queue_put_free(&p->blocks, b);
                if (r < 0) {
                        set_error(p, "write", r, "%s", p->writer->error);
                        break;
                }
                if (last) {
                        r = writer_finish(p->writer);
                        if (r < 0)
                                set_error(p, "write", r, "%s", p->writer->error);
                        break;
                }
        }
        thread_ended(p);
        return NULL;
}

/* ---- control ---- */

int pipeline_start(Pipeline *p) {
        void *(*fns[])(void *) = { download_thread, decompress_thread, writer_thread };
        int r;

        pthread_mutex_init(&p->lock, NULL);
        pthread_cond_init(&p->wake, NULL);
        p->download.cancel = &p->cancel;
        r = digest_new(&p->hash);
        if (r < 0)
                return r;
        r = queue_init(&p->chunks, N_CHUNKS, CHUNK_SIZE);
        if (r < 0)
                return r;
        r = queue_init(&p->blocks, N_BLOCKS, BLOCK_SIZE);
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
                        set_error(p, "start", r, "starting a thread failed: %s", strerror(r));
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
        set_error(p, "cancel", ECANCELED, "cancelled");
}

int pipeline_join(Pipeline *p) {
        for (unsigned i = 0; i < p->n_threads; i++)
                (void) pthread_join(p->threads[i], NULL);
        p->n_threads = 0;
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
