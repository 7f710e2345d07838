/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <lzma.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "decompress.h"

/* The largest xz dictionary accepted (xz -9 uses 64 MiB); a bigger one is refused. */
#define XZ_MEMLIMIT (128ULL * 1024 * 1024)
/* zstd windows up to 128 MiB (--long=27); the default levels use 8 MiB at most. */
#define ZSTD_WINDOW_LOG_MAX 27

struct Decompressor {
        CompressionFormat format;
        bool at_boundary;               /* between frames/members: a clean end is possible */
        ZSTD_DStream *zstd;
        lzma_stream xz;
        bool xz_ready;
        z_stream gz;
        bool gz_ready;
};

static const char *const format_table[_COMPRESSION_FORMAT_MAX] = {
        [COMPRESSION_RAW] = "raw",
        [COMPRESSION_ZSTD] = "zstd",
        [COMPRESSION_XZ] = "xz",
        [COMPRESSION_GZIP] = "gzip",
};

const char *compression_format_to_string(CompressionFormat f) {
        return f >= 0 && f < _COMPRESSION_FORMAT_MAX ? format_table[f] : NULL;
}

CompressionFormat decompress_sniff(const void *data, size_t size) {
        static const uint8_t zstd_magic[] = { 0x28, 0xb5, 0x2f, 0xfd };
        static const uint8_t xz_magic[] = { 0xfd, '7', 'z', 'X', 'Z', 0x00 };
        static const uint8_t gz_magic[] = { 0x1f, 0x8b };
        const uint8_t *p = data;

        if (size >= sizeof zstd_magic && memcmp(p, zstd_magic, sizeof zstd_magic) == 0)
                return COMPRESSION_ZSTD;
        /* A skippable frame (0x184D2A50..5F) may come first, as pzstd writes. */
        if (size >= 4 && (p[0] & 0xf0) == 0x50 && p[1] == 0x2a && p[2] == 0x4d && p[3] == 0x18)
                return COMPRESSION_ZSTD;
        if (size >= sizeof xz_magic && memcmp(p, xz_magic, sizeof xz_magic) == 0)
                return COMPRESSION_XZ;
        if (size >= sizeof gz_magic && memcmp(p, gz_magic, sizeof gz_magic) == 0)
                return COMPRESSION_GZIP;
        return COMPRESSION_RAW;
}

uint64_t decompress_size_hint(CompressionFormat f, const void *data, size_t size) {
        unsigned long long n;

        if (f != COMPRESSION_ZSTD)
                return 0;
        n = ZSTD_getFrameContentSize(data, size);
        if (n == ZSTD_CONTENTSIZE_UNKNOWN || n == ZSTD_CONTENTSIZE_ERROR)
                return 0;
        return n;
}

int decompress_new(CompressionFormat f, Decompressor **ret) {
        return decompress_new_threads(f, 1, ret);
}

static lzma_ret xz_init(lzma_stream *s, unsigned threads) {
        lzma_mt mt = {
                .flags = LZMA_CONCATENATED,
                .threads = threads,
                .memlimit_threading = DECOMPRESS_XZ_THREADS_MEMLIMIT,
                .memlimit_stop = XZ_MEMLIMIT,
        };

        if (threads <= 1)
                return lzma_stream_decoder(s, XZ_MEMLIMIT, LZMA_CONCATENATED);
        return lzma_stream_decoder_mt(s, &mt);
}

int decompress_new_threads(CompressionFormat f, unsigned threads, Decompressor **ret) {
        Decompressor *d;

        d = calloc(1, sizeof *d);
        if (!d)
                return -ENOMEM;
        d->format = f;
        d->at_boundary = true;

        switch (f) {
        case COMPRESSION_RAW:
                break;
        case COMPRESSION_ZSTD:
                d->zstd = ZSTD_createDStream();
                if (!d->zstd) {
                        free(d);
                        return -ENOMEM;
                }
                if (ZSTD_isError(ZSTD_DCtx_setParameter(d->zstd, ZSTD_d_windowLogMax,
                                                        ZSTD_WINDOW_LOG_MAX))) {
                        decompress_free(d);
                        return -EINVAL;
                }
                break;
        case COMPRESSION_XZ:
                d->xz = (lzma_stream) LZMA_STREAM_INIT;
                if (xz_init(&d->xz, threads) != LZMA_OK) {
                        free(d);
                        return -ENOMEM;
                }
                d->xz_ready = true;
                d->at_boundary = false;         /* liblzma tells the end itself */
                break;
        case COMPRESSION_GZIP:
                /* 16 + MAX_WBITS: gzip wrapper only. */
                if (inflateInit2(&d->gz, 16 + MAX_WBITS) != Z_OK) {
                        free(d);
                        return -ENOMEM;
                }
                d->gz_ready = true;
                break;
        default:
                free(d);
                return -EINVAL;
        }
        *ret = d;
        return 0;
}

Decompressor *decompress_free(Decompressor *d) {
        if (!d)
                return NULL;
        ZSTD_freeDStream(d->zstd);
        if (d->xz_ready)
                lzma_end(&d->xz);
        if (d->gz_ready)
                inflateEnd(&d->gz);
        free(d);
        return NULL;
}

