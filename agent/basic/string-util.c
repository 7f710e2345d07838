/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cleanup.h"
#include "string-util.h"

bool startswith(const char *s, const char *prefix) {
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool endswith(const char *s, const char *suffix) {
        size_t a = strlen(s), b = strlen(suffix);

        return a >= b && memcmp(s + a - b, suffix, b) == 0;
}

size_t levenshtein(const char *a, const char *b) {
        size_t la = strlen(a), lb = strlen(b);
        size_t row[65];

        if (la > 64 || lb > 64)
                return SIZE_MAX;
        for (size_t j = 0; j <= lb; j++)
                row[j] = j;
        for (size_t i = 1; i <= la; i++) {
                size_t diag = row[0];

                row[0] = i;
                for (size_t j = 1; j <= lb; j++) {
                        size_t up = row[j];
                        size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;

                        row[j] = MIN(MIN(row[j] + 1, row[j - 1] + 1), diag + cost);
                        diag = up;
                }
        }
        return row[lb];
}

const char *nearest_string(const char *s, const char *const *candidates) {
        const char *best = NULL;
        size_t best_d = SIZE_MAX, limit;

        /* A third of the length, at least 2: "bootstap" → "bootstrap", but not "x" → "rack". */
        limit = MAX(strlen(s) / 3, (size_t) 2);
        for (const char *const *c = candidates; c && *c; c++) {
                size_t d = levenshtein(s, *c);

                if (d < best_d) {
                        best_d = d;
                        best = *c;
                }
        }
        return best_d <= limit ? best : NULL;
}

int parse_uint64(const char *s, uint64_t *ret) {
        char *end;
        unsigned long long v;

        if (!s || !isdigit((unsigned char) s[0]))
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno == ERANGE)
                return -ERANGE;
        if (*end != '\0')
                return -EINVAL;
        *ret = v;
        return 0;
}

int parse_uint64_hex(const char *s, uint64_t *ret) {
        char *end;
        unsigned long long v;

        if (!s || !isxdigit((unsigned char) s[0]))
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 16);
        if (errno == ERANGE)
                return -ERANGE;
        if (*end != '\0')
                return -EINVAL;
        *ret = v;
        return 0;
}

int parse_port(const char *s, uint16_t *ret) {
        uint64_t v;
        int r;

        r = parse_uint64(s, &v);
        if (r < 0)
                return r;
        if (v == 0 || v > 65535)
                return -ERANGE;
        *ret = (uint16_t) v;
        return 0;
}

int parse_host_optional_port(const char *s, bool port_required, char **ret_host, uint16_t *ret_port) {
        const char *colon = NULL, *host_start = s, *host_end;
        uint16_t port = 0;
        char *host;
        int r;

        if (s[0] == '[') {
                host_start = s + 1;
                host_end = strchr(s, ']');
                if (!host_end)
                        return -EINVAL;
                if (host_end[1] == ':')
                        colon = host_end + 1;
                else if (host_end[1] != '\0')
                        return -EINVAL;
        } else {
                /* An IPv6 address needs its brackets: "fd00::1:2380" is ambiguous. */
                colon = strchr(s, ':');
                if (colon && strchr(colon + 1, ':'))
                        return -EINVAL;
                host_end = colon ? colon : s + strlen(s);
        }
        if (host_end == host_start)
                return -EINVAL;
        if (colon) {
                r = parse_port(colon + 1, &port);
                if (r < 0)
                        return r;
        } else if (port_required)
                return -EINVAL;
        host = strndup(host_start, (size_t) (host_end - host_start));
        if (!host)
                return -ENOMEM;
        if (s[0] == '[' ? !strchr(host, ':') || !is_ip_address(host) : !is_ip_address(host) && !is_hostname(host)) {
                free(host);
                return -EINVAL;
        }
        if (ret_host)
                *ret_host = host;
        else
                free(host);
        if (ret_port)
                *ret_port = port;
        return 0;
}

int parse_host_port(const char *s, char **ret_host, uint16_t *ret_port) {
        return parse_host_optional_port(s, true, ret_host, ret_port);
}

