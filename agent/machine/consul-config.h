/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

/* The configuration file of a Consul client agent, in Consul's JSON form, for its configuration
 * directory (consul agent -config-dir=/etc/consul.d reads every *.json there). Never logs.
 *
 *   {
 *     "server": false,
 *     "datacenter": "dc1",
 *     "node_name": "node07",
 *     "node_id": "890d4f4c-118d-8eb9-babf-6e3a3d06f992",
 *     "data_dir": "/opt/consul",
 *     "bind_addr": "10.0.1.17",
 *     "retry_join": ["10.0.1.10", "10.0.1.11"],
 *     "encrypt": "…gossip key…",
 *     "acl": {"enabled": true, "tokens": {"agent": "…"}}
 *   }
 *
 * node_id is pinned (derive_uuid()): Consul otherwise makes up a random one at its first start,
 * and a re-installed node under its old name is then refused by the servers ("Node name … is
 * reserved by node …"). The gossip key and the agent's ACL token are secrets: the file is
 * written 0600 (the unit's user must be given read access by whoever starts Consul as another
 * user). */

#define CONSUL_CONFIG_DIR "/etc/consul.d"
#define CONSUL_CONFIG_NAME "first-boot-agent.json"

typedef struct ConsulConfig {
        const char *datacenter;         /* or NULL: Consul's default ("dc1") */
        const char *node_name;
        const char *node_id;            /* a UUID */
        const char *data_dir;
        const char *bind_addr;          /* or NULL: Consul picks the private address */
        char *const *retry_join;        /* addresses or go-discover strings, at least one */
        const char *encrypt;            /* the gossip key, or NULL */
        const char *agent_token;        /* acl.tokens.agent (and acl.enabled), or NULL */
} ConsulConfig;

/* The file's text, as a new string. -EINVAL for a missing or empty required field (node_name,
 * node_id, data_dir, retry_join), a value with a control character, or a node_id that is not a
 * UUID, its key in *ret_bad (may be NULL); -ENOMEM. */
int consul_config_format(const ConsulConfig *c, char **ret, const char **ret_bad);

/* Writes dir/name atomically, mode 0600, creating dir (0755). 1 when the file changed, 0 when it
 * already held text. */
int consul_config_write(const char *dir, const char *name, const char *text);
