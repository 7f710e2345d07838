/* SPDX-License-Identifier: MIT */
#pragma once

/* Process exit codes. They are part of the interface: the units, the man page and the README
 * list them, so never renumber one. */
enum {
        EXIT_OK = 0,               /* success; for "status": every step is done */
        EXIT_INTERNAL = 1,         /* unexpected failure (out of memory, I/O error on the state dir) */
        EXIT_USAGE = 2,            /* bad command line */
        EXIT_CONFIG = 3,           /* configuration missing, unreadable, insecure or invalid */
        EXIT_STEP_FAILED = 4,      /* a step failed after its retries; the next start resumes there */
        EXIT_STEP_REFUSED = 5,     /* a server refused the request (4xx): retrying will not help */
        EXIT_FLASH_FAILED = 6,     /* flashing failed; the target was left without a partition table */
        EXIT_PENDING = 7,          /* "status": steps remain or a run is in progress */
        EXIT_TIMEOUT = 8,          /* "status --wait": the deadline passed first */
};
