/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "http.h"

/* Asking the provisioning server who this machine is. Never logs.
 *
 * The query form (a URL without placeholder): one request carrying every identifier, as
 * Matchbox takes them, for a server that matches groups:
 *   GET URL?mac=52:54:00:12:34:56&mac=…&uuid=…&serial=…&disk_serial=…
 *   200: the node's configuration (a JSON object); 404: unknown machine; 409: the identifiers
 *   match more than one group.
 * The path form (a URL with {mac}, {uuid} or {serial}): one request per value, e.g.
 * GET https://prov/nodes/52-54-00-12-34-56.json for each MAC; what a static web server keyed by
 * MAC serves. 404 on all: unknown; two different answers: ambiguous.
 * With a signature asked for, the detached signature is fetched from the answering URL with
 * ".sig" added to its path (before the query): URL.sig?mac=… or …/52-54-00-12-34-56.json.sig. */

typedef enum LookupKey {
        LOOKUP_KEY_QUERY,               /* every identifier in one query */
        LOOKUP_KEY_MAC,                 /* {mac} */
        LOOKUP_KEY_UUID,                /* {uuid} */
        LOOKUP_KEY_SERIAL,              /* {serial} */
} LookupKey;

typedef struct LookupQuery {
        char *const *macs;              /* "52:54:00:12:34:56", NULL-terminated, may be NULL */
        const char *uuid;               /* SMBIOS system UUID, or NULL */
        const char *serial;             /* SMBIOS system serial, or NULL */
        char *const *disk_serials;      /* may be NULL */
} LookupQuery;

typedef struct LookupResult {
        char *url;                      /* the URL that answered (or failed) */
        char *matched;                  /* "mac 52:54:00:12:34:56", "uuid …", "serial …", or
                                         * "mac, uuid, serial and disk serials" for the query */
        long status;                    /* its HTTP status, 0 when none */
        char error[512];                /* why it failed: the server's reason, curl's text */
        char *body;                     /* the answer, NUL-terminated */
        size_t body_size;
        char *signature;                /* the detached signature, when asked for */
        size_t signature_size;
        unsigned requests;              /* how many requests were made */
} LookupResult;

/* The URLs lookup_node() asks, in order, each with its label (both NULL-terminated lists of
 * the same length, possibly empty: {uuid} on a machine without one). 0 or -ENOMEM. */
int lookup_urls(const char *url, LookupKey key, const LookupQuery *q, char ***ret_urls,
                char ***ret_labels);

/* Asks. Answers larger than max_size bytes are refused. Returns 0 with the answer in ret, or:
 * -ENXIO every request answered 404 (unknown machine); -ENOTUNIQ 409, or two identifiers
 * answered differently; -EFBIG an answer over max_size; -EBADE another 4xx, a redirect, or a
 * missing signature (404 on .sig); -EREMOTEIO 5xx; -ENODATA nothing to ask by (no value for the
 * placeholder); else the transport's errno (curl_util_errno()). ret is filled in either case
 * and must be released with lookup_result_done(). */
int lookup_node(HttpClient *http, const char *url, LookupKey key, const LookupQuery *q,
                size_t max_size, bool want_signature, LookupResult *ret);
void lookup_result_done(LookupResult *r);

/* url with ".sig" added to its path: a new string, NULL on OOM. */
char *lookup_signature_url(const char *url);
