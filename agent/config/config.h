/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "cleanup.h"
#include "time-util.h"

#define CONFIG_DEFAULT_PATH "/etc/nixos/secrets/cluster-config.json"
#define CONFIG_STATE_DIR_DEFAULT "/var/lib/first-boot-automation"
/* Where the older automation's provisioning put ca.crt and NODE_ID.crt/.key. */
#define CONFIG_SECRETS_DIR_DEFAULT "/etc/nixos/secrets"
/* The fleet defaults (tests/bench/bench-fleet.sh measures them). */
#define JOIN_START_DELAY_MAX_MS_DEFAULT 2000
#define JOIN_LOCK_TTL_S_DEFAULT 60
#define REPORT_PROGRESS_INTERVAL_S_DEFAULT 10
/* Where Debian's prometheus-node-exporter reads textfile metrics (its --collector.textfile.directory);
 * $FIRST_BOOT_AGENT_METRICS_DIR replaces it. */
#define METRICS_TEXTFILE_DIR_DEFAULT "/var/lib/prometheus/node-exporter"

typedef enum NodeRole {
        NODE_ROLE_CONTROL_PLANE,
        NODE_ROLE_WORKER,
        NODE_ROLE_ALL_IN_ONE,
        _NODE_ROLE_MAX,
} NodeRole;

/* The kinds of cluster a node joins: the value of services.NAME.driver. What each kind means
 * (its settings, its steps, its markers) is one row of service_kinds[] (service-kind.h); how it
 * joins is the steps' (join-procedure.h). */
typedef enum ServiceKind {
        SERVICE_KIND_ADMIN,             /* the seed's cluster services' /admin/member/… API */
        SERVICE_KIND_ETCD,              /* etcd's v3 JSON gateway /v3/cluster/member/… */
        SERVICE_KIND_IAM,               /* the IAM service: its admin user and token, no raft */
        SERVICE_KIND_K3S,               /* a k3s agent (or server) joining a server until Ready */
        SERVICE_KIND_CONSUL,            /* a Consul client agent joining the mesh */
        _SERVICE_KIND_MAX,
} ServiceKind;

/* Why a value is what it is: for "validate", which says where each default came from. */
typedef enum ConfigSource {
        CONFIG_SOURCE_FILE,             /* written in the configuration */
        CONFIG_SOURCE_DEFAULT,          /* the built-in default */
        CONFIG_SOURCE_ROLE,             /* what node_role implies */
        CONFIG_SOURCE_LEADER_URL,       /* implied by an https:// leader URL */
        CONFIG_SOURCE_SECRETS_DIR,      /* found in tls.secrets_dir (the seed's layout) */
        CONFIG_SOURCE_SYSTEM,           /* the system's trust store */
        CONFIG_SOURCE_NONE,             /* nothing applies (no client certificate) */
} ConfigSource;

/* A local etcd that the etcd driver configures and (re)starts once its member has been added. */
typedef struct EtcdLocalConfig {
        char *env_file;                 /* KEY=VALUE settings its unit reads; /etc/default/etcd */
        char *unit;                     /* restarted through systemd when it runs; etcd.service */
        char **start_command;           /* else (or when set) this argv restarts it; NULL: none */
        char *name;                     /* the member name (ETCD_NAME); default node_id */
} EtcdLocalConfig;

/* Where k3s is told to join, and how the agent sees the node turn Ready (kind k3s). */
typedef struct K3sServiceConfig {
        bool server_role;               /* "role": "server" (a server joining the existing
                                         * ones), else "agent" */
        char *server;                   /* "https://HOST:6443": k3s's `server` */
        char *token_file;               /* the join token (0600); SECRETS_DIR/k3s-token */
        char *password_secret_file;     /* the cluster secret the node password derives from
                                         * (0600); SECRETS_DIR/k3s-node-password.key; missing
                                         * there: k3s makes up a random password */
        char *config_path;              /* /etc/rancher/k3s/config.yaml */
        char *password_path;            /* /etc/rancher/node/password */
        char *kubeconfig;               /* the kubelet's, written by k3s */
        char *log_file;                 /* where k3s logs when not to the journal, or NULL */
        char *unit;                     /* k3s-agent.service, a server's k3s.service */
        char **start_command;           /* instead of the unit, or NULL */
        char *node_name;                /* node_id */
        char **labels;                  /* "KEY=VALUE" */
        char **taints;                  /* "KEY=VALUE:EFFECT" */
} K3sServiceConfig;

