/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "block-sink.h"
#include "frame-workers.h"
#include "macro.h"
#include "pipeline.h"
#include "zstd-decoder.h"
#include "zstd-walker.h"

/* The decode stage for zstd. The first frame is decoded here, block by block (zstd-decoder.h),
 * into the pipeline's blocks; runs of zeroes stay runs. Where it ends and more of the file follows,
 * the image has several independent frames (pzstd, the seekable format, frames concatenated): from
 * there on this thread only cuts the file at frame ends (zstd-walker.h) and hands the pieces to
 * one worker per core (frame-workers.h), whose output a collector puts back in order. A
 * single-frame image never starts a thread. */

typedef struct ZstdStage {
        Pipeline *p;
        unsigned in_stage;
        BlockSink sink;
        ZstdDecoder *dec;               /* the first frame's, until workers take over */
        ZstdWalker walker;
        FrameWorkers workers;
        bool parallel;
        unsigned cores;
} ZstdStage;

static int out_data(void *userdata, const uint8_t *p, size_t n) {
        return block_sink_data(userdata, p, n);
}

static int out_zero(void *userdata, uint64_t n) {
        return block_sink_zero(userdata, n);
}

/* The serial decoder's complaint, for the pipeline. */
static int serial_failed(ZstdStage *z, int r) {
        Pipeline *p = z->p;
        uint64_t at = zstd_decoder_error_offset(z->dec);

        switch (r) {
        case -ECANCELED:
                return r;
        case -ENOMEM:
                return pipeline_fail(p, "decompress", ENOMEM, "out of memory while decompressing zstd data");
        case -EFBIG:
                return pipeline_fail_data(p, EFBIG, "the image is larger than the configured size (%" PRIu64 " bytes)",
                                          p->expected_size);
        case -EPIPE:
                return pipeline_fail_data(p, r, "the zstd stream ends early, at byte %" PRIu64 " of the file", at);
        default:
                return pipeline_fail_data(p, r, "corrupt zstd data near byte %" PRIu64 " of the file: %s", at,
                                          zstd_decoder_error(z->dec));
        }
}

static void take_stats(Pipeline *p, const ZstdDecoder *dec) {
        const ZstdDecoderStats *st = zstd_decoder_stats(dec);

        p->frames += st->frames;
        p->zero_usec += st->zero_usec;
        p->zero_run_bytes += st->zero_bytes;
        p->decode_cores += st->frames > 0;
}

static int go_parallel(ZstdStage *z) {
        int r;

        /* The first frame's decoder is done with: its window is memory the workers can use. */
        take_stats(z->p, z->dec);
        z->dec = zstd_decoder_free(z->dec);
        r = frame_workers_start(&z->workers, z->p, &z->sink, z->cores, z->in_stage);
        z->parallel = true;
        if (r < 0)
                return pipeline_fail(z->p, "decompress", r, "starting the frame decoders failed: %s", strerror(-r));
        return 0;
}

/* One chunk of the file (the workers hold references to it, see frame-workers.h). Returns 1 at
 * the end of the stream. */
static int feed(ZstdStage *z, QueueBuffer *in) {
        size_t pos = 0;
        int r;

        while (pos < in->size) {
                bool frame_end;
                size_t k = zstd_walker_walk(&z->walker, in->data + pos, in->size - pos, &frame_end);

                if (z->parallel)
                        r = frame_workers_feed(&z->workers, in, pos, k);
                else {
                        r = zstd_decoder_feed(z->dec, in->data + pos, k);
                        if (r < 0)
                                return serial_failed(z, r);
                }
                if (r < 0)
                        return r;
                pos += k;
                if (!frame_end)
                        continue;
                if (z->parallel)
                        r = frame_workers_end_segment(&z->workers, in->offset + pos, false);
                else if (z->cores > 1 && (pos < in->size || !in->last))
                        r = go_parallel(z);
                if (r < 0)
                        return r;
        }
        if (!in->last)
                return 0;
        if (z->parallel)
                return frame_workers_end_segment(&z->workers, in->offset + in->size, true) < 0 ? -ECANCELED : 1;
        r = zstd_decoder_finish(z->dec);
        return r < 0 ? serial_failed(z, r) : 1;
}

static int finish(ZstdStage *z) {
        Pipeline *p = z->p;
        int r;

        p->image_size = z->sink.offset;
        r = block_sink_pass(&z->sink, true, false);
        if (r < 0)
                return r;
        if (p->expected_size > 0 && p->image_size != p->expected_size)
                return pipeline_fail_data(p, EBADMSG, "the image is %" PRIu64 " bytes, the configured size is %" PRIu64,
                                          p->image_size, p->expected_size);
        return 0;
}

static int run(ZstdStage *z, QueueBuffer *in) {
        Pipeline *p = z->p;
        int r;

        for (;;) {
                bool last = in->last;

                atomic_store(&in->refs, 1);     /* this thread's */
                r = feed(z, in);
                if (r < 0) {
                        if (z->parallel)
                                frame_workers_close(&z->workers);
                        frame_workers_release(&p->chunks, z->in_stage, in);
                        /* The rest of the file still goes by, to the hash. */
                        if (p->data_error && !last && (in = queue_take(&p->chunks, z->in_stage)))
                                pipeline_drain_chunks(p, z->in_stage, in);
                        return r;
                }
                frame_workers_release(&p->chunks, z->in_stage, in);
                if (r > 0)
                        return 0;
                in = queue_take(&p->chunks, z->in_stage);
                if (!in)
                        return -ECANCELED;
        }
}

int pipeline_decode_zstd(Pipeline *p, unsigned in_stage, QueueBuffer *first) {
        static const ZstdOutput output = { .data = out_data, .zero = out_zero };
        ZstdStage z = { .p = p, .in_stage = in_stage, .cores = frame_workers_cores() };
        ZstdOutput o = output;
        int r, k;

        block_sink_init(&z.sink, &p->blocks, 0);
        z.sink.limit = p->expected_size;
        zstd_walker_init(&z.walker);
        o.userdata = &z.sink;
        r = zstd_decoder_new(&o, &z.sink.waited, &z.dec);
        if (r < 0) {
                (void) queue_pass(&p->chunks, in_stage, first);
                return pipeline_fail(p, "decompress", r, "setting up zstd decompression failed: %s", strerror(-r));
        }

        r = run(&z, first);
        if (z.parallel) {
                k = frame_workers_join(&z.workers);
                if (r >= 0 && k < 0)
                        r = k;
                pthread_mutex_lock(&p->lock);
                if (r >= 0 && p->first_error < 0)
                        r = -ECANCELED;
                pthread_mutex_unlock(&p->lock);
                frame_workers_done(&z.workers);
        }
        if (z.dec)
                take_stats(p, z.dec);
        p->scan_usec += z.sink.scan_usec;
        if (r >= 0)
                r = finish(&z);
        block_sink_done(&z.sink);
        zstd_decoder_free(z.dec);
        return r;
}
