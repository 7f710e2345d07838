/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "cleanup.h"
#include "curl-util.h"
#include "http.h"
#include "macro.h"
#include "secret.h"
#include "string-util.h"
#include "time-util.h"

/* Admin API answers are small; anything bigger is not one. */
#define HTTP_BODY_MAX (4U * 1024U * 1024U)

struct HttpClient {
        CURL *curl;
        char *ca_file;
        char *ca_pem;
        char *cert_file;
        char *key_file;
        bool insecure;
        long timeout_ms;
        char errbuf[CURL_ERROR_SIZE];

        /* The body being received. */
        char *body;
        size_t body_size, body_allocated, body_max;
        bool body_too_big;
};

static size_t write_cb(char *data, size_t size, size_t nmemb, void *userdata) {
        HttpClient *c = userdata;
        size_t n = size * nmemb;

        if (n > c->body_max - c->body_size) {
                c->body_too_big = true;
                return 0;       /* curl aborts with CURLE_WRITE_ERROR */
        }
        if (c->body_size + n + 1 > c->body_allocated) {
                size_t a = MAX(c->body_allocated * 2, c->body_size + n + 1);
                char *b;

                a = MAX(a, (size_t) 4096);
                b = realloc(c->body, a);
                if (!b)
                        return 0;
                c->body = b;
                c->body_allocated = a;
        }
        memcpy(c->body + c->body_size, data, n);
        c->body_size += n;
        c->body[c->body_size] = 0;
        return n;
}

static int strdup_or_null(const char *s, char **ret) {
        if (!s) {
                *ret = NULL;
                return 0;
        }
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

static int client_setup(HttpClient *c, long connect_timeout_ms) {
        CURL *h = c->curl;
        int r;

        r = curl_util_setup(h, c->errbuf, connect_timeout_ms);
        if (r < 0)
                return r;
        CURL_SET(h, CURLOPT_WRITEFUNCTION, write_cb);
        CURL_SET(h, CURLOPT_WRITEDATA, c);
        CURL_SET(h, CURLOPT_FOLLOWLOCATION, 0L);
        CURL_SET(h, CURLOPT_TCP_KEEPALIVE, 1L);
        return curl_util_set_tls(h, &(TlsOptions) {
                .ca_file = c->ca_file,
                .ca_pem = c->ca_pem,
                .cert_file = c->cert_file,
                .key_file = c->key_file,
                .insecure = c->insecure,
        });
}

int http_client_new(const TlsOptions *tls, long connect_timeout_ms, long timeout_ms,
                    HttpClient **ret) {
        _cleanup_(http_client_freep) HttpClient *c = NULL;
        int r;

        r = curl_util_global_init();
        if (r < 0)
                return r;

        c = calloc(1, sizeof(HttpClient));
        if (!c)
                return -ENOMEM;

        if (tls) {
                if (strdup_or_null(tls->ca_file, &c->ca_file) < 0 ||
                    strdup_or_null(tls->ca_pem, &c->ca_pem) < 0 ||
                    strdup_or_null(tls->cert_file, &c->cert_file) < 0 ||
                    strdup_or_null(tls->key_file, &c->key_file) < 0)
                        return -ENOMEM;
                c->insecure = tls->insecure;
        }
        c->timeout_ms = timeout_ms;

        c->curl = curl_easy_init();
        if (!c->curl)
                return -ENOMEM;

        r = client_setup(c, connect_timeout_ms);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(c);
        return 0;
}

HttpClient *http_client_free(HttpClient *c) {
        if (!c)
                return NULL;
        if (c->curl)
                curl_easy_cleanup(c->curl);
        free(c->ca_file);
        free(c->ca_pem);
        free(c->cert_file);
        free(c->key_file);
        free(c->body);
        free(c);
        return NULL;
}

bool http_client_is_insecure(const HttpClient *c) {
        return c && c->insecure;
}

static int set_method(CURL *h, const HttpRequest *req) {
        const char *m = req->method ?: (req->body ? "POST" : "GET");

        CURL_SET(h, CURLOPT_NOBODY, 0L);
        if (req->body) {
                CURL_SET(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) strlen(req->body));
                CURL_SET(h, CURLOPT_POSTFIELDS, req->body);
                CURL_SET(h, CURLOPT_CUSTOMREQUEST, streq(m, "POST") ? NULL : m);
        } else if (streq(m, "POST")) {
                CURL_SET(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) 0);
                CURL_SET(h, CURLOPT_POSTFIELDS, "");
                CURL_SET(h, CURLOPT_CUSTOMREQUEST, NULL);
        } else {
                CURL_SET(h, CURLOPT_HTTPGET, 1L);
                CURL_SET(h, CURLOPT_CUSTOMREQUEST, streq(m, "GET") ? NULL : m);
        }
        return 0;
}

