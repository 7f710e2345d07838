/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "macro.h"
#include "tap.h"
#include "url.h"

/* Server URLs from answers: what is taken, what is refused and why. */

static void test_good(void) {
        Url u;

        is_int(url_parse("http://10.0.1.12:2380", URL_PORT_NEEDED, &u, NULL), 0, "http, IPv4, port");
        ok(!u.https && streq(u.host, "10.0.1.12") && u.port == 2380 && u.has_port, "parts");
        is_int(url_parse("https://node02.example:2380/", URL_PORT_NEEDED, &u, NULL), 0, "https, name, trailing slash");
        ok(u.https && streq(u.host, "node02.example") && u.port == 2380, "parts");
        is_int(url_parse("HTTPS://[fd00::12]:2379", URL_PORT_NEEDED, &u, NULL), 0, "scheme in capitals, IPv6");
        ok(u.https && streq(u.host, "fd00::12") && u.port == 2379, "parts, without brackets");
        is_int(url_parse("https://leader.example", 0, &u, NULL), 0, "no port when not needed");
        is_int(u.port, 443, "https's default port");
        ok(!u.has_port, "marked as not named");
        is_int(url_parse("http://a.example/v3/x", URL_PATH_OK, &u, NULL), 0, "a path when allowed");
        is_int(u.port, 80, "http's default port");
        is_int(url_parse("http://a:1", URL_PORT_NEEDED, NULL, NULL), 0, "NULL ret and why");
}

static void test_bad(void) {
        static const struct {
                const char *url;
                const char *why;
        } bad[] = {
                { "http://127.0.0.1:2380\nETCD_AUTH_TOKEN=simple", "control character" },
                { "http://127.0.0.1:2380\r", "control character" },
                { "http://127.0.0.1:23\x1b[2J80", "control character" },
                { "http://127.0.0.1:2380\x7f", "control character" },
                { "http://h\xc3\xa9:2380", "not ASCII" },
                { "http://a b:2380", "space" },
                { "http://a:2380\"x", "quote" },
                { "http://a:2380'", "quote" },
                { "http://a:2380`id`", "quote" },
                { "http://a\\b:2380", "backslash" },
                { "http://a:2380,http://b:2380", "comma" },
                { "ftp://a:2380", "not an http" },
                { "a:2380", "not an http" },
                { "javascript:alert(1)", "not an http" },
                { "http://", "no host" },
                { "http://:2380", "no host" },
                { "http://user:pw@a:2380", "user information" },
                { "http://a_b:2380", "neither a DNS name" },
                { "http://[fd00::1:2380", "closing" },
                { "http://[10.0.0.1]:2380", "neither a DNS name" },
                { "http://a:0", "port" },
                { "http://a:65536", "port" },
                { "http://a:x", "port" },
                { "http://a:", "port" },
                { "http://a", "no port" },
                { "http://a:2380/path", "path" },
                { "http://a:2380?q=1", "query" },
                { "http://a:2380/#f", "query" },
        };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                const char *why = NULL;

                is_int(url_parse(bad[i].url, URL_PORT_NEEDED, NULL, &why), -EINVAL, "refused: URL %zu", i);
                ok(why && strstr(why, bad[i].why), "why: %s (%s)", why ? why : "(none)", bad[i].why);
        }
        is_int(url_parse(NULL, 0, NULL, NULL), -EINVAL, "NULL");
}

static void test_same_server(void) {
        ok(url_same_server("https://a:2379", "https://A:2379/"), "host in any case, trailing slash");
        ok(url_same_server("https://a", "https://a:443/x"), "default port");
        ok(!url_same_server("https://a:2379", "http://a:2379"), "another scheme");
        ok(!url_same_server("https://a:2379", "https://a:2380"), "another port");
        ok(!url_same_server("https://a:2379", "https://b:2379"), "another host");
        ok(!url_same_server("https://a:2379", "https://a:2379\n"), "one that does not parse");
}

int main(void) {
        test_good();
        test_bad();
        test_same_server();
        return tap_done();
}
