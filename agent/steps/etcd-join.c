/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "health-poll.h"
#include "join.h"
#include "local-etcd.h"
#include "log.h"
#include "notify.h"
#include "url.h"

/* Joining an etcd cluster, as etcd wants it: a new member counts for quorum as soon as it is
 * added, and only turns healthy once it runs with the cluster's settings. So: list (already a
 * member, by name or peer URL?) → add as a learner (it does not vote) → list again (its ID, the
 * initial cluster) → write the local etcd's settings → (re)start it → wait for its health →
 * promote it to a voter, retrying while it catches up. Every phase is idempotent: a run killed
 * after any of them finds the member on the next start and goes on from there. */

typedef struct EtcdJoin {
        Join *join;
        char *peer_url;                 /* this node's, "https://10.0.1.13:2380" */
        const Member *self;             /* in join->members */
} EtcdJoin;

/* This node's member: etcd knows it by its peer URL (a name alone may be another machine's). */
static const Member *find_self(const Join *j, const char *name) {
        return member_list_find(&j->members, NULL, j->sc->raft_addr);
}

static int add_learner(StepContext *ctx, RotationServer *srv, void *userdata) {
        Join *j = userdata;
        HttpResponse resp = {};
        int r;

        r = j->driver->add(ctx->http, srv->url, ctx->config->node_id, j->sc->raft_addr,
                           MEMBER_ADD_LEARNER | (ctx->config->tls.enabled ? MEMBER_ADD_TLS : 0), &resp);
        if (r >= 0)
                j->last_status = resp.status;
        else
                rotation_record(srv, r, &resp);
        http_response_done(&resp);
        /* "too many learner members", "unhealthy cluster" (a change less than 5 s ago, a member
         * down): the cluster's state, the same at every server. */
        return r == -EAGAIN ? -EINPROGRESS : r;
}

static int promote_one(StepContext *ctx, RotationServer *srv, void *userdata) {
        EtcdJoin *e = userdata;
        HttpResponse resp = {};
        int r;

        r = e->join->driver->promote(ctx->http, srv->url, e->self->id, &resp);
        if (r == -EALREADY)
                r = 1;
        if (r < 0)
                rotation_record(srv, r, &resp);
        http_response_done(&resp);
        return r;
}

/* "e1=http://a:2380,e2=http://b:2380,node04=http://c:2380", as etcdctl prints it: every member,
 * each peer URL, this node under its configured name, members that have not started yet under
 * an empty name (etcd compares the member count). */
static char *initial_cluster(const Join *j, const Member *self, const char *name) {
        _cleanup_free_ char *out = NULL;
        size_t size = 0;
        bool first = true;
        FILE *f;

        f = open_memstream(&out, &size);
        if (!f)
                return NULL;
        for (size_t i = 0; i < j->members.n; i++) {
                const Member *m = &j->members.items[i];
                const char *n = m == self ? name : strempty(m->name);
                const char *u = m->peer_urls ?: "";

                while (*u) {
                        size_t len = strcspn(u, ",");

                        fprintf(f, "%s%s=%.*s", first ? "" : ",", n, (int) len, u);
                        first = false;
                        u += len + (u[len] == ',');
                }
        }
        if (fclose(f) != 0)
                return NULL;
        return TAKE_PTR(out);
}

static int phase_failed(StepContext *ctx, EtcdJoin *e, const char *phase, int r) {
        if (e->self)
                log_info("The %s member of this node is %s (%s).", e->join->service, e->self->id,
                         e->self->learner ? "a learner" : "a voter");
        return join_failed(ctx, e->join, phase, r);
}

/* A member name etcd's initial-cluster format can carry: no separator of it (',' '='), nothing a
 * file or a terminal would read otherwise. */
static bool name_usable(const char *n) {
        for (const unsigned char *p = (const unsigned char *) n; *p; p++)
                if (*p <= ' ' || *p >= 0x7f || strchr(",=\"'`\\$", *p))
                        return false;
        return true;
}

/* Every member's peer URLs and name go into the local etcd's settings: each must be what it
 * claims to be before anything is added or written. */
