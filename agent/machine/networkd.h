/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

/* A static address through systemd-networkd: the .network file that gives it to the interface
 * with a given MAC, and the request that makes networkd apply it now. Never logs.
 *
 *   [Match]
 *   MACAddress=52:54:00:12:34:56
 *   [Network]
 *   Address=10.0.1.13/24
 *   Gateway=10.0.1.1
 *   DNS=10.0.1.1
 */

#define NETWORKD_DIR "/etc/systemd/network"

typedef struct NetworkdStatic {
        const char *mac;                /* the interface, by its MAC (a name may change) */
        const char *address;            /* ADDRESS/PREFIX */
        const char *gateway;            /* or NULL */
        char *const *dns;               /* or NULL */
} NetworkdStatic;

/* The file's text, as a new string. The one writer of the format: a value that the parser would
 * not read back as the same one setting — a newline or another control character (a line of its
 * own, a section of its own), a trailing backslash (the next line joined to it), blanks at either
 * end, nothing at all — is refused with -EINVAL and its key ("DNS") in *ret_bad (may be NULL). */
int networkd_format(const NetworkdStatic *s, char **ret, const char **ret_bad);

/* Writes dir/name (0644) atomically. Returns 1 when the file changed, 0 when it already held
 * text. */
int networkd_write(const char *dir, const char *name, const char *text);

/* Asks systemd-networkd over the system bus to read its files again and to reconfigure the
 * interface ifindex. -EHOSTDOWN, -ENOENT, … when networkd (or the bus) is not there; the bus's
 * text in error. */
int networkd_apply(int ifindex, char *error, size_t error_size);