/* The Consul client agent's file and how membership is seen (kind consul). */
typedef struct ConsulServiceConfig {
        char **retry_join;              /* the servers, at least one */
        char *encrypt_file;             /* the gossip key (0600), or NULL */
        char *token_file;               /* the ACL token (0600), or NULL */
        char *config_dir;               /* /etc/consul.d */
        char *data_dir;                 /* /opt/consul */
        char *http_url;                 /* the local agent's API: http://127.0.0.1:8500 */
        char *unit;                     /* consul.service */
        char **start_command;           /* instead of the unit, or NULL */
        char *node_name;                /* node_id */
        char *bind_addr;                /* node_ip, or NULL */
} ConsulServiceConfig;

/* One local cluster service, an entry of the "services" map. Every URL and address here is
 * resolved at load time from the top-level fields and the per-service overrides, so the steps
 * never compute one. */
typedef struct ServiceConfig {
        char *name;                     /* the key in "services": "chainfire", "k3s", … */
        ServiceKind kind;               /* its "driver" */
        char **after;                   /* the services it comes after (names); never NULL */
        ConfigSource after_source;      /* FILE, or DEFAULT (the previous entry, the seed's order) */
        bool enabled;
        ConfigSource enabled_source;    /* FILE, ROLE or DEFAULT */
        uint16_t api_port;              /* chainfire 2379, flaredb 2479, iam 8080 */
        uint16_t raft_port;             /* chainfire 2380, flaredb 2480, 0: none */
        bool explicit_api_port;         /* written in the file (which one a port clash blames) */
        bool explicit_raft_port;
        char *health_url;               /* local health endpoint */
        char *health_connect;           /* connect here instead of the URL's host (the URL's name
                                         * is still what the certificate must match); NULL: the
                                         * URL's host */
        char *leader_url;               /* admin API base of the leader (no trailing '/') */
        char **peers;                   /* its own peer list (HOST:PORT), or NULL: initial_peers
                                         * (flaredb: flaredb_peers when given) */
        char **peer_urls;               /* admin API bases of the other peers, fallback order */
        char *raft_addr;                /* this node's raft address for this service */
        EtcdLocalConfig etcd;           /* kind etcd only */
        K3sServiceConfig k3s;           /* kind k3s only */
        ConsulServiceConfig consul;     /* kind consul only */
        bool replace_stale_member;      /* a member with this node's address (or name) but another
                                         * name (or address) is removed before the join; false:
                                         * the join is refused, naming it */
} ServiceConfig;

typedef struct TlsConfig {
        bool enabled;                   /* https:// for derived URLs */
        ConfigSource enabled_source;    /* FILE, LEADER_URL, SECRETS_DIR (its ca.crt) or DEFAULT */
        char *secrets_dir;              /* where the seed's CA and node certificate live */
        char *ca_cert_path;             /* NULL: the system's trust store */
        ConfigSource ca_source;         /* FILE, SECRETS_DIR or SYSTEM */
        char *node_cert_path;           /* client certificate (mTLS) when set with the key */
        char *node_key_path;
        ConfigSource client_source;     /* FILE, SECRETS_DIR or NONE */
        bool insecure_skip_verify;      /* only when explicitly set; warned about on every use */
} TlsConfig;

