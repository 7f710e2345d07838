/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "cleanup.h"
#include "curl-util.h"

/* A thin libcurl wrapper for the admin APIs: one request, the whole answer in memory.
 * It never logs; failures come back as negative errno with curl's text in HttpResponse.error. */

typedef struct HttpClient HttpClient;

int http_client_new(const TlsOptions *tls, long connect_timeout_ms, long timeout_ms,
                    HttpClient **ret);
HttpClient *http_client_free(HttpClient *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(HttpClient *, http_client_free);
bool http_client_is_insecure(const HttpClient *c);

typedef struct HttpRequest {
        const char *method;             /* "GET", "POST", "DELETE" */
        const char *url;
        const char *body;               /* NULL for none; sent as application/json */
        const char *bearer_token;       /* Authorization: Bearer …, or NULL */
        const char *token_header;       /* send bearer_token as "NAME: TOKEN" instead
                                         * ("X-Consul-Token"), or NULL */
        const char *connect_to;         /* connect to this host (same port) instead of the URL's;
                                         * the URL's host stays the name the server's certificate
                                         * must carry. NULL: the URL's host */
        long timeout_ms;                /* 0: the client's default */
        size_t max_body;                /* 0: 4 MiB; a longer answer gives -EFBIG */
} HttpRequest;

typedef struct HttpResponse {
        long status;                    /* 0 when no HTTP answer came */
        char *body;                     /* NUL-terminated, possibly empty */
        size_t body_size;
        char error[256];                /* transport error text, empty on success */
        unsigned elapsed_ms;
        unsigned retry_after_s;         /* the answer's Retry-After, 0 when none */
        char *redirect;                 /* where a 3xx answer points (absolute URL), or NULL */
} HttpResponse;

/* Returns 0 when an HTTP answer arrived (whatever its status), or a negative errno as
 * curl_util_errno() gives it (-ECONNREFUSED, -ETIMEDOUT, -EKEYREJECTED, -EPROTO, …), or -EFBIG
 * for an answer over 4 MiB.
 * resp must be zero-initialised or hold an earlier answer (released first); it is filled in
 * either case and must be released with http_response_done(), which leaves it zeroed. */
int http_perform(HttpClient *c, const HttpRequest *req, HttpResponse *resp);
void http_response_done(HttpResponse *resp);

/* A short human text for the server's error: the "error" or "message" member of a JSON body,
 * else the first line of the body, truncated. Never NULL. Written into buf. */
const char *http_response_reason(const HttpResponse *resp, char *buf, size_t size);
