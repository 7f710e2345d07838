/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cleanup.h"
#include "config-value.h"
#include "json-util.h"
#include "service-kind.h"

/* The rows of the kinds table, and the settings only one kind has. */

/* "etcd": how the etcd kind reaches the local etcd it configures and restarts. */
static int etcd_parse(ConfigParser *p, json_t *service, const char *service_path, ServiceConfig *s) {
        static const char *const keys[] = { "env_file", "unit", "start_command", "name", NULL };
        _cleanup_free_ char *path = NULL;
        json_t *obj;
        int r;

        r = json_get_object(service, service_path, "etcd", false, &obj, p->problems);
        if (r <= 0)
                return r == -ENOMEM ? r : 0;
        path = json_path_key(service_path, "etcd");
        if (!path)
                return -ENOMEM;
        KEEP_GOING(json_check_keys(obj, path, keys, p->problems));
        KEEP_GOING(config_get_value(obj, path, "env_file", &config_value_path, false, &s->etcd.env_file,
                                    p->problems));
        KEEP_GOING(config_get_value(obj, path, "unit", &config_value_unit, false, &s->etcd.unit,
                                    p->problems));
        KEEP_GOING(config_get_value(obj, path, "name", &config_value_node_id, false, &s->etcd.name,
                                    p->problems));
        return config_get_command(obj, path, "start_command", &s->etcd.start_command, p->problems);
}

static int etcd_resolve(Config *c, ServiceConfig *s) {
        EtcdLocalConfig *e = &s->etcd;

        if ((!e->env_file && !(e->env_file = strdup("/etc/default/etcd"))) ||
            (!e->unit && !(e->unit = strdup("etcd.service"))) ||
            (!e->name && c->node_id && !(e->name = strdup(c->node_id))))
                return -ENOMEM;
        return 0;
}

/* "url": where the IAM API is when it is not this node's own (iam.url's place in the seed). */
static int iam_parse(ConfigParser *p, json_t *obj, const char *path, ServiceConfig *s) {
        return config_get_value(obj, path, "url", &config_value_url, false, &p->config->iam.url, p->problems);
}

const ServiceKindInfo service_kinds[_SERVICE_KIND_MAX] = {
        [SERVICE_KIND_ADMIN] = {
                .name = "admin",
                .summary = "the cluster services' admin API (/admin/member/…), as chainfire and flaredb have it",
                .raft = true,
                .local_health = true,
                .health_first = true,
                .join_step = "join",
                .join_phase = "join",
                .join_summary = "bootstrap its cluster or join it through the leader",
                .marker_bootstrap = "-initialized",
                .marker_join = "-joined",
        },
        [SERVICE_KIND_ETCD] = {
                .name = "etcd",
                .summary = "etcd's v3 API: added as a learner, local etcd configured and started, promoted",
                .raft = true,
                .local_health = true,
                .health_first = false,
                .join_step = "join",
                .join_phase = "join",
                .join_summary = "bootstrap its cluster or join it through the leader",
                .marker_bootstrap = "-initialized",
                .marker_join = "-joined",
                .keys = (const char *const[]) { "etcd", NULL },
                .parse = etcd_parse,
                .resolve = etcd_resolve,
        },
        [SERVICE_KIND_IAM] = {
                .name = "iam",
                .summary = "the IAM service: its admin user exists and its token is stored",
                .local_health = true,
                .health_first = true,
                .join_step = "setup",
                .join_phase = "iam",
                .join_summary = "make sure its admin exists (create it where the secrets are) and store its token",
                .marker_bootstrap = "-initialized",
                .marker_join = "-initialized",
                .keys = (const char *const[]) { "url", NULL },
                .parse = iam_parse,
        },
        [SERVICE_KIND_K3S] = {
                .name = "k3s",
                .summary = "k3s: its CA pinned by the token, config.yaml and the node password written, "
                           "k3s started, the node Ready in the Kubernetes API",
                .runs_on_worker = true,
                .join_step = "join",
                .join_phase = "join",
                .join_summary = "pin the server's CA, write k3s's configuration and node password, start k3s "
                                "and wait until the node is Ready",
                .marker_bootstrap = "-joined",
                .marker_join = "-joined",
                .keys = (const char *const[]) {
                        "role", "server", "token_file", "password_secret_file", "config_path", "password_path",
                        "kubeconfig", "log_file", "unit", "start_command", "node_name", "labels", "taints", NULL
                },
                .parse = config_k3s_parse,
                .resolve = config_k3s_resolve,
        },
        [SERVICE_KIND_CONSUL] = {
                .name = "consul",
                .summary = "Consul: the client agent's file with a pinned node ID, the agent started, this "
                           "node in the catalog with its Serf health passing",
                .runs_on_worker = true,
                .join_step = "join",
                .join_phase = "join",
                .join_summary = "write the Consul agent's file (node ID pinned), start it and wait until this "
                                "node is in the catalog with its Serf health passing",
                .marker_bootstrap = "-joined",
                .marker_join = "-joined",
                .keys = (const char *const[]) {
                        "retry_join", "encrypt_file", "token_file", "config_dir", "data_dir", "http_url", "unit",
                        "start_command", "node_name", "bind_addr", NULL
                },
                .parse = config_consul_parse,
                .resolve = config_consul_resolve,
        },
};

const char *const service_kind_names[_SERVICE_KIND_MAX] = {
        [SERVICE_KIND_ADMIN] = "admin",
        [SERVICE_KIND_ETCD] = "etcd",
        [SERVICE_KIND_IAM] = "iam",
        [SERVICE_KIND_K3S] = "k3s",
        [SERVICE_KIND_CONSUL] = "consul",
};

const ServiceKindInfo *service_kind(ServiceKind k) {
        return k >= 0 && k < _SERVICE_KIND_MAX ? &service_kinds[k] : NULL;
}

const char *service_kind_to_string(ServiceKind k) {
        return k >= 0 && k < _SERVICE_KIND_MAX ? service_kinds[k].name : NULL;
}

int service_kind_from_string(const char *s) {
        for (size_t i = 0; s && i < _SERVICE_KIND_MAX; i++)
                if (streq(service_kinds[i].name, s))
                        return (int) i;
        return -EINVAL;
}

const char *service_marker(const char *suffix, const char *service, char buf[static SERVICE_MARKER_MAX]) {
        int k = snprintf(buf, SERVICE_MARKER_MAX, ".%s%s", service, suffix);

        return k > 0 && k < SERVICE_MARKER_MAX ? buf : NULL;
}
