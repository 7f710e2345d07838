/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

/* Streaming decompression of zstd, xz and gzip (libzstd, liblzma, zlib), or a raw pass-through,
 * chosen from the first bytes of the stream. Concatenated frames, streams and members are one
 * stream, as the command line tools treat them. */

typedef enum CompressionFormat {
        COMPRESSION_RAW,
        COMPRESSION_ZSTD,
        COMPRESSION_XZ,
        COMPRESSION_GZIP,
        _COMPRESSION_FORMAT_MAX,
} CompressionFormat;

/* The longest prefix decompress_sniff() looks at. */
#define DECOMPRESS_SNIFF_SIZE 6

/* The format the bytes start with. With fewer than DECOMPRESS_SNIFF_SIZE bytes, only a complete
 * stream that short can be told: callers pass what they have once the stream ended. */
CompressionFormat decompress_sniff(const void *data, size_t size);
const char *compression_format_to_string(CompressionFormat f);

/* The uncompressed size a stream announces in its first bytes (zstd frame header with the
 * content size), or 0 when it does not tell. Only a hint: the stream decides. */
uint64_t decompress_size_hint(CompressionFormat f, const void *data, size_t size);

typedef struct Decompressor Decompressor;

int decompress_new(CompressionFormat f, Decompressor **ret);
/* The same, with xz streams of several blocks (xz -T0) decoded on up to threads threads
 * (liblzma's multithreaded decoder, which falls back to one thread for blocks too large for
 * DECOMPRESS_XZ_THREADS_MEMLIMIT). Other formats ignore threads. */
int decompress_new_threads(CompressionFormat f, unsigned threads, Decompressor **ret);
#define DECOMPRESS_XZ_THREADS_MEMLIMIT (24ULL * 1024 * 1024)
Decompressor *decompress_free(Decompressor *d);
DEFINE_TRIVIAL_CLEANUP_FUNC(Decompressor *, decompress_free);

/* Decompresses from in into out; *ret_in_used and *ret_out_used say how much was consumed and
 * produced. Call again while it returns 0 with output space used up or input left. With finish
 * (no more input will come), returns 1 once the stream ended cleanly and every byte was given
 * out, or -EPIPE when it was cut short. -EBADMSG: corrupt data; -ENOMEM. */
int decompress_run(Decompressor *d, const void *in, size_t in_size, size_t *ret_in_used,
                   void *out, size_t out_size, size_t *ret_out_used, bool finish);
