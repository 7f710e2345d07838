/* SPDX-License-Identifier: MIT */
#pragma once

/* The value types of the configuration: what kind of text a string member must hold, and the
 * getters that check a member against one and collect a Problem when it does not fit. Every
 * section of the configuration (the top level, the nested sections, "flash") is read through
 * these, so one kind of value gets the same checks and the same messages wherever it appears. */

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "problem.h"

/* Collects r while parsing: out of memory stops the parse, a problem (-EINVAL, already added to
 * the list) does not, so one pass finds every problem. */
#define KEEP_GOING(r)                           \
        do {                                    \
                int _r_ = (r);                  \
                if (_r_ == -ENOMEM)             \
                        return _r_;             \
        } while (0)

/* What kind of text a string member must hold. check() returns true when s is fine; otherwise it
 * may point *ret_hint at a fixed text, and set *ret_hide when the value must not be repeated in
 * the problem (a URL with a password in it). */
typedef struct ValueType {
        const char *expected;
        bool (*check)(const char *s, const char **ret_hint, bool *ret_hide);
} ValueType;

extern const ValueType config_value_url;          /* http(s)://HOST[:PORT][/PATH] */
extern const ValueType config_value_host_port;    /* HOST:PORT, [V6]:PORT */
extern const ValueType config_value_path;         /* absolute file system path */
extern const ValueType config_value_node_id;      /* [A-Za-z0-9._-]{1,63} */
extern const ValueType config_value_name;         /* any non-empty single-line text */
extern const ValueType config_value_hostname;     /* DNS name */
extern const ValueType config_value_ip;           /* IPv4 or IPv6 literal */
extern const ValueType config_value_cidr;         /* ADDRESS/PREFIX */
extern const ValueType config_value_api_path;     /* "/admin/users" */
extern const ValueType config_value_user_path;    /* "/admin/users/{user}" */
extern const ValueType config_value_dev_path;     /* "/dev/nvme0n1", "/dev/disk/by-id/…" */
extern const ValueType config_value_led;          /* an entry of /sys/class/leds: no '/' */
extern const ValueType config_value_sha256;       /* 64 hexadecimal digits */
extern const ValueType config_value_unit;         /* "etcd.service" */

/* A string member checked against a value type, as a new string in *ret. Returns 1 when present
 * and valid, 0 when absent (a problem is added when required), -EINVAL after adding a problem,
 * -ENOMEM. */
int config_get_value(json_t *obj, const char *path, const char *key, const ValueType *t,
                     bool required, char **ret, ProblemList *problems);
/* An array of such strings. An empty array gives an empty (non-NULL) list. */
int config_get_value_list(json_t *obj, const char *path, const char *key, const ValueType *t,
                          char ***ret, ProblemList *problems);
/* Sets *field to a copy of value unless it is set already (or value is NULL). 0 or -ENOMEM. */
int config_set_default(char **field, const char *value);
/* A command line: an array of strings whose first is an absolute path (a start_command). */
int config_get_command(json_t *obj, const char *path, const char *key, char ***ret, ProblemList *problems);
/* A string member that must be one of names[0..n) (a NULL entry is skipped); *ret is the index. */
int config_get_enum(json_t *obj, const char *path, const char *key, const char *const *names,
                    size_t n, bool required, int *ret, ProblemList *problems);

/* An optional integer member in [min, max] (unit, such as "seconds", is added to the expected
 * text). *ret keeps its default when the member is absent or invalid; *ret_explicit (may be
 * NULL) tells whether the file set it. Returns like config_get_value(). */
int config_get_integer(json_t *obj, const char *path, const char *key, int64_t min, int64_t max,
                       const char *unit, int64_t *ret, bool *ret_explicit, ProblemList *problems);

/* "PATH.KEY: expected EXPECTED (WHY), found nothing". */
int config_add_missing(ProblemList *problems, const char *path, const char *key,
                       const char *expected, const char *why);

/* Splits a URL that passed config_value_url into host (without brackets) and port (0 when the
 * URL names none). */
int config_url_host(const char *url, char **ret_host, uint16_t *ret_port);