bool is_ip_address(const char *s) {
        unsigned char buf[sizeof(struct in6_addr)];

        return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

bool is_hostname(const char *s) {
        size_t n = strlen(s), label = 0;

        if (n == 0 || n > 253 || s[0] == '.' || s[0] == '-')
                return false;
        for (const char *p = s; *p; p++) {
                if (*p == '.') {
                        if (label == 0)
                                return false;
                        label = 0;
                        continue;
                }
                if (!isalnum((unsigned char) *p) && *p != '-')
                        return false;
                if (++label > 63)
                        return false;
        }
        return true;
}

bool is_cidr(const char *s) {
        _cleanup_free_ char *addr = NULL;
        const char *slash = strchr(s, '/');
        unsigned char buf[sizeof(struct in6_addr)];
        uint64_t prefix;
        int family;

        if (!slash)
                return false;
        addr = strndup(s, (size_t) (slash - s));
        if (!addr)
                return false;
        if (inet_pton(AF_INET, addr, buf) == 1)
                family = AF_INET;
        else if (inet_pton(AF_INET6, addr, buf) == 1)
                family = AF_INET6;
        else
                return false;
        if (parse_uint64(slash + 1, &prefix) < 0)
                return false;
        return prefix <= (family == AF_INET ? 32U : 128U);
}

const char *format_u64(char buf[static 24], uint64_t v) {
        snprintf(buf, 24, "%" PRIu64, v);
        return buf;
}

const char *format_i64(char buf[static 24], int64_t v) {
        snprintf(buf, 24, "%" PRId64, v);
        return buf;
}

const char *format_bytes(uint64_t n, char buf[static 32]) {
        static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
        double v = (double) n;
        size_t u = 0;

        while (v >= 1024 && u < ELEMENTSOF(units) - 1) {
                v /= 1024;
                u++;
        }
        if (u == 0)
                snprintf(buf, 32, "%" PRIu64 " B", n);
        else
                snprintf(buf, 32, "%.1f %s", v, units[u]);
        return buf;
}

/* Percent-encodes everything but RFC 3986's unreserved characters. */
char *url_escape(const char *s) {
        static const char hex[] = "0123456789ABCDEF";
        size_t n = strlen(s);
        char *e, *o;

        e = malloc(n * 3 + 1);
        if (!e)
                return NULL;
        o = e;
        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
                    *p == '-' || *p == '.' || *p == '_' || *p == '~')
                        *o++ = (char) *p;
                else {
                        *o++ = '%';
                        *o++ = hex[*p >> 4];
                        *o++ = hex[*p & 15];
                }
        }
        *o = 0;
        return e;
}

char *url_join(const char *base, const char *path) {
        size_t n = strlen(base);
        char *u;

        while (n > 0 && base[n - 1] == '/')
                n--;
        if (asprintf(&u, "%.*s%s%s", (int) n, base, path[0] == '/' || !path[0] ? "" : "/", path) < 0)
                return NULL;
        return u;
}

bool is_loopback_host(const char *host) {
        struct in_addr a4;

        if (strcasecmp(host, "localhost") == 0 || streq(host, "::1") || streq(host, "[::1]"))
                return true;
        return inet_pton(AF_INET, host, &a4) == 1 && (ntohl(a4.s_addr) >> 24) == 127;
}

bool string_has_control(const char *s) {
        for (const unsigned char *p = (const unsigned char *) s; p && *p; p++)
                if (*p < ' ' || *p == 0x7F || (*p == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F))
                        return true;
        return false;
}

char *string_make_printable(char *s) {
        for (unsigned char *p = (unsigned char *) s; p && *p; p++)
                if (*p < ' ' || *p == 0x7F)
                        *p = '?';
                else if (*p == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F)
                        p[0] = p[1] = '?';
        return s;
}

void string_json_escape(FILE *f, const char *s, bool terminal_safe) {
        for (const unsigned char *p = (const unsigned char *) s; *p; p++)
                switch (*p) {
                case '"':
                        fputs("\\\"", f);
                        break;
                case '\\':
                        fputs("\\\\", f);
                        break;
                case '\n':
                        fputs("\\n", f);
                        break;
                case '\r':
                        fputs("\\r", f);
                        break;
                case '\t':
                        fputs("\\t", f);
                        break;
                case '\b':
                        fputs("\\b", f);
                        break;
                case '\f':
                        fputs("\\f", f);
                        break;
                default:
                        if (*p < 0x20 || (terminal_safe && *p == 0x7F))
                                fprintf(f, "\\u%04x", *p);
                        else if (terminal_safe && *p == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F) {
                                fprintf(f, "\\u%04x", p[1]);
                                p++;
                        } else
                                fputc(*p, f);
                }
}

char *string_escape(const char *s) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        if (!f)
                return NULL;
        string_json_escape(f, s, true);
        if (fclose(f) != 0) {
                free(buf);
                return NULL;
        }
        return buf;
}
