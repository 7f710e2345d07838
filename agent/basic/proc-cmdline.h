/* SPDX-License-Identifier: MIT */
#pragma once

/* Looks up "key=value" on the kernel command line (/proc/cmdline, or the file named by
 * $FIRST_BOOT_AGENT_PROC_CMDLINE for tests). Quoted values ("a b") are unquoted.
 * Returns 1 and a new string when found, 0 when absent, negative errno on failure. */
int proc_cmdline_get_key(const char *key, char **ret_value);
