/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

/* The two files k3s reads at start that the agent writes before it: its configuration, each
 * key the long name of a command-line flag (k3s's --config), and the node password it presents
 * when the node registers. Never logs.
 *
 *   server: "https://10.0.1.10:6443"
 *   token-file: "/etc/first-boot-agent/secrets/k3s-token"
 *   node-name: "node07"
 *   node-ip: "10.0.1.17"
 *   node-label:
 *   - "rack=r3"
 *   node-taint:
 *   - "dedicated=storage:NoSchedule"
 *
 * Written with libyaml's emitter; every value double-quoted, so that "true" or "0123" stay the
 * strings they are. The token itself never enters the file: token-file points at the secret. */

#define K3S_CONFIG_PATH "/etc/rancher/k3s/config.yaml"
#define K3S_NODE_PASSWORD_PATH "/etc/rancher/node/password"

typedef struct K3sConfig {
        const char *server;             /* "https://HOST:6443" */
        const char *token_file;
        const char *node_name;
        const char *node_ip;            /* or NULL */
        char *const *node_labels;       /* "KEY=VALUE" each, or NULL */
        char *const *node_taints;       /* "KEY=VALUE:EFFECT" each, or NULL */
} K3sConfig;

/* The file's text, as a new string. -EINVAL for a missing required field (server, token-file,
 * node-name) or a value that is empty or holds a control character, its key in *ret_bad (may be
 * NULL); -ENOMEM. */
int k3s_config_format(const K3sConfig *c, char **ret, const char **ret_bad);

/* Writes text to path atomically, mode 0600, creating its directory (0755). 1 when the file
 * changed, 0 when it already held text. */
int k3s_config_write(const char *path, const char *text);

/* Writes the node password (followed by a newline, as k3s writes the one it makes up) to path
 * atomically, mode 0600, creating its directory (0700). 1 when it changed, 0 when the file held
 * that password already (k3s compares it with blanks trimmed). */
int k3s_node_password_write(const char *path, const char *password);
