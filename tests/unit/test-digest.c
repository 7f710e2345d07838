/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "digest.h"
#include "tap.h"

int main(void) {
        uint8_t d[DIGEST_SHA256_SIZE], e[DIGEST_SHA256_SIZE];
        char hex[DIGEST_SHA256_HEX_SIZE];
        Digest *x = NULL;

        ok(digest_sha256("abc", 3, d) == 0, "one-shot");
        is_str(digest_to_hex(d, sizeof d, hex),
               "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "SHA-256(abc)");
        ok(digest_new(&x) == 0, "new");
        ok(digest_update(x, "a", 1) == 0 && digest_update(x, "", 0) == 0 && digest_update(x, "bc", 2) == 0,
           "updates");
        ok(digest_final(x, e) == 0 && memcmp(d, e, sizeof d) == 0, "streamed equals one-shot");
        is_int(digest_update(x, "x", 1), -ESTALE, "no update after final");
        digest_free(x);
        ok(digest_sha256("", 0, d) == 0, "empty input");
        is_str(digest_to_hex(d, sizeof d, hex),
               "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "SHA-256 of nothing");
        return tap_done();
}
