/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>

#include "cleanup.h"
#include "http-stub.h"
#include "http.h"
#include "tap.h"

/* Loopback addresses of this test: 127.8.2.0/24. */

static StubRoute routes[] = {
        { "GET", "/ok", STUB_STATIC, 200, NULL, "{\"ok\":true}", 0, 0 },
        { NULL, "/echo", STUB_ECHO, 200, NULL, NULL, 0, 0 },
        { "GET", "/keepalive", STUB_CONN, 200, NULL, NULL, 0, 0 },
        { "GET", "/redirect", STUB_STATIC, 302, "Location: /ok\r\n", "", 0, 0 },
        { "POST", "/refuse", STUB_STATIC, 400, NULL, "{\"error\":\"raft_addr must be host:port\"}", 0, 0 },
        { "GET", "/message", STUB_STATIC, 503, NULL, "{\"message\":\"no leader\",\"code\":14}", 0, 0 },
        { "GET", "/text", STUB_STATIC, 500, NULL, "  Internal failure\nat line 3\n", 0, 0 },
        { "GET", "/empty", STUB_STATIC, 404, NULL, "", 0, 0 },
        { "GET", "/big", STUB_BIG, 200, NULL, NULL, 0, 0 },
        { "GET", "/slow", STUB_STATIC, 200, NULL, "{}", 1500, 0 },
};

static const char *reason_of(long status, const char *body, const char *error, char *buf, size_t size) {
        HttpResponse r = { .status = status, .body = (char *) body, .body_size = body ? strlen(body) : 0 };

        if (error)
                snprintf(r.error, sizeof r.error, "%s", error);
        return http_response_reason(&r, buf, size);
}

static void test_reason(void) {
        char buf[64], small[16];

        is_str(reason_of(400, "{\"error\":\"id taken\"}", NULL, buf, sizeof buf), "id taken", "\"error\" member");
        is_str(reason_of(400, "{\"message\":\"bad raft_addr\"}", NULL, buf, sizeof buf), "bad raft_addr", "\"message\" member");
        is_str(reason_of(400, "{\"error\":\"first\",\"message\":\"second\"}", NULL, buf, sizeof buf), "first",
               "\"error\" wins over \"message\"");
        is_str(reason_of(400, "{\"error\":{\"message\":\"nested\"}}", NULL, buf, sizeof buf), "nested",
               "{\"error\":{\"message\"}}");
        is_str(reason_of(412, "{\"error\":\"etcdserver: Peer URLs already exists\",\"message\":\"etcdserver: Peer URLs already exists\",\"code\":9}",
                         NULL, buf, sizeof buf),
               "etcdserver: Peer URLs already exists", "etcd's error answer");
        is_str(reason_of(500, "\n  Internal failure \nstack", NULL, buf, sizeof buf), "Internal failure",
               "first line of a text body, trimmed");
        is_str(reason_of(500, "{\"other\":1}", NULL, buf, sizeof buf), "{\"other\":1}", "JSON without a message: the text");
        is_str(reason_of(404, "", NULL, buf, sizeof buf), "no message (HTTP 404)", "empty body");
        is_str(reason_of(0, NULL, "Failed to connect", buf, sizeof buf), "Failed to connect", "transport error text");
        is_str(reason_of(0, NULL, NULL, buf, sizeof buf), "no answer", "nothing at all");
        is_str(reason_of(400, "{\"error\":\"a rather long message from the server\"}", NULL, small, sizeof small),
               "a rather lon...", "truncated with ...");
        is_str(reason_of(400, "tab\there", NULL, buf, sizeof buf), "tab here", "control characters become spaces");
        ok(http_response_reason(NULL, buf, sizeof buf) != NULL, "never NULL");
}

