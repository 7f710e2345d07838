/* SPDX-License-Identifier: MIT */
#pragma once

/* Shared between config.c (entry points, top-level fields), config-sections.c (the nested
 * sections), config-value.c (checks of one string value) and config-resolve.c (derived URLs and
 * addresses). Not for use outside these files. */

#include <jansson.h>

#include "config.h"

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

/* Everything the parser knows beyond the Config itself, for checks across fields. */
typedef struct ConfigParser {
        Config *config;
        ProblemList *problems;
        int bootstrap;                          /* 1, 0, or -1 when missing or not a boolean */
        uint16_t raft_addr_port;                /* port of raft_addr, 0 when it is not valid */
        bool explicit_api_port[_SERVICE_MAX];
        bool explicit_raft_port[_SERVICE_MAX];
} ConfigParser;

/* A string member checked against a value type, as a new string in *ret. Returns 1 when present
 * and valid, 0 when absent (a problem is added when required), -EINVAL after adding a problem,
 * -ENOMEM. */
int config_get_value(json_t *obj, const char *path, const char *key, const ValueType *t,
                     bool required, char **ret, ProblemList *problems);
/* An array of such strings. An empty array gives an empty (non-NULL) list. */
int config_get_value_list(json_t *obj, const char *path, const char *key, const ValueType *t,
                          char ***ret, ProblemList *problems);
/* A string member that must be one of names[0..n) (a NULL entry is skipped); *ret is the index. */
int config_get_enum(json_t *obj, const char *path, const char *key, const char *const *names,
                    size_t n, bool required, int *ret, ProblemList *problems);

/* "PATH.KEY: expected EXPECTED (WHY), found nothing". */
int config_add_missing(ProblemList *problems, const char *path, const char *key,
                       const char *expected, const char *why);

/* Splits a URL that passed config_value_url into host (without brackets) and port (0 when the
 * URL names none). */
int config_url_host(const char *url, char **ret_host, uint16_t *ret_port);

/* config-sections.c: "services", "tls", "network", "timeouts", "iam", "health_check", "report". */
int config_parse_sections(ConfigParser *p, json_t *root);

/* config-resolve.c: fills in every default that depends on other fields. Only called on a
 * configuration without problems; fails only for lack of memory. */
int config_resolve(Config *c);
