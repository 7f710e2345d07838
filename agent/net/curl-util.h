/* SPDX-License-Identifier: MIT */
#pragma once

#include <errno.h>
#include <stdbool.h>

#include <curl/curl.h>

#include "macro.h"

/* The one place that knows libcurl's global state and its error codes. Both HTTP clients (the
 * request client and the streaming download) go through here, so curl is initialised once, a
 * CURLcode always means the same errno, and "worth retrying" is one set. Never logs. */

/* Where trust comes from for an https:// request. */
typedef struct TlsOptions {
        const char *ca_file;            /* NULL: the system's trust store */
        const char *ca_pem;             /* or the CA bundle itself, PEM text (NUL-terminated);
                                         * wins over ca_file */
        const char *cert_file;          /* client certificate for mTLS, or NULL */
        const char *key_file;
        bool insecure;                  /* skip peer and host verification */
} TlsOptions;

/* curl_easy_setopt() or return -EOPNOTSUPP from the calling function. */
#define CURL_SET(h, opt, val)                                           \
        do {                                                            \
                if (curl_easy_setopt((h), (opt), (val)) != CURLE_OK)    \
                        return -EOPNOTSUPP;                             \
        } while (0)

/* curl_global_init(), once per process, thread-safe. 0 or -ENOMEM. */
int curl_util_global_init(void);

/* The errno for a CURLcode, given the socket errno curl saw (CURLINFO_OS_ERRNO, or 0):
 * -ECONNREFUSED, -EHOSTUNREACH (no name), -ENETUNREACH… (kept from the socket), -ETIMEDOUT,
 * -EKEYREJECTED (peer certificate not trusted), -ENOENT (CA, certificate or key file
 * unusable), -EPROTO (TLS handshake, a broken or odd answer), -ECONNRESET, -EINVAL (bad URL),
 * -ECANCELED (a callback stopped it), -EFBIG, -ENOMEM, -EOPNOTSUPP, else -EIO. */
int curl_util_errno(CURLcode code, long os_errno);

/* True for errors worth retrying, against the same server or another: the network ones,
 * -EPROTO (a handshake or answer broken in transit) and -EREMOTEIO (the server failed, 5xx). */
bool curl_util_error_is_transient(int error);

/* What every handle of the agent sets: no signals, http and https only (redirects included),
 * the error buffer, the user agent, the connect timeout (0: curl's default). */
/* The user agent names the node once its configuration is known ("first-boot-agent/0.1.0
 * (node04)"), so a leader's access log says which node asked. node_id NULL: the agent alone. */
void curl_util_set_node(const char *node_id);
int curl_util_setup(CURL *h, char *errbuf, long connect_timeout_ms);

/* Verification (or, when asked, none), the CA file and the client certificate. */
int curl_util_set_tls(CURL *h, const TlsOptions *tls);

DEFINE_TRIVIAL_CLEANUP_FUNC(CURL *, curl_easy_cleanup);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct curl_slist *, curl_slist_free_all);
