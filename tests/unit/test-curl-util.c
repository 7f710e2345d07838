/* SPDX-License-Identifier: MIT */
#include <curl/curl.h>
#include <errno.h>

#include "curl-util.h"
#include "tap.h"

/* The one curl→errno table and the one set of errors worth retrying. */

static void test_errno_table(void) {
        is_int(curl_util_errno(CURLE_OK, 0), 0, "CURLE_OK → 0");
        is_int(curl_util_errno(CURLE_COULDNT_CONNECT, 0), -ECONNREFUSED, "COULDNT_CONNECT → ECONNREFUSED");
        is_int(curl_util_errno(CURLE_COULDNT_CONNECT, ECONNREFUSED), -ECONNREFUSED, "COULDNT_CONNECT/ECONNREFUSED");
        is_int(curl_util_errno(CURLE_COULDNT_CONNECT, ENETUNREACH), -ENETUNREACH, "COULDNT_CONNECT keeps ENETUNREACH");
        is_int(curl_util_errno(CURLE_OPERATION_TIMEDOUT, 0), -ETIMEDOUT, "OPERATION_TIMEDOUT → ETIMEDOUT");
        is_int(curl_util_errno(CURLE_PEER_FAILED_VERIFICATION, 0), -EKEYREJECTED, "PEER_FAILED_VERIFICATION → EKEYREJECTED");
        is_int(curl_util_errno(CURLE_SSL_CACERT, 0), -EKEYREJECTED, "SSL_CACERT → EKEYREJECTED");
        is_int(curl_util_errno(CURLE_SSL_CONNECT_ERROR, 0), -EPROTO, "SSL_CONNECT_ERROR → EPROTO");
        is_int(curl_util_errno(CURLE_COULDNT_RESOLVE_HOST, 0), -EHOSTUNREACH, "COULDNT_RESOLVE_HOST → EHOSTUNREACH");
        is_int(curl_util_errno(CURLE_SSL_CACERT_BADFILE, 0), -ENOENT, "SSL_CACERT_BADFILE → ENOENT");
        is_int(curl_util_errno(CURLE_SSL_CERTPROBLEM, 0), -ENOENT, "SSL_CERTPROBLEM → ENOENT");
        is_int(curl_util_errno(CURLE_URL_MALFORMAT, 0), -EINVAL, "URL_MALFORMAT → EINVAL");
        is_int(curl_util_errno(CURLE_UNSUPPORTED_PROTOCOL, 0), -EINVAL, "UNSUPPORTED_PROTOCOL → EINVAL");
        is_int(curl_util_errno(CURLE_RECV_ERROR, ECONNRESET), -ECONNRESET, "RECV_ERROR with ECONNRESET");
        is_int(curl_util_errno(CURLE_RECV_ERROR, 0), -EPROTO, "RECV_ERROR without errno (TLS alert) → EPROTO");
        is_int(curl_util_errno(CURLE_GOT_NOTHING, 0), -EPROTO, "GOT_NOTHING → EPROTO");
        is_int(curl_util_errno(CURLE_OUT_OF_MEMORY, 0), -ENOMEM, "OUT_OF_MEMORY → ENOMEM");
        is_int(curl_util_errno(CURLE_TOO_MANY_REDIRECTS, 0), -EIO, "anything else → EIO");

        ok(curl_util_error_is_transient(-ECONNREFUSED), "ECONNREFUSED is transient");
        ok(curl_util_error_is_transient(-ETIMEDOUT), "ETIMEDOUT is transient");
        ok(curl_util_error_is_transient(-EHOSTUNREACH), "EHOSTUNREACH is transient");
        ok(curl_util_error_is_transient(-ECONNRESET), "ECONNRESET is transient");
        ok(!curl_util_error_is_transient(-EKEYREJECTED), "EKEYREJECTED is not transient");
        ok(!curl_util_error_is_transient(-ENOENT), "ENOENT is not transient");
        ok(!curl_util_error_is_transient(-EINVAL), "EINVAL is not transient");
        ok(!curl_util_error_is_transient(-EFBIG), "EFBIG is not transient");
        ok(curl_util_error_is_transient(-EPROTO), "EPROTO (a broken handshake or answer) is transient");
        ok(curl_util_error_is_transient(-EREMOTEIO), "EREMOTEIO (a 5xx) is transient");
        ok(!curl_util_error_is_transient(-EBADE), "EBADE (refused, 4xx) is not transient");
        ok(!curl_util_error_is_transient(-EBADMSG), "EBADMSG (an answer not understood) is not transient");
        ok(!curl_util_error_is_transient(-EIO), "EIO (an unknown failure) is not transient");
}

static void test_setup(void) {
        CURL *h;
        char errbuf[CURL_ERROR_SIZE];

        is_int(curl_util_global_init(), 0, "global init");
        is_int(curl_util_global_init(), 0, "global init again is harmless");
        h = curl_easy_init();
        ok(h != NULL, "a handle");
        is_int(curl_util_setup(h, errbuf, 1000), 0, "common options");
        is_int(curl_util_set_tls(h, &(TlsOptions) { .ca_file = "/etc/ssl/certs/ca-certificates.crt" }), 0,
               "TLS options");
        is_int(curl_util_set_tls(h, NULL), 0, "no TLS options");
        curl_easy_cleanup(h);
}

int main(void) {
        test_errno_table();
        test_setup();
        return tap_done();
}