static void test_server(void) {
        _cleanup_(http_client_freep) HttpClient *c = NULL;
        HttpResponse resp = {};
        _cleanup_free_ char *log = NULL;
        char closed[64], buf[128];
        HttpStub stub;
        int r;

        r = http_stub_start("127.8.2.1", routes, ELEMENTSOF(routes), &stub);
        is_int(r, 0, "stub server started at %s", stub.url);
        if (r < 0)
                return;

        is_int(http_client_new(NULL, 1000, 5000, &c), 0, "client");
        ok(!http_client_is_insecure(c), "verifying by default");

#define URL(path) ({ static char _u[128]; snprintf(_u, sizeof _u, "%s%s", stub.url, path); _u; })

        is_int(http_perform(c, &(HttpRequest) { .method = "GET", .url = URL("/ok") }, &resp), 0, "GET /ok");
        is_int(resp.status, 200, "status 200");
        is_str(resp.body, "{\"ok\":true}", "body");
        is_int(resp.body_size, 11, "body size");
        is_str(resp.error, "", "no error text");

        /* Same resp again without releasing: http_perform releases it first. */
        is_int(http_perform(c, &(HttpRequest) { .method = "POST", .url = URL("/echo"), .body = "{\"id\":\"n1\"}",
                                                .bearer_token = "tok-123456" }, &resp), 0, "POST /echo");
        ok(strstr(resp.body, "POST /echo HTTP/1.1") != NULL, "method POST");
        ok(strcasestr(resp.body, "Content-Type: application/json") != NULL, "JSON content type");
        ok(strcasestr(resp.body, "Authorization: Bearer tok-123456") != NULL, "bearer header");
        ok(strstr(resp.body, "\n{\"id\":\"n1\"}") != NULL, "body sent");
        ok(strcasestr(resp.body, "Expect:") == NULL, "no Expect: 100-continue");
        is_int(http_perform(c, &(HttpRequest) { .method = "GET", .url = URL("/echo"), .bearer_token = "tok-654321",
                                                .token_header = "X-Consul-Token" }, &resp), 0, "GET with a token header");
        ok(strcasestr(resp.body, "X-Consul-Token: tok-654321") != NULL, "the token in the header named");
        ok(strcasestr(resp.body, "Authorization") == NULL, "and not as a bearer token");
        is_int(http_perform(c, &(HttpRequest) { .method = "GET", .url = URL("/echo"), .bearer_token = "tok-654321",
                                                .token_header = "X-Bad: y" }, &resp), -EINVAL, "a header name with a colon is refused");

        is_int(http_perform(c, &(HttpRequest) { .method = "DELETE", .url = URL("/echo") }, &resp), 0, "DELETE /echo");
        ok(strstr(resp.body, "DELETE /echo HTTP/1.1") != NULL, "method DELETE");
        ok(strcasestr(resp.body, "Content-Type") == NULL, "no content type without a body");
        ok(strcasestr(resp.body, "Authorization") == NULL, "no bearer header unless asked");

        is_int(http_perform(c, &(HttpRequest) { .method = "GET", .url = URL("/echo") }, &resp), 0, "GET after DELETE");
        ok(strstr(resp.body, "GET /echo HTTP/1.1") != NULL, "method back to GET");

        is_int(http_perform(c, &(HttpRequest) { .method = "POST", .url = URL("/echo") }, &resp), 0, "POST without body");
        ok(strstr(resp.body, "POST /echo HTTP/1.1") != NULL && strcasestr(resp.body, "Content-Length: 0"),
           "empty POST");

        is_int(http_perform(c, &(HttpRequest) { .method = "GET", .url = URL("/keepalive") }, &resp), 0, "keep-alive 1");
        _cleanup_free_ char *first = strdup(resp.body);
        is_int(http_perform(c, &(HttpRequest) { .method = "GET", .url = URL("/keepalive") }, &resp), 0, "keep-alive 2");
        is_str(resp.body, first, "the connection is reused (%s)", first);

        is_int(http_perform(c, &(HttpRequest) { .method = "GET", .url = URL("/redirect") }, &resp), 0, "redirect");
        is_int(resp.status, 302, "redirects are not followed");

        is_int(http_perform(c, &(HttpRequest) { .method = "POST", .url = URL("/refuse"), .body = "{\"password\":\"hunter2-secret\"}" },
                            &resp), 0, "4xx is an answer");
        is_int(resp.status, 400, "status 400");
        is_str(http_response_reason(&resp, buf, sizeof buf), "raft_addr must be host:port", "reason of a 4xx");

        is_int(http_perform(c, &(HttpRequest) { .method = "GET", .url = URL("/message") }, &resp), 0, "5xx is an answer");
        is_str(http_response_reason(&resp, buf, sizeof buf), "no leader", "reason of a 503");
        is_int(http_perform(c, &(HttpRequest) { .method = "GET", .url = URL("/text") }, &resp), 0, "text body");
        is_str(http_response_reason(&resp, buf, sizeof buf), "Internal failure", "reason of a text body");
        is_int(http_perform(c, &(HttpRequest) { .method = "GET", .url = URL("/empty") }, &resp), 0, "empty body");
        is_str(resp.body, "", "empty body is \"\"");
        is_str(http_response_reason(&resp, buf, sizeof buf), "no message (HTTP 404)", "reason of an empty 404");

        is_int(http_perform(c, &(HttpRequest) { .method = "GET", .url = URL("/big") }, &resp), -EFBIG, "5 MiB answer refused");
        ok(resp.error[0] != 0, "with a reason: %s", resp.error);
        is_int(http_perform(c, &(HttpRequest) { .method = "GET", .url = URL("/ok") }, &resp), 0, "client still fine after that");
        is_str(resp.body, "{\"ok\":true}", "body after the big one");

        ok(stub_closed_port_url("127.8.2.2", closed, sizeof closed) == 0, "a closed port");
        is_int(http_perform(c, &(HttpRequest) { .method = "POST", .url = closed, .body = "{\"password\":\"hunter2-secret\"}" },
                            &resp), -ECONNREFUSED, "connection refused");
        ok(resp.error[0] && !strstr(resp.error, "hunter2"), "error text without the body: %s", resp.error);

        is_int(http_perform(c, &(HttpRequest) { .method = "GET", .url = "http://[::1" }, &resp), -EINVAL, "malformed URL");
        is_int(http_perform(c, &(HttpRequest) { .method = "GET", .url = "ftp://127.8.2.1/x" }, &resp), -EINVAL, "ftp refused");
        is_int(http_perform(c, &(HttpRequest) { .method = "GET", .url = "file:///etc/passwd" }, &resp), -EINVAL, "file refused");
        is_int(http_perform(c, &(HttpRequest) { .method = "GET", .url = "http://no-such-host.invalid/" }, &resp),
               -EHOSTUNREACH, "unknown host");

        /* TLS setup errors need no TLS server: they happen before the handshake. */
        {
                _cleanup_(http_client_freep) HttpClient *t = NULL;
                char https[256];

                snprintf(https, sizeof https, "https%s/ok", stub.url + 4);
                is_int(http_client_new(&(TlsOptions) { .ca_file = "/nonexistent/ca.crt" }, 1000, 5000, &t), 0, "TLS client");
                is_int(http_perform(t, &(HttpRequest) { .method = "GET", .url = https }, &resp), -ENOENT, "missing CA file");
                ok(strstr(resp.error, "/nonexistent/ca.crt") != NULL || resp.error[0], "error: %s", resp.error);
                t = http_client_free(t);

                is_int(http_client_new(&(TlsOptions) { .cert_file = "/nonexistent/c.crt", .key_file = "/nonexistent/c.key" },
                                       1000, 5000, &t), 0, "mTLS client");
                is_int(http_perform(t, &(HttpRequest) { .method = "GET", .url = https }, &resp), -ENOENT, "missing client cert");
                t = http_client_free(t);

                is_int(http_client_new(&(TlsOptions) { .insecure = true }, 1000, 5000, &t), 0, "insecure client");
                ok(http_client_is_insecure(t), "insecure is reported");
                is_int(http_perform(t, &(HttpRequest) { .method = "GET", .url = https }, &resp), -EPROTO,
                       "TLS to a plain HTTP server");
        }

        /* Last: the server is busy for a while after this one. */
        is_int(http_perform(c, &(HttpRequest) { .method = "GET", .url = URL("/slow"), .timeout_ms = 300 }, &resp),
               -ETIMEDOUT, "per-request timeout");
        ok(resp.elapsed_ms >= 250 && resp.elapsed_ms < 1400, "timed out after %u ms", resp.elapsed_ms);
        is_int(resp.status, 0, "no status");

        http_response_done(&resp);
        is_int(resp.status, 0, "done zeroes");
        ok(resp.body == NULL, "done frees");
        http_response_done(&resp);

        log = http_stub_log(&stub);
        ok(log && strstr(log, "GET /ok \n") && strstr(log, "POST /refuse {"), "request log");
        http_stub_stop(&stub);
}

int main(void) {
        test_reason();
        test_server();
        return tap_done();
}
