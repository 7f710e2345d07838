/* SPDX-License-Identifier: MIT */
#pragma once

#include "config-flash.h"

/* Powers off or reboots after flashing. When systemd is PID 1, through its manager over D-Bus
 * (StartUnit poweroff.target / reboot.target, as "systemctl poweroff" does), falling back to
 * running systemctl; otherwise, as in an initramfs without systemd, sync() and reboot(2).
 * Returns only on failure (or for FLASH_POWER_NONE, with 0). */
int power_action(FlashPowerAction a);
