/* SPDX-License-Identifier: MIT */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "config-parser.h"

/* The kinds of cluster a node can join, a row each: what the configuration and the step plan
 * need to know of a kind (its settings, whether it is a raft group, its steps' names and
 * markers). How it joins, and how membership is checked, is the steps' side of the same row
 * (join-procedure.h, indexed by the same ServiceKind): this layer cannot call into the steps. */
typedef struct ServiceKindInfo {
        const char *name;               /* the value of services.NAME.driver: "admin" */
        const char *summary;            /* one line for "validate" and the docs */
        bool raft;                      /* joins a group through a leader: has a raft port and
                                         * address, peers, a leader URL (when not bootstrapping) */
        bool runs_on_worker;            /* enabled by default on a node_role worker too */
        bool local_health;              /* the local service has a health URL (api_port): the
                                         * health step and the report poll it */
        bool health_first;              /* the local service answers its health check before the
                                         * join (etcd: only once its member was added) */
        const char *join_step;          /* the join step is "NAME-<join_step>": "join", "setup" */
        const char *join_phase;         /* its phase in the progress reports: "join", "iam" */
        const char *join_summary;       /* one line, after "NAME: " */
        const char *marker_bootstrap;   /* the join step's marker on a bootstrap node is
                                         * ".NAME<marker_bootstrap>": "-initialized" */
        const char *marker_join;        /* … on a joining node: "-joined" */
        const char *const *keys;        /* services.NAME members of this kind beyond the common
                                         * ones, NULL-terminated, or NULL */
        /* Reads those members of obj (at path) into s; problems go to p->problems. 0 or -ENOMEM. */
        int (*parse)(ConfigParser *p, json_t *obj, const char *path, ServiceConfig *s);
        /* Fills in its defaults once the node's fields are known. 0 or -ENOMEM. */
        int (*resolve)(Config *c, ServiceConfig *s);
} ServiceKindInfo;

extern const ServiceKindInfo service_kinds[_SERVICE_KIND_MAX];

/* The settings of the kinds with a file of their own (config-k3s.c, config-consul.c). */
int config_k3s_parse(ConfigParser *p, json_t *obj, const char *path, ServiceConfig *s);
int config_k3s_resolve(Config *c, ServiceConfig *s);
int config_consul_parse(ConfigParser *p, json_t *obj, const char *path, ServiceConfig *s);
int config_consul_resolve(Config *c, ServiceConfig *s);
/* The names, indexed by ServiceKind, for config_get_enum(). */
extern const char *const service_kind_names[_SERVICE_KIND_MAX];

const ServiceKindInfo *service_kind(ServiceKind k);
/* The kind's name, "admin", or NULL. */
const char *service_kind_to_string(ServiceKind k);
/* -EINVAL when unknown. */
int service_kind_from_string(const char *s);

/* The marker ".SERVICE<suffix>" (one of the suffixes above) in buf; NULL if it does not fit. */
#define SERVICE_MARKER_MAX 64
const char *service_marker(const char *suffix, const char *service, char buf[static SERVICE_MARKER_MAX]);
