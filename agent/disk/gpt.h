/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where a disk's partition tables live, so that they can be held back, written last, or wiped.
 * MBR: sector 0. GPT: the protective MBR, the primary header at LBA 1 with its entries, and the
 * backup entries and header at the end (the header's "alternate LBA"). */

#define GPT_PRIMARY_AREA_SIZE (1024 * 1024)     /* MBR, primary GPT and its entries, rounded up */

typedef struct GptLocation {
        unsigned sector_size;           /* 512 or 4096: where "EFI PART" was found */
        uint64_t backup_offset;         /* byte offset of the backup entries array */
        uint64_t backup_end;            /* byte offset just past the backup header sector */
} GptLocation;

/* Looks for a GPT header in the first bytes of a disk or image (at least 2 × 4096 bytes, or
 * all of it if shorter). Returns 1 with the location when one with a plausible backup location
 * is found, 0 when there is none (MBR only, or no table). */
int gpt_locate(const void *head, size_t size, GptLocation *ret);
