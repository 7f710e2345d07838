/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <string.h>
#include <time.h>

#include "frame-workers.h"
#include "macro.h"
#include "pipeline.h"

#define OUT_SIZE (2 * 1024 * 1024)      /* the pipeline's block size: blocks trade memory */
#define N_OUT 3

unsigned frame_workers_cores(void) {
        cpu_set_t set;
        int n;

        if (sched_getaffinity(0, sizeof set, &set) < 0)
                return 1;
        n = CPU_COUNT(&set);
        return (unsigned) MAX(1, MIN(n, FRAME_WORKERS_MAX));
}

void frame_workers_release(Queue *chunks, unsigned stage, QueueBuffer *chunk) {
        if (atomic_fetch_sub(&chunk->refs, 1) == 1)
                (void) queue_pass(chunks, stage, chunk);
}

static void spans_close(FrameWorker *w) {
        pthread_mutex_lock(&w->lock);
        w->closed = true;
        pthread_cond_broadcast(&w->changed);
        pthread_mutex_unlock(&w->lock);
}

/* Waits for room; -ECANCELED once closed (the span's reference is then the caller's to drop). */
static int spans_push(FrameWorker *w, const FrameSpan *s) {
        int r = 0;

        pthread_mutex_lock(&w->lock);
        while (!w->closed && w->n_spans == FRAME_SPANS)
                pthread_cond_wait(&w->changed, &w->lock);
        if (w->closed)
                r = -ECANCELED;
        else {
                w->spans[(w->head + w->n_spans) % FRAME_SPANS] = *s;
                if (w->n_spans++ == 0)
                        pthread_cond_broadcast(&w->changed);
        }
        pthread_mutex_unlock(&w->lock);
        return r;
}

/* The next span, waiting for one; false once closed. */
static bool spans_take(FrameWorker *w, FrameSpan *ret) {
        bool ok = false;

        pthread_mutex_lock(&w->lock);
        while (!w->closed && w->n_spans == 0)
                pthread_cond_wait(&w->changed, &w->lock);
        if (!w->closed) {
                *ret = w->spans[w->head];
                w->head = (w->head + 1) % FRAME_SPANS;
                if (w->n_spans-- == FRAME_SPANS)
                        pthread_cond_broadcast(&w->changed);
                ok = true;
        }
        pthread_mutex_unlock(&w->lock);
        return ok;
}

/* After closing: the chunks of the spans nobody will decode go back. */
static void spans_drop(FrameWorker *w) {
        FrameWorkers *f = w->pool;

        pthread_mutex_lock(&w->lock);
        for (; w->n_spans > 0; w->n_spans--) {
                FrameSpan *s = &w->spans[w->head];

                if (s->chunk)
                        frame_workers_release(f->chunks, f->chunk_stage, s->chunk);
                w->head = (w->head + 1) % FRAME_SPANS;
        }
        pthread_mutex_unlock(&w->lock);
}

void frame_workers_close(FrameWorkers *f) {
        for (unsigned i = 0; i < f->n; i++) {
                spans_close(&f->w[i]);
                queue_close(&f->w[i].out);
        }
}

static int out_data(void *userdata, const uint8_t *p, size_t n) {
        return block_sink_data(userdata, p, n);
}

static int out_zero(void *userdata, uint64_t n) {
        return block_sink_zero(userdata, n);
}

static uint64_t thread_cpu_usec(void) {
        struct timespec ts;

        if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) < 0)
                return 0;
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000;
}

/* A decoder's complaint, with where in the file it was. */
static void worker_failed(FrameWorker *w, uint64_t offset, uint64_t fed_before, int r) {
        Pipeline *p = w->pool->p;
        uint64_t at = offset + zstd_decoder_error_offset(w->dec) - fed_before;

        if (r == -ECANCELED)
                ;
        else if (r == -ENOMEM)
                pipeline_fail(p, "decompress", ENOMEM, "out of memory while decompressing zstd data");
        else if (r == -EPIPE)
                pipeline_fail_data(p, r, "the zstd stream ends early, at byte %" PRIu64 " of the file", at);
        else
                pipeline_fail_data(p, r, "corrupt zstd data near byte %" PRIu64 " of the file: %s", at,
                                   zstd_decoder_error(w->dec));
        frame_workers_close(w->pool);
}

static void *worker_thread(void *userdata) {
        FrameWorker *w = userdata;
        FrameWorkers *f = w->pool;
        unsigned frames_before = 0;
        FrameSpan in;
        int r;

        while (spans_take(w, &in)) {
                uint64_t fed_before = w->fed;

                r = 0;
                if (in.chunk) {
                        r = zstd_decoder_feed(w->dec, in.chunk->data + in.start, in.size);
                        w->fed += in.size;
                        frame_workers_release(f->chunks, f->chunk_stage, in.chunk);
                }
                if (r >= 0 && in.last)
                        r = zstd_decoder_finish(w->dec);
                if (r < 0) {
                        worker_failed(w, in.offset, fed_before, r);
                        break;
                }
                if (!in.last)
                        continue;
                if (zstd_decoder_stats(w->dec)->frames > frames_before)
                        w->segments++;
                frames_before = zstd_decoder_stats(w->dec)->frames;
                r = block_sink_pass(&w->sink, true, in.stream_end);
                if (r < 0) {
                        frame_workers_close(f);
                        break;
                }
                if (in.stream_end)
                        break;
        }
        spans_drop(w);
        w->stats = *zstd_decoder_stats(w->dec);
        w->cpu_usec = thread_cpu_usec();
        return NULL;
}

