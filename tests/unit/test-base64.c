/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "base64.h"
#include "cleanup.h"
#include "tap.h"

static void roundtrip(const char *plain, const char *encoded) {
        _cleanup_free_ char *e = base64_encode(plain, strlen(plain));
        char out[64];
        size_t n = 0;

        is_str(e, encoded, "encode \"%s\"", plain);
        is_int(base64_decode(encoded, strlen(encoded), out, sizeof out, &n), 0, "decode %s", encoded);
        ok(n == strlen(plain) && memcmp(out, plain, n) == 0, "decode %s gives \"%s\"", encoded, plain);
}

static void bad(const char *text, int error, const char *why) {
        char out[8];
        size_t n = 12345;

        is_int(base64_decode(text, strlen(text), out, sizeof out, &n), error, "%s", why);
        is_int((int) n, 12345, "%s: nothing returned", why);
}

int main(void) {
        /* RFC 4648 §10 */
        roundtrip("f", "Zg==");
        roundtrip("fo", "Zm8=");
        roundtrip("foo", "Zm9v");
        roundtrip("foob", "Zm9vYg==");
        roundtrip("fooba", "Zm9vYmE=");
        roundtrip("foobar", "Zm9vYmFy");
        roundtrip("first-boot-agent/join/chainfire", "Zmlyc3QtYm9vdC1hZ2VudC9qb2luL2NoYWluZmlyZQ==");

        {
                _cleanup_free_ char *e = base64_encode("", 0);
                is_str(e, "", "empty input, empty text");
        }
        {
                static const unsigned char bin[] = { 0xff, 0xfe, 0x00, 0x80, 0x3f };
                _cleanup_free_ char *e = base64_encode(bin, sizeof bin);
                unsigned char out[8];
                size_t n = 0;

                is_str(e, "//4AgD8=", "binary with a NUL byte");
                is_int(base64_decode(e, strlen(e), out, sizeof out, &n), 0, "binary back");
                ok(n == sizeof bin && memcmp(out, bin, n) == 0, "the same bytes");
        }
        {
                char out[8];
                size_t n = 0;

                is_int(base64_decode(" Zm9v\nYmFy\r\n", 12, out, sizeof out, &n), 0, "whitespace between characters");
                ok(n == 6 && memcmp(out, "foobar", 6) == 0, "whitespace ignored");
                is_int(base64_decode("Zm9vYmFy", 8, out, 5, &n), -ENOBUFS, "does not fit");
                is_int(base64_decode("Zm9vYg==", 8, out, 3, &n), -ENOBUFS, "the padded tail does not fit");
        }

        bad("", -EINVAL, "empty text");
        bad("   ", -EINVAL, "only whitespace");
        bad("Zm9", -EINVAL, "length not a multiple of 4");
        bad("Zm9v!A==", -EINVAL, "a character outside the alphabet");
        bad("Z===", -EINVAL, "three padding characters");
        bad("Zg==Zg==", -EINVAL, "data after the padding");
        bad("Zg=a", -EINVAL, "a character after '='");
        bad("====", -EINVAL, "padding alone");
        bad("Zm9v-_==", -EINVAL, "the URL-safe alphabet is not this one");
        return tap_done();
}
