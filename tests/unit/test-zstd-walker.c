/* SPDX-License-Identifier: MIT */
#define ZSTD_STATIC_LINKING_ONLY
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "tap.h"
#include "zstd-walker.h"

/* Frame ends found from the headers alone: frames back to back with skippable frames between
 * (as pzstd writes them), the seekable format's table at the end, pzstd's own output; in pieces
 * of any size. */

#define MAXF 64

/* Walks in pieces of step bytes (0: 1 to 5000); records the offsets after each frame end. */
static unsigned walk(const uint8_t *p, size_t n, size_t step, uint64_t *ends, bool *lost) {
        ZstdWalker w;
        unsigned k = 0;

        zstd_walker_init(&w);
        for (size_t i = 0; i < n;) {
                size_t piece = step ? step : 1 + (size_t) (i * 7919 % 5000);
                bool end;

                piece = piece > n - i ? n - i : piece;
                while (piece > 0) {
                        size_t used = zstd_walker_walk(&w, p + i, piece, &end);

                        i += used;
                        piece -= used;
                        if (end && k < MAXF)
                                ends[k++] = i;
                }
        }
        *lost = w.lost;
        return k;
}

static void put32(uint8_t *p, uint32_t v) {
        p[0] = v, p[1] = v >> 8, p[2] = v >> 16, p[3] = v >> 24;
}

int main(void) {
        size_t piece = 300000, cap = 16 << 20, n = 0;
        uint8_t *src = malloc(piece * 8), *out = malloc(cap);
        uint64_t want[MAXF], got[MAXF];
        unsigned nf = 0, k;
        bool lost;

        for (size_t i = 0; i < piece * 8; i++)
                src[i] = i % 3000 < 1000 ? 0 : (uint8_t) (i * 31 / 7);

        /* pzstd's layout: a skippable frame with the next frame's size, then the frame. */
        for (int f = 0; f < 6; f++) {
                size_t c;
                ZSTD_CCtx *cc = ZSTD_createCCtx();

                ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, f % 2);
                ZSTD_CCtx_setParameter(cc, ZSTD_c_contentSizeFlag, f % 3 != 0);
                c = ZSTD_compress2(cc, out + n + 12, cap - n - 12, src + f * piece, f == 5 ? 5 : piece);
                ZSTD_freeCCtx(cc);
                put32(out + n, 0x184D2A50);
                put32(out + n + 4, 4);
                put32(out + n + 8, (uint32_t) c);
                n += 12 + c;
                want[nf++] = n;
        }
        /* An empty frame, then the seekable format's seek table (a skippable frame) at the end. */
        n += ZSTD_compress(out + n, cap - n, "", 0, 1);
        want[nf++] = n;
        put32(out + n, 0x184D2A5E);
        put32(out + n + 4, 9 + 7 * 8);
        memset(out + n + 8, 0, 7 * 8);
        put32(out + n + 8 + 7 * 8, 7);
        out[n + 12 + 7 * 8] = 0;
        put32(out + n + 13 + 7 * 8, 0x8F92EAB1);
        n += 8 + 9 + 7 * 8;

        for (size_t step = 0; step <= 1; step++) {
                k = walk(out, n, step, got, &lost);
                is_int(k, nf, "pieces of %s: %u frame ends found", step ? "1 byte" : "any size", nf);
                ok(!lost, "pieces of %s: never lost", step ? "1 byte" : "any size");
                ok(k == nf && memcmp(got, want, nf * sizeof *got) == 0, "each at the frame's last byte");
        }

        /* Not zstd: lost, everything walked. */
        k = walk((const uint8_t *) "EFI PART and some more", 22, 0, got, &lost);
        ok(k == 0 && lost, "not zstd: no frames, lost");

        /* pzstd itself, when it is installed. */
        if (access("/usr/bin/pzstd", X_OK) == 0) {
                char dir[] = "/tmp/test-zstd-walker.XXXXXX", cmd[512], path[300];
                FILE *f;
                size_t m;

                if (mkdtemp(dir)) {
                        snprintf(path, sizeof path, "%s/in", dir);
                        f = fopen(path, "w");
                        for (int i = 0; i < 40; i++)    /* 12 MiB in all */
                                fwrite(src, 1, piece, f);
                        fclose(f);
                        snprintf(cmd, sizeof cmd, "pzstd -q -p 2 -3 %s/in -o %s/in.zst && rm -f %s/in", dir, dir, dir);
                        ok(system(cmd) == 0, "pzstd made a file");
                        snprintf(path, sizeof path, "%s/in.zst", dir);
                        f = fopen(path, "r");
                        m = f ? fread(out, 1, cap, f) : 0;
                        if (f)
                                fclose(f);
                        k = walk(out, m, 0, got, &lost);
                        ok(k >= 2 && !lost && got[k - 1] == m, "pzstd's output: %u frames, the last ending at the file's end", k);
                        /* zstd -T0 compresses on every core but writes one frame. */
                        snprintf(cmd, sizeof cmd, "pzstd -q -d %s/in.zst -o %s/in && zstd -q -T2 -3 %s/in -o %s/t0.zst",
                                 dir, dir, dir, dir);
                        ok(system(cmd) == 0, "zstd -T2 made a file");
                        snprintf(path, sizeof path, "%s/t0.zst", dir);
                        f = fopen(path, "r");
                        m = f ? fread(out, 1, cap, f) : 0;
                        if (f)
                                fclose(f);
                        k = walk(out, m, 0, got, &lost);
                        ok(k == 1 && !lost && got[0] == m, "zstd -T2's output: one frame (%u)", k);
                        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
                        if (system(cmd) != 0)
                                fprintf(stderr, "# could not remove %s\n", dir);
                }
        }

        free(src);
        free(out);
        return tap_done();
}
