/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "config-dropin.h"
#include "config-file.h"
#include "config-flash.h"
#include "config-load.h"
#include "config-provisioning.h"
#include "config-resolve.h"
#include "config-sections.h"
#include "config-value.h"
#include "json-util.h"
#include "service-kind.h"
#include "proc-cmdline.h"
#include "string-util.h"
#include "strv.h"

/* Reading a configuration: the file checks, the JSON syntax, the top-level fields, the checks
 * across fields; then the sections (config-sections.c, config-flash.c) and the derived values
 * (config-resolve.c). */

/* A worker that turns no Raft service on (one that runs only k3s or Consul, say) has no Raft
 * address to give. Read from the document, before the services are parsed. */
static bool worker_without_raft(json_t *root, NodeRole role) {
        json_t *services = json_object_get(root, "services"), *s;
        const char *name;

        if (role != NODE_ROLE_WORKER)
                return false;
        json_object_foreach(services, name, s) {
                const char *driver = json_string_value(json_object_get(s, "driver"));
                bool raft = driver ? streq(driver, "admin") || streq(driver, "etcd")
                                   : streq(name, "chainfire") || streq(name, "flaredb");

                if (raft && json_is_true(json_object_get(s, "enabled")))
                        return false;
        }
        return true;
}

static int parse_top_level(ConfigParser *p, json_t *root) {
        static const char *const keys[] = {
                "node_id", "node_role", "bootstrap", "cluster_name", "leader_url", "raft_addr",
                "initial_peers", "flaredb_peers", "node_ip", "node_fqdn", "datacenter", "rack",
                "services", "tls", "network", "timeouts", "iam", "health_check", "report",
                "metrics", "state_dir", "flash", "provisioning", NULL
        };
        Config *c = p->config;
        ProblemList *problems = p->problems;
        _cleanup_free_ char *host = NULL;
        json_t *flash;
        bool b;
        int role, r;

        KEEP_GOING(json_check_keys(root, ".", keys, problems));

        /* A template leaves the fields that name one node to the provisioning server. */
        p->template = config_provisioning_is_template(root);
        KEEP_GOING(config_get_value(root, ".", "node_id", &config_value_node_id, !p->template,
                                    &c->node_id, problems));
        /* The seed's own examples leave node_role and cluster_name out: a node that names no
         * role is a control-plane node, as those examples behave. */
        r = config_get_enum(root, ".", "node_role", node_role_table, _NODE_ROLE_MAX, false, &role,
                            problems);
        KEEP_GOING(r);
        c->node_role = r > 0 ? (NodeRole) role : NODE_ROLE_CONTROL_PLANE;
        c->node_role_source = r > 0 ? CONFIG_SOURCE_FILE : CONFIG_SOURCE_DEFAULT;
        r = json_get_boolean(root, ".", "bootstrap", !p->template, &b, problems);
        KEEP_GOING(r);
        p->bootstrap = r > 0 ? b : -1;
        c->bootstrap = r > 0 && b;
        KEEP_GOING(config_get_value(root, ".", "cluster_name", &config_value_name, false,
                                    &c->cluster_name, problems));
        KEEP_GOING(config_get_value(root, ".", "leader_url", &config_value_url, false,
                                    &c->leader_url, problems));
        r = config_get_value(root, ".", "raft_addr", &config_value_host_port,
                             !p->template && !worker_without_raft(root, c->node_role), &c->raft_addr, problems);
        KEEP_GOING(r);
        if (r > 0) {
                r = parse_host_port(c->raft_addr, &host, &p->raft_addr_port);
                if (r < 0)
                        return r;
        }
        KEEP_GOING(config_get_value_list(root, ".", "initial_peers", &config_value_host_port,
                                         &c->initial_peers, problems));
        KEEP_GOING(config_get_value_list(root, ".", "flaredb_peers", &config_value_host_port,
                                         &c->flaredb_peers, problems));
        KEEP_GOING(config_get_value(root, ".", "node_ip", &config_value_ip, false, &c->node_ip,
                                    problems));
        KEEP_GOING(config_get_value(root, ".", "node_fqdn", &config_value_hostname, false,
                                    &c->node_fqdn, problems));
        KEEP_GOING(config_get_value(root, ".", "datacenter", &config_value_name, false,
                                    &c->datacenter, problems));
        KEEP_GOING(config_get_value(root, ".", "rack", &config_value_name, false, &c->rack,
                                    problems));
        KEEP_GOING(config_get_value(root, ".", "state_dir", &config_value_path, false,
                                    &c->state_dir, problems));

        KEEP_GOING(config_parse_sections(p, root));

        flash = json_object_get(root, "flash");
        if (flash)
                KEEP_GOING(flash_config_parse(flash, ".flash", &c->flash, problems));
        KEEP_GOING(config_provisioning_parse(p, root));
        return 0;
}

