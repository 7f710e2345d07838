/* SPDX-License-Identifier: MIT */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "cleanup.h"
#include "time-util.h"

typedef struct ConfigParser ConfigParser;   /* config-parser.h */

/* The "provisioning" section: where a node whose image carries no identity looks itself up.
 *
 *   "provisioning": {
 *     "url": "https://prov.example:8443/v1/node",   // query form: ?mac=…&uuid=…&serial=…
 *            // or "https://prov.example/nodes/{mac}.json": one request per value ({mac},
 *            // {uuid} or {serial}), what a static web server keyed by MAC can answer
 *     "ca_cert_path": "/etc/nixos/secrets/ca.crt",  // default: tls.ca_cert_path
 *     "public_key": "/etc/first-boot-agent/provisioning.pub",  // answers must be signed
 *     "max_size": 65536,           // bytes an answer may have
 *     "wait_s": 0,                 // how long an unknown node keeps asking; 0: until known
 *     "retry_max_s": 60,           // the longest wait between two lookups
 *     "hostname": true,            // set the host name from node_fqdn, else node_id
 *     "allow": [".services.*.health_url"]  // what answers may change beyond the default
 *   }
 *
 * An answer comes over verified HTTPS, or signed: a URL that is not https:// needs public_key
 * (a problem otherwise, loopback included), since an answer configures the node. What an answer
 * may change is config-answer-policy.h's; which machine a signed one is for, and until when,
 * config-answer-binding.h's.
 *
 * first_boot_agent.metadata_url=URL on the kernel command line sets the URL, and creates the
 * section when the file has none. A configuration with this section (or that command line) and
 * without node_id is a template: the fields that name one node (node_id, node_role, bootstrap,
 * cluster_name, raft_addr) are then optional, since the server's answer completes them. */

#define PROVISIONING_CMDLINE_KEY "first_boot_agent.metadata_url"
#define PROVISIONING_MAX_SIZE_DEFAULT (64U * 1024U)

typedef enum ProvisioningKey {
        PROVISIONING_KEY_NONE,          /* the query form */
        PROVISIONING_KEY_MAC,           /* {mac}: one request per MAC, "52-54-00-12-34-56" */
        PROVISIONING_KEY_UUID,          /* {uuid} */
        PROVISIONING_KEY_SERIAL,        /* {serial} */
        _PROVISIONING_KEY_MAX,
} ProvisioningKey;

typedef struct ProvisioningConfig {
        char *url;
        ProvisioningKey key;            /* the placeholder in url, if any */
        bool url_from_cmdline;
        char *ca_cert_path;             /* NULL: tls.ca_cert_path, else the system's trust store */
        char *public_key;               /* PEM, Ed25519 or RSA; NULL: answers need no signature */
        uint64_t max_size;
        usec_t wait;                    /* 0: no deadline */
        usec_t retry_max;
        bool hostname;
        char **allow;                   /* key paths answers may change beyond the default, or NULL */
        json_t *template;               /* the whole configuration as read: what answers complete */
} ProvisioningConfig;

/* True when root (the parsed file) is a template: it has a "provisioning" section, or the
 * kernel command line names a metadata URL, and it has no node_id. */
bool config_provisioning_is_template(json_t *root);

/* Parses "provisioning" and applies the kernel command line; sets p->config->provisioning when
 * either gives a URL. Every problem goes to p->problems; returns 0 or -ENOMEM. */
int config_provisioning_parse(ConfigParser *p, json_t *root);

ProvisioningConfig *provisioning_config_free(ProvisioningConfig *pc);
DEFINE_TRIVIAL_CLEANUP_FUNC(ProvisioningConfig *, provisioning_config_free);

const char *provisioning_key_to_string(ProvisioningKey k);     /* "mac", "uuid", "serial" */
