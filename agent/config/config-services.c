/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "config-services.h"
#include "config-value.h"
#include "json-util.h"
#include "service-kind.h"
#include "service-seed.h"
#include "string-util.h"
#include "strv.h"

#define SERVICE_NAME_MAX 32

/* A service's name becomes step names, marker files and metric labels: [a-z][a-z0-9-]*. */
static bool service_name_is_valid(const char *s) {
        size_t n = strlen(s);

        if (n == 0 || n > SERVICE_NAME_MAX || s[0] < 'a' || s[0] > 'z' || s[n - 1] == '-')
                return false;
        for (const char *c = s; *c; c++)
                if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-'))
                        return false;
        return true;
}

static int service_init(ConfigParser *p, ServiceConfig *s, const char *name, ServiceKind kind,
                        uint16_t api_port, uint16_t raft_port) {
        const Config *c = p->config;

        s->name = strdup(name);
        s->after = calloc(1, sizeof(char *));
        if (!s->name || !s->after)
                return -ENOMEM;
        s->kind = kind;
        s->after_source = CONFIG_SOURCE_DEFAULT;
        s->api_port = api_port;
        s->raft_port = raft_port;
        /* raft_addr is chainfire's raft address: its port is chainfire's raft port. */
        if (streq(name, "chainfire") && p->raft_addr_port > 0)
                s->raft_port = p->raft_addr_port;
        /* node_role (parsed before the sections) decides unless the file says otherwise. */
        s->enabled = c->node_role != NODE_ROLE_WORKER || service_kind(kind)->runs_on_worker;
        s->enabled_source = c->node_role_source == CONFIG_SOURCE_FILE ? CONFIG_SOURCE_ROLE : CONFIG_SOURCE_DEFAULT;
        return 0;
}

static int get_port(ConfigParser *p, json_t *obj, const char *path, const char *key, bool required,
                    uint16_t *port, bool *ret_explicit) {
        int64_t v = *port;
        int r;

        if (required && !json_object_get(obj, key))
                return config_add_missing(p->problems, path, key, "an integer between 1 and 65535",
                                          "required for a service the seed does not name");
        r = config_get_integer(obj, path, key, 1, 65535, NULL, &v, ret_explicit, p->problems);
        *port = (uint16_t) v;
        return r;
}

