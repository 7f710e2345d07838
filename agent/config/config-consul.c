/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>

#include "cleanup.h"
#include "config-value.h"
#include "json-util.h"
#include "service-kind.h"
#include "strv.h"

/* services.NAME with "driver": "consul": the client agent's file and its local API. */

int config_consul_parse(ConfigParser *p, json_t *obj, const char *path, ServiceConfig *s) {
        ConsulServiceConfig *k = &s->consul;
        int r;

        r = config_get_value_list(obj, path, "retry_join", &config_value_name, &k->retry_join, p->problems);
        KEEP_GOING(r);
        if (r == 0)
                KEEP_GOING(config_add_missing(p->problems, path, "retry_join",
                                              "a non-empty array of server addresses",
                                              "the Consul servers this agent joins"));
        else if (r > 0 && !k->retry_join[0])
                KEEP_GOING(json_add_problem(p->problems, path, "a non-empty array of server addresses",
                                            json_object_get(obj, "retry_join"), NULL));
        KEEP_GOING(config_get_value(obj, path, "encrypt_file", &config_value_path, false, &k->encrypt_file,
                                    p->problems));
        KEEP_GOING(config_get_value(obj, path, "token_file", &config_value_path, false, &k->token_file, p->problems));
        KEEP_GOING(config_get_value(obj, path, "config_dir", &config_value_path, false, &k->config_dir, p->problems));
        KEEP_GOING(config_get_value(obj, path, "data_dir", &config_value_path, false, &k->data_dir, p->problems));
        KEEP_GOING(config_get_value(obj, path, "http_url", &config_value_url, false, &k->http_url, p->problems));
        KEEP_GOING(config_get_value(obj, path, "unit", &config_value_unit, false, &k->unit, p->problems));
        KEEP_GOING(config_get_value(obj, path, "node_name", &config_value_hostname, false, &k->node_name, p->problems));
        KEEP_GOING(config_get_value(obj, path, "bind_addr", &config_value_ip, false, &k->bind_addr, p->problems));
        return config_get_command(obj, path, "start_command", &k->start_command, p->problems);
}

int config_consul_resolve(Config *c, ServiceConfig *s) {
        ConsulServiceConfig *k = &s->consul;

        if (config_set_default(&k->config_dir, "/etc/consul.d") < 0 ||
            config_set_default(&k->data_dir, "/opt/consul") < 0 ||
            config_set_default(&k->http_url, "http://127.0.0.1:8500") < 0 ||
            config_set_default(&k->unit, "consul.service") < 0 ||
            config_set_default(&k->node_name, c->node_id) < 0 ||
            config_set_default(&k->bind_addr, c->node_ip) < 0)
                return -ENOMEM;
        return 0;
}
