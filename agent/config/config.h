/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "cleanup.h"
#include "time-util.h"

#define CONFIG_DEFAULT_PATH "/etc/nixos/secrets/cluster-config.json"
#define CONFIG_STATE_DIR_DEFAULT "/var/lib/first-boot-automation"

typedef enum NodeRole {
        NODE_ROLE_CONTROL_PLANE,
        NODE_ROLE_WORKER,
        NODE_ROLE_ALL_IN_ONE,
        _NODE_ROLE_MAX,
} NodeRole;

typedef enum ServiceId {
        SERVICE_CHAINFIRE,
        SERVICE_FLAREDB,
        SERVICE_IAM,
        _SERVICE_MAX,
} ServiceId;

typedef enum MemberDriverKind {
        MEMBER_DRIVER_ADMIN,            /* the cluster services' /admin/member/… API */
        MEMBER_DRIVER_ETCD,             /* etcd v3 JSON gateway /v3/cluster/member/… */
        _MEMBER_DRIVER_MAX,
} MemberDriverKind;

/* One local cluster service. Every URL and address here is resolved at load time from the
 * top-level fields and the per-service overrides, so the steps never compute one. */
typedef struct ServiceConfig {
        bool enabled;
        uint16_t api_port;              /* chainfire 2379, flaredb 2479, iam 8080 */
        uint16_t raft_port;             /* chainfire 2380, flaredb 2480, iam 0 */
        char *health_url;               /* local health endpoint */
        char *leader_url;               /* admin API base of the leader (no trailing '/') */
        char **peer_urls;               /* admin API bases of the other peers, fallback order */
        char *raft_addr;                /* this node's raft address for this service */
        MemberDriverKind driver;
} ServiceConfig;

typedef struct TlsConfig {
        bool enabled;                   /* https:// for derived URLs */
        char *ca_cert_path;
        char *node_cert_path;           /* client certificate (mTLS) when set with the key */
        char *node_key_path;
        bool insecure_skip_verify;      /* only when explicitly set; warned about on every use */
} TlsConfig;

typedef struct TimeoutConfig {
        usec_t health_wait;             /* deadline of health-wait, default 120 s */
        usec_t request;                 /* one HTTP request, default 10 s */
        usec_t connect;                 /* connect phase, default 3 s */
        unsigned join_attempts;         /* per peer round, default 5 */
        usec_t backoff_initial;         /* default 200 ms */
        usec_t backoff_max;             /* default 10 s */
} TimeoutConfig;

typedef struct IamConfig {
        char *url;                      /* IAM API base; default derived from the iam service */
        char *secrets_file;             /* JSON {"username","password"[,"bootstrap_token"]}, 0600 */
        char *token_file;               /* where the issued token is written, 0600 */
        char *user_path;                /* GET: does the admin exist? "{user}" is replaced */
        char *create_path;              /* POST: create the admin */
        char *token_path;               /* POST: issue a token */
        char **roles;                   /* roles given to the admin, default ["admin"] */
} IamConfig;

typedef struct ReportConfig {
        char *url;                      /* NULL: no report */
        usec_t timeout;
} ReportConfig;

typedef struct NetworkEntry {
        char *name;
        char *cidr;
} NetworkEntry;

typedef struct FlashConfig FlashConfig;
typedef struct ProvisioningConfig ProvisioningConfig;
typedef struct StaticNetworkConfig StaticNetworkConfig;

typedef struct Config {
        char *path;                     /* where it was read from */

        /* The fields of the older automation. */
        char *node_id;
        NodeRole node_role;
        bool bootstrap;
        char *cluster_name;
        char *leader_url;
        char *raft_addr;
        char **initial_peers;
        char **flaredb_peers;
        char *node_ip;
        char *node_fqdn;
        char *datacenter;
        char *rack;
        ServiceConfig services[_SERVICE_MAX];
        TlsConfig tls;
        NetworkEntry *network;
        size_t n_network;
        StaticNetworkConfig *network_static;    /* NULL unless "network" has "static" */

        /* The agent's own sections. */
        TimeoutConfig timeouts;
        IamConfig iam;
        ReportConfig report;
        char *state_dir;
        bool health_check;              /* enableHealthCheck: the health-report step */
        FlashConfig *flash;             /* NULL unless a "flash" section is present */
        ProvisioningConfig *provisioning; /* NULL unless "provisioning" or the command line's URL */
} Config;

Config *config_free(Config *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(Config *, config_free);

/* The names the configuration uses for its enums, indexed by value. */
extern const char *const node_role_table[_NODE_ROLE_MAX];
extern const char *const member_driver_kind_table[_MEMBER_DRIVER_MAX];

const char *node_role_to_string(NodeRole r);
const char *service_to_string(ServiceId s);     /* "chainfire", "flaredb", "iam" */
int service_from_string(const char *s);         /* -EINVAL when unknown */
const char *member_driver_kind_to_string(MemberDriverKind k);  /* "admin", "etcd" */
int member_driver_kind_from_string(const char *s);             /* -EINVAL when unknown */