static int slist_append(struct curl_slist **l, const char *h) {
        struct curl_slist *n = curl_slist_append(*l, h);

        if (!n)
                return -ENOMEM;
        *l = n;
        return 0;
}

int http_perform(HttpClient *c, const HttpRequest *req, HttpResponse *resp) {
        _cleanup_(curl_slist_free_allp) struct curl_slist *headers = NULL, *connect_to = NULL;
        _cleanup_(secret_freep) char *auth = NULL;
        _cleanup_free_ char *via = NULL;
        long status = 0, os_errno = 0;
        usec_t start;
        CURLcode cc;
        int r;

        http_response_done(resp);

        if (!c || !req || !req->url)
                return -EINVAL;

        r = set_method(c->curl, req);
        if (r < 0)
                return r;

        /* No "Expect: 100-continue" round trip for small JSON bodies. */
        r = slist_append(&headers, "Expect:");
        if (r < 0)
                return r;
        r = slist_append(&headers, "Accept: application/json");
        if (r < 0)
                return r;
        if (req->body) {
                r = slist_append(&headers, "Content-Type: application/json");
                if (r < 0)
                        return r;
        }
        if (req->bearer_token) {
                /* Built in one allocation: asprintf() may grow its buffer, leaving copies of the
                 * token behind in freed memory that nothing wipes. */
                const char *prefix = "Authorization: Bearer ";
                size_t n = strlen(req->bearer_token), p, h = 0;

                if (req->token_header) {
                        h = strlen(req->token_header);
                        if (h == 0 || strpbrk(req->token_header, ": \r\n"))
                                return -EINVAL;
                        p = h + 2;
                } else
                        p = strlen(prefix);
                auth = malloc(p + n + 1);
                if (!auth)
                        return -ENOMEM;
                if (req->token_header) {
                        memcpy(auth, req->token_header, h);
                        memcpy(auth + h, ": ", 2);
                } else
                        memcpy(auth, prefix, p);
                memcpy(auth + p, req->bearer_token, n + 1);
                r = slist_append(&headers, auth);
                if (r < 0)
                        return r;
        }

        if (req->connect_to) {
                /* "::HOST:" — any host and port of the URL, to HOST on the same port. */
                bool v6 = strchr(req->connect_to, ':');

                if (asprintf(&via, "::%s%s%s:", v6 ? "[" : "", req->connect_to, v6 ? "]" : "") < 0) {
                        via = NULL;
                        return -ENOMEM;
                }
                r = slist_append(&connect_to, via);
                if (r < 0)
                        return r;
        }
        CURL_SET(c->curl, CURLOPT_URL, req->url);
        CURL_SET(c->curl, CURLOPT_HTTPHEADER, headers);
        CURL_SET(c->curl, CURLOPT_CONNECT_TO, connect_to);
        CURL_SET(c->curl, CURLOPT_TIMEOUT_MS, req->timeout_ms > 0 ? req->timeout_ms : c->timeout_ms);

        c->errbuf[0] = 0;
        c->body_max = req->max_body > 0 ? MIN(req->max_body, (size_t) HTTP_BODY_MAX) : HTTP_BODY_MAX;
        c->body_size = 0;
        c->body_too_big = false;
        if (c->body)
                c->body[0] = 0;

        start = now_monotonic();
        cc = curl_easy_perform(c->curl);
        resp->elapsed_ms = (unsigned) ((now_monotonic() - start) / USEC_PER_MSEC);

        /* Nothing may keep pointing at the caller's strings once we return. */
        (void) curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, NULL);
        (void) curl_easy_setopt(c->curl, CURLOPT_CONNECT_TO, NULL);
        (void) curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, NULL);
        (void) curl_easy_setopt(c->curl, CURLOPT_HTTPGET, 1L);

        (void) curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
        (void) curl_easy_getinfo(c->curl, CURLINFO_OS_ERRNO, &os_errno);
        resp->status = status;
        {
                curl_off_t retry_after = 0;
                char *redirect = NULL;

                if (curl_easy_getinfo(c->curl, CURLINFO_RETRY_AFTER, &retry_after) == CURLE_OK && retry_after > 0)
                        resp->retry_after_s = (unsigned) MIN(retry_after, (curl_off_t) 3600);
                if (status >= 300 && status < 400 &&
                    curl_easy_getinfo(c->curl, CURLINFO_REDIRECT_URL, &redirect) == CURLE_OK && redirect) {
                        resp->redirect = strdup(redirect);
                        if (!resp->redirect)
                                return -ENOMEM;
                }
        }

        /* Hand the body over; the client's buffer starts again empty. */
        if (c->body) {
                resp->body = TAKE_PTR(c->body);
                resp->body_size = c->body_size;
        } else {
                resp->body = strdup("");
                if (!resp->body)
                        return -ENOMEM;
                resp->body_size = 0;
        }
        c->body_size = c->body_allocated = 0;

        if (cc == CURLE_OK)
                return 0;

        if (c->errbuf[0])
                (void) snprintf(resp->error, sizeof resp->error, "%s", c->errbuf);
        else
                (void) snprintf(resp->error, sizeof resp->error, "%s", curl_easy_strerror(cc));

        if (cc == CURLE_WRITE_ERROR && c->body_too_big) {
                (void) snprintf(resp->error, sizeof resp->error,
                                "answer larger than %zu bytes", c->body_max);
                return -EFBIG;
        }
        if (cc == CURLE_WRITE_ERROR)
                return -ENOMEM;

        return curl_util_errno(cc, os_errno);
}

