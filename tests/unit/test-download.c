/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "download.h"
#include "http-stub.h"
#include "tap.h"

/* The streaming download against a scripted server on loopback (127.8.20.0/24): a whole file,
 * HTTP errors by status, retries after a 5xx, a transfer broken mid-body and resumed with a
 * Range request, a server that ignores Range, a stall, size limits and cancellation. */

#define FILE_BODY "The quick brown fox jumps over the lazy dog. 0123456789 abcdefghijklmnopqrstuvwxyz"

static StubRoute routes[] = {
        { "GET", "/file", STUB_RANGE, 200, NULL, FILE_BODY, 0, 0, 0 },
        { "GET", "/missing", STUB_STATIC, 404, NULL, "no", 0, 0, 0 },
        { "GET", "/forbidden", STUB_STATIC, 403, NULL, "no", 0, 0, 0 },
        { "GET", "/bad", STUB_STATIC, 400, NULL, "no", 0, 0, 0 },
        /* Fails twice with 503, then serves the file. */
        { "GET", "/flaky", STUB_STATIC, 503, NULL, "busy", 0, 2, 0 },
        { "GET", "/flaky", STUB_RANGE, 200, NULL, FILE_BODY, 0, 0, 0 },
        /* Breaks after 20 bytes once, then honours Range. */
        { "GET", "/broken", STUB_RANGE, 200, NULL, FILE_BODY, 0, 1, 20 },
        { "GET", "/broken", STUB_RANGE, 200, NULL, FILE_BODY, 0, 0, 0 },
        /* Breaks after 30 bytes once, then ignores Range and sends everything again. */
        { "GET", "/norange", STUB_STATIC, 200, NULL, FILE_BODY, 0, 1, 30 },
        { "GET", "/norange", STUB_STATIC, 200, NULL, FILE_BODY, 0, 0, 0 },
        { "GET", "/always503", STUB_STATIC, 503, NULL, "down", 0, 0, 0 },
        /* Says nothing for 2.5 s once (a stall), then serves the file. */
        { "GET", "/stall", STUB_RANGE, 200, NULL, FILE_BODY, 2500, 1, 0 },
        { "GET", "/stall", STUB_RANGE, 200, NULL, FILE_BODY, 0, 0, 0 },
};

typedef struct Sink {
        char data[4096];
        size_t size;
        size_t calls;
} Sink;

static int sink(const void *data, size_t size, void *userdata) {
        Sink *s = userdata;

        if (s->size + size > sizeof s->data)
                return -EFBIG;
        memcpy(s->data + s->size, data, size);
        s->size += size;
        s->calls++;
        return 0;
}

static unsigned retries_seen;

static void on_retry(unsigned attempt, int error, const char *text, uint64_t offset, usec_t delay, void *userdata) {
        retries_seen++;
}

static int get(const HttpStub *stub, const char *path, const DownloadOptions *o, Sink *s, DownloadStats *st) {
        char url[256];

        snprintf(url, sizeof url, "%s%s", stub->url, path);
        *s = (Sink) {};
        retries_seen = 0;
        return download_stream(url, o, sink, on_retry, s, st);
}

