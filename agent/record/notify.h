/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>

#include "macro.h"

/* sd_notify() wrappers. Outside a Type=notify unit ($NOTIFY_SOCKET unset) they do nothing. */
void notify_ready(void);
void notify_status(const char *format, ...) _printf_(1, 2);
void notify_stopping(void);
/* Asks the service manager for usec more before the start times out (EXTEND_TIMEOUT_USEC=): a
 * wait with no end of its own, such as a node waiting to be known, must not fail the unit. */
void notify_extend_timeout(uint64_t usec);
