/* SPDX-License-Identifier: MIT */
#pragma once

#include "flash-context.h"

/* One image to one disk: open it exclusively, stream it through the pipeline, check the hash
 * (and signature), then write the held-back partition tables. target_index is the disk chosen for
 * it in ctx->targets. 0 or a negative errno, logged; on failure the disk has no partition table. */
int flash_image(FlashContext *ctx, const FlashImage *img, int target_index);