/* The members every kind has, those of a raft group, then the kind's own. */
static int parse_service(ConfigParser *p, json_t *obj, const char *path, ServiceConfig *s, bool seed) {
        static const char *const common_keys[] = { "enabled", "driver", "after", "api_port", "health_url", NULL };
        static const char *const raft_keys[] = {
                "raft_port", "leader_url", "raft_addr", "peers", "replace_stale_member", NULL
        };
        const char *keys[32];
        size_t n_keys = 0;
        const ServiceKindInfo *kind;
        int driver, r;

        r = config_get_enum(obj, path, "driver", service_kind_names, _SERVICE_KIND_MAX, !seed, &driver, p->problems);
        KEEP_GOING(r);
        if (r > 0)
                s->kind = (ServiceKind) driver;
        else if (!seed)
                return 0;       /* nothing else can be read without knowing what it is */
        kind = service_kind(s->kind);
        /* The role's default follows the kind: a worker joins no Raft group, but k3s and Consul. */
        s->enabled = p->config->node_role != NODE_ROLE_WORKER || kind->runs_on_worker;

        for (const char *const *k = common_keys; *k; k++)
                keys[n_keys++] = *k;
        for (const char *const *k = raft_keys; kind->raft && *k; k++)
                keys[n_keys++] = *k;
        for (const char *const *k = kind->keys; k && *k && n_keys < ELEMENTSOF(keys) - 2; k++)
                keys[n_keys++] = *k;
        /* An etcd section on another kind: say what it needs rather than only that it is unknown. */
        if (s->kind != SERVICE_KIND_ETCD && json_object_get(obj, "etcd")) {
                _cleanup_free_ char *etcd = json_path_key(path, "etcd");

                if (!etcd)
                        return -ENOMEM;
                KEEP_GOING(problem_add(p->problems, etcd, "only with \"driver\": \"etcd\"",
                                       "an etcd section for another driver", NULL));
                keys[n_keys++] = "etcd";
        }
        keys[n_keys] = NULL;
        KEEP_GOING(json_check_keys(obj, path, keys, p->problems));

        r = json_get_boolean(obj, path, "enabled", false, &s->enabled, p->problems);
        KEEP_GOING(r);
        if (r > 0)
                s->enabled_source = CONFIG_SOURCE_FILE;
        r = config_get_value_list(obj, path, "after", &config_value_name, &s->after, p->problems);
        KEEP_GOING(r);
        if (r > 0)
                s->after_source = CONFIG_SOURCE_FILE;
        KEEP_GOING(get_port(p, obj, path, "api_port", !seed && kind->local_health, &s->api_port,
                            &s->explicit_api_port));
        KEEP_GOING(config_get_value(obj, path, "health_url", &config_value_url, false, &s->health_url,
                                    p->problems));
        if (kind->raft) {
                KEEP_GOING(get_port(p, obj, path, "raft_port", !seed || s->raft_port == 0, &s->raft_port,
                                    &s->explicit_raft_port));
                KEEP_GOING(config_get_value(obj, path, "leader_url", &config_value_url, false, &s->leader_url,
                                            p->problems));
                KEEP_GOING(config_get_value(obj, path, "raft_addr", &config_value_host_port, false,
                                            &s->raft_addr, p->problems));
                KEEP_GOING(config_get_value_list(obj, path, "peers", &config_value_host_port, &s->peers,
                                                 p->problems));
                KEEP_GOING(json_get_boolean(obj, path, "replace_stale_member", false, &s->replace_stale_member,
                                            p->problems));
        } else
                s->raft_port = 0;
        return kind->parse ? kind->parse(p, obj, path, s) : 0;
}

