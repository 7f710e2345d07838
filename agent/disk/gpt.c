/* SPDX-License-Identifier: MIT */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "gpt.h"

static uint32_t le32(const uint8_t *p) {
        uint32_t v;

        memcpy(&v, p, sizeof v);
        return le32toh(v);
}

static uint64_t le64(const uint8_t *p) {
        uint64_t v;

        memcpy(&v, p, sizeof v);
        return le64toh(v);
}

int gpt_locate(const void *head, size_t size, GptLocation *ret) {
        static const unsigned sizes[] = { 512, 4096 };
        const uint8_t *p = head;

        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
                unsigned ss = sizes[i];
                const uint8_t *h = p + ss;
                uint64_t my_lba, alt_lba, entries_bytes, entries_sectors;
                uint32_t n_entries, entry_size, header_size;

                if (size < (size_t) ss + 92 || memcmp(h, "EFI PART", 8) != 0)
                        continue;
                header_size = le32(h + 12);
                my_lba = le64(h + 24);
                alt_lba = le64(h + 32);
                n_entries = le32(h + 80);
                entry_size = le32(h + 84);
                if (header_size < 92 || header_size > ss || my_lba != 1 || alt_lba <= 1 ||
                    entry_size < 128 || entry_size > 4096 || n_entries == 0 || n_entries > 65536)
                        continue;
                entries_bytes = (uint64_t) n_entries * entry_size;
                entries_sectors = (entries_bytes + ss - 1) / ss;
                if (alt_lba < entries_sectors + 2 || alt_lba > UINT64_MAX / ss - 1)
                        continue;
                *ret = (GptLocation) {
                        .sector_size = ss,
                        .backup_offset = (alt_lba - entries_sectors) * ss,
                        .backup_end = (alt_lba + 1) * ss,
                };
                return 1;
        }
        return 0;
}
