/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "frame-workers.h"
#include "macro.h"
#include "pipeline.h"
#include "zeroout.h"

/* The decode stage of the pipeline: chunks of the file in, blocks of the image out, each grain
 * of a block marked when it is all zeroes.
 *
 * The decoder writes at most DECODE_WINDOW bytes per call, and the grains it just wrote are
 * scanned for zeroes at once, while they are still in the CPU cache: the writer then finds the
 * zero runs in the block's bits and never reads those bytes again. */

#define DECODE_WINDOW (128 * 1024)
#define GRAIN QUEUE_GRAIN

static void map_set(QueueBuffer *b, size_t grain, bool zero) {
        uint64_t bit = UINT64_C(1) << (grain % 64);

        if (zero)
                b->zero_map[grain / 64] |= bit;
        else
                b->zero_map[grain / 64] &= ~bit;
}

typedef struct Decode {
        Pipeline *p;
        unsigned in_stage;              /* of the chunk queue: after the hash, if it is there */
        Decompressor *dec;
        QueueBuffer *out;
        size_t scanned;                 /* bytes of out whose grains are marked */
        uint64_t in_offset;             /* of the current chunk in the file */
        /* Where the decoder writes. Into the block itself while the image is mostly data (no copy
         * at all); into the small hot buffer while it is mostly zeroes, from where only data
         * grains are copied: zeroes then never reach memory, which costs more than copying the
         * few data grains (with a 2 GiB image of 70 % zeroes, decoding into the blocks alone
         * took 0.1 CPU-s more than this). The last window decides the next. */
        bool hot_mode;
        uint8_t *hot;
        size_t carry;                   /* bytes at the start of hot not placed yet (< GRAIN) */
        usec_t waited;                  /* for free blocks, so far */
} Decode;

static int next_block(Decode *d, bool last) {
        Pipeline *p = d->p;
        QueueBuffer *b = d->out;
        uint64_t next = b->offset + b->size;
        usec_t t;
        int r;

        if (p->expected_size > 0 && next > p->expected_size)
                return pipeline_fail_data(p, EFBIG, "the image is larger than the configured size (%" PRIu64 " bytes)",
                                          p->expected_size);
        b->last = last;
        d->out = NULL;
        r = queue_pass(&p->blocks, 0, b);
        if (r < 0)
                return r;
        if (last)
                return 0;
        t = now_monotonic();
        d->out = queue_take(&p->blocks, 0);
        d->waited += now_monotonic() - t;
        if (!d->out)
                return -ECANCELED;
        d->out->offset = next;
        d->scanned = 0;
        return 0;
}

/* Direct mode: marks the grains the decoder just wrote into the block (the last, partial one
 * only when final, as data). Returns how many were zero. */
static size_t scan_block(Decode *d, bool final) {
        QueueBuffer *b = d->out;
        size_t i = d->scanned, zero = 0;

        for (; i + GRAIN <= b->size; i += GRAIN) {
                bool z = buffer_is_zero(b->data + i, GRAIN);

                map_set(b, i / GRAIN, z);
                zero += z;
        }
        if (final && i < b->size) {
                map_set(b, i / GRAIN, false);
                i = b->size;
        }
        d->scanned = i;
        return zero;
}

/* Hot mode: moves the first n bytes of hot into blocks, zero grains only as bits, the rest as
 * bytes. Unless final, a partial grain at the end stays in hot for the next round. Returns how
 * many grains were zero, or a negative errno. */
static int place(Decode *d, size_t n, bool final) {
        size_t whole = final ? n : n - n % GRAIN, run_src = 0, run_len = 0;
        QueueBuffer *out = d->out;
        int zero_grains = 0, r;

        for (size_t i = 0; i < whole;) {
                size_t g = MIN((size_t) GRAIN, whole - i);
                bool zero = g == GRAIN && buffer_is_zero(d->hot + i, GRAIN);

                if (out->size == out->capacity) {
                        if (run_len > 0)
                                memcpy(out->data + out->size - run_len, d->hot + run_src, run_len);
                        run_len = 0;
                        r = next_block(d, false);
                        if (r < 0)
                                return r;
                        out = d->out;
                }
                map_set(out, out->size / GRAIN, zero);
                zero_grains += zero;
                if (!zero) {
                        /* Consecutive data grains are copied in one go. */
                        if (run_len == 0)
                                run_src = i;
                        run_len += g;
                } else if (run_len > 0) {
                        memcpy(out->data + out->size - run_len, d->hot + run_src, run_len);
                        run_len = 0;
                }
                out->size += g;
                i += g;
        }
        if (run_len > 0)
                memcpy(out->data + out->size - run_len, d->hot + run_src, run_len);
        memmove(d->hot, d->hot + whole, n - whole);
        d->carry = n - whole;
        d->scanned = out->size;
        return zero_grains;
}

static int set_mode(Decode *d, bool hot) {
        QueueBuffer *b = d->out;
        int r;

        if (hot == d->hot_mode)
                return 0;
        if (hot) {
                /* A partial grain at the block's end goes back to hot. */
                d->carry = b->size - d->scanned;
                memcpy(d->hot, b->data + d->scanned, d->carry);
                b->size = d->scanned;
        } else {
                /* The partial grain in hot goes on at the block's end. */
                if (d->carry > 0 && b->size == b->capacity) {
                        r = next_block(d, false);
                        if (r < 0)
                                return r;
                        b = d->out;
                }
                memcpy(b->data + b->size, d->hot, d->carry);
                b->size += d->carry;
                d->carry = 0;
        }
        d->hot_mode = hot;
        return 0;
}

/* Decodes one window into the block or the hot buffer and marks its grains. Returns what
 * decompress_run() returns (1 at the end of the stream), or a negative errno once the pipeline
 * has its error. */