/* Takes each worker's blocks in segment order into the pipeline's. */
static void *collector_thread(void *userdata) {
        FrameWorkers *f = userdata;
        int r = 0;

        for (unsigned seg = 0;; ) {
                FrameWorker *w = &f->w[seg % f->n];
                QueueBuffer *b = queue_take(&w->out, 1);
                bool last, end;

                if (!b) {
                        r = -ECANCELED;
                        break;
                }
                last = b->last;
                end = b->stream_end;
                r = block_sink_take(f->sink, b);
                (void) queue_pass(&w->out, 1, b);
                if (r < 0)
                        break;
                if (end)
                        break;
                if (last)
                        seg++;
        }
        if (r == -EFBIG)
                pipeline_fail_data(f->p, EFBIG, "the image is larger than the configured size (%" PRIu64 " bytes)",
                                   f->p->expected_size);
        if (r < 0)
                frame_workers_close(f);
        f->error = r;
        return NULL;
}

int frame_workers_start(FrameWorkers *f, Pipeline *p, BlockSink *sink, unsigned n, unsigned chunk_stage) {
        static const ZstdOutput output = { .data = out_data, .zero = out_zero };
        int r;

        *f = (FrameWorkers) { .p = p, .chunks = &p->chunks, .chunk_stage = chunk_stage, .sink = sink,
                              .n = MIN(n, (unsigned) FRAME_WORKERS_MAX) };
        for (unsigned i = 0; i < f->n; i++) {
                FrameWorker *w = &f->w[i];

                *w = (FrameWorker) { .pool = f, .index = i };
                pthread_mutex_init(&w->lock, NULL);
                pthread_cond_init(&w->changed, NULL);
        }
        for (unsigned i = 0; i < f->n; i++) {
                FrameWorker *w = &f->w[i];
                ZstdOutput o = output;

                r = queue_init(&w->out, N_OUT, OUT_SIZE, 2, true);
                if (r < 0)
                        return r;
                block_sink_init(&w->sink, &w->out, 0);
                o.userdata = &w->sink;
                r = zstd_decoder_new(&o, &w->sink.waited, &w->dec);
                if (r < 0)
                        return r;
        }
        for (unsigned i = 0; i < f->n; i++) {
                r = -pthread_create(&f->w[i].thread, NULL, worker_thread, &f->w[i]);
                if (r < 0)
                        return r;
                f->w[i].started = true;
        }
        r = -pthread_create(&f->collector, NULL, collector_thread, f);
        if (r < 0)
                return r;
        f->collector_started = true;
        return 0;
}

static int push(FrameWorkers *f, const FrameSpan *s) {
        int r;

        if (s->chunk)
                atomic_fetch_add(&s->chunk->refs, 1);
        r = spans_push(&f->w[f->segment % f->n], s);
        if (r < 0 && s->chunk)
                frame_workers_release(f->chunks, f->chunk_stage, s->chunk);
        return r;
}

int frame_workers_feed(FrameWorkers *f, QueueBuffer *chunk, size_t start, size_t size) {
        if (size == 0)
                return 0;
        return push(f, &(FrameSpan) { .chunk = chunk, .start = start, .size = size, .offset = chunk->offset + start });
}

int frame_workers_end_segment(FrameWorkers *f, uint64_t offset, bool stream_end) {
        int r;

        r = push(f, &(FrameSpan) { .offset = offset, .last = true, .stream_end = stream_end });
        f->segment++;
        return r;
}

int frame_workers_join(FrameWorkers *f) {
        Pipeline *p = f->p;

        /* Once the collector is through, every segment was decoded (or something failed): the
         * workers still waiting for a next segment are let go. */
        if (f->collector_started) {
                (void) pthread_join(f->collector, NULL);
                f->collector_started = false;
        }
        frame_workers_close(f);
        for (unsigned i = 0; i < f->n; i++) {
                FrameWorker *w = &f->w[i];

                if (!w->started)
                        continue;
                (void) pthread_join(w->thread, NULL);
                w->started = false;
                block_sink_done(&w->sink);
                pthread_mutex_lock(&p->lock);
                p->stage[PIPELINE_DECODE].cpu_usec += w->cpu_usec;
                pthread_mutex_unlock(&p->lock);
                p->workers_cpu_usec += w->cpu_usec;
                p->scan_usec += w->sink.scan_usec;
                p->zero_usec += w->stats.zero_usec;
                p->zero_run_bytes += w->stats.zero_bytes;
                p->frames += w->stats.frames;
                p->decode_cores += w->segments > 0;
        }
        return f->error;
}

void frame_workers_done(FrameWorkers *f) {
        for (unsigned i = 0; i < f->n; i++) {
                FrameWorker *w = &f->w[i];

                w->dec = zstd_decoder_free(w->dec);
                queue_done(&w->out);
                pthread_cond_destroy(&w->changed);
                pthread_mutex_destroy(&w->lock);
        }
}