int main(void) {
        DownloadOptions o = {
                .connect_timeout_ms = 2000,
                .retries = 3,
                .backoff_initial = 10 * USEC_PER_MSEC,
                .backoff_max = 20 * USEC_PER_MSEC,
        };
        DownloadStats st;
        HttpStub stub;
        Sink s = {};
        char url[256], closed[64];
        void *mem = NULL;
        size_t mem_size = 0;
        atomic_bool cancel = false;

        if (http_stub_start("127.8.20.1", routes, ELEMENTSOF(routes), &stub) < 0) {
                ok(false, "stub server on 127.8.20.1");
                return tap_done();
        }

        is_int(get(&stub, "/file", &o, &s, &st), 0, "a whole file");
        ok(s.size == strlen(FILE_BODY) && memcmp(s.data, FILE_BODY, s.size) == 0, "every byte, in order");
        is_int(st.received, strlen(FILE_BODY), "received counted");
        is_int(st.total, strlen(FILE_BODY), "total from Content-Length");
        is_int(st.requests, 1, "one request");
        is_int(st.range_requests, 0, "no Range request");

        is_int(get(&stub, "/missing", &o, &s, &st), -ENOENT, "404 → ENOENT");
        is_int(st.requests, 1, "not retried");
        is_int(get(&stub, "/forbidden", &o, &s, &st), -EACCES, "403 → EACCES");
        is_int(get(&stub, "/bad", &o, &s, &st), -EBADE, "400 → EBADE");
        ok(strstr(st.error, "400") != NULL, "the error names the status: %s", st.error);

        is_int(get(&stub, "/flaky", &o, &s, &st), 0, "two 503s, then the file");
        is_int(st.requests, 3, "three requests");
        is_int(retries_seen, 2, "two retries announced");
        ok(s.size == strlen(FILE_BODY), "the whole file after the retries");

        is_int(get(&stub, "/broken", &o, &s, &st), 0, "a transfer broken after 20 bytes");
        ok(s.size == strlen(FILE_BODY) && memcmp(s.data, FILE_BODY, s.size) == 0,
           "resumed to the exact bytes (%zu)", s.size);
        is_int(st.range_requests, 1, "one Range request");
        is_int(st.resumes, 1, "one resume");
        {
                _cleanup_free_ char *log = http_stub_log(&stub);

                ok(log && strstr(log, "GET /broken"), "the server saw the requests");
        }

        is_int(get(&stub, "/norange", &o, &s, &st), 0, "a server that ignores Range");
        ok(s.size == strlen(FILE_BODY) && memcmp(s.data, FILE_BODY, s.size) == 0,
           "its first bytes are skipped, nothing doubled (%zu)", s.size);

        is_int(get(&stub, "/always503", &o, &s, &st), -EREMOTEIO, "5xx until the retries run out → EREMOTEIO");
        is_int(st.requests, 4, "the first try and three retries");

        /* The stall timeout: the silent answer is given up (-ETIMEDOUT, transient) and the
         * request made again. */
        o.stall_timeout_s = 1;
        is_int(get(&stub, "/stall", &o, &s, &st), 0, "a stalled answer: given up, then the file");
        /* The stub answers one connection at a time: the retry may wait out the rest of the
         * silence too. */
        ok(st.requests >= 2 && st.requests <= 3, "asked again (%u requests)", st.requests);
        ok(retries_seen == st.requests - 1, "each stall announced as a retry (%u)", retries_seen);
        ok(s.size == strlen(FILE_BODY), "the whole file after the stall");
        ok(strstr(st.error, "no data arrived for 1 s") != NULL, "the stall is named: %s", st.error);
        o.stall_timeout_s = 0;

        ok(stub_closed_port_url("127.8.20.2", closed, sizeof closed) == 0, "a closed port");
        snprintf(url, sizeof url, "%s/x", closed);
        o.retries = 1;
        is_int(download_stream(url, &o, sink, NULL, &s, &st), -ECONNREFUSED, "nobody listening → ECONNREFUSED");
        o.retries = 3;

        snprintf(url, sizeof url, "%s/file", stub.url);
        is_int(download_to_memory(url, &o, 10, &mem, &mem_size, &st), -EFBIG, "over the memory limit → EFBIG");
        is_int(download_to_memory(url, &o, 4096, &mem, &mem_size, &st), 0, "into memory");
        ok(mem_size == strlen(FILE_BODY) && memcmp(mem, FILE_BODY, mem_size) == 0, "the same bytes in memory");
        free(mem);

        /* The flag another thread sets to stop a download: checked by curl's progress callback
         * and between retries. */
        o.cancel = &cancel;
        o.retries = 100;
        atomic_store(&cancel, true);
        is_int(get(&stub, "/always503", &o, &s, &st), -ECANCELED, "a cancelled download stops with ECANCELED");
        ok(st.requests <= 1, "and is not retried (%u requests)", st.requests);

        http_stub_stop(&stub);
        return tap_done();
}
