/* SPDX-License-Identifier: MIT */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "config.h"
#include "http.h"

/* Cluster membership behind a function table, one per kind of cluster API (the services'
 * /admin API, etcd's v3 JSON gateway). A driver never logs; the HttpResponse of the last
 * request is handed back so the caller can name the status and the server's message. */

typedef struct Member {
        char *id;                       /* node id (admin API) or hex member id (etcd) */
        char *name;                     /* node name, may equal id */
        char *raft_addr;                /* "host:port" */
        char *peer_urls;                /* etcd: every peer URL, comma-separated, as etcd has them */
        char *status;                   /* free text from the server, may be NULL */
        bool learner;                   /* etcd: a non-voting member catching up */
        bool started;                   /* etcd: it has run (an added member has no name until then) */
} Member;

typedef struct MemberList {
        Member *items;
        size_t n;
} MemberList;

void member_list_done(MemberList *l);
/* This node's entry: by id (the node id for the admin API, the hex member ID for etcd), else by
 * raft/peer address; never by name alone; entries whose status says they are gone ("removed",
 * "inactive", "left", …) do not count. */
const Member *member_list_find(const MemberList *l, const char *id, const char *raft_addr);
/* False for an entry whose status says it left the cluster. */
bool member_is_current(const Member *m);

/* add() results. */
#define MEMBER_ADDED 0
#define MEMBER_EXISTS 1                 /* the server said 409: already a member */

/* add() flags. */
#define MEMBER_ADD_TLS (1U << 0)         /* the peer URL is https:// (etcd) */
#define MEMBER_ADD_LEARNER (1U << 1)     /* add as a non-voting learner (etcd); promote() later */

/* promote() results: PROMOTED, or -EAGAIN while the learner has not caught up with the leader
 * (retry), -EALREADY when the member already votes. */
#define MEMBER_PROMOTED 0

/* Errors, beyond the transport errors of http_perform():
 *   -EBADE     the server refused with a 4xx other than 409: permanent, do not retry;
 *   -EREMOTEIO the server failed (5xx): retry;
 * curl_util_error_is_transient() tells which errors are worth retrying.
 *   -EBADMSG   the answer could not be understood;
 *   -ESRCH     remove(): the etcd cluster has no member of that name or ID (no request sent). */
typedef struct MemberDriver {
        const char *name;               /* "admin", "etcd" */
        bool health_first;              /* the local service turns healthy before it is added (the
                                         * admin API); false: only once added (etcd) */
        int (*list)(HttpClient *c, const char *base_url, MemberList *ret, HttpResponse *resp);
        /* The member list in an answer to list(): 0, -EBADMSG, -ENOMEM. */
        int (*parse_list)(const HttpResponse *resp, MemberList *ret);
        int (*add)(HttpClient *c, const char *base_url, const char *id, const char *raft_addr,
                   unsigned flags, HttpResponse *resp);
        /* NULL when the API has no learners. id as list() gives it. */
        int (*promote)(HttpClient *c, const char *base_url, const char *id, HttpResponse *resp);
        int (*remove)(HttpClient *c, const char *base_url, const char *id, HttpResponse *resp);
} MemberDriver;

extern const MemberDriver member_driver_admin;
extern const MemberDriver member_driver_etcd;

/* The membership API of a kind of service, or NULL when it has none (IAM). */
const MemberDriver *member_driver_get(ServiceKind kind);

/* For the drivers: the error for an HTTP status that is not a success (see above), and one more
 * member appended (strings copied; name and status may be NULL). */
int member_error_from_status(long status);
/* The same for a whole answer, with what busy clusters say: -EREMCHG for "not the leader" (a
 * redirect, 421, or an error naming the leader: member_leader_hint() gives it), -EBUSY for 429
 * and for 503 with Retry-After (throttled: ask again after resp->retry_after_s). */
int member_error_from_response(const HttpResponse *resp);
/* The leader an answer points to (a redirect's target, or the "leader"/"leader_url" member of an
 * error body), as an API base "https://host:port". 1 and a new string when there is one, 0 when
 * not (ret NULL). */
int member_leader_hint(const HttpResponse *resp, char **ret);
/* Whether a leader hint (from member_leader_hint()) that the server at from gave may be followed:
 * to a configured server (one of configured, NULL-terminated) always; to another only over
 * https:// from an https:// server while TLS certificates are verified (tls_verified), so that
 * the same CA vouches for it; never from https:// down to http://. NULL when it may, else why not
 * (a static text for the log). */
const char *member_leader_hint_refusal(const char *hint, const char *from, const char *const *configured,
                                       bool tls_verified);
int member_list_append(MemberList *l, const char *id, const char *name, const char *raft_addr,
                       const char *status);
/* An answer {"members":[…]}, each element read by parse_one (which appends to the list or fails
 * with -EBADMSG). missing_ok: no "members" is an empty list. -EBADMSG for anything else. */
int member_list_parse(const HttpResponse *resp, bool missing_ok, int (*parse_one)(json_t *m, MemberList *l),
                      MemberList *ret);
