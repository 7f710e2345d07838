/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

#include "time-util.h"

/* Whether an interface holds an address, without netlink (which the agent's unit does not
 * allow): IPv4 through SIOCGIFCONF, IPv6 from /proc/net/if_inet6. Never logs. */

/* 1 when ifname has address (a literal without prefix), 0 when not, negative errno. */
int ifaddr_present(const char *ifname, const char *address);

/* Polls ifaddr_present() every 100 ms until it says 1 or timeout passed (-ETIMEDOUT). */
int ifaddr_wait(const char *ifname, const char *address, usec_t timeout);