static int run_zstd(Decompressor *d, const void *in, size_t in_size, size_t *in_used, void *out,
                    size_t out_size, size_t *out_used, bool finish) {
        ZSTD_inBuffer ib = { in, in_size, 0 };
        ZSTD_outBuffer ob = { out, out_size, 0 };
        size_t r;

        /* Loop while both sides have room: one call may stop at a frame end. */
        while (ib.pos < ib.size && ob.pos < ob.size) {
                r = ZSTD_decompressStream(d->zstd, &ob, &ib);
                if (ZSTD_isError(r))
                        return ZSTD_getErrorCode(r) == ZSTD_error_memory_allocation ? -ENOMEM : -EBADMSG;
                d->at_boundary = r == 0;
        }
        /* Output may still be buffered inside the frame with no input left. */
        if (ib.pos == ib.size && ob.pos < ob.size && !d->at_boundary) {
                r = ZSTD_decompressStream(d->zstd, &ob, &ib);
                if (ZSTD_isError(r))
                        return -EBADMSG;
                d->at_boundary = r == 0;
        }
        *in_used = ib.pos;
        *out_used = ob.pos;
        if (finish && ib.pos == ib.size) {
                if (d->at_boundary)
                        return 1;
                /* Produced nothing and wants more: the stream was cut short. */
                if (ob.pos == 0)
                        return -EPIPE;
        }
        return 0;
}

static int run_xz(Decompressor *d, const void *in, size_t in_size, size_t *in_used, void *out,
                  size_t out_size, size_t *out_used, bool finish) {
        lzma_ret r;

        d->xz.next_in = in;
        d->xz.avail_in = in_size;
        d->xz.next_out = out;
        d->xz.avail_out = out_size;
        r = lzma_code(&d->xz, finish ? LZMA_FINISH : LZMA_RUN);
        *in_used = in_size - d->xz.avail_in;
        *out_used = out_size - d->xz.avail_out;
        switch (r) {
        case LZMA_OK:
                /* Finishing, with room for output, yet nothing moved: the input ended inside a
                 * block (liblzma says so only on the next call). */
                if (finish && *in_used == 0 && *out_used == 0 && out_size > 0)
                        return -EPIPE;
                return 0;
        case LZMA_STREAM_END:
                return finish && d->xz.avail_in == 0 ? 1 : 0;
        case LZMA_BUF_ERROR:
                /* No progress possible: with finish, the input ended inside a block. */
                return finish ? -EPIPE : 0;
        case LZMA_MEM_ERROR:
        case LZMA_MEMLIMIT_ERROR:
                return -ENOMEM;
        default:
                return -EBADMSG;
        }
}

static int run_gzip(Decompressor *d, const void *in, size_t in_size, size_t *in_used, void *out,
                    size_t out_size, size_t *out_used, bool finish) {
        const uint8_t *ip = in;
        size_t used_in = 0, used_out = 0;
        int r;

        while (used_out < out_size) {
                if (used_in == in_size && d->at_boundary)
                        break;
                d->gz.next_in = (Bytef *) (ip + used_in);
                d->gz.avail_in = (uInt) MIN(in_size - used_in, (size_t) UINT32_MAX);
                d->gz.next_out = (Bytef *) out + used_out;
                d->gz.avail_out = (uInt) MIN(out_size - used_out, (size_t) UINT32_MAX);
                if (d->at_boundary && d->gz.avail_in > 0) {
                        /* A new member starts. */
                        if (inflateReset(&d->gz) != Z_OK)
                                return -EBADMSG;
                        d->at_boundary = false;
                }
                r = inflate(&d->gz, Z_NO_FLUSH);
                used_in = (size_t) ((const uint8_t *) d->gz.next_in - ip);
                used_out = (size_t) ((uint8_t *) d->gz.next_out - (uint8_t *) out);
                if (r == Z_STREAM_END) {
                        d->at_boundary = true;
                        continue;
                }
                if (r == Z_BUF_ERROR)
                        break;          /* needs more input (or output space) */
                if (r == Z_MEM_ERROR)
                        return -ENOMEM;
                if (r != Z_OK)
                        return -EBADMSG;
                if (used_in == in_size && d->gz.avail_out > 0)
                        break;
        }
        *in_used = used_in;
        *out_used = used_out;
        if (finish && used_in == in_size) {
                if (d->at_boundary)
                        return 1;
                if (used_out < out_size)
                        return -EPIPE;
        }
        return 0;
}

int decompress_run(Decompressor *d, const void *in, size_t in_size, size_t *ret_in_used,
                   void *out, size_t out_size, size_t *ret_out_used, bool finish) {
        size_t n;

        switch (d->format) {
        case COMPRESSION_RAW:
                n = MIN(in_size, out_size);
                memcpy(out, in, n);
                *ret_in_used = n;
                *ret_out_used = n;
                return finish && n == in_size ? 1 : 0;
        case COMPRESSION_ZSTD:
                return run_zstd(d, in, in_size, ret_in_used, out, out_size, ret_out_used, finish);
        case COMPRESSION_XZ:
                return run_xz(d, in, in_size, ret_in_used, out, out_size, ret_out_used, finish);
        case COMPRESSION_GZIP:
                return run_gzip(d, in, in_size, ret_in_used, out, out_size, ret_out_used, finish);
        default:
                return -EINVAL;
        }
}
