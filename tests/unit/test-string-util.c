/* SPDX-License-Identifier: MIT */
#include <errno.h>

#include "cleanup.h"
#include "string-util.h"
#include "tap.h"

int main(void) {
        static const char *const keys[] = { "bootstrap", "node_id", "leader_url", "rack", NULL };
        _cleanup_free_ char *host = NULL;
        uint16_t port = 0;
        uint64_t u;

        is_int(levenshtein("kitten", "sitting"), 3, "levenshtein");
        is_int(levenshtein("", "abc"), 3, "levenshtein empty");
        is_str(nearest_string("bootstap", keys), "bootstrap", "typo finds nearest");
        is_str(nearest_string("leader-url", keys), "leader_url", "dash for underscore");
        is_str(nearest_string("zzzzzzzz", keys), NULL, "nothing near");

        is_int(parse_port("2379", &port), 0, "port");
        is_int(port, 2379, "port value");
        is_int(parse_port("0", &port), -ERANGE, "port 0");
        is_int(parse_port("65536", &port), -ERANGE, "port too large");
        is_int(parse_port("12a", &port), -EINVAL, "port junk");
        is_int(parse_port("-1", &port), -EINVAL, "port sign");
        is_int(parse_uint64("18446744073709551616", &u), -ERANGE, "u64 overflow");

        is_int(parse_host_port("10.0.1.13:2380", &host, &port), 0, "ipv4:port");
        is_str(host, "10.0.1.13", "host");
        is_int(port, 2380, "port");
        free(host);
        host = NULL;
        is_int(parse_host_port("[fd00::1]:2380", &host, &port), 0, "[v6]:port");
        is_str(host, "fd00::1", "v6 host");
        free(host);
        host = NULL;
        is_int(parse_host_port("node01:2380", &host, &port), 0, "name:port");
        is_int(parse_host_port("fd00::1:2380", &host, &port), -EINVAL, "bare v6 is ambiguous");
        is_int(parse_host_port("node01", &host, &port), -EINVAL, "no port");
        is_int(parse_host_port(":2380", &host, &port), -EINVAL, "no host");
        is_int(parse_host_port("no de:2380", &host, &port), -EINVAL, "bad host");

        ok(is_cidr("10.0.0.0/8"), "v4 cidr");
        ok(is_cidr("fd00::/64"), "v6 cidr");
        ok(!is_cidr("10.0.0.0/33"), "v4 prefix too long");
        ok(!is_cidr("10.0.0.0"), "no prefix");
        ok(!is_cidr("10.0.0/8"), "bad address");
        ok(is_hostname("node01.prod.example.com"), "fqdn");
        ok(!is_hostname("node..x"), "empty label");
        is_str(FMT_U64(18446744073709551615ULL), "18446744073709551615", "FMT_U64");
        is_str(FMT_INT(-5), "-5", "FMT_INT");
        ok(startswith("https://x", "https://") && !startswith("http", "https"), "startswith");
        ok(endswith("a.json", ".json") && !endswith("n", ".json"), "endswith");

        {
                _cleanup_free_ char *u1 = url_join("http://h:1///", "/x"), *u2 = url_join("http://h:1", "/x"),
                                    *u3 = url_join("http://h:1/", "admin/users"), *e = url_escape("a b/ä~x");

                is_str(u1, "http://h:1/x", "url join drops trailing slashes");
                is_str(u2, "http://h:1/x", "url join");
                is_str(u3, "http://h:1/admin/users", "url join adds the slash a path lacks");
                is_str(e, "a%20b%2F%C3%A4~x", "url escape keeps only unreserved characters");
                is_str(FMT_BYTES(512), "512 B", "bytes");
                is_str(FMT_BYTES(1536), "1.5 KiB", "KiB");
                is_str(FMT_BYTES(2147483648ULL), "2.0 GiB", "GiB");
        }
        {
                char *out = NULL;
                size_t size = 0;
                FILE *f = open_memstream(&out, &size);

                string_json_escape(f, "a\"b\\c\n\t\x01\x7f\xc2\x9b[31m", false);
                fputc('|', f);
                string_json_escape(f, "a\"b\\c\n\t\x01\x7f\xc2\x9b[31m", true);
                fclose(f);
                is_str(out, "a\\\"b\\\\c\\n\\t\\u0001\x7f\xc2\x9b[31m|a\\\"b\\\\c\\n\\t\\u0001\\u007f\\u009b[31m",
                       "JSON escaping as serializers write it, and terminal-safe (DEL, C1)");
                free(out);
        }
        return tap_done();
}
