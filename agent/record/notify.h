/* SPDX-License-Identifier: MIT */
#pragma once

#include "macro.h"

/* sd_notify() wrappers. Outside a Type=notify unit ($NOTIFY_SOCKET unset) they do nothing. */
void notify_ready(void);
void notify_status(const char *format, ...) _printf_(1, 2);
void notify_stopping(void);
