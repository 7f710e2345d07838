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

/* One local cluster service. Every URL and address here is resolved at load time from the
 * top-level fields and the per-service overrides, so the steps never compute one. */
typedef struct ServiceConfig {
        bool enabled;
        ConfigSource enabled_source;    /* FILE, ROLE or DEFAULT */
        uint16_t api_port;              /* chainfire 2379, flaredb 2479, iam 8080 */
        uint16_t raft_port;             /* chainfire 2380, flaredb 2480, iam 0 */
        char *health_url;               /* local health endpoint */
        char *health_connect;           /* connect here instead of the URL's host (the URL's name
                                         * is still what the certificate must match); NULL: the
                                         * URL's host */
        char *leader_url;               /* admin API base of the leader (no trailing '/') */
        char **peer_urls;               /* admin API bases of the other peers, fallback order */
        char *raft_addr;                /* this node's raft address for this service */
        MemberDriverKind driver;
        EtcdLocalConfig etcd;           /* driver etcd only */
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
        ServiceConfig services[_SERVICE_MAX];
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
DEFINE_TRIVIAL_CLEANUP_FUNC(Config *, config_free);

/* The names the configuration uses for its enums, indexed by value. */
extern const char *const node_role_table[_NODE_ROLE_MAX];
extern const char *const member_driver_kind_table[_MEMBER_DRIVER_MAX];

const char *node_role_to_string(NodeRole r);
const char *service_to_string(ServiceId s);     /* "chainfire", "flaredb", "iam" */
/* The role's default for services.NAME.enabled: control-plane and all-in-one run every cluster
 * service; a worker runs none of them (it never adds itself to a raft group). */
bool node_role_runs_service(NodeRole r, ServiceId s);
/* How "validate" names a source: "the configuration", "the default", … */
const char *config_source_to_string(ConfigSource s);
int service_from_string(const char *s);         /* -EINVAL when unknown */
const char *member_driver_kind_to_string(MemberDriverKind k);  /* "admin", "etcd" */
int member_driver_kind_from_string(const char *s);             /* -EINVAL when unknown */
