/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* URLs of servers as an answer names them (a member's peer URL, a "not the leader" hint): checked
 * before the agent writes one into a file or sends anything to it. Only http:// and https://;
 * nothing a file, a shell or a log line would read as more than a URL.
 *
 *   https://node02.example:2380        scheme, host, port
 *   http://10.0.1.12:2380/             a trailing '/' is no path
 *   https://[fd00::12]:2379/v3         a path, when URL_PATH_OK */

typedef struct Url {
        bool https;
        char host[256];                 /* as written, without the brackets of an IPv6 literal */
        uint16_t port;                  /* the scheme's default (80, 443) when the URL has none */
        bool has_port;                  /* the URL named it */
} Url;

#define URL_PORT_NEEDED (1U << 0)       /* "http://host" alone is refused */
#define URL_PATH_OK (1U << 1)           /* a path after the authority is allowed */

/* Parses url into ret: 0, or -EINVAL with *ret_why (a static text) saying what is wrong: not
 * http(s), user info, no host, a host that is neither a DNS name nor an IP literal, a bad
 * port, a path (without URL_PATH_OK), a query or fragment, whitespace, a control or non-ASCII
 * byte, a quote, a backslash, a comma. ret and ret_why may be NULL. */
int url_parse(const char *url, unsigned flags, Url *ret, const char **ret_why);

/* True when a and b name the same server: scheme, host (any case) and port (defaults
 * applied). False when either does not parse. */
bool url_same_server(const char *a, const char *b);
