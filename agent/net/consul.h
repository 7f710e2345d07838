/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "http.h"

/* The local Consul agent's HTTP API (http://127.0.0.1:8500 by default): is there a leader, and is
 * this node in the catalog with its Serf health check passing — the two answers that make a node
 * a member. The ACL token, when given, goes in X-Consul-Token. Never logs.
 *
 *   GET /v1/status/leader          "10.0.1.10:8300", or "" while there is none
 *   GET /v1/catalog/node/NAME      {"Node": {"ID", "Node", "Address", …}, "Services": …}, or null
 *   GET /v1/health/node/NAME       [{"CheckID": "serfHealth", "Status": "passing", "Output", …}] */

#define CONSUL_HTTP_ADDR "http://127.0.0.1:8500"

/* 1 with the leader's address in *ret_leader (may be NULL), 0 while there is none. -EACCES for
 * 401/403 (the token is refused), -EREMOTEIO for 5xx, -EPROTO for another status or an answer that
 * is not a JSON string; the transport's errors (http.h). error (may be NULL) gets the server's or
 * the transport's text. */
int consul_leader(HttpClient *c, const char *base, const char *token, char **ret_leader, char *error,
                  size_t error_size);

typedef struct ConsulNodeStatus {
        bool registered;                /* the catalog knows NAME */
        char node_id[40];               /* the ID it is registered under */
        char address[64];
        bool serf_passing;              /* its serfHealth check is "passing" */
        char serf_status[16];           /* "passing", "critical", …, "" when there is no check */
        char serf_output[256];
} ConsulNodeStatus;

/* The catalog's entry for name and its serfHealth check. Errors as consul_leader()'s (Consul
 * answers 500 "No cluster leader" while it has none). */
int consul_node_get(HttpClient *c, const char *base, const char *token, const char *name,
                    ConsulNodeStatus *ret, char *error, size_t error_size);

/* The command an operator runs to free name in the catalog once the machine that held it is gone
 * for good: "consul force-leave -prune NAME". A new string; -EINVAL for a name that is not a DNS
 * label sequence (it goes into a shell command), -ENOMEM. */
int consul_stale_command(const char *name, char **ret);
