/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "time-util.h"

/* Streams one HTTP(S) resource to a sink, in order, each byte exactly once. A broken transfer
 * is resumed where it stopped with a Range request (with If-Range, so a file replaced on the
 * server is noticed), after a backoff; a server that ignores Range gets its first bytes skipped.
 * From an https URL only https redirects are followed. It never logs: retries are announced
 * through a callback, errors come back as negative errno with curl's text in
 * DownloadStats.error. */

typedef struct DownloadOptions {
        const char *ca_file;            /* NULL: the system's trust store */
        bool insecure;                  /* no peer or host verification */
        long connect_timeout_ms;
        long stall_timeout_s;           /* abort (and resume) an attempt that received nothing this
                                         * long; checked about once a second */
        unsigned retries;               /* failed attempts in a row before giving up */
        usec_t backoff_initial;
        usec_t backoff_max;
        atomic_bool *cancel;            /* set from another thread: stop soon with -ECANCELED */
} DownloadOptions;

typedef struct DownloadStats {
        uint64_t received;              /* bytes handed to the sink */
        uint64_t total;                 /* size of the resource, 0 while unknown */
        unsigned requests;              /* HTTP requests made */
        unsigned range_requests;        /* of which with a Range header */
        unsigned resumes;               /* retries after a transfer broke */
        long http_status;               /* of the last answer */
        char error[256];                /* text of the last failure */
} DownloadStats;

/* Receives the bytes; a negative return stops the download with that error (no retry). */
typedef int (*DownloadSinkFn)(const void *data, size_t size, void *userdata);
/* Told before each retry: the failure, the offset to resume at and the delay. */
typedef void (*DownloadRetryFn)(unsigned attempt, int error, const char *text, uint64_t offset,
                                usec_t delay, void *userdata);

/* Returns 0 once the whole resource went to the sink. -ENOENT (404), -EACCES (401, 403),
 * -EBADE (other 4xx), -EBADMSG (an answer that does not fit the request: a wrong
 * Content-Range), -EKEYREJECTED (TLS peer not trusted), -ESTALE (the resource changed between
 * requests), -EPERM (a redirect from https to another scheme, refused), -ECANCELED, the
 * sink's error, or the last transient error (-ECONNREFUSED, -ECONNRESET, -ETIMEDOUT also for a
 * stall, -EREMOTEIO for 5xx) once the retries ran out. Transient means
 * curl_util_error_is_transient(). */
int download_stream(const char *url, const DownloadOptions *o, DownloadSinkFn sink,
                    DownloadRetryFn on_retry, void *userdata, DownloadStats *stats);

/* The whole resource in memory, at most max_size bytes (-EFBIG beyond). */
int download_to_memory(const char *url, const DownloadOptions *o, size_t max_size,
                       void **ret_data, size_t *ret_size, DownloadStats *stats);
