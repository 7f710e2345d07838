/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "join-procedure.h"
#include "join.h"
#include "log.h"

/* A stale member: the cluster lists one at this node's raft address under another name (the
 * machine was re-flashed and renamed, or its address was given to a new machine), or one under
 * this node's name at another address (it moved). Adding this node beside it would leave a
 * member that never answers: etcd counts it for quorum; the admin API refuses the address.
 * Which one is right only the operator knows, so the join stops and names it, unless the
 * configuration allows removing it. */

/* The member's name as the cluster uses it: etcd's --name (empty until it has started), the
 * admin API's id. */
static const char *member_name(const Join *j, const Member *m) {
        return join_procedure(j->sc->kind)->stale_by_name ? m->name : m->id;
}

const Member *join_find_stale(const Join *j, const char *name) {
        const char *addr = j->sc->raft_addr;

        for (size_t i = 0; i < j->members.n; i++) {
                const Member *m = &j->members.items[i];
                const char *n = member_name(j, m);

                if (!member_is_current(m))
                        continue;
                /* An etcd member added but not started has no name yet: at this address, it is
                 * this node's own, added by an earlier run. */
                if (m->raft_addr && streq(m->raft_addr, addr) && n && !streq(n, name))
                        return m;
                if (n && streq(n, name) && m->raft_addr && !streq(m->raft_addr, addr))
                        return m;
        }
        return NULL;
}

static int remove_one(StepContext *ctx, RotationServer *srv, void *userdata) {
        Join *j = userdata;
        const Member *m = j->stale;
        HttpResponse resp = {};
        int r;

        r = j->driver->remove(ctx->http, srv->url, m->id, &resp);
        if (r == -ESRCH)
                r = 0;                  /* etcd: gone already */
        if (r < 0)
                rotation_record(srv, r, &resp);
        http_response_done(&resp);
        return r;
}

int join_handle_stale(StepContext *ctx, Join *j, const Member *stale, const char *name) {
        const char *n = member_name(j, stale), *addr = j->sc->raft_addr;
        bool same_addr = streq(stale->raft_addr, addr);
        RotationServer *srv = NULL;
        char what[160];
        int r;

        if (!j->sc->replace_stale_member) {
                step_set_error(ctx, "%s lists member %s ('%s', %s) %s", j->service, stale->id, strna(n), stale->raft_addr,
                               same_addr ? "at this node's address" : "under this node's name");
                return log_event_errno(LOG_ERR, EBADE, MID_MEMBER_STALE,
                                       LOG_FIELDS("SERVICE", j->service, "MEMBER_ID", stale->id, "MEMBER_NAME", n,
                                                  "RAFT_ADDR", stale->raft_addr),
                                       "The %s cluster already lists member %s ('%s', %s), %s, so this node ('%s', %s) "
                                       "cannot join beside it. If that member is this machine's earlier life "
                                       "(re-flashed or renamed) or a machine that is gone, remove it: "
                                       "'first-boot-agent member --service %s remove %s', or set "
                                       "services.%s.replace_stale_member to true; then start the agent again. If it "
                                       "is a live machine, this node's %s is wrong.",
                                       j->service, stale->id, strna(n), stale->raft_addr,
                                       same_addr ? "at this node's raft address" : "under this node's name",
                                       name, addr, j->service, stale->id, j->service,
                                       same_addr ? "raft_addr" : "node_id");
        }

        j->stale = stale;
        snprintf(what, sizeof what, "remove the stale member %s ('%s', %s) from %s", stale->id, strna(n),
                 stale->raft_addr, j->service);
        r = rotation_run(ctx, &j->rotation, j->service, what, remove_one, j, &srv);
        j->stale = NULL;
        if (r < 0)
                return join_failed(ctx, j, "remove the stale member before adding", r);
        log_event(LOG_NOTICE, MID_MEMBER_REPLACED,
                  LOG_FIELDS("SERVICE", j->service, "PEER", srv->url, "MEMBER_ID", stale->id, "MEMBER_NAME", n,
                             "RAFT_ADDR", stale->raft_addr),
                  "Removed the stale %s member %s ('%s', %s) via %s (services.%s.replace_stale_member is true); "
                  "this node ('%s', %s) joins in its place.", j->service, stale->id, strna(n), stale->raft_addr,
                  srv->url, j->service, name, addr);
        return 0;
}
