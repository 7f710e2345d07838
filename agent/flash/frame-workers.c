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

#define IN_SIZE (512 * 1024)
#define N_IN 4
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

void frame_workers_close(FrameWorkers *f) {
        for (unsigned i = 0; i < f->n; i++) {
                queue_close(&f->w[i].in);
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
static void worker_failed(FrameWorker *w, const QueueBuffer *in, uint64_t fed_before, int r) {
        Pipeline *p = w->pool->p;
        uint64_t at = in->offset + zstd_decoder_error_offset(w->dec) - fed_before;

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
        unsigned frames_before = 0;
        QueueBuffer *in;
        int r;

        while ((in = queue_take(&w->in, 1))) {
                bool last = in->last, end = in->stream_end;
                uint64_t fed_before = w->fed;

                r = zstd_decoder_feed(w->dec, in->data, in->size);
                w->fed += in->size;
                if (r >= 0 && last)
                        r = zstd_decoder_finish(w->dec);
                if (r < 0) {
                        worker_failed(w, in, fed_before, r);
                        break;
                }
                (void) queue_pass(&w->in, 1, in);
                if (!last)
                        continue;
                if (zstd_decoder_stats(w->dec)->frames > frames_before)
                        w->segments++;
                frames_before = zstd_decoder_stats(w->dec)->frames;
                r = block_sink_pass(&w->sink, true, end);
                if (r < 0) {
                        frame_workers_close(w->pool);
                        break;
                }
                if (end)
                        break;
        }
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

int frame_workers_start(FrameWorkers *f, Pipeline *p, BlockSink *sink, unsigned n) {
        static const ZstdOutput output = { .data = out_data, .zero = out_zero };
        int r;

        *f = (FrameWorkers) { .p = p, .sink = sink, .n = MIN(n, (unsigned) FRAME_WORKERS_MAX) };
        for (unsigned i = 0; i < f->n; i++) {
                FrameWorker *w = &f->w[i];
                ZstdOutput o = output;

                *w = (FrameWorker) { .pool = f, .index = i };
                r = queue_init(&w->in, N_IN, IN_SIZE, 2, false);
                if (r >= 0)
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

static int next_in(FrameWorkers *f) {
        FrameWorker *w = &f->w[f->segment % f->n];

        f->in = queue_take(&w->in, 0);
        return f->in ? 0 : -ECANCELED;
}

int frame_workers_feed(FrameWorkers *f, const uint8_t *data, size_t size, uint64_t offset) {
        int r;

        while (size > 0) {
                size_t k;

                if (f->in && f->in->size == f->in->capacity) {
                        r = queue_pass(&f->w[f->segment % f->n].in, 0, TAKE_PTR(f->in));
                        if (r < 0)
                                return r;
                }
                if (!f->in) {
                        r = next_in(f);
                        if (r < 0)
                                return r;
                        f->in->offset = offset;
                }
                k = MIN(size, f->in->capacity - f->in->size);
                memcpy(f->in->data + f->in->size, data, k);
                f->in->size += k;
                data += k;
                size -= k;
                offset += k;
        }
        return 0;
}

int frame_workers_end_segment(FrameWorkers *f, bool stream_end) {
        QueueBuffer *b;
        int r;

        if (!f->in) {
                r = next_in(f);
                if (r < 0)
                        return r;
        }
        b = TAKE_PTR(f->in);
        b->last = true;
        b->stream_end = stream_end;
        r = queue_pass(&f->w[f->segment % f->n].in, 0, b);
        f->segment++;
        return r;
}

int frame_workers_join(FrameWorkers *f) {
        Pipeline *p = f->p;

        if (f->in) {
                (void) queue_pass(&f->w[f->segment % f->n].in, 1, TAKE_PTR(f->in));     /* back to free */
        }
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
                queue_done(&w->in);
                queue_done(&w->out);
        }
}
