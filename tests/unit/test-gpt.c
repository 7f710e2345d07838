/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <endian.h>
#include <string.h>

#include "gpt.h"
#include "tap.h"

static void header(uint8_t *buf, unsigned ss, uint64_t alt, uint32_t n, uint32_t esz) {
        uint8_t *h = buf + ss;
        uint32_t v32;
        uint64_t v64;

        memcpy(h, "EFI PART", 8);
        v32 = htole32(92);
        memcpy(h + 12, &v32, 4);
        v64 = htole64(1);
        memcpy(h + 24, &v64, 8);
        v64 = htole64(alt);
        memcpy(h + 32, &v64, 8);
        v32 = htole32(n);
        memcpy(h + 80, &v32, 4);
        v32 = htole32(esz);
        memcpy(h + 84, &v32, 4);
}

int main(void) {
        static uint8_t buf[8192];
        GptLocation loc;

        is_int(gpt_locate(buf, sizeof buf, &loc), 0, "zeroes: no GPT");
        header(buf, 512, 131071, 128, 128);
        is_int(gpt_locate(buf, sizeof buf, &loc), 1, "GPT at 512");
        is_int(loc.sector_size, 512, "sector size 512");
        is_int(loc.backup_offset, (131071 - 32) * 512ULL, "backup entries before the backup header");
        is_int(loc.backup_end, 131072 * 512ULL, "backup ends after its header");
        memset(buf, 0, sizeof buf);
        header(buf, 4096, 16383, 128, 128);
        is_int(gpt_locate(buf, sizeof buf, &loc), 1, "GPT at 4096");
        is_int(loc.sector_size, 4096, "sector size 4096");
        is_int(loc.backup_offset, (16383 - 4) * 4096ULL, "4K: 4 sectors of entries");
        memset(buf, 0, sizeof buf);
        header(buf, 512, 1, 128, 128);
        is_int(gpt_locate(buf, sizeof buf, &loc), 0, "implausible alternate LBA ignored");
        header(buf, 512, 1000, 128, 3);
        is_int(gpt_locate(buf, sizeof buf, &loc), 0, "implausible entry size ignored");
        is_int(gpt_locate(buf, 100, &loc), 0, "short buffer");
        return tap_done();
}
