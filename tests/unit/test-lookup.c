/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>

#include "cleanup.h"
#include "http-stub.h"
#include "lookup.h"
#include "string-util.h"
#include "strv.h"
#include "tap.h"

/* The provisioning lookup against a scripted server on loopback (127.8.22.0/24): the URLs it
 * asks, and what each kind of answer becomes. Routes match a whole path with its query; any
 * other request gets 404. */

#define STRV_MAKE(...) ((char *[]) { __VA_ARGS__, NULL })
#define NODE04 "{\"node_id\": \"node04\"}"
#define NODE05 "{\"node_id\": \"node05\"}"

static StubRoute routes[] = {
        { "GET", "/q?mac=52:54:00:00:00:01&uuid=u-1&serial=S%201&disk_serial=d1", STUB_STATIC, 200, NULL, NODE04, 0, 0, 0 },
        { "GET", "/q.sig?mac=52:54:00:00:00:01&uuid=u-1&serial=S%201&disk_serial=d1", STUB_STATIC, 200, NULL, "SIG", 0, 0, 0 },
        { "GET", "/conflict?mac=52:54:00:00:00:02&uuid=u-1&serial=S%201&disk_serial=d1", STUB_STATIC, 409, NULL, "{\"error\":\"matches groups a and b\"}", 0, 0, 0 },
        { "GET", "/refused?mac=52:54:00:00:00:02&uuid=u-1&serial=S%201&disk_serial=d1", STUB_STATIC, 403, NULL, "{\"error\":\"not from here\"}", 0, 0, 0 },
        { "GET", "/broken?mac=52:54:00:00:00:02&uuid=u-1&serial=S%201&disk_serial=d1", STUB_STATIC, 503, NULL, "{\"error\":\"restarting\"}", 0, 0, 0 },
        { "GET", "/big?mac=52:54:00:00:00:02&uuid=u-1&serial=S%201&disk_serial=d1", STUB_BIG, 200, NULL, NULL, 0, 0, 0 },
        /* The path form: the second MAC and the third know node04 and node05. */
        { "GET", "/nodes/52-54-00-00-00-02.json", STUB_STATIC, 200, NULL, NODE04, 0, 0, 0 },
        { "GET", "/nodes/52-54-00-00-00-03.json", STUB_STATIC, 200, NULL, NODE05, 0, 0, 0 },
        { "GET", "/nodes/52-54-00-00-00-04.json", STUB_STATIC, 200, NULL, NODE04, 0, 0, 0 },
        { "GET", "/by-uuid/u-1.json", STUB_STATIC, 200, NULL, NODE05, 0, 0, 0 },
};

static int ask(HttpClient *http, HttpStub *stub, const char *path, LookupKey key, char **macs, bool sig,
               size_t max, LookupResult *res) {
        char url[256];
        LookupQuery q = { .macs = macs, .uuid = "u-1", .serial = "S 1", .disk_serials = STRV_MAKE("d1") };

        snprintf(url, sizeof url, "%s%s", stub->url, path);
        return lookup_node(http, url, key, &q, max, sig, res);
}

