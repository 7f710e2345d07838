/* SPDX-License-Identifier: MIT */
#define ZSTD_STATIC_LINKING_ONLY
#define ZSTD_DISABLE_DEPRECATE_WARNINGS
#include <string.h>
#include <zstd.h>

#include "macro.h"
#include "zstd-walker.h"

enum {
        W_MAGIC,
        W_SKIP_HEADER,
        W_SKIP,
        W_FRAME_HEADER,
        W_BLOCK_HEADER,
        W_BODY,
        W_CHECKSUM,
};

void zstd_walker_init(ZstdWalker *w) {
        *w = (ZstdWalker) { .state = W_MAGIC, .need = 4 };
}

static uint32_t le32(const uint8_t *p) {
        return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

/* A complete element is in hdr; returns true when a frame ended with it. */
static bool element(ZstdWalker *w) {
        ZSTD_frameHeader fh;
        uint32_t v, magic;
        size_t r;

        switch (w->state) {
        case W_MAGIC:
                magic = le32(w->hdr);
                if ((magic & 0xFFFFFFF0U) == 0x184D2A50U) {
                        w->state = W_SKIP_HEADER;
                        w->need = 8;
                } else if (magic == ZSTD_MAGICNUMBER) {
                        w->state = W_FRAME_HEADER;
                        w->need = ZSTD_FRAMEHEADERSIZE_PREFIX(ZSTD_f_zstd1);
                } else
                        w->lost = true;
                return false;
        case W_SKIP_HEADER:
                w->left = le32(w->hdr + 4);
                w->state = w->left > 0 ? W_SKIP : W_MAGIC;
                w->have = 0;
                w->need = 4;
                return false;
        case W_FRAME_HEADER:
                r = ZSTD_getFrameHeader(&fh, w->hdr, w->have);
                if (ZSTD_isError(r) || r > sizeof w->hdr || (r > 0 && r <= w->have)) {
                        w->lost = true;
                        return false;
                }
                if (r > 0) {
                        w->need = r;
                        return false;
                }
                w->checksum = fh.checksumFlag;
                w->block_max = fh.blockSizeMax;
                w->state = W_BLOCK_HEADER;
                w->have = 0;
                w->need = 3;
                return false;
        case W_BLOCK_HEADER:
                v = (uint32_t) w->hdr[0] | (uint32_t) w->hdr[1] << 8 | (uint32_t) w->hdr[2] << 16;
                w->last_block = v & 1;
                w->have = 0;
                if (((v >> 1) & 3) == 3 || (v >> 3) > w->block_max) {
                        w->lost = true;
                        return false;
                }
                /* An RLE block holds one byte; the others their size. */
                w->left = ((v >> 1) & 3) == 1 ? 1 : v >> 3;
                if (w->left > 0) {
                        w->state = W_BODY;
                        return false;
                }
                break;
        case W_CHECKSUM:
                w->state = W_MAGIC;
                w->have = 0;
                w->need = 4;
                w->frames++;
                return true;
        }
        return false;
}

/* After a block's body: the next block, the checksum, or the frame's end. */
static bool block_done(ZstdWalker *w) {
        w->have = 0;
        if (!w->last_block) {
                w->state = W_BLOCK_HEADER;
                w->need = 3;
                return false;
        }
        if (w->checksum) {
                w->state = W_CHECKSUM;
                w->need = 4;
                return false;
        }
        w->state = W_MAGIC;
        w->need = 4;
        w->frames++;
        return true;
}

size_t zstd_walker_walk(ZstdWalker *w, const uint8_t *p, size_t n, bool *ret_frame_end) {
        size_t used = 0;
        bool end = false;

        while (used < n && !end && !w->lost) {
                size_t k;

                if (w->state == W_SKIP || w->state == W_BODY) {
                        k = (size_t) MIN(w->left, (uint64_t) (n - used));
                        w->left -= k;
                        used += k;
                        if (w->left == 0)
                                end = w->state == W_SKIP ? (w->state = W_MAGIC, w->have = 0, w->need = 4, false)
                                                         : block_done(w);
                        continue;
                }
                k = MIN(w->need - w->have, n - used);
                memcpy(w->hdr + w->have, p + used, k);
                w->have += k;
                used += k;
                if (w->have < w->need)
                        continue;
                if (w->state == W_BLOCK_HEADER) {
                        (void) element(w);
                        if (!w->lost && w->state == W_BLOCK_HEADER)
                                end = block_done(w);    /* an empty Raw or RLE block */
                        continue;
                }
                end = element(w);
        }
        if (w->lost)
                used = n;
        w->offset += used;
        *ret_frame_end = end;
        return used;
}
