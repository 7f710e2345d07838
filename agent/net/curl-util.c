/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "curl-util.h"
#include "secret.h"

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_result = CURLE_FAILED_INIT;

/* libcurl's memory is wiped when freed (secret.h): its request buffers hold passwords and bearer
 * tokens (a POST body is copied into the request, a header list into curl's own strings), its
 * receive buffer issued tokens. */
static void global_init(void) {
        global_result = curl_global_init_mem(CURL_GLOBAL_DEFAULT, malloc, free_wiped, realloc_wiped, strdup, calloc);
}

int curl_util_global_init(void) {
        (void) pthread_once(&global_once, global_init);
        return global_result == CURLE_OK ? 0 : -ENOMEM;
}

static bool is_net_errno(long e) {
        switch (e) {
        case EHOSTUNREACH:
        case ENETUNREACH:
        case ENETDOWN:
        case EHOSTDOWN:
        case ECONNRESET:
        case ECONNABORTED:
        case ETIMEDOUT:
        case ECONNREFUSED:
                return true;
        default:
                return false;
        }
}

int curl_util_errno(CURLcode code, long os_errno) {
        switch (code) {
        case CURLE_OK:
                return 0;
        case CURLE_UNSUPPORTED_PROTOCOL:
        case CURLE_URL_MALFORMAT:
        case CURLE_BAD_FUNCTION_ARGUMENT:
                return -EINVAL;
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
                return -EHOSTUNREACH;
        case CURLE_COULDNT_CONNECT:
                /* curl says "couldn't connect" for every connect() failure; keep the real reason
                 * when it is a different one (no route, network down). */
                if (is_net_errno(os_errno))
                        return (int) -os_errno;
                return -ECONNREFUSED;
        case CURLE_OPERATION_TIMEDOUT:
                return -ETIMEDOUT;
        case CURLE_PEER_FAILED_VERIFICATION:    /* also CURLE_SSL_CACERT since 7.62 */
        case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        case CURLE_SSL_INVALIDCERTSTATUS:
        case CURLE_SSL_ISSUER_ERROR:
                return -EKEYREJECTED;
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CRL_BADFILE:
                return -ENOENT;
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_SSL_CIPHER:
        case CURLE_SSL_ENGINE_NOTFOUND:
        case CURLE_SSL_ENGINE_SETFAILED:
        case CURLE_SSL_ENGINE_INITFAILED:
        case CURLE_SSL_SHUTDOWN_FAILED:
        case CURLE_USE_SSL_FAILED:
        case CURLE_WEIRD_SERVER_REPLY:
        case CURLE_GOT_NOTHING:
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM:
        case CURLE_BAD_CONTENT_ENCODING:
        case CURLE_RANGE_ERROR:
                return -EPROTO;
        case CURLE_PARTIAL_FILE:
                return -ECONNRESET;
        case CURLE_SEND_ERROR:
        case CURLE_RECV_ERROR:
                /* A reset connection carries the socket's errno; a TLS alert (a server that wants
                 * a client certificate, for one) carries none. */
                if (is_net_errno(os_errno) || os_errno == EPIPE)
                        return (int) -os_errno;
                return -EPROTO;
        case CURLE_OUT_OF_MEMORY:
                return -ENOMEM;
        case CURLE_ABORTED_BY_CALLBACK:
                return -ECANCELED;
        case CURLE_FILESIZE_EXCEEDED:
                return -EFBIG;
        case CURLE_NOT_BUILT_IN:
        case CURLE_UNKNOWN_OPTION:
        case CURLE_FUNCTION_NOT_FOUND:
                return -EOPNOTSUPP;
        default:
                return -EIO;
        }
}

bool curl_util_error_is_transient(int error) {
        switch (error < 0 ? -error : error) {
        case ECONNREFUSED:
        case ECONNRESET:
        case ECONNABORTED:
        case EHOSTUNREACH:
        case ENETUNREACH:
        case ENETDOWN:
        case EHOSTDOWN:
        case ETIMEDOUT:
        case EPIPE:
        case EPROTO:
        case EREMOTEIO:
                return true;
        default:
                return false;
        }
}

static char user_agent[128] = "first-boot-agent/" PACKAGE_VERSION;

void curl_util_set_node(const char *node_id) {
        if (node_id && *node_id)
                (void) snprintf(user_agent, sizeof user_agent, "first-boot-agent/" PACKAGE_VERSION " (%s)", node_id);
        else
                (void) snprintf(user_agent, sizeof user_agent, "first-boot-agent/" PACKAGE_VERSION);
}

int curl_util_setup(CURL *h, char *errbuf, long connect_timeout_ms) {
        CURL_SET(h, CURLOPT_NOSIGNAL, 1L);
        if (errbuf)
                CURL_SET(h, CURLOPT_ERRORBUFFER, errbuf);
#if LIBCURL_VERSION_NUM >= 0x075500
        CURL_SET(h, CURLOPT_PROTOCOLS_STR, "http,https");
        CURL_SET(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
        CURL_SET(h, CURLOPT_PROTOCOLS, (long) (CURLPROTO_HTTP | CURLPROTO_HTTPS));
        CURL_SET(h, CURLOPT_REDIR_PROTOCOLS, (long) (CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
        CURL_SET(h, CURLOPT_USERAGENT, user_agent);
        if (connect_timeout_ms > 0)
                CURL_SET(h, CURLOPT_CONNECTTIMEOUT_MS, connect_timeout_ms);
        return 0;
}

int curl_util_set_tls(CURL *h, const TlsOptions *tls) {
        if (!tls)
                return 0;
        /* A CA file and no CA directory: libcurl then keeps the parsed store for the handle's
         * later connections (CURLOPT_CA_CACHE_TIMEOUT) instead of parsing the file again for every
         * handshake (≈ 55 ms of CPU for a bundle of 150). A directory (Debian's libcurl defaults
         * to /etc/ssl/certs besides its bundle) rules the cache out, so it is dropped whenever a
         * bundle file is there to verify against: ours, or libcurl's default. */
        if (tls->ca_pem) {
                struct curl_blob blob = {
                        .data = (void *) tls->ca_pem,
                        .len = strlen(tls->ca_pem),
                        .flags = CURL_BLOB_COPY,
                };

                CURL_SET(h, CURLOPT_CAINFO_BLOB, &blob);
                CURL_SET(h, CURLOPT_CAPATH, NULL);
        } else if (tls->ca_file) {
                CURL_SET(h, CURLOPT_CAINFO, tls->ca_file);
                CURL_SET(h, CURLOPT_CAPATH, NULL);
        } else if (!tls->insecure) {
                char *bundle = NULL;


                if (curl_easy_getinfo(h, CURLINFO_CAINFO, &bundle) == CURLE_OK && bundle && access(bundle, R_OK) >= 0)
                        CURL_SET(h, CURLOPT_CAPATH, NULL);
        }
        if (tls->cert_file)
                CURL_SET(h, CURLOPT_SSLCERT, tls->cert_file);
        if (tls->key_file)
                CURL_SET(h, CURLOPT_SSLKEY, tls->key_file);
        CURL_SET(h, CURLOPT_SSL_VERIFYPEER, tls->insecure ? 0L : 1L);
        CURL_SET(h, CURLOPT_SSL_VERIFYHOST, tls->insecure ? 0L : 2L);
        return 0;
}