int main(void) {
        _cleanup_(http_client_freep) HttpClient *http = NULL;
        _cleanup_strv_free_ char **urls = NULL, **labels = NULL;
        LookupResult res = {};
        HttpStub stub;
        _cleanup_free_ char *sig = NULL;

        sig = lookup_signature_url("https://p/v1/node?mac=1");
        is_str(sig, "https://p/v1/node.sig?mac=1", ".sig before the query");
        free(sig);
        sig = lookup_signature_url("https://p/nodes/52-54-00-00-00-01.json");
        is_str(sig, "https://p/nodes/52-54-00-00-00-01.json.sig", ".sig at the end of the path");

        {
                LookupQuery q = { .macs = STRV_MAKE("52:54:00:00:00:01", "52:54:00:00:00:02"), .serial = "A/B" };

                is_int(lookup_urls("https://p/v1?x=1", LOOKUP_KEY_QUERY, &q, &urls, &labels), 0, "query URLs");
                is_str(urls[0], "https://p/v1?x=1&mac=52:54:00:00:00:01&mac=52:54:00:00:00:02&serial=A%2FB",
                       "one query, every identifier, values escaped, '&' after an existing query");
                ok(!urls[1], "one URL");
                urls = strv_free(urls);
                labels = strv_free(labels);
                is_int(lookup_urls("https://p/{mac}/{mac}.json", LOOKUP_KEY_MAC, &q, &urls, &labels), 0, "path URLs");
                is_str(urls[0], "https://p/52-54-00-00-00-01/52-54-00-00-00-01.json", "every {mac} filled, dashes");
                is_str(urls[1], "https://p/52-54-00-00-00-02/52-54-00-00-00-02.json", "one URL per MAC");
                is_str(labels[1], "mac 52:54:00:00:00:02", "labelled by the MAC");
                urls = strv_free(urls);
                labels = strv_free(labels);
                is_int(lookup_urls("https://p/{uuid}", LOOKUP_KEY_UUID, &q, &urls, &labels), 0, "no UUID");
                ok(!urls[0], "no URL to ask");
                urls = strv_free(urls);
                labels = strv_free(labels);
        }

        if (http_stub_start("127.8.22.1", routes, ELEMENTSOF(routes), &stub) < 0) {
                ok(false, "stub server on 127.8.22.1");
                return tap_done();
        }
        is_int(http_client_new(NULL, 2000, 5000, &http), 0, "HTTP client");

        is_int(ask(http, &stub, "/q", LOOKUP_KEY_QUERY, STRV_MAKE("52:54:00:00:00:01"), true, 4096, &res), 0,
               "the query form: found");
        is_str(res.body, NODE04, "the answer");
        is_str(res.signature, "SIG", "its signature, from .sig");
        is_str(res.matched, "identifiers in one query", "what matched");
        is_int(res.requests, 2, "two requests");
        {
                _cleanup_free_ char *log = http_stub_log(&stub);

                ok(log && strstr(log, "GET /q?mac=52:54:00:00:00:01&uuid=u-1&serial=S%201&disk_serial=d1 \n"),
                   "the server saw every identifier, the serial escaped");
        }

        is_int(ask(http, &stub, "/q", LOOKUP_KEY_QUERY, STRV_MAKE("52:54:00:00:00:09"), false, 4096, &res), -ENXIO,
               "unknown: -ENXIO");
        is_int(res.status, 404, "404");
        ok(strstr(res.error, "unknown machine") != NULL, "said: %s", res.error);

        is_int(ask(http, &stub, "/conflict", LOOKUP_KEY_QUERY, STRV_MAKE("52:54:00:00:00:02"), false, 4096, &res),
               -ENOTUNIQ, "409: -ENOTUNIQ");
        is_str(res.error, "HTTP 409: matches groups a and b", "the server's reason");
        is_int(ask(http, &stub, "/refused", LOOKUP_KEY_QUERY, STRV_MAKE("52:54:00:00:00:02"), false, 4096, &res),
               -EBADE, "403: -EBADE");
        is_int(ask(http, &stub, "/broken", LOOKUP_KEY_QUERY, STRV_MAKE("52:54:00:00:00:02"), false, 4096, &res),
               -EREMOTEIO, "503: -EREMOTEIO");
        is_int(ask(http, &stub, "/big", LOOKUP_KEY_QUERY, STRV_MAKE("52:54:00:00:00:02"), false, 4096, &res),
               -EFBIG, "an answer over the limit: -EFBIG");
        is_str(res.error, "an answer larger than 4096 bytes", "said");

        is_int(ask(http, &stub, "/nodes/{mac}.json", LOOKUP_KEY_MAC,
                   STRV_MAKE("52:54:00:00:00:01", "52:54:00:00:00:02", "52:54:00:00:00:04"), false, 4096, &res), 0,
               "the path form: found by the second MAC");
        is_str(res.matched, "mac 52:54:00:00:00:02", "the MAC that matched");
        is_str(res.body, NODE04, "its answer (the third MAC agreed)");
        is_int(res.requests, 3, "every MAC asked");
        is_int(ask(http, &stub, "/nodes/{mac}.json", LOOKUP_KEY_MAC, STRV_MAKE("52:54:00:00:00:02", "52:54:00:00:00:03"),
                   false, 4096, &res), -ENOTUNIQ, "two MACs, two nodes: -ENOTUNIQ");
        ok(startswith(res.error, "mac 52:54:00:00:00:02 and mac 52:54:00:00:00:03 have different configurations"),
           "names both: %s", res.error);
        is_int(ask(http, &stub, "/nodes/{mac}.json", LOOKUP_KEY_MAC, STRV_MAKE("52:54:00:00:00:02"), true, 4096, &res),
               -EBADE, "no signature beside the file: -EBADE");
        ok(strstr(res.error, "no signature at") != NULL, "said: %s", res.error);
        is_int(ask(http, &stub, "/by-uuid/{uuid}.json", LOOKUP_KEY_UUID, NULL, false, 4096, &res), 0, "by UUID");
        is_str(res.matched, "uuid u-1", "matched by the UUID");
        is_int(ask(http, &stub, "/nodes/{mac}.json", LOOKUP_KEY_MAC, NULL, false, 4096, &res), -ENODATA,
               "no MAC to ask by: -ENODATA");

        lookup_result_done(&res);
        http_stub_stop(&stub);
        return tap_done();
}