static int check_members(StepContext *ctx, EtcdJoin *e, const RotationServer *srv) {
        const Join *j = e->join;

        for (size_t i = 0; i < j->members.n; i++) {
                const Member *m = &j->members.items[i];
                const char *u = m->peer_urls ?: "", *why = NULL, *field = "peer URL";
                _cleanup_free_ char *bad = NULL, *shown = NULL;

                if (m->name && !name_usable(m->name)) {
                        bad = strdup(m->name);
                        why = "a member name in etcd's initial cluster cannot hold a control character, a blank, "
                              "a quote, ',' or '='";
                        field = "name";
                        if (!bad)
                                return log_oom();
                }
                while (!bad && *u) {
                        size_t len = strcspn(u, ",");

                        bad = strndup(u, len);
                        if (!bad)
                                return log_oom();
                        if (url_parse(bad, URL_PORT_NEEDED, NULL, &why) >= 0)
                                bad = mfree(bad);
                        u += len + (u[len] == ',');
                }
                if (!bad)
                        continue;
                shown = string_escape(bad);
                step_set_error(ctx, "%s lists %s member %s with %s \"%s\": %s", srv->url, j->service, m->id, field,
                               strna(shown), why);
                return log_event_errno(LOG_ERR, EBADMSG, MID_PEER_URL_REFUSED,
                                       LOG_FIELDS("SERVICE", j->service, "PEER", srv->url, "MEMBER_ID", m->id,
                                                  "MEMBER_NAME", m->name, "ERROR", shown),
                                       "The %s member list from %s names member %s ('%s') with the %s \"%s\", which "
                                       "is refused: %s. Nothing from this list is written into '%s'. Check that member ('etcdctl member list') and the server that "
                                       "answered; the next start asks again.", j->service, srv->url, m->id,
                                       strna(m->name), field, strna(shown), why, j->sc->etcd.env_file);
        }
        return 0;
}

static int phase_list(StepContext *ctx, EtcdJoin *e, const char *name) {
        RotationServer *srv = NULL;
        char what[96];
        int r;

        snprintf(what, sizeof what, "list the %s members", e->join->service);
        r = rotation_run(ctx, &e->join->rotation, e->join->service, what, join_list_one, e->join, &srv);
        if (r < 0)
                return phase_failed(ctx, e, "list the members to join", r);
        r = check_members(ctx, e, srv);
        if (r < 0)
                return r;
        e->self = find_self(e->join, name);
        return 0;
}

static int phase_promote(StepContext *ctx, EtcdJoin *e) {
        const usec_t deadline = now_monotonic() + ctx->config->timeouts.health_wait;
        RotationServer *srv = NULL;
        char what[128];
        int r;

        snprintf(what, sizeof what, "promote learner %s (%s)", e->self->id, ctx->config->node_id);
        for (;;) {
                r = rotation_run(ctx, &e->join->rotation, e->join->service, what, promote_one, e, &srv);
                if (r >= 0)
                        break;
                if (r != -ETIMEDOUT || now_monotonic() >= deadline)
                        return phase_failed(ctx, e, "promote the learner of", r);
                log_info("Learner %s has not caught up with the leader yet; asking again.", e->self->id);
        }
        log_event(LOG_NOTICE, MID_MEMBER_PROMOTED,
                  LOG_FIELDS("SERVICE", e->join->service, "PEER", srv->url, "MEMBER_ID", e->self->id),
                  "%s member %s (%s) promoted from learner to voting member via %s%s.", e->join->service,
                  e->self->id, ctx->config->node_id, srv->url, r == 1 ? " (it already voted)" : "");
        return 0;
}

/* The add, asked again while etcd says "not now" (another learner catching up, a member that
 * has not started): those pass. */
static int phase_add(StepContext *ctx, EtcdJoin *e, const char *what, RotationServer **ret_server) {
        const usec_t deadline = now_monotonic() + ctx->config->timeouts.health_wait;
        int r;

        for (;;) {
                r = rotation_run(ctx, &e->join->rotation, e->join->service, what, add_learner, e->join, ret_server);
                if (r >= 0)
                        return r;
                if (r != -ETIMEDOUT || now_monotonic() >= deadline)
                        return phase_failed(ctx, e, "add as a learner", r);
                log_info("The %s cluster does not take a new learner yet; asking again.", e->join->service);
        }
}

