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

/* Buffer sizes: chunks of the file as downloaded, blocks of the image as written. A block is one
 * write() (or zero-out) at most; a few of each keep every thread busy while the others work.
 * Memory: 8 × 512 KiB + 4 × 2 MiB = 12 MiB, plus the decompressor's window. */
#define CHUNK_SIZE (512 * 1024)
#define N_CHUNKS 8
#define BLOCK_SIZE (2 * 1024 * 1024)
#define N_BLOCKS 4

/* The decompressor writes into a small buffer that stays in the CPU cache; from there only the
 * grains holding data are copied into the block, zero grains are just marked in its zero map.
 * Zeroes (most of a disk image) then never travel through memory again, and the writer needs
 * not look at them. */
#define HOT_SIZE (128 * 1024)
#define GRAIN QUEUE_GRAIN

/* Stages of the two queues (queue.h): 0 is always "free". */
#define CHUNK_DOWNLOADED 1
#define BLOCK_DECOMPRESSED 1

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

static void thread_ended(Pipeline *p, unsigned index) {
        struct timespec ts;

        if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) >= 0)
                p->cpu_usec[index] = (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000;
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
        return queue_pass(&p->chunks, 0, c);
}

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
        if (!p->chunk)
                p->chunk = queue_take(&p->chunks, 0);
        if (p->chunk)
                (void) push_chunk(p, true);
out:
        thread_ended(p, 0);
        return NULL;
}

/* ---- hash thread ---- */

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
                        set_error(p, "hash", r, "computing the SHA-256 failed");
                        break;
                }
                if (last) {
                        r = digest_final(p->hash, p->digest);
                        if (r < 0)
                                set_error(p, "hash", r, "computing the SHA-256 failed");
                        break;
                }
        }
        thread_ended(p, 1);
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
        b->last = last;
        *out = NULL;
        r = queue_pass(&p->blocks, 0, b);
        if (r < 0)
                return r;
        if (last)
                return 0;
        *out = queue_take(&p->blocks, 0);
        if (!*out)
                return -ECANCELED;
        (*out)->offset = next;
        return 0;
}

typedef struct Placer {
        Pipeline *p;
        QueueBuffer *out;
        uint8_t *hot;
        size_t carry;                   /* bytes at the start of hot not placed yet (< GRAIN) */
} Placer;

static void map_set(QueueBuffer *b, size_t grain, bool zero) {
        uint64_t bit = UINT64_C(1) << (grain % 64);

        if (zero)
                b->zero_map[grain / 64] |= bit;
        else
                b->zero_map[grain / 64] &= ~bit;
}

/* Moves the first n bytes of hot into blocks: zero grains only as bits, the rest as bytes.
 * Unless final, a partial grain at the end stays in hot for the next round. */
static int place(Placer *pl, size_t n, bool final) {
        size_t whole = final ? n : n - n % GRAIN, run_src = 0, run_len = 0;
        QueueBuffer *out = pl->out;
        int r;

        for (size_t i = 0; i < whole;) {
                size_t g = MIN((size_t) GRAIN, whole - i);
                bool zero = g == GRAIN && buffer_is_zero(pl->hot + i, GRAIN);

                if (out->size == out->capacity) {
                        if (run_len > 0)
                                memcpy(out->data + out->size - run_len, pl->hot + run_src, run_len);
                        run_len = 0;
                        r = emit_block(pl->p, &pl->out, false);
                        if (r < 0)
                                return r;
                        out = pl->out;
                }
                map_set(out, out->size / GRAIN, zero);
                if (!zero) {
                        /* Consecutive data grains are copied in one go. */
                        if (run_len == 0)
                                run_src = i;
                        run_len += g;
                } else if (run_len > 0) {
                        memcpy(out->data + out->size - run_len, pl->hot + run_src, run_len);
                        run_len = 0;
                }
                out->size += g;
                i += g;
        }
        if (run_len > 0)
                memcpy(out->data + out->size - run_len, pl->hot + run_src, run_len);
        memmove(pl->hot, pl->hot + whole, n - whole);
        pl->carry = n - whole;
        return 0;
}

