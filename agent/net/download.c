/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "backoff.h"
#include "cleanup.h"
#include "curl-util.h"
#include "download.h"

/* The largest receive buffer curl accepts: fewer, bigger calls into the sink. */
#define DOWNLOAD_BUFFER_SIZE (512L * 1024L)

typedef struct Transfer {
        CURL *curl;
        const DownloadOptions *opts;
        DownloadSinkFn sink;
        void *userdata;
        DownloadStats *stats;

        uint64_t offset;                /* where this attempt's body starts in the resource */
        uint64_t skip;                  /* bytes of this body to drop (server ignored Range) */
        long status;                    /* of this attempt's final answer */
        bool range_ok;                  /* Content-Range matched what was asked */
        bool range_seen;
        uint64_t range_start, range_total;
        char etag[256];                 /* of this attempt */
        char first_etag[256];           /* of the first answer */
        char last_modified[64];
        bool body_started;
        int sink_error;
        bool https;                     /* the URL asked for: only https redirects are followed */
        long answer_status;             /* of the answer whose headers are arriving */
        char refused_location[256];     /* a redirect refused (https to http) */
        curl_off_t last_now;            /* bytes of this attempt at the last progress call */
        usec_t last_progress;           /* when they last grew */
        bool stalled;
        char errbuf[CURL_ERROR_SIZE];
} Transfer;

static void copy_header_value(const char *v, size_t n, char *buf, size_t size) {
        while (n > 0 && isspace((unsigned char) *v)) {
                v++;
                n--;
        }
        while (n > 0 && isspace((unsigned char) v[n - 1]))
                n--;
        if (n >= size)
                n = size - 1;
        memcpy(buf, v, n);
        buf[n] = '\0';
}

static size_t header_cb(char *data, size_t size, size_t nitems, void *userdata) {
        Transfer *t = userdata;
        size_t n = size * nitems;
        char value[256];

        if (n >= 5 && strneq(data, "HTTP/", 5)) {
                const char *sp = memchr(data, ' ', n);

                /* A new answer (after a redirect or "100 Continue"): forget the last one's. */
                t->answer_status = sp && (size_t) (sp - data) + 4 <= n &&
                                   isdigit((unsigned char) sp[1]) && isdigit((unsigned char) sp[2]) &&
                                   isdigit((unsigned char) sp[3])
                                   ? (sp[1] - '0') * 100 + (sp[2] - '0') * 10 + (sp[3] - '0') : 0;
                t->range_seen = false;
                t->etag[0] = '\0';
                t->last_modified[0] = '\0';
                return n;
        }
        if (n > 14 && strncasecmp(data, "Content-Range:", 14) == 0) {
                unsigned long long a, b, total;

                copy_header_value(data + 14, n - 14, value, sizeof value);
                if (sscanf(value, "bytes %llu-%llu/%llu", &a, &b, &total) == 3) {
                        t->range_seen = true;
                        t->range_start = a;
                        t->range_total = total;
                }
        } else if (n > 9 && strncasecmp(data, "Location:", 9) == 0 && t->https &&
                   t->answer_status >= 300 && t->answer_status < 400) {
                copy_header_value(data + 9, n - 9, value, sizeof value);
                /* From https, an absolute URL with any other scheme is refused (relative ones
                 * keep the scheme). curl's protocol list refuses it too; this names it. */
                if (strncasecmp(value, "https://", 8) != 0 && strstr(value, "://")) {
                        snprintf(t->refused_location, sizeof t->refused_location, "%s", value);
                        return 0;
                }
        } else if (n > 5 && strncasecmp(data, "ETag:", 5) == 0)
                copy_header_value(data + 5, n - 5, t->etag, sizeof t->etag);
        else if (n > 14 && strncasecmp(data, "Last-Modified:", 14) == 0)
                copy_header_value(data + 14, n - 14, t->last_modified, sizeof t->last_modified);
        return n;
}

