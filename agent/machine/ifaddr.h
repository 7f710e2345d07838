/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

#include "time-util.h"

/* Whether an interface holds an address, without netlink (which the agent's unit does not
 * allow): IPv4 through SIOCGIFCONF, IPv6 from /proc/net/if_inet6. Never logs. */

/* 1 when ifname has address (a literal without prefix), 0 when not, negative errno. */
int ifaddr_present(const char *ifname, const char *address);

/* 1 when address (a literal) is this machine's: on any of its interfaces, or in the loopback
 * range (127.0.0.0/8, ::1); 0 when not; -EINVAL when it is not an address. */
int ifaddr_is_local(const char *address);

/* Polls ifaddr_present() every 100 ms until it says 1 or timeout passed (-ETIMEDOUT). */
int ifaddr_wait(const char *ifname, const char *address, usec_t timeout);
