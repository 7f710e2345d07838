/* SPDX-License-Identifier: MIT */
#pragma once

/* OpenSSL's memory, wiped when freed: its TLS buffers hold what was sent and received in the
 * clear (an IAM password, an issued token). Must run before OpenSSL allocates anything, that is
 * first thing in main(). 0, or -EBUSY when it is too late. */
int crypto_memory_wipe_on_free(void);
