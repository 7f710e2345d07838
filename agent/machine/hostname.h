/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Setting the machine's host name, transient (the kernel's) and static (/etc/hostname). Through
 * systemd-hostnamed on the system bus when it answers, as hostnamectl does; else, on a system
 * without it, with sethostname(2) and an atomic write of /etc/hostname. Never logs. */

#define HOSTNAME_MAX 64                 /* the kernel's HOST_NAME_MAX */

typedef enum HostnameMethod {
        HOSTNAME_METHOD_HOSTNAMED,      /* org.freedesktop.hostname1 */
        HOSTNAME_METHOD_DIRECT,         /* sethostname(2) and the file */
        _HOSTNAME_METHOD_MAX,
} HostnameMethod;

typedef struct HostnameResult {
        HostnameMethod method;          /* the one used, or the one that failed */
        char error[256];                /* the bus's or the system's text when it failed */
} HostnameResult;

/* Letters, digits and '-' in dot-separated labels of 1 to 63 bytes, no label starting or
 * ending with '-', at most HOSTNAME_MAX bytes in all. */
bool hostname_is_valid(const char *s);

/* Sets both names to name. etc_hostname is the static name's file for the direct method
 * (normally "/etc/hostname"). Returns 0, -EINVAL for an invalid name, or the negative errno of
 * the method that failed (its text in ret->error). ret may not be NULL. */
int hostname_set(const char *name, const char *etc_hostname, HostnameResult *ret);

const char *hostname_method_to_string(HostnameMethod m);   /* "hostnamed", "direct" */