typedef struct TimeoutConfig {
        usec_t health_wait;             /* deadline of health-wait, default 120 s */
        usec_t request;                 /* one HTTP request, default 10 s */
        usec_t connect;                 /* connect phase, default 3 s */
        unsigned join_attempts;         /* per peer round, default 5 */
        usec_t backoff_initial;         /* default 200 ms */
        usec_t backoff_max;             /* default 10 s */
        usec_t join_start_delay_max;    /* a random delay below this before a join's first
                                         * request, so a rack powered on at once spreads out */
        usec_t join_lock_ttl;           /* etcd: the lease of the cluster's join lock; 0: no lock */
} TimeoutConfig;

typedef struct IamConfig {
        char *url;                      /* IAM API base; default derived from the iam service */
        char *connect;                  /* connect here instead of the URL's host, or NULL */
        bool url_is_own;                /* url is derived: this node's own IAM, named by node_fqdn,
                                         * node_ip or raft_addr (which an answer may set) */
        char *admin_user;               /* looked up when there is no secrets file; "admin" */
        bool allow_http;                /* an http:// url beyond loopback was accepted knowingly */
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
        usec_t progress_interval;       /* at most one progress report per interval while a step
                                         * waits; 0: no progress reports */
} ReportConfig;

typedef struct MetricsConfig {
        bool enabled;                   /* default true */
        char *textfile_dir;             /* node_exporter's textfile directory; a missing one skips */
} MetricsConfig;

typedef struct NetworkEntry {
        char *name;
        char *cidr;
} NetworkEntry;

typedef struct FlashConfig FlashConfig;
typedef struct ProvisioningConfig ProvisioningConfig;
typedef struct StaticNetworkConfig StaticNetworkConfig;

typedef struct Config {
        char *path;                     /* where it was read from */
        char **dropins;                 /* the drop-in fragments merged over it, in order
                                         * (config-dropin.h); NULL when parsed from text */

        /* The fields of the older automation. */
        char *node_id;
        NodeRole node_role;
        ConfigSource node_role_source;  /* FILE or DEFAULT (control-plane) */
        bool bootstrap;
        char *cluster_name;             /* NULL when not given */
        char *leader_url;
        char *raft_addr;
        char **initial_peers;
        char **flaredb_peers;
        char *node_ip;
        char *node_fqdn;
        char *datacenter;
        char *rack;
        ServiceConfig *services;        /* in the order they join ("after", then the map's) */
        size_t n_services;
        TlsConfig tls;
        NetworkEntry *network;
        size_t n_network;
        StaticNetworkConfig *network_static;    /* NULL unless "network" has "static" */

        /* The agent's own sections. */
        TimeoutConfig timeouts;
        IamConfig iam;
        ReportConfig report;
        MetricsConfig metrics;
        char *state_dir;
        bool health_check;              /* enableHealthCheck: the health-report step */
        FlashConfig *flash;             /* NULL unless a "flash" section is present */
        ProvisioningConfig *provisioning; /* NULL unless "provisioning" or the command line's URL */
} Config;

Config *config_free(Config *c);
void service_config_done(ServiceConfig *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(Config *, config_free);

/* The names the configuration uses for its enums, indexed by value. */
extern const char *const node_role_table[_NODE_ROLE_MAX];

const char *node_role_to_string(NodeRole r);
/* How "validate" names a source: "the configuration", "the default", … */
const char *config_source_to_string(ConfigSource s);

/* The service of that name, or NULL. */
ServiceConfig *config_service(const Config *c, const char *name);
/* The first service of that kind, enabled or not, or NULL (the IAM service). */
ServiceConfig *config_service_of_kind(const Config *c, ServiceKind kind);
/* The peers (HOST:PORT) a service's cluster forms from and its joins fall back to: its own
 * "peers", else initial_peers (flaredb: flaredb_peers when given). */
char *const *config_service_peers(const Config *c, const ServiceConfig *s);

#define CONFIG_FOREACH_SERVICE(s, c) \
        for (ServiceConfig *s = (c)->services; s && s < (c)->services + (c)->n_services; s++)