/* Checks the answer once, when its first body bytes arrive. */
static int body_start(Transfer *t, CURL *curl) {
        curl_off_t length = -1;
        long status = 0;

        (void) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
        (void) curl_easy_getinfo(curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length);
        t->status = status;

        if (t->first_etag[0] && t->etag[0] && !streq(t->first_etag, t->etag))
                return -ESTALE;
        if (!t->first_etag[0] && t->etag[0])
                memcpy(t->first_etag, t->etag, sizeof t->etag);

        if (status == 206) {
                if (!t->range_seen || t->range_start != t->offset)
                        return -EBADMSG;
                if (t->stats->total == 0)
                        t->stats->total = t->range_total;
                else if (t->range_total != t->stats->total)
                        return -ESTALE;
        } else if (status == 200) {
                /* Whole resource again: drop what the sink already has. */
                t->skip = t->offset;
                if (length >= 0) {
                        if (t->stats->total != 0 && (uint64_t) length != t->stats->total)
                                return -ESTALE;
                        t->stats->total = (uint64_t) length;
                }
        } else
                return -EBADMSG;
        t->body_started = true;
        return 0;
}

static size_t write_cb(char *data, size_t size, size_t nmemb, void *userdata) {
        Transfer *t = userdata;
        size_t n = size * nmemb, skip;
        int r;

        if (!t->body_started) {
                r = body_start(t, t->curl);
                if (r < 0) {
                        t->sink_error = r;
                        return 0;
                }
        }
        skip = (size_t) MIN((uint64_t) n, t->skip);
        t->skip -= skip;
        if (skip == n)
                return n;
        r = t->sink(data + skip, n - skip, t->userdata);
        if (r < 0) {
                t->sink_error = r;
                return 0;
        }
        t->stats->received += n - skip;
        return n;
}

/* Called by curl while the transfer runs, at least about once a second when nothing moves:
 * cancellation, and the stall timeout (curl's own low-speed check averages over its window
 * and acted after about twice the time configured). */
static int progress_cb(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow) {
        Transfer *t = userdata;
        usec_t now;

        if (t->opts->cancel && atomic_load(t->opts->cancel))
                return 1;
        if (t->opts->stall_timeout_s <= 0)
                return 0;
        now = now_monotonic();
        if (dlnow != t->last_now) {
                t->last_now = dlnow;
                t->last_progress = now;
        } else if (now - t->last_progress >= (usec_t) t->opts->stall_timeout_s * USEC_PER_SEC) {
                t->stalled = true;
                return 1;
        }
        return 0;
}

/* The errno for a failed transfer: HTTP errors by their status, the rest as curl_util maps them. */
static int transfer_errno(CURLcode c, long status, long os_errno) {
        if (c != CURLE_HTTP_RETURNED_ERROR)
                return curl_util_errno(c, os_errno);
        if (status == 404 || status == 410)
                return -ENOENT;
        if (status == 401 || status == 403)
                return -EACCES;
        if (status >= 500 || status == 408 || status == 429)
                return -EREMOTEIO;
        return -EBADE;
}

static int setup(CURL *curl, const char *url, Transfer *t) {
        const DownloadOptions *o = t->opts;
        int r;

        r = curl_util_setup(curl, t->errbuf, o->connect_timeout_ms);
        if (r < 0)
                return r;
        CURL_SET(curl, CURLOPT_URL, url);
        CURL_SET(curl, CURLOPT_FOLLOWLOCATION, 1L);
        CURL_SET(curl, CURLOPT_MAXREDIRS, 5L);
        CURL_SET(curl, CURLOPT_FAILONERROR, 1L);
        CURL_SET(curl, CURLOPT_BUFFERSIZE, DOWNLOAD_BUFFER_SIZE);
        CURL_SET(curl, CURLOPT_WRITEFUNCTION, write_cb);
        CURL_SET(curl, CURLOPT_WRITEDATA, t);
        CURL_SET(curl, CURLOPT_HEADERFUNCTION, header_cb);
        CURL_SET(curl, CURLOPT_HEADERDATA, t);
        CURL_SET(curl, CURLOPT_XFERINFOFUNCTION, progress_cb);
        CURL_SET(curl, CURLOPT_XFERINFODATA, t);
        CURL_SET(curl, CURLOPT_NOPROGRESS, 0L);
        if (t->https)
#if LIBCURL_VERSION_NUM >= 0x075500
                CURL_SET(curl, CURLOPT_REDIR_PROTOCOLS_STR, "https");
#else
                CURL_SET(curl, CURLOPT_REDIR_PROTOCOLS, (long) CURLPROTO_HTTPS);
#endif
        return curl_util_set_tls(curl, &(TlsOptions) { .ca_file = o->ca_file, .insecure = o->insecure });
}

