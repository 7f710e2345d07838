/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cleanup.h"
#include "config-value.h"
#include "json-util.h"
#include "service-kind.h"
#include "string-util.h"
#include "strv.h"

/* services.NAME with "driver": "k3s": where k3s joins and the files the agent writes for it. */

/* "https://HOST:PORT" with no path: k3s's `server`, and where /cacerts is asked. */
static int check_server(ConfigParser *p, json_t *obj, const char *path, const char *server) {
        _cleanup_free_ char *key = json_path_key(path, "server");
        const char *rest;

        if (!key)
                return -ENOMEM;
        rest = startswith(server, "https://") ? server + strlen("https://") : NULL;
        if (rest && !strchr(rest, '/'))
                return 0;
        return json_add_problem(p->problems, key, "an https://HOST:PORT URL without a path (k3s's server)",
                                json_object_get(obj, "server"), "\"https://10.0.1.10:6443\"");
}

int config_k3s_parse(ConfigParser *p, json_t *obj, const char *path, ServiceConfig *s) {
        static const char *const roles[] = { "agent", "server" };
        K3sServiceConfig *k = &s->k3s;
        int r, role;

        r = config_get_enum(obj, path, "role", roles, ELEMENTSOF(roles), false, &role, p->problems);
        KEEP_GOING(r);
        k->server_role = r > 0 && role == 1;
        r = config_get_value(obj, path, "server", &config_value_url, true, &k->server, p->problems);
        KEEP_GOING(r);
        if (r > 0)
                KEEP_GOING(check_server(p, obj, path, k->server));
        KEEP_GOING(config_get_value(obj, path, "token_file", &config_value_path, false, &k->token_file, p->problems));
        KEEP_GOING(config_get_value(obj, path, "password_secret_file", &config_value_path, false,
                                    &k->password_secret_file, p->problems));
        KEEP_GOING(config_get_value(obj, path, "config_path", &config_value_path, false, &k->config_path, p->problems));
        KEEP_GOING(config_get_value(obj, path, "password_path", &config_value_path, false, &k->password_path,
                                    p->problems));
        KEEP_GOING(config_get_value(obj, path, "kubeconfig", &config_value_path, false, &k->kubeconfig, p->problems));
        KEEP_GOING(config_get_value(obj, path, "log_file", &config_value_path, false, &k->log_file, p->problems));
        KEEP_GOING(config_get_value(obj, path, "unit", &config_value_unit, false, &k->unit, p->problems));
        KEEP_GOING(config_get_value(obj, path, "node_name", &config_value_hostname, false, &k->node_name, p->problems));
        KEEP_GOING(config_get_value_list(obj, path, "labels", &config_value_name, &k->labels, p->problems));
        KEEP_GOING(config_get_value_list(obj, path, "taints", &config_value_name, &k->taints, p->problems));
        return config_get_command(obj, path, "start_command", &k->start_command, p->problems);
}

int config_k3s_resolve(Config *c, ServiceConfig *s) {
        K3sServiceConfig *k = &s->k3s;
        _cleanup_free_ char *token = NULL, *secret = NULL;
        const char *dir = c->tls.secrets_dir ?: CONFIG_SECRETS_DIR_DEFAULT;

        if (asprintf(&token, "%s/%s-token", dir, s->name) < 0 ||
            asprintf(&secret, "%s/%s-node-password.key", dir, s->name) < 0)
                return -ENOMEM;
        if (config_set_default(&k->token_file, token) < 0 ||
            config_set_default(&k->password_secret_file, secret) < 0 ||
            config_set_default(&k->config_path, "/etc/rancher/k3s/config.yaml") < 0 ||
            config_set_default(&k->password_path, "/etc/rancher/node/password") < 0 ||
            config_set_default(&k->kubeconfig, "/var/lib/rancher/k3s/agent/kubelet.kubeconfig") < 0 ||
            config_set_default(&k->unit, k->server_role ? "k3s.service" : "k3s-agent.service") < 0 ||
            config_set_default(&k->node_name, c->node_id) < 0)
                return -ENOMEM;
        return 0;
}
