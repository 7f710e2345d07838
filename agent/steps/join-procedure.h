/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

#include "step-context.h"
#include "time-util.h"

/* How each kind of service joins: the steps' side of the kinds table (service-kind.h holds what
 * the configuration and the plan know of a kind), indexed by ServiceKind. A new kind is a row
 * here and there, a net/ file for its API and a steps/ file for its procedure. */
typedef struct JoinProcedure {
        /* The join step: bootstrap or join the cluster of ctx->service. 0, or negative errno
         * (logged; -EBADE when a server refused). */
        int (*join)(StepContext *ctx);
        /* The health report's membership check: 0 when this node is listed, else negative errno
         * (logged). NULL: the kind has no membership beyond its health (IAM). */
        int (*member_check)(StepContext *ctx, const ServiceConfig *sc, usec_t deadline);
        /* The stale-member rule (join-stale.c): a member is this node's when its name (etcd's
         * --name) is this node's, rather than its ID (the admin API's node id). */
        bool stale_by_name;
} JoinProcedure;

extern const JoinProcedure join_procedures[_SERVICE_KIND_MAX];

const JoinProcedure *join_procedure(ServiceKind kind);

/* The procedures (step-join.c, etcd-join.c, step-iam-setup.c, member-check.c). */
int step_join_admin(StepContext *ctx);
int step_join_etcd(StepContext *ctx);
int step_iam_setup(StepContext *ctx);
/* Asks the service's leader and peers (else its own API) for the member list until this node is
 * in it or the deadline passes. */
int member_check_list(StepContext *ctx, const ServiceConfig *sc, usec_t deadline);
/* k3s (k3s-join.c): the node Ready in the Kubernetes API, as the kubelet's credentials read it. */
int step_join_k3s(StepContext *ctx);
int member_check_k3s(StepContext *ctx, const ServiceConfig *sc, usec_t deadline);
/* Consul (consul-join.c): a leader, and this node in the catalog under its pinned ID with its Serf
 * health passing. */
int step_join_consul(StepContext *ctx);
int member_check_consul(StepContext *ctx, const ServiceConfig *sc, usec_t deadline);
