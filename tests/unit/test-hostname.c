/* SPDX-License-Identifier: MIT */
#include <errno.h>

#include "hostname.h"
#include "tap.h"

/* Which names the agent gives a machine, and what it refuses before asking anyone. */

int main(void) {
        HostnameResult res;

        ok(hostname_is_valid("node04"), "a short name");
        ok(hostname_is_valid("node04.dc1.example.com"), "a full name");
        ok(hostname_is_valid("a-1.b-2"), "dashes inside labels");
        ok(hostname_is_valid("1node"), "a leading digit");
        ok(!hostname_is_valid(""), "empty");
        ok(!hostname_is_valid("node_04"), "an underscore");
        ok(!hostname_is_valid("-node"), "a leading dash");
        ok(!hostname_is_valid("node-"), "a trailing dash");
        ok(!hostname_is_valid("a.-b"), "a label starting with a dash");
        ok(!hostname_is_valid("node..x"), "an empty label");
        ok(!hostname_is_valid("node.x."), "a trailing dot");
        ok(!hostname_is_valid("nöde"), "not ASCII");
        ok(hostname_is_valid("a2345678901234567890123456789012.b234567890123456789012345678901"), "64 bytes");
        ok(!hostname_is_valid("a2345678901234567890123456789012.b2345678901234567890123456789012"), "65 bytes");
        ok(!hostname_is_valid("a234567890123456789012345678901234567890123456789012345678901234.b"), "a 64-byte label");

        is_int(hostname_set("bad_name", "/nonexistent/hostname", &res), -EINVAL, "an invalid name is refused before any call");
        is_str(hostname_method_to_string(HOSTNAME_METHOD_HOSTNAMED), "hostnamed", "method names");
        is_str(hostname_method_to_string(HOSTNAME_METHOD_DIRECT), "direct", "method names");
        return tap_done();
}