static int decompress_all(Pipeline *p) {
        _cleanup_(decompress_freep) Decompressor *dec = NULL;
        _cleanup_free_ uint8_t *hot = NULL;
        unsigned stage = p->chunks.n_stages - 1;        /* after the hash thread, if there */
        QueueBuffer *in;
        Placer pl = { .p = p };
        uint64_t in_offset = 0;
        int r;

        if (posix_memalign((void **) &hot, 64, HOT_SIZE) != 0)
                return set_error(p, "decompress", ENOMEM, "out of memory");
        pl.hot = hot;

        in = queue_take(&p->chunks, stage);
        if (!in)
                return -ECANCELED;
        p->format = decompress_sniff(in->data, in->size);
        p->size_hint = MAX(p->expected_size, decompress_size_hint(p->format, in->data, in->size));
        if (p->format == COMPRESSION_RAW)
                p->size_hint = MAX(p->size_hint, atomic_load(&p->total));
        p->writer->size_hint = p->size_hint;
        r = decompress_new(p->format, &dec);
        if (r < 0) {
                queue_pass(&p->chunks, stage, in);
                return set_error(p, "decompress", r, "setting up %s decompression failed: %s",
                                 compression_format_to_string(p->format), strerror(-r));
        }
        pl.out = queue_take(&p->blocks, 0);
        if (!pl.out) {
                queue_pass(&p->chunks, stage, in);
                return -ECANCELED;
        }

        for (;;) {
                size_t pos = 0;
                bool last = in->last;

                for (;;) {
                        size_t iu = 0, ou = 0;

                        int k;

                        r = decompress_run(dec, in->data + pos, in->size - pos, &iu,
                                           hot + pl.carry, HOT_SIZE - pl.carry, &ou, last);
                        pos += iu;
                        if (r < 0) {
                                queue_pass(&p->chunks, stage, in);
                                queue_pass(&p->blocks, 0, pl.out);
                                return set_error(p, "decompress", r,
                                                 r == -EPIPE ? "the %s stream ends early, at byte %" PRIu64 " of the file"
                                                             : "corrupt %s data near byte %" PRIu64 " of the file",
                                                 compression_format_to_string(p->format), in_offset + pos);
                        }
                        k = place(&pl, pl.carry + ou, r > 0);
                        if (k < 0) {
                                queue_pass(&p->chunks, stage, in);
                                return k;
                        }
                        if (r > 0)
                                break;
                        if (pos == in->size && !last)
                                break;
                        if (iu == 0 && ou == 0) {
                                queue_pass(&p->chunks, stage, in);
                                queue_pass(&p->blocks, 0, pl.out);
                                return set_error(p, "decompress", EBADMSG,
                                                 "the %s stream makes no progress at byte %" PRIu64,
                                                 compression_format_to_string(p->format), in_offset + pos);
                        }
                }
                in_offset += in->size;
                queue_pass(&p->chunks, stage, in);
                if (r > 0 || last)
                        break;
                in = queue_take(&p->chunks, stage);
                if (!in) {
                        queue_pass(&p->blocks, 0, pl.out);
                        return -ECANCELED;
                }
        }

        p->image_size = pl.out->offset + pl.out->size;
        r = emit_block(p, &pl.out, true);
        if (r < 0)
                return r;
        if (p->expected_size > 0 && p->image_size != p->expected_size)
                return set_error(p, "decompress", EBADMSG,
                                 "the image is %" PRIu64 " bytes, the configured size is %" PRIu64,
                                 p->image_size, p->expected_size);
        return 0;
}

static void *decompress_thread(void *userdata) {
        Pipeline *p = userdata;

        (void) decompress_all(p);
        thread_ended(p, 2);
        return NULL;
}

/* ---- writer thread ---- */

static void *writer_thread(void *userdata) {
        Pipeline *p = userdata;
        unsigned stage = p->blocks.n_stages - 1;        /* after the hash thread, if there */
        QueueBuffer *b;
        int r;

        while ((b = queue_take(&p->blocks, stage))) {
                bool last = b->last;

                r = writer_write(p->writer, b->data, b->size, b->offset, b->zero_map);
                atomic_store(&p->processed, b->offset + b->size);
                (void) queue_pass(&p->blocks, stage, b);
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
        thread_ended(p, 3);
        return NULL;
}

/* ---- control ---- */

int pipeline_start(Pipeline *p) {
        void *(*fns[])(void *) = { download_thread, hash_thread, decompress_thread, writer_thread };
        bool file = p->scope == FLASH_DIGEST_FILE;
        int r;

        pthread_mutex_init(&p->lock, NULL);
        pthread_cond_init(&p->wake, NULL);
        p->download.cancel = &p->cancel;
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
        for (unsigned i = 0; i < p->chunks.n_stages; i++)
                p->chunk_wait_usec[i] = p->chunks.stages[i].wait_usec;
        for (unsigned i = 0; i < p->blocks.n_stages; i++)
                p->block_wait_usec[i] = p->blocks.stages[i].wait_usec;
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
