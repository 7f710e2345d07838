/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "config-flash.h"
#include "config-provisioning.h"
#include "config-static-network.h"
#include "config.h"
#include "strv.h"

const char *const node_role_table[_NODE_ROLE_MAX] = {
        [NODE_ROLE_CONTROL_PLANE] = "control-plane",
        [NODE_ROLE_WORKER] = "worker",
        [NODE_ROLE_ALL_IN_ONE] = "all-in-one",
};

const char *node_role_to_string(NodeRole r) {
        return r >= 0 && r < _NODE_ROLE_MAX ? node_role_table[r] : NULL;
}

const char *config_source_to_string(ConfigSource s) {
        static const char *const table[] = {
                [CONFIG_SOURCE_FILE] = "set in the configuration",
                [CONFIG_SOURCE_DEFAULT] = "the default",
                [CONFIG_SOURCE_ROLE] = "implied by node_role",
                [CONFIG_SOURCE_LEADER_URL] = "implied by an https:// leader URL",
                [CONFIG_SOURCE_SECRETS_DIR] = "found in tls.secrets_dir",
                [CONFIG_SOURCE_SYSTEM] = "the system's trust store",
                [CONFIG_SOURCE_NONE] = "none",
        };

        return s >= 0 && (size_t) s < ELEMENTSOF(table) ? table[s] : NULL;
}

ServiceConfig *config_service(const Config *c, const char *name) {
        CONFIG_FOREACH_SERVICE(s, c)
                if (name && streq(s->name, name))
                        return s;
        return NULL;
}

ServiceConfig *config_service_of_kind(const Config *c, ServiceKind kind) {
        CONFIG_FOREACH_SERVICE(s, c)
                if (s->kind == kind)
                        return s;
        return NULL;
}

char *const *config_service_peers(const Config *c, const ServiceConfig *s) {
        if (s->peers)
                return s->peers;
        /* The seed's own field for flaredb's peers, when they differ from chainfire's. */
        if (streq(s->name, "flaredb") && c->flaredb_peers)
                return c->flaredb_peers;
        return c->initial_peers;
}

static void k3s_service_config_done(K3sServiceConfig *k) {
        free(k->server);
        free(k->token_file);
        free(k->password_secret_file);
        free(k->config_path);
        free(k->password_path);
        free(k->kubeconfig);
        free(k->log_file);
        free(k->unit);
        strv_free(k->start_command);
        free(k->node_name);
        strv_free(k->labels);
        strv_free(k->taints);
}

static void consul_service_config_done(ConsulServiceConfig *k) {
        strv_free(k->retry_join);
        free(k->encrypt_file);
        free(k->token_file);
        free(k->config_dir);
        free(k->data_dir);
        free(k->http_url);
        free(k->unit);
        strv_free(k->start_command);
        free(k->node_name);
        free(k->bind_addr);
}

void service_config_done(ServiceConfig *s) {
        free(s->name);
        strv_free(s->after);
        free(s->health_url);
        free(s->health_connect);
        free(s->etcd.env_file);
        free(s->etcd.unit);
        strv_free(s->etcd.start_command);
        free(s->etcd.name);
        k3s_service_config_done(&s->k3s);
        consul_service_config_done(&s->consul);
        free(s->leader_url);
        strv_free(s->peers);
        strv_free(s->peer_urls);
        free(s->raft_addr);
        *s = (ServiceConfig) {};
}

Config *config_free(Config *c) {
        if (!c)
                return NULL;

        free(c->path);
        strv_free(c->dropins);
        free(c->node_id);
        free(c->cluster_name);
        free(c->leader_url);
        free(c->raft_addr);
        strv_free(c->initial_peers);
        strv_free(c->flaredb_peers);
        free(c->node_ip);
        free(c->node_fqdn);
        free(c->datacenter);
        free(c->rack);
        CONFIG_FOREACH_SERVICE(s, c)
                service_config_done(s);
        free(c->services);
        free(c->tls.secrets_dir);
        free(c->tls.ca_cert_path);
        free(c->tls.node_cert_path);
        free(c->tls.node_key_path);
        for (size_t i = 0; i < c->n_network; i++) {
                free(c->network[i].name);
                free(c->network[i].cidr);
        }
        free(c->network);
        static_network_config_free(c->network_static);
        free(c->iam.url);
        free(c->iam.connect);
        free(c->iam.admin_user);
        free(c->iam.secrets_file);
        free(c->iam.token_file);
        free(c->iam.user_path);
        free(c->iam.create_path);
        free(c->iam.token_path);
        strv_free(c->iam.roles);
        free(c->report.url);
        free(c->metrics.textfile_dir);
        free(c->state_dir);
        flash_config_free(c->flash);
        provisioning_config_free(c->provisioning);
        free(c);
        return NULL;
}
