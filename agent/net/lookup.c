/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "lookup.h"
#include "string-util.h"
#include "strv.h"

#define SIGNATURE_MAX (64U * 1024U)

void lookup_result_done(LookupResult *r) {
        if (!r)
                return;
        free(r->url);
        free(r->matched);
        free(r->body);
        free(r->signature);
        *r = (LookupResult) {};
}

char *lookup_signature_url(const char *url) {
        size_t n = strcspn(url, "?#");
        char *s;

        if (asprintf(&s, "%.*s.sig%s", (int) n, url, url + n) < 0)
                return NULL;
        return s;
}

/* Appends "&name=value" (the first one with '?' or '&' as url needs). */
static int append_param(char **url, const char *name, const char *value, bool escape) {
        _cleanup_free_ char *e = escape ? url_escape(value) : strdup(value);
        char *n;

        if (!e)
                return -ENOMEM;
        if (asprintf(&n, "%s%c%s=%s", *url, strchr(*url, '?') ? '&' : '?', name, e) < 0)
                return -ENOMEM;
        free(*url);
        *url = n;
        return 0;
}

static int query_url(const char *base, const LookupQuery *q, char **ret) {
        _cleanup_free_ char *url = strdup(base);
        int r = 0;

        if (!url)
                return -ENOMEM;
        /* MACs keep their colons: they are allowed in a query and read better. */
        STRV_FOREACH(m, q->macs)
                if ((r = append_param(&url, "mac", *m, false)) < 0)
                        return r;
        if (q->uuid && (r = append_param(&url, "uuid", q->uuid, true)) < 0)
                return r;
        if (q->serial && (r = append_param(&url, "serial", q->serial, true)) < 0)
                return r;
        STRV_FOREACH(d, q->disk_serials)
                if ((r = append_param(&url, "disk_serial", *d, true)) < 0)
                        return r;
        *ret = TAKE_PTR(url);
        return 0;
}

/* url with every "{name}" replaced by value (escaped). */
static char *fill(const char *url, const char *name, const char *value) {
        _cleanup_free_ char *e = url_escape(value), *out = strdup("");
        const char *p = url, *hit;
        char pattern[16];

        if (!e || !out)
                return NULL;
        (void) snprintf(pattern, sizeof(pattern), "{%s}", name);
        while ((hit = strstr(p, pattern))) {
                char *n;

                if (asprintf(&n, "%s%.*s%s", out, (int) (hit - p), p, e) < 0)
                        return NULL;
                free(out);
                out = n;
                p = hit + strlen(pattern);
        }
        {
                char *n;

                if (asprintf(&n, "%s%s", out, p) < 0)
                        return NULL;
                free(out);
                out = n;
        }
        return TAKE_PTR(out);
}

static int add_url(char ***urls, char ***labels, char *url, const char *kind, const char *value) {
        _cleanup_free_ char *u = url, *label = NULL;

        if (!u)
                return -ENOMEM;
        if (asprintf(&label, "%s %s", kind, value) < 0) {
                label = NULL;
                return -ENOMEM;
        }
        if (strv_push(urls, u) < 0)
                return -ENOMEM;
        u = NULL;
        if (strv_push(labels, label) < 0)
                return -ENOMEM;
        label = NULL;
        return 0;
}

int lookup_urls(const char *url, LookupKey key, const LookupQuery *q, char ***ret_urls,
                char ***ret_labels) {
        _cleanup_strv_free_ char **urls = calloc(1, sizeof(char *)), **labels = calloc(1, sizeof(char *));
        int r = 0;

        if (!urls || !labels)
                return -ENOMEM;
        switch (key) {
        case LOOKUP_KEY_QUERY: {
                char *u = NULL;

                r = query_url(url, q, &u);
                if (r >= 0)
                        r = add_url(&urls, &labels, u, "identifiers", "in one query");
                break;
        }
        case LOOKUP_KEY_MAC:
                STRV_FOREACH(m, q->macs) {
                        char dashed[32];
                        size_t i;

                        for (i = 0; (*m)[i] && i < sizeof(dashed) - 1; i++)
                                dashed[i] = (*m)[i] == ':' ? '-' : (*m)[i];
                        dashed[i] = 0;
                        r = add_url(&urls, &labels, fill(url, "mac", dashed), "mac", *m);
                        if (r < 0)
                                break;
                }
                break;
        case LOOKUP_KEY_UUID:
                if (q->uuid)
                        r = add_url(&urls, &labels, fill(url, "uuid", q->uuid), "uuid", q->uuid);
                break;
        case LOOKUP_KEY_SERIAL:
                if (q->serial)
                        r = add_url(&urls, &labels, fill(url, "serial", q->serial), "serial", q->serial);
                break;
        }
        if (r < 0)
                return r;
        *ret_urls = TAKE_PTR(urls);
        *ret_labels = TAKE_PTR(labels);
        return 0;
}