/* The default "after": the entry before it, so that the map's order is the join order. */
static int default_after(Config *c) {
        for (size_t i = 1; i < c->n_services; i++) {
                ServiceConfig *s = &c->services[i];

                if (s->after_source == CONFIG_SOURCE_FILE)
                        continue;
                if (strv_extend(&s->after, c->services[i - 1].name) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* Every name in "after" must be a service, and not the service itself. */
static int check_after_names(ConfigParser *p) {
        const Config *c = p->config;

        CONFIG_FOREACH_SERVICE(s, c) {
                size_t k = 0;

                STRV_FOREACH(a, s->after) {
                        _cleanup_free_ char *path = NULL, *hint = NULL;
                        _cleanup_strv_free_ char **names = calloc(1, sizeof(char *));

                        if (!names)
                                return -ENOMEM;
                        if (!streq(*a, s->name) && config_service(c, *a)) {
                                k++;
                                continue;
                        }
                        if (asprintf(&path, ".services.%s.after[%zu]", s->name, k++) < 0) {
                                path = NULL;
                                return -ENOMEM;
                        }
                        CONFIG_FOREACH_SERVICE(o, c)
                                if (o != s && strv_extend(&names, o->name) < 0)
                                        return -ENOMEM;
                        hint = strv_join(names, ", ");
                        if (!hint)
                                return -ENOMEM;
                        KEEP_GOING(problem_addf(p->problems, path,
                                                streq(*a, s->name) ? "another service than this one"
                                                                   : "the name of a service in .services",
                                                hint, "the string \"%s\"", *a));
                }
        }
        return 0;
}

/* Sorts the services so that each comes after those its "after" names, keeping the map's order
 * where "after" leaves it free. A cycle is a problem naming it (the order stays as it was). */
static int sort_services(ConfigParser *p) {
        Config *c = p->config;
        size_t n = c->n_services, placed = 0;
        _cleanup_free_ ServiceConfig *sorted = calloc(MAX(n, (size_t) 1), sizeof(ServiceConfig));
        _cleanup_free_ bool *done = calloc(MAX(n, (size_t) 1), sizeof(bool));

        if (!sorted || !done)
                return -ENOMEM;
        while (placed < n) {
                size_t i;

                for (i = 0; i < n; i++) {
                        bool ready = !done[i];

                        STRV_FOREACH(a, c->services[i].after) {
                                ServiceConfig *d = config_service(c, *a);

                                if (ready && d && d != &c->services[i] && !done[d - c->services])
                                        ready = false;
                        }
                        if (ready)
                                break;
                }
                if (i == n)
                        break;
                done[i] = true;
                sorted[placed++] = c->services[i];
        }
        if (placed == n) {
                memcpy(c->services, sorted, n * sizeof(ServiceConfig));
                return 0;
        }

        /* What is left is a cycle, or waits for one: follow "after" from a service left over
         * until a name repeats, and name that loop. */
        {
                _cleanup_free_ char *path = NULL, *loop = NULL;
                _cleanup_strv_free_ char **names = calloc(1, sizeof(char *));
                _cleanup_free_ size_t *seen = calloc(n + 1, sizeof(size_t));
                size_t cur = 0, len = 0, start = 0;

                if (!seen || !names)
                        return -ENOMEM;
                while (done[cur])
                        cur++;
                for (;;) {
                        bool again = false;

                        for (size_t k = 0; k < len; k++)
                                if (seen[k] == cur) {
                                        start = k;
                                        again = true;
                                }
                        if (again || len == n)
                                break;
                        seen[len++] = cur;
                        STRV_FOREACH(a, c->services[cur].after) {
                                ServiceConfig *d = config_service(c, *a);

                                if (d && !done[d - c->services] && d != &c->services[cur]) {
                                        cur = (size_t) (d - c->services);
                                        break;
                                }
                        }
                }
                for (size_t k = start; k <= len; k++)
                        if (strv_extend(&names, c->services[seen[k < len ? k : start]].name) < 0)
                                return -ENOMEM;
                loop = strv_join(names, " → ");
                if (!loop)
                        return -ENOMEM;
                if (asprintf(&path, ".services.%s.after", c->services[seen[start]].name) < 0) {
                        path = NULL;
                        return -ENOMEM;
                }
                return problem_addf(p->problems, path, "an order without a cycle (a service cannot come after itself)",
                                    "remove one of these names from an \"after\"", "the cycle %s", loop);
        }
}

/* Two enabled services on one port would answer each other's health checks. */
static int check_ports(ConfigParser *p) {
        const Config *c = p->config;
        typedef struct {
                const ServiceConfig *s;
                const char *key;
                uint16_t port;
                bool is_explicit;
        } Port;
        _cleanup_free_ Port *ports = calloc(2 * c->n_services + 1, sizeof(Port));
        size_t n = 0;

        if (!ports)
                return -ENOMEM;
        CONFIG_FOREACH_SERVICE(s, c) {
                if (!s->enabled)
                        continue;
                if (s->api_port > 0)
                        ports[n++] = (Port) { s, "api_port", s->api_port, s->explicit_api_port };
                if (s->raft_port > 0)
                        ports[n++] = (Port) { s, "raft_port", s->raft_port, s->explicit_raft_port };
        }

        for (size_t a = 0; a < n; a++)
                for (size_t b = a + 1; b < n; b++) {
                        _cleanup_free_ char *path = NULL, *hint = NULL;
                        size_t blame = b, spared = a;

                        if (ports[a].port != ports[b].port)
                                continue;
                        /* Blame the one written in the file, if only one was. */
                        if (ports[a].is_explicit && !ports[b].is_explicit) {
                                blame = a;
                                spared = b;
                        }
                        if (asprintf(&path, ".services.%s.%s", ports[blame].s->name, ports[blame].key) < 0) {
                                path = NULL;
                                return -ENOMEM;
                        }
                        if (asprintf(&hint, "%u is also .services.%s.%s%s", ports[spared].port,
                                     ports[spared].s->name, ports[spared].key,
                                     ports[spared].is_explicit ? "" : " (its default)") < 0) {
                                hint = NULL;
                                return -ENOMEM;
                        }
                        KEEP_GOING(problem_addf(p->problems, path, "a port no other enabled service uses", hint,
                                                "%s %u", ports[blame].is_explicit ? "the number" : "the default",
                                                ports[blame].port));
                }
        return 0;
}

/* One IAM service: its admin and token are the node's, in the "iam" section. */
static int check_one_iam(ConfigParser *p) {
        const ServiceConfig *first = config_service_of_kind(p->config, SERVICE_KIND_IAM);

        CONFIG_FOREACH_SERVICE(s, p->config) {
                _cleanup_free_ char *path = NULL;

                if (s->kind != SERVICE_KIND_IAM || s == first)
                        continue;
                if (asprintf(&path, ".services.%s.driver", s->name) < 0) {
                        path = NULL;
                        return -ENOMEM;
                }
                KEEP_GOING(problem_addf(p->problems, path, "one service with the driver \"iam\" (the iam section configures it)",
                                        NULL, "a second one after .services.%s", first->name));
        }
        return 0;
}

int config_default_services(Config *c) {
        ConfigParser p = { .config = c };
        int r;

        c->services = calloc(SERVICE_SEEDS_N, sizeof(ServiceConfig));
        if (!c->services)
                return -ENOMEM;
        for (size_t i = 0; i < SERVICE_SEEDS_N; i++) {
                r = service_init(&p, &c->services[c->n_services++], service_seeds[i].name, service_seeds[i].kind,
                                 service_seeds[i].api_port, service_seeds[i].raft_port);
                if (r < 0)
                        return r;
        }
        return default_after(c);
}

int config_parse_services(ConfigParser *p, json_t *root) {
        Config *c = p->config;
        json_t *services = NULL, *v;
        const char *name;
        size_t n;
        int r;

        r = json_get_object(root, ".", "services", false, &services, p->problems);
        KEEP_GOING(r);
        if (r <= 0)
                services = NULL;

        n = SERVICE_SEEDS_N + (services ? json_object_size(services) : 0);
        c->services = calloc(n, sizeof(ServiceConfig));
        if (!c->services)
                return -ENOMEM;
        for (size_t i = 0; i < SERVICE_SEEDS_N; i++) {
                r = service_init(p, &c->services[c->n_services++], service_seeds[i].name, service_seeds[i].kind,
                                 service_seeds[i].api_port, service_seeds[i].raft_port);
                if (r < 0)
                        return r;
        }

        /* The map's members in its order (jansson keeps the order of the document). */
        json_object_foreach(services, name, v) {
                _cleanup_free_ char *path = json_path_key(".services", name);
                ServiceConfig *s = config_service(c, name);
                bool seed = s && service_is_seed(name);

                if (!path)
                        return -ENOMEM;
                if (!json_is_object(v)) {
                        KEEP_GOING(json_add_problem(p->problems, path, "an object", v,
                                                    "{\"enabled\": false} turns a service off"));
                        continue;
                }
                if (!seed) {
                        if (!service_name_is_valid(name)) {
                                const char *seeds[SERVICE_SEEDS_N + 1] = {};
                                _cleanup_free_ char *hint = NULL;
                                const char *near;

                                for (size_t i = 0; i < SERVICE_SEEDS_N; i++)
                                        seeds[i] = service_seeds[i].name;
                                near = nearest_string(name, seeds);
                                if (near && asprintf(&hint, "did you mean \"%s\"?", near) < 0)
                                        return -ENOMEM;
                                KEEP_GOING(problem_addf(p->problems, path,
                                                        "a service name of 1 to 32 characters from a-z, 0-9 and '-', "
                                                        "starting with a letter (it names steps, markers and metrics)",
                                                        hint, "the name \"%s\"", name));
                                continue;
                        }
                        s = &c->services[c->n_services++];
                        r = service_init(p, s, name, SERVICE_KIND_ADMIN, 0, 0);
                        if (r < 0)
                                return r;
                }
                KEEP_GOING(parse_service(p, v, path, s, seed));
        }

        r = default_after(c);
        if (r < 0)
                return r;
        KEEP_GOING(check_after_names(p));
        KEEP_GOING(sort_services(p));
        KEEP_GOING(check_one_iam(p));
        return check_ports(p);
}