void http_response_done(HttpResponse *resp) {
        if (!resp)
                return;
        free(resp->redirect);
        free(resp->body);
        *resp = (HttpResponse) {};
}

/* Copies s (n bytes) into buf as one printable line, "…" when cut. */
static const char *copy_line(const char *s, size_t n, char *buf, size_t size) {
        size_t i = 0, o = 0;
        bool cut;

        if (size == 0)
                return "";
        while (i < n && isspace((unsigned char) s[i]))
                i++;
        while (n > i && isspace((unsigned char) s[n - 1]))
                n--;
        for (; i < n && s[i] != '\n' && s[i] != '\r'; i++) {
                unsigned char ch = (unsigned char) s[i];

                if (o + 1 >= size)
                        break;
                buf[o++] = ch < 0x20 || ch == 0x7f ? ' ' : (char) ch;
        }
        cut = i < n && s[i] != '\n' && s[i] != '\r' && size >= 4;
        if (cut)
                o = MIN(o, size - 4);
        while (o > 0 && buf[o - 1] == ' ')
                o--;
        if (cut) {
                /* End with "..." so nobody takes it for the whole message. */
                memcpy(buf + o, "...", 3);
                o += 3;
        }
        buf[o] = 0;
        return buf;
}

/* Copies text (n bytes) into buf as one printable line, with every registered secret redacted
 * first: a cut would leave a secret's first bytes unrecognised. */
static const char *copy_reason(const char *text, size_t n, char *buf, size_t size) {
        _cleanup_(secret_freep) char *whole = strndup(text, n);       /* up to a NUL in the body */
        char *clean;

        if (!whole) {
                snprintf(buf, size, "(out of memory)");
                return buf;
        }
        clean = secret_redact(whole);
        if (!clean) {
                snprintf(buf, size, "(out of memory)");
                return buf;
        }
        copy_line(clean, strlen(clean), buf, size);
        secret_free(clean);
        return string_make_printable(buf);
}

const char *http_response_reason(const HttpResponse *resp, char *buf, size_t size) {
        json_t *j, *v;

        if (size == 0)
                return "";

        if (!resp || !resp->body || resp->body_size == 0) {
                if (resp && resp->error[0])
                        return copy_reason(resp->error, strlen(resp->error), buf, size);
                if (resp && resp->status > 0)
                        (void) snprintf(buf, size, "no message (HTTP %ld)", resp->status);
                else
                        (void) snprintf(buf, size, "no answer");
                return buf;
        }

        j = json_loadb(resp->body, resp->body_size, JSON_DECODE_ANY, NULL);
        if (j) {
                static const char *const keys[] = { "error", "message", "detail" };
                const char *text = NULL;

                for (size_t i = 0; !text && i < ELEMENTSOF(keys); i++) {
                        v = json_object_get(j, keys[i]);
                        if (json_is_string(v) && json_string_length(v) > 0)
                                text = json_string_value(v);
                        else if (json_is_object(v)) {
                                /* {"error":{"message":"…"}} */
                                json_t *m = json_object_get(v, "message");

                                if (json_is_string(m) && json_string_length(m) > 0)
                                        text = json_string_value(m);
                        }
                }
                if (!text && json_is_string(j))
                        text = json_string_value(j);
                if (text) {
                        copy_reason(text, strlen(text), buf, size);
                        json_decref(j);
                        return buf;
                }
                json_decref(j);
        }

        return copy_reason(resp->body, resp->body_size, buf, size);
}