/* The checks that involve more than one field. */
static int check_across(ConfigParser *p, json_t *root) {
        Config *c = p->config;
        ProblemList *problems = p->problems;
        bool leaders_given = true;
        int r;

        /* A joining node needs to know whom to ask, unless each cluster service says so itself. */
        CONFIG_FOREACH_SERVICE(s, c)
                if (s->enabled && service_kind(s->kind)->raft && !s->leader_url)
                        leaders_given = false;
        if (p->bootstrap == 0 && !json_object_get(root, "leader_url") && !leaders_given) {
                r = config_add_missing(problems, ".", "leader_url", config_value_url.expected,
                                       "required when bootstrap is false");
                if (r < 0)
                        return r;
        }

        /* A bootstrapping node forms the cluster with its initial peers. */
        if (p->bootstrap == 1 && !json_object_get(root, "initial_peers")) {
                r = config_add_missing(problems, ".", "initial_peers",
                                       "a non-empty array of addresses HOST:PORT",
                                       "required when bootstrap is true");
                if (r < 0)
                        return r;
        } else if (p->bootstrap == 1 && c->initial_peers && !c->initial_peers[0]) {
                r = json_add_problem(problems, ".initial_peers",
                                     "a non-empty array of addresses HOST:PORT (required when bootstrap is true)",
                                     json_object_get(root, "initial_peers"), NULL);
                if (r < 0)
                        return r;
        }

        /* Derived URLs take their scheme from tls.enabled; an https leader with TLS turned off
         * (or the reverse) would silently talk the wrong protocol to every derived URL. Without
         * an explicit tls.enabled the leader's scheme decides (config-resolve.c). */
        if (c->leader_url && c->tls.enabled_source == CONFIG_SOURCE_FILE) {
                bool https = startswith(c->leader_url, "https://");

                if (https != c->tls.enabled) {
                        _cleanup_free_ char *expected = NULL;

                        if (asprintf(&expected, "an %s URL, since tls.enabled is %s",
                                     c->tls.enabled ? "https://" : "http://",
                                     c->tls.enabled ? "true" : "false") < 0) {
                                expected = NULL;
                                return -ENOMEM;
                        }
                        r = json_add_problem(problems, ".leader_url", expected,
                                             json_object_get(root, "leader_url"),
                                             c->tls.enabled ? "write https:// or leave tls.enabled out"
                                                            : "leave tls.enabled out (an https:// leader turns TLS on), or write http://");
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

/* The IAM admin's password and the tokens go to services.iam.url: in clear only to this machine,
 * or when the file says so. */
static int check_iam_url(ConfigParser *p) {
        const Config *c = p->config;
        const ServiceConfig *iam = config_service_of_kind(c, SERVICE_KIND_IAM);
        _cleanup_free_ char *host = NULL, *path = NULL;
        int r;

        if (!iam || !iam->enabled || !c->iam.url || !startswith(c->iam.url, "http://") ||
            c->iam.allow_http)
                return 0;
        r = config_url_host(c->iam.url, &host, NULL);
        if (r < 0)
                return r == -ENOMEM ? r : 0;
        if (is_loopback_host(host))
                return 0;
        if (asprintf(&path, ".services.%s.url", iam->name) < 0) {
                path = NULL;
                return -ENOMEM;
        }
        return problem_addf(p->problems, path,
                            "an https:// URL, or http:// to this machine (the IAM admin's password and tokens "
                            "are sent there)",
                            "write https://, or set iam.allow_http to true to send them in clear anyway",
                            "the string \"%s\"", c->iam.url);
}

/* Validates a document: the top level, the sections, the checks across fields, then the derived
 * values. root is not changed. */
static int parse_root(json_t *root, const char *source, Config **ret, ProblemList *problems) {
        _cleanup_(config_freep) Config *c = NULL;
        size_t n_before = problems->n;
        ConfigParser p;
        int r;

        if (!json_is_object(root)) {
                r = json_add_problem(problems, ".", "an object", root, NULL);
                return r < 0 ? r : -EINVAL;
        }

        c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        c->path = strdup(source ? source : "");
        if (!c->path)
                return -ENOMEM;

        p = (ConfigParser) { .config = c, .problems = problems, .bootstrap = -1 };
        r = json_check_key_controls(root, ".", problems);
        if (r < 0)
                return r;
        r = parse_top_level(&p, root);
        if (r < 0)
                return r;
        r = check_across(&p, root);
        if (r < 0)
                return r;
        r = check_iam_url(&p);
        if (r < 0)
                return r;
        if (problems->n > n_before)
                return -EINVAL;

        r = config_resolve(c);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(c);
        return 0;
}

int config_parse(const char *text, size_t size, const char *source, Config **ret,
                 ProblemList *problems) {
        _cleanup_json_ json_t *root = NULL;
        json_error_t err;

        root = json_loadb(text, size, JSON_REJECT_DUPLICATES, &err);
        if (!root)
                return config_file_syntax_problem(problems, &err);
        return parse_root(root, source, ret, problems);
}

int config_load(const char *path, Config **ret, ProblemList *problems) {
        _cleanup_(config_origins_freep) ConfigOrigins *origins = NULL;
        _cleanup_strv_free_ char **dropins = NULL;
        _cleanup_json_ json_t *root = NULL;
        size_t n_before = problems->n;
        int r, q;

        r = config_file_load_json(path, &root, problems);
        if (r < 0)
                return r;

        /* The drop-in fragments, merged over the main file before anything is checked. */
        r = config_dropin_find(path, config_dropin_dirs, &dropins, problems);
        if (r >= 0 && json_is_object(root))
                r = config_dropin_merge(root, dropins, &origins, problems);
        if (r < 0)
                return r;

        r = parse_root(root, path, ret, problems);
        q = config_origins_attribute(origins, problems, n_before);
        if (q < 0)
                return q;
        if (r >= 0)
                (*ret)->dropins = TAKE_PTR(dropins);
        return r;
}

int config_find_path(const char *explicit_path, char **ret) {
        char *value = NULL, *p;
        int r;

        if (explicit_path) {
                p = strdup(explicit_path);
                if (!p)
                        return -ENOMEM;
                *ret = p;
                return 0;
        }

        r = proc_cmdline_get_key("first_boot_agent.config", &value);
        if (r == -ENOMEM)
                return r;
        /* An unreadable command line is no reason to fail: the default applies. */
        if (r > 0 && value[0]) {
                *ret = value;
                return 0;
        }
        free(value);

        p = strdup(CONFIG_DEFAULT_PATH);
        if (!p)
                return -ENOMEM;
        *ret = p;
        return 0;
}
