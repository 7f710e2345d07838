/* SPDX-License-Identifier: MIT */
#pragma once

#include "member.h"
#include "rotation.h"
#include "step-context.h"

/* One join of a cluster service, shared by the admin-API path (step-join.c) and the etcd path
 * (etcd-join.c). */
typedef struct Join {
        const char *service;            /* "chainfire" */
        const ServiceConfig *sc;
        const MemberDriver *driver;
        Rotation rotation;              /* the leader, then the peers */
        MemberList members;             /* the last member list received */
        long last_status;               /* HTTP status of the last successful request */
        const Member *stale;            /* being removed (join-stale.c) */
} Join;

/* Checks the service has what a join needs (leader URL, raft address, driver); logs. */
int join_init(StepContext *ctx, const ServiceConfig *sc, Join *ret);
void join_done(Join *j);

/* A RotationFn (userdata: the Join): one member list request to srv, into j->members. */
int join_list_one(StepContext *ctx, RotationServer *srv, void *userdata);

/* One pass over the servers until one lists the members (into j->members). 0, or -ENODATA when
 * nobody answered (logged at info level: the caller decides). */
int join_list(StepContext *ctx, Join *j, RotationServer **ret_server);

/* The error for a join that did not succeed: every server with its own reason, in the step's
 * record and the log. Returns -EBADE when a server refused, else the error. */
int join_failed(StepContext *ctx, Join *j, const char *phase, int r);

/* The etcd path: learner add, local settings, start, health, promote (etcd-join.c). */
int join_etcd(StepContext *ctx, Join *j);

/* The cluster's join lock (join-lock.c), held from the learner's add to its promotion. */
typedef struct JoinLock {
        StepContext *ctx;
        Join *join;
        usec_t ttl;                     /* of the lease; 0: no lock is taken */
        const char *server;             /* the server asked (a URL of join->rotation) */
        char *lease;                    /* its ID, NULL before it is granted */
        char *name;                     /* "first-boot-agent/join/chainfire" */
        char *holder_key;               /* "first-boot-agent/join-holder/chainfire" */
        char *key;                      /* the lock's key while it is held, else NULL */
        usec_t renewed;                 /* CLOCK_MONOTONIC of the last renewal */
} JoinLock;

/* Waits for the lock (at most timeouts.health_wait), naming its holder in the log and the
 * progress reports. 0 once held (or when timeouts.join_lock_ttl_s is 0), or the error, logged.
 * While it is held, every step_wait() renews the lease. */
int join_lock_take(StepContext *ctx, Join *j, JoinLock *l);
/* Lets go of it (revokes the lease); safe on a lock never taken. */
void join_lock_release(JoinLock *l);

/* A member that stands where this node would (join-stale.c): listed at this node's address
 * under another name, or under this node's name at another address. NULL when none. name is
 * this node's member name (the node id; etcd: its --name). */
const Member *join_find_stale(const Join *j, const char *name);
/* What to do about it: refused (-EBADE, logged with the member and the command that removes it)
 * unless services.SERVICE.replace_stale_member allows removing it here (0 once removed). */
int join_handle_stale(StepContext *ctx, Join *j, const Member *stale, const char *name);
