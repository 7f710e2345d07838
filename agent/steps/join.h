/* SPDX-License-Identifier: MIT */
#pragma once

#include "member.h"
#include "rotation.h"
#include "step-context.h"

/* One join of a cluster service, shared by the admin-API path (step-join.c) and the etcd path
 * (etcd-join.c). */
typedef struct Join {
        ServiceId id;
        const char *service;            /* "chainfire" */
        const ServiceConfig *sc;
        const MemberDriver *driver;
        Rotation rotation;              /* the leader, then the peers */
        MemberList members;             /* the last member list received */
        long last_status;               /* HTTP status of the last successful request */
} Join;

/* Checks the service has what a join needs (leader URL, raft address, driver); logs. */
int join_init(StepContext *ctx, ServiceId id, Join *ret);
void join_done(Join *j);

/* One pass over the servers until one lists the members (into j->members). 0, or -ENODATA when
 * nobody answered (logged at info level: the caller decides). */
int join_list(StepContext *ctx, Join *j, RotationServer **ret_server);

/* The error for a join that did not succeed: every server with its own reason, in the step's
 * record and the log. Returns -EBADE when every server refused, else the error. */
int join_failed(StepContext *ctx, Join *j, const char *phase, int r);

/* The etcd path: learner add, local settings, start, health, promote (etcd-join.c). */
int join_etcd(StepContext *ctx, Join *j);
