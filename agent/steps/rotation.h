/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

#include "http.h"
#include "step-context.h"

/* Asking a cluster through its servers: the leader first, then the peers in the configured order,
 * one request per server and round, so a server that is down or presents a certificate without
 * the name used costs one attempt before the next is asked, not a round of retries. A server
 * that refused (4xx) ends the rotation at once: a member of the cluster answered, and what the
 * servers that cannot be reached would have said does not outweigh it. One that failed for good
 * (TLS, a missing file) is not asked again; the others are asked again after a backoff, for
 * timeouts.join_attempts rounds.
 *
 * Politeness when many nodes ask at once: a server that answers 429 (or 503) with Retry-After is
 * not asked again before that time has passed; one that answers "not the leader" (a redirect, or
 * a "leader" in its error) is not asked again in the round, the leader it names is asked next and
 * first in later rounds — when it is a configured server, or an https:// one named by an https://
 * server while TLS is verified (the same CA then vouches for it). Any other is not followed
 * (never from https:// down to http://), and MID_LEADER_HINT_REFUSED says which and why. */

#define ROTATION_MAX_SERVERS 16

typedef struct RotationServer {
        const char *url;
        char *owned_url;                /* a leader learnt from an answer (url points here) */
        unsigned attempts;
        long last_status;               /* of the last answer, 0: none came */
        char last_error[256];           /* why the last attempt failed */
        unsigned retry_after_s;         /* of the last answer */
        char *leader_hint;              /* of the last answer: "ask this one instead" */
        usec_t not_before;              /* CLOCK_MONOTONIC: Retry-After */
        bool refused;                   /* answered 4xx: asking again cannot help */
        bool unusable;                  /* failed in a way retrying cannot fix */
        bool asked;                     /* in this round: one request per server and round */
} RotationServer;

typedef struct Rotation {
        RotationServer servers[ROTATION_MAX_SERVERS];
        size_t n;
        size_t leader;                  /* index asked first in each round */
        unsigned throttled;             /* answers with Retry-After, 429 or 503 */
        unsigned redirected;            /* "not the leader" answers followed */
} Rotation;

/* leader (may be NULL), then each peer not already listed. */
void rotation_init(Rotation *r, const char *leader, char *const *peers);
void rotation_done(Rotation *r);

/* One request to one server: ≥ 0 when done (returned as is), -EBADE when the server refused,
 * -EBUSY when it asked to be left alone for a while (429, 503 with Retry-After), -EREMCHG when
 * it is not the leader (rotation_record() took the leader it names), -EINPROGRESS when the
 * cluster as a whole cannot do it yet (no other server is asked in the round), -EAGAIN or a transient
 * error (curl_util_error_is_transient()) to ask the next server, any other error when this
 * server cannot be used. It records why with rotation_record(). */
typedef int (*RotationFn)(StepContext *ctx, RotationServer *srv, void *userdata);

/* Calls fn on the usable servers in turn, round after round, until one succeeds. what ("add
 * node04 to chainfire") goes into the records. Returns fn's result and sets *ret_server (may be
 * NULL); -EBADE as soon as a server refused; the first permanent error when no server is usable;
 * -ETIMEDOUT when the rounds ran out. Logs each failed attempt. */
int rotation_run(StepContext *ctx, Rotation *r, const char *service, const char *what, RotationFn fn,
                 void *userdata, RotationServer **ret_server);

/* Records the outcome of one attempt: the HTTP status and the server's reason, or the transport
 * error; its Retry-After and the leader it names. */
void rotation_record(RotationServer *srv, int error, const HttpResponse *resp);

/* After an attempt rotation_record() described: when the server asked to be left alone
 * (Retry-After, 429), it is not asked again before that time (at least at_least from now).
 * True when it asked. */
bool rotation_note_busy(Rotation *r, RotationServer *srv, int error, usec_t at_least);

/* "https://a:2379 (2 attempts, last: connection refused), https://b:2379 (refused, 1 attempt, last:
 * HTTP 400 (…))"; servers never asked are left out when another was. */
void rotation_describe(const Rotation *r, char *buf, size_t size);
