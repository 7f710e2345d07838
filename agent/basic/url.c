/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "macro.h"
#include "string-util.h"
#include "url.h"

static int fail(const char **ret_why, const char *why) {
        if (ret_why)
                *ret_why = why;
        return -EINVAL;
}

int url_parse(const char *url, unsigned flags, Url *ret, const char **ret_why) {
        const char *p, *host, *host_end, *end;
        char port_text[8];
        bool bracketed;
        Url u = {};
        size_t n;

        if (!url)
                return fail(ret_why, "no URL");
        for (p = url; *p; p++) {
                unsigned char c = (unsigned char) *p;

                if (c < 0x20 || c == 0x7f)
                        return fail(ret_why, "it contains a control character");
                if (c >= 0x80)
                        return fail(ret_why, "it contains a byte that is not ASCII");
                if (c == ' ')
                        return fail(ret_why, "it contains a space");
                if (strchr("\"'`\\", c))
                        return fail(ret_why, "it contains a quote or a backslash");
                if (c == ',')
                        return fail(ret_why, "it contains a comma");
        }

        if (strncasecmp(url, "https://", 8) == 0) {
                u.https = true;
                p = url + 8;
        } else if (strncasecmp(url, "http://", 7) == 0)
                p = url + 7;
        else
                return fail(ret_why, "it is not an http:// or https:// URL");

        end = p + strcspn(p, "/?#");
        if (memchr(p, '@', (size_t) (end - p)))
                return fail(ret_why, "it carries user information (user@host)");
        bracketed = *p == '[';
        if (bracketed) {
                host = p + 1;
                host_end = memchr(host, ']', (size_t) (end - host));
                if (!host_end)
                        return fail(ret_why, "its IPv6 address has no closing ']'");
                p = host_end + 1;
        } else {
                host = p;
                host_end = p + strcspn(p, ":/?#");
                p = host_end;
        }
        n = (size_t) (host_end - host);
        if (n == 0)
                return fail(ret_why, "it names no host");
        if (n >= sizeof u.host)
                return fail(ret_why, "its host name is too long");
        memcpy(u.host, host, n);
        u.host[n] = '\0';
        if (bracketed ? !strchr(u.host, ':') || !is_ip_address(u.host)
                            : !is_ip_address(u.host) && !is_hostname(u.host))
                return fail(ret_why, "its host is neither a DNS name nor an IP address");

        if (*p == ':') {
                n = (size_t) (end - (p + 1));
                if (n == 0 || n >= sizeof port_text)
                        return fail(ret_why, "its port is not a number in 1..65535");
                memcpy(port_text, p + 1, n);
                port_text[n] = '\0';
                if (parse_port(port_text, &u.port) < 0)
                        return fail(ret_why, "its port is not a number in 1..65535");
                u.has_port = true;
        } else if (p != end)
                return fail(ret_why, "its host is neither a DNS name nor an IP address");
        else if (flags & URL_PORT_NEEDED)
                return fail(ret_why, "it names no port");
        else
                u.port = u.https ? 443 : 80;

        if (*end == '?' || *end == '#' || strpbrk(end, "?#"))
                return fail(ret_why, "it has a query or a fragment");
        if (!(flags & URL_PATH_OK) && *end && !streq(end, "/"))
                return fail(ret_why, "it has a path (a server's address has none)");

        if (ret)
                *ret = u;
        return 0;
}

bool url_same_server(const char *a, const char *b) {
        Url x, y;

        if (url_parse(a, URL_PATH_OK, &x, NULL) < 0 || url_parse(b, URL_PATH_OK, &y, NULL) < 0)
                return false;
        return x.https == y.https && x.port == y.port && strcasecmp(x.host, y.host) == 0;
}