static int set_string(char **field, const char *value) {
        char *c = strdup(value);

        if (!c)
                return -ENOMEM;
        free(*field);
        *field = c;
        return 0;
}

/* The errno for an answer that is not 200 or 404, with its reason in ret->error. */
static int classify(const HttpResponse *resp, LookupResult *ret) {
        char reason[256];

        (void) http_response_reason(resp, reason, sizeof(reason));
        (void) snprintf(ret->error, sizeof(ret->error), "HTTP %ld: %s", resp->status, reason);
        if (resp->status == 409)
                return -ENOTUNIQ;
        if (resp->status >= 500)
                return -EREMOTEIO;
        return -EBADE;
}

/* One GET. 1: 200 with the body in resp; 0: 404; else negative errno with ret->error set. */
static int get(HttpClient *http, const char *url, size_t max_size, HttpResponse *resp, LookupResult *ret) {
        int r;

        ret->requests++;
        r = http_perform(http, &(HttpRequest) { .method = "GET", .url = url, .max_body = max_size }, resp);
        ret->status = resp->status;
        if (r == -EFBIG) {
                (void) snprintf(ret->error, sizeof(ret->error), "an answer larger than %zu bytes", max_size);
                return r;
        }
        if (r < 0) {
                (void) snprintf(ret->error, sizeof(ret->error), "%s", resp->error);
                return r;
        }
        if (resp->status == 200)
                return 1;
        if (resp->status == 404)
                return 0;
        return classify(resp, ret);
}

static int fetch_signature(HttpClient *http, LookupResult *ret) {
        _cleanup_free_ char *url = lookup_signature_url(ret->url);
        HttpResponse resp = {};
        int r;

        if (!url)
                return -ENOMEM;
        r = get(http, url, SIGNATURE_MAX, &resp, ret);
        if (r == 0) {
                (void) snprintf(ret->error, sizeof(ret->error),
                                "no signature at %s (HTTP 404), and answers must be signed", url);
                r = -EBADE;
        } else if (r > 0) {
                ret->signature = TAKE_PTR(resp.body);
                ret->signature_size = resp.body_size;
                r = 0;
        }
        http_response_done(&resp);
        if (r < 0 && set_string(&ret->url, url) < 0)
                return -ENOMEM;
        return r;
}

int lookup_node(HttpClient *http, const char *url, LookupKey key, const LookupQuery *q,
                size_t max_size, bool want_signature, LookupResult *ret) {
        _cleanup_strv_free_ char **urls = NULL, **labels = NULL;
        HttpResponse resp = {};
        int r;

        lookup_result_done(ret);
        r = lookup_urls(url, key, q, &urls, &labels);
        if (r < 0)
                return r;
        if (!urls[0]) {
                (void) snprintf(ret->error, sizeof(ret->error), "this machine has no %s to look it up by",
                                key == LOOKUP_KEY_UUID ? "SMBIOS UUID" :
                                key == LOOKUP_KEY_SERIAL ? "SMBIOS serial number" : "physical NIC");
                return -ENODATA;
        }

        for (size_t i = 0; urls[i]; i++) {
                r = get(http, urls[i], max_size, &resp, ret);
                if (r == 0)
                        continue;
                if (r < 0) {
                        http_response_done(&resp);
                        return set_string(&ret->url, urls[i]) < 0 ? -ENOMEM : r;
                }
                if (ret->body) {
                        /* A second identifier answered too: the same node, or a conflict. */
                        bool same = resp.body_size == ret->body_size &&
                                    memcmp(resp.body, ret->body, resp.body_size) == 0;

                        if (!same) {
                                (void) snprintf(ret->error, sizeof(ret->error),
                                                "%s and %s have different configurations (%s, %s)",
                                                ret->matched, labels[i], ret->url, urls[i]);
                                http_response_done(&resp);
                                return -ENOTUNIQ;
                        }
                        continue;
                }
                if (set_string(&ret->url, urls[i]) < 0 || set_string(&ret->matched, labels[i]) < 0) {
                        http_response_done(&resp);
                        return -ENOMEM;
                }
                ret->body = TAKE_PTR(resp.body);
                ret->body_size = resp.body_size;
                http_response_done(&resp);
        }
        http_response_done(&resp);

        if (!ret->body) {
                (void) snprintf(ret->error, sizeof(ret->error), "unknown machine: HTTP 404 to %s%s",
                                strv_length(urls) > 1 ? "each of " : "", strv_length(urls) > 1 ? "the requests" : urls[0]);
                if (set_string(&ret->url, urls[0]) < 0)
                        return -ENOMEM;
                ret->status = 404;
                return -ENXIO;
        }
        ret->status = 200;
        if (want_signature)
                return fetch_signature(http, ret);
        return 0;
}