static int decode_window(Decode *d, const QueueBuffer *in, size_t *pos) {
        Pipeline *p = d->p;
        const char *name = compression_format_to_string(p->format);
        size_t iu = 0, ou = 0, zero, grains, before = *pos;
        usec_t t, waited;
        int r, k;

        if (!d->hot_mode && d->out->size == d->out->capacity) {
                r = next_block(d, false);
                if (r < 0)
                        return r;
        }
        if (d->hot_mode)
                r = decompress_run(d->dec, in->data + *pos, in->size - *pos, &iu, d->hot + d->carry,
                                   DECODE_WINDOW - d->carry, &ou, in->last);
        else
                r = decompress_run(d->dec, in->data + *pos, in->size - *pos, &iu, d->out->data + d->out->size,
                                   MIN((size_t) DECODE_WINDOW, d->out->capacity - d->out->size), &ou, in->last);
        *pos += iu;
        if (r == -ENOMEM)
                return pipeline_fail(p, "decompress", ENOMEM, "out of memory while decompressing %s data", name);
        if (r < 0)
                return pipeline_fail_data(p, r,
                                          r == -EPIPE ? "the %s stream ends early, at byte %" PRIu64 " of the file"
                                                      : "corrupt %s data near byte %" PRIu64 " of the file",
                                          name, d->in_offset + *pos);
        if (r == 0 && iu == 0 && ou == 0 && (*pos < in->size || in->last))
                return pipeline_fail_data(p, EBADMSG, "the %s stream makes no progress at byte %" PRIu64,
                                          name, d->in_offset + before);

        t = now_monotonic();
        waited = d->waited;
        if (d->hot_mode) {
                grains = (d->carry + ou) / GRAIN;
                k = place(d, d->carry + ou, r > 0);
                if (k < 0)
                        return k;
                zero = (size_t) k;
        } else {
                d->out->size += ou;
                grains = (d->out->size - d->scanned) / GRAIN;
                zero = scan_block(d, r > 0);
        }
        p->scan_usec += now_monotonic() - t - (d->waited - waited);     /* not the waits for blocks */
        /* Mostly zeroes: hot; no zeroes at all: straight into the block. */
        if (r == 0 && grains > 0) {
                k = set_mode(d, d->hot_mode ? zero > 0 : zero * 2 > grains);
                if (k < 0)
                        return k;
        }
        return r;
}

/* Decodes one chunk into blocks. Returns 1 at the end of the stream. */
static int decode_chunk(Decode *d, const QueueBuffer *in) {
        size_t pos = 0;
        int r;

        for (;;) {
                r = decode_window(d, in, &pos);
                if (r != 0)
                        return r;
                if (pos == in->size && !in->last)
                        return 0;
        }
}

static int decode_all(Decode *d) {
        Pipeline *p = d->p;
        QueueBuffer *in;
        int r;

        in = queue_take(&p->chunks, d->in_stage);
        if (!in)
                return -ECANCELED;
        p->format = decompress_sniff(in->data, in->size);
        p->size_hint = MAX(p->expected_size, decompress_size_hint(p->format, in->data, in->size));
        if (p->format == COMPRESSION_RAW)
                p->size_hint = MAX(p->size_hint, atomic_load(&p->total));
        p->writer->size_hint = p->size_hint;
        if (p->format == COMPRESSION_ZSTD)
                return pipeline_decode_zstd(p, d->in_stage, in);
        if (p->format == COMPRESSION_XZ)
                p->decode_cores = frame_workers_cores();
        r = decompress_new_threads(p->format, p->decode_cores, &d->dec);
        if (r < 0) {
                (void) queue_pass(&p->chunks, d->in_stage, in);
                return pipeline_fail(p, "decompress", r, "setting up %s decompression failed: %s",
                                     compression_format_to_string(p->format), strerror(-r));
        }
        d->out = queue_take(&p->blocks, 0);
        if (!d->out) {
                (void) queue_pass(&p->chunks, d->in_stage, in);
                return -ECANCELED;
        }

        for (;;) {
                bool last = in->last;

                r = decode_chunk(d, in);
                if (r < 0) {
                        if (p->data_error)
                                pipeline_drain_chunks(p, d->in_stage, in);
                        else
                                (void) queue_pass(&p->chunks, d->in_stage, in);
                        return r;
                }
                d->in_offset += in->size;
                (void) queue_pass(&p->chunks, d->in_stage, in);
                /* The decoders end a stream only when told that the input ended. */
                if (r > 0 || last)
                        break;
                in = queue_take(&p->chunks, d->in_stage);
                if (!in)
                        return -ECANCELED;
        }

        r = set_mode(d, false);         /* nothing is left in hot after the end */
        if (r < 0)
                return r;
        p->image_size = d->out->offset + d->out->size;
        r = next_block(d, true);
        if (r < 0)
                return r;
        if (p->expected_size > 0 && p->image_size != p->expected_size)
                return pipeline_fail_data(p, EBADMSG, "the image is %" PRIu64 " bytes, the configured size is %" PRIu64,
                                          p->image_size, p->expected_size);
        return 0;
}

void *pipeline_decode_thread(void *userdata) {
        Pipeline *p = userdata;
        Decode d = { .p = p, .in_stage = p->chunks.n_stages - 1, .hot_mode = true };

        if (posix_memalign((void **) &d.hot, 64, DECODE_WINDOW) != 0)
                pipeline_fail(p, "decompress", ENOMEM, "out of memory");
        else
                (void) decode_all(&d);
        free(d.hot);
        if (d.out)
                (void) queue_pass(&p->blocks, 0, d.out);
        decompress_free(d.dec);
        pipeline_thread_ended(p, PIPELINE_DECODE);
        return NULL;
}