/* One request from t->offset on. */
static int attempt(CURL *curl, Transfer *t) {
        _cleanup_(curl_slist_free_allp) struct curl_slist *headers = NULL;
        char range[64];
        CURLcode c;
        long status = 0, os_errno = 0;

        t->errbuf[0] = '\0';
        t->body_started = false;
        t->skip = 0;
        t->range_seen = false;
        t->sink_error = 0;
        t->status = 0;
        t->refused_location[0] = '\0';
        t->stalled = false;
        t->last_now = 0;
        t->last_progress = now_monotonic();

        if (t->offset > 0) {
                const char *validator = t->first_etag[0] && t->first_etag[0] != 'W' ? t->first_etag
                                        : t->last_modified[0] ? t->last_modified : NULL;

                snprintf(range, sizeof range, "%" PRIu64 "-", t->offset);
                if (curl_easy_setopt(curl, CURLOPT_RANGE, range) != CURLE_OK)
                        return -EINVAL;
                if (validator) {
                        _cleanup_free_ char *h = NULL;
                        struct curl_slist *l;

                        if (asprintf(&h, "If-Range: %s", validator) < 0)
                                return -ENOMEM;
                        l = curl_slist_append(headers, h);
                        if (!l)
                                return -ENOMEM;
                        headers = l;
                }
                t->stats->range_requests++;
        } else if (curl_easy_setopt(curl, CURLOPT_RANGE, NULL) != CURLE_OK)
                return -EINVAL;
        if (curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers) != CURLE_OK)
                return -EINVAL;

        t->stats->requests++;
        c = curl_easy_perform(curl);
        (void) curl_easy_setopt(curl, CURLOPT_HTTPHEADER, NULL);
        (void) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
        (void) curl_easy_getinfo(curl, CURLINFO_OS_ERRNO, &os_errno);
        t->stats->http_status = status;

        if (t->refused_location[0]) {
                snprintf(t->stats->error, sizeof t->stats->error,
                         "the server redirected to '%s': a download from an https URL follows only https "
                         "redirects (publish the file over https, or give its final URL)", t->refused_location);
                return -EPERM;
        }
        if (t->stalled) {
                snprintf(t->stats->error, sizeof t->stats->error,
                         "no data arrived for %ld s (stall_timeout_s)", t->opts->stall_timeout_s);
                return -ETIMEDOUT;
        }
        if (t->sink_error < 0) {
                if (t->sink_error == -ESTALE)
                        snprintf(t->stats->error, sizeof t->stats->error,
                                 "the file changed on the server during the download");
                else if (t->sink_error == -EBADMSG)
                        snprintf(t->stats->error, sizeof t->stats->error,
                                 "the server answered HTTP %ld%s", status,
                                 status == 206 ? " with a range other than the one asked for" : "");
                else
                        t->stats->error[0] = '\0';
                return t->sink_error;
        }
        if (c != CURLE_OK) {
                if (c == CURLE_HTTP_RETURNED_ERROR)
                        snprintf(t->stats->error, sizeof t->stats->error, "HTTP %ld", status);
                else
                        snprintf(t->stats->error, sizeof t->stats->error, "%s",
                                 t->errbuf[0] ? t->errbuf : curl_easy_strerror(c));
                return transfer_errno(c, status, os_errno);
        }
        if (!t->body_started) {
                /* An empty body: only a valid answer for an empty file. */
                if (status != 200 && !(status == 206 && t->offset > 0)) {
                        snprintf(t->stats->error, sizeof t->stats->error, "the server answered HTTP %ld", status);
                        return -EBADMSG;
                }
        }
        if (t->stats->total > 0 && t->stats->received != t->stats->total) {
                snprintf(t->stats->error, sizeof t->stats->error,
                         "the transfer ended after %" PRIu64 " of %" PRIu64 " bytes",
                         t->stats->received, t->stats->total);
                return -ECONNRESET;
        }
        return 0;
}

