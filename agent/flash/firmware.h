/* SPDX-License-Identifier: MIT */
#pragma once

#include "flash-context.h"

/* One firmware to its MTD device (found by name): download and verify it, compare with what the
 * device holds, and only when it differs erase, write and read back. 0 or a negative errno, logged. */
int flash_firmware(FlashContext *ctx, const FlashFirmware *fw);
