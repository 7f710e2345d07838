/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>

bool startswith(const char *s, const char *prefix);
bool endswith(const char *s, const char *suffix);

/* Edit distance, for "did you mean" hints. Strings longer than 64 bytes count as far apart. */
size_t levenshtein(const char *a, const char *b);
/* The candidate nearest to s, or NULL when none is within a useful distance. */
const char *nearest_string(const char *s, const char *const *candidates);

/* Strict decimal parsing: the whole string, no sign, no overflow. */
int parse_uint64(const char *s, uint64_t *ret);
/* The same in hexadecimal, without "0x" ("8e9e05c52164694d", as etcd names members). */
int parse_uint64_hex(const char *s, uint64_t *ret);
int parse_port(const char *s, uint16_t *ret);

/* Splits "host:port" or "[v6]:port" (an IPv6 address only in brackets, a host name or an
 * address). ret_host is a new string; either may be NULL. */
int parse_host_port(const char *s, char **ret_host, uint16_t *ret_port);
/* The same where the port may be missing ("host", "[v6]"): *ret_port is 0 then. */
int parse_host_optional_port(const char *s, bool port_required, char **ret_host, uint16_t *ret_port);
/* True for an IPv4 or IPv6 literal. */
bool is_ip_address(const char *s);
/* True for "localhost", 127.0.0.0/8 and ::1: this machine. */
bool is_loopback_host(const char *host);
/* True for a DNS name made of letters, digits, '-' and '.'. */
bool is_hostname(const char *s);
/* "10.0.0.0/8", "fd00::/64". */
bool is_cidr(const char *s);

/* Formats an integer into the buffer and returns it, for log fields: FMT_U64(x). */
const char *format_u64(char buf[static 24], uint64_t v);
const char *format_i64(char buf[static 24], int64_t v);
#define FMT_U64(v) format_u64((char[24]){}, (uint64_t) (v))
#define FMT_INT(v) format_i64((char[24]){}, (int64_t) (v))

/* "1.5 GiB" into buf, for people: binary units, one decimal. */
const char *format_bytes(uint64_t n, char buf[static 32]);
#define FMT_BYTES(n) format_bytes((n), (char[32]){})

/* Percent-encodes everything but RFC 3986's unreserved characters, for one URL path segment.
 * A new string, NULL on OOM. */
char *url_escape(const char *s);

/* base without its trailing slashes, then path (a '/' between them when path lacks one). A new
 * string, NULL on OOM. */
char *url_join(const char *base, const char *path);

/* True when s holds what a terminal would act on instead of showing: a C0 control character
 * (below 0x20, newline and tab among them), DEL, or a C1 control (U+0080..U+009F as UTF-8, among
 * them CSI and OSC, the escape sequences' introducers). */
bool string_has_control(const char *s);

/* Replaces, in place, what a terminal would act on instead of showing: control characters (C0,
 * DEL, and C1 as UTF-8, among them the escape sequences' introducers) become '?'. Returns s. */
char *string_make_printable(char *s);

/* Writes s as the content of a JSON string (no quotes): '"' and '\\' escaped, control characters
 * as \n, \t, … or \uXXXX, as JSON serializers write them. terminal_safe: DEL and the C1
 * controls (U+0080..U+009F) escaped too, so that a terminal showing the line does not act on
 * them. */
void string_json_escape(FILE *f, const char *s, bool terminal_safe);
/* The same as a new string (NULL on OOM), to quote a server's value in a message: a newline
 * shows as \n, an escape as \u001b. */
char *string_escape(const char *s);