static bool cancelled(const DownloadOptions *o) {
        return o->cancel && atomic_load(o->cancel);
}

/* Sleeps for delay, waking early when cancelled. */
static void wait_cancellable(const DownloadOptions *o, usec_t delay) {
        usec_t end = now_monotonic() + delay;

        while (!cancelled(o)) {
                usec_t n = now_monotonic();

                if (n >= end)
                        break;
                sleep_usec(MIN(end - n, 50 * USEC_PER_MSEC));
        }
}

int download_stream(const char *url, const DownloadOptions *o, DownloadSinkFn sink,
                    DownloadRetryFn on_retry, void *userdata, DownloadStats *stats) {
        _cleanup_(curl_easy_cleanupp) CURL *curl = NULL;
        Transfer t = { .opts = o, .sink = sink, .userdata = userdata, .stats = stats,
                       .https = strncasecmp(url, "https://", 8) == 0 };
        unsigned failures = 0;
        Backoff b;
        int r;

        *stats = (DownloadStats) {};
        r = curl_util_global_init();
        if (r < 0)
                return r;
        curl = curl_easy_init();
        if (!curl)
                return -ENOMEM;
        t.curl = curl;
        r = setup(curl, url, &t);
        if (r < 0)
                return r;
        backoff_init(&b, o->backoff_initial ?: 200 * USEC_PER_MSEC,
                     o->backoff_max ?: 10 * USEC_PER_SEC, now_monotonic() ^ (uintptr_t) stats);

        for (;;) {
                uint64_t before = stats->received;
                usec_t delay;

                t.offset = stats->received;
                r = attempt(curl, &t);
                if (r >= 0)
                        return 0;
                if (cancelled(o))
                        return -ECANCELED;
                if (!curl_util_error_is_transient(r))
                        return r;
                /* Progress made: the count of failures in a row starts again. */
                if (stats->received > before) {
                        failures = 0;
                        backoff_reset(&b);
                }
                if (failures >= o->retries)
                        return r;
                failures++;
                delay = backoff_next(&b);
                if (stats->received > 0)
                        stats->resumes++;
                if (on_retry)
                        on_retry(failures, r, stats->error, stats->received, delay, userdata);
                wait_cancellable(o, delay);
                if (cancelled(o))
                        return -ECANCELED;
        }
}

typedef struct MemorySink {
        uint8_t *data;
        size_t size, allocated, max;
} MemorySink;

static int memory_sink(const void *data, size_t size, void *userdata) {
        MemorySink *m = userdata;

        if (size > m->max - m->size)
                return -EFBIG;
        if (m->size + size > m->allocated) {
                size_t a = MAX(MAX(m->allocated * 2, m->size + size), (size_t) 65536);
                uint8_t *p;

                a = MIN(a, m->max);
                p = realloc(m->data, a);
                if (!p)
                        return -ENOMEM;
                m->data = p;
                m->allocated = a;
        }
        memcpy(m->data + m->size, data, size);
        m->size += size;
        return 0;
}

int download_to_memory(const char *url, const DownloadOptions *o, size_t max_size,
                       void **ret_data, size_t *ret_size, DownloadStats *stats) {
        MemorySink m = { .max = max_size };
        int r;

        r = download_stream(url, o, memory_sink, NULL, &m, stats);
        if (r < 0) {
                free(m.data);
                return r;
        }
        if (!m.data) {
                m.data = malloc(1);
                if (!m.data)
                        return -ENOMEM;
        }
        *ret_data = m.data;
        *ret_size = m.size;
        return 0;
}
