/* SPDX-License-Identifier: MIT */
#include <errno.h>

#include "ifaddr.h"
#include "tap.h"

/* Addresses on the loopback, which every network namespace has once it is up. */

int main(void) {
        int r;

        is_int(ifaddr_present("lo", "127.0.0.1"), 1, "127.0.0.1 is on lo");
        is_int(ifaddr_present("lo", "192.0.2.77"), 0, "192.0.2.77 is not");
        is_int(ifaddr_present("nonexistent0", "127.0.0.1"), 0, "not on another interface");
        r = ifaddr_present("lo", "::1");
        ok(r == 1 || r == 0, "::1 on lo: %d (0 without IPv6)", r);
        is_int(ifaddr_present("lo", "not-an-address"), -EINVAL, "not an address: -EINVAL");
        is_int(ifaddr_wait("lo", "127.0.0.1", 5 * USEC_PER_SEC), 1, "waiting for a present address returns at once");
        is_int(ifaddr_wait("lo", "192.0.2.77", 200 * USEC_PER_MSEC), -ETIMEDOUT, "an absent one: -ETIMEDOUT");

        /* Whether an address is this machine's at all: the IAM admin's credentials go to this node's
         * own IAM only there. The loopback range is, whole; a documentation address is not. */
        is_int(ifaddr_is_local("127.0.0.1"), 1, "127.0.0.1 is this machine's");
        is_int(ifaddr_is_local("127.77.0.9"), 1, "so is any 127.0.0.0/8 address (the loopback routes them all)");
        is_int(ifaddr_is_local("::1"), 1, "and ::1");
        is_int(ifaddr_is_local("192.0.2.77"), 0, "192.0.2.77 is another machine's");
        is_int(ifaddr_is_local("255.255.255.255"), 0, "the broadcast address is not this machine's");
        is_int(ifaddr_is_local("2001:db8::77"), 0, "2001:db8::77 is another machine's");
        is_int(ifaddr_is_local("node04.example"), -EINVAL, "a name: -EINVAL (not an address)");
        return tap_done();
}