int join_etcd(StepContext *ctx, Join *j) {
        const EtcdLocalConfig *cfg = &j->sc->etcd;
        const char *name = cfg->name ?: ctx->config->node_id;
        _cleanup_free_ char *peer_url = NULL, *cluster = NULL;
        _cleanup_(join_lock_release) JoinLock lock = {};
        EtcdJoin e = { .join = j };
        const Member *stale;
        HealthTarget t;
        char what[128];
        bool added = false, promote;
        int r;

        if (asprintf(&peer_url, "%s://%s", ctx->config->tls.enabled ? "https" : "http", j->sc->raft_addr) < 0)
                return log_oom();
        e.peer_url = peer_url;

        r = phase_list(ctx, &e, name);
        if (r < 0)
                return r;
        stale = join_find_stale(j, name);
        if (stale) {
                r = join_handle_stale(ctx, j, stale, name);
                if (r < 0)
                        return r;
                r = phase_list(ctx, &e, name);
                if (r < 0)
                        return r;
        }
        if (e.self && !e.self->learner && e.self->started) {
                log_event(LOG_INFO, MID_MEMBER_ALREADY,
                          LOG_FIELDS("SERVICE", j->service, "MEMBER_ID", e.self->id, "RAFT_ADDR", e.self->raft_addr),
                          "This node is already a voting %s member (%s, '%s', %s); nothing to do.",
                          j->service, e.self->id, strna(e.self->name), strna(e.self->raft_addr));
                step_set_detail(ctx, "already a voting member (%s)", e.self->id);
                return 0;
        }

        if (!e.self) {
                RotationServer *srv = NULL;

                /* One learner at a time: the lock is held until it votes. A node that finds its
                 * member from an earlier run goes on without it (the holder may wait on it). */
                r = join_lock_take(ctx, j, &lock);
                if (r < 0)
                        return r;
                snprintf(what, sizeof what, "add '%s' to %s as a learner", ctx->config->node_id, j->service);
                r = phase_add(ctx, &e, what, &srv);
                if (r < 0)
                        return r;
                added = r == MEMBER_ADDED;
                r = phase_list(ctx, &e, name);
                if (r < 0)
                        return r;
                if (!e.self)
                        return log_error_errno(EBADMSG, "%s at %s accepted this node (%s) as a learner, but its member "
                                               "list does not show it. Check 'etcdctl member list'.",
                                               j->service, srv->url, peer_url);
                log_event(LOG_NOTICE, MID_MEMBER_JOINED,
                          LOG_FIELDS("SERVICE", j->service, "PEER", srv->url, "MEMBER_ID", e.self->id,
                                     "RAFT_ADDR", j->sc->raft_addr, "HTTP_STATUS", FMT_INT(j->last_status)),
                          "%s %s this node as learner %s (%s) via %s.", j->service,
                          added ? "added" : "already had", e.self->id, peer_url, srv->url);
        } else
                log_info("This node is already %s %s member %s (%s); going on from there.",
                         e.self->learner ? "a learner," : "an unstarted", j->service, e.self->id, peer_url);
        promote = e.self->learner;

        cluster = initial_cluster(j, e.self, name);
        if (!cluster)
                return log_oom();
        notify_status("%s: writing the local etcd's settings", j->service);
        r = local_etcd_configure(cfg, cluster, peer_url);
        if (r < 0)
                return r;

        if (!e.self->started) {
                notify_status("%s: starting the local etcd", j->service);
                r = local_etcd_restart(cfg, j->service);
                if (r < 0)
                        return r;
        }

        t = (HealthTarget) { .service = j->service, .url = j->sc->health_url, .connect = j->sc->health_connect,
                             .unit = cfg->start_command ? NULL : cfg->unit };
        r = health_poll(ctx, &t, 1, ctx->config->timeouts.health_wait);
        if (r < 0)
                return r;

        if (promote) {
                r = phase_promote(ctx, &e);
                if (r < 0)
                        return r;
        }
        step_set_detail(ctx, "voting member %s (%s)%s", e.self->id, peer_url, promote ? ", promoted from learner" : "");
        return 0;
}
