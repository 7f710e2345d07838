/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "json-util.h"
#include "cleanup.h"
#include "macro.h"
#include "member.h"
#include "string-util.h"
#include "url.h"

void member_list_done(MemberList *l) {
        if (!l)
                return;
        for (size_t i = 0; i < l->n; i++) {
                free(l->items[i].id);
                free(l->items[i].name);
                free(l->items[i].raft_addr);
                free(l->items[i].peer_urls);
                free(l->items[i].status);
        }
        free(l->items);
        *l = (MemberList) {};
}

bool member_is_current(const Member *m) {
        static const char *const gone[] = { "removed", "inactive", "left", "leaving", "decommissioned" };

        if (!m->status)
                return true;
        for (size_t i = 0; i < ELEMENTSOF(gone); i++)
                if (strcasecmp(m->status, gone[i]) == 0)
                        return false;
        return true;
}

const Member *member_list_find(const MemberList *l, const char *id, const char *raft_addr) {
        if (!l)
                return NULL;

        /* An id match wins over an address match: a node that moved keeps its id. A name alone
         * proves nothing (another machine may carry it), and an entry that is gone does not
         * count. */
        if (id && *id)
                for (size_t i = 0; i < l->n; i++) {
                        const Member *m = l->items + i;

                        if (m->id && streq(m->id, id) && member_is_current(m))
                                return m;
                }

        if (raft_addr && *raft_addr)
                for (size_t i = 0; i < l->n; i++) {
                        const Member *m = l->items + i;

                        if (m->raft_addr && streq(m->raft_addr, raft_addr) && member_is_current(m))
                                return m;
                }

        return NULL;
}

const MemberDriver *member_driver_get(ServiceKind kind) {
        switch (kind) {
        case SERVICE_KIND_ADMIN:
                return &member_driver_admin;
        case SERVICE_KIND_ETCD:
                return &member_driver_etcd;
        default:
                return NULL;
        }
}

int member_error_from_response(const HttpResponse *resp) {
        _cleanup_free_ char *hint = NULL;

        if (resp->status >= 200 && resp->status < 300)
                return 0;
        /* "Not the leader": a redirect, a 421, or any error that names the leader. */
        if (member_leader_hint(resp, &hint) > 0)
                return -EREMCHG;
        if (resp->status == 429 || (resp->status == 503 && resp->retry_after_s > 0))
                return -EBUSY;
        if (resp->status == 408)
                return -EREMOTEIO;
        return member_error_from_status(resp->status);
}

/* scheme://authority of url, as a new string. */
static char *url_base(const char *url) {
        const char *a = strstr(url, "://");

        if (!a || (!startswith(url, "http://") && !startswith(url, "https://")))
                return NULL;
        a += 3;
        return strndup(url, (size_t) (a - url) + strcspn(a, "/?#"));
}

int member_leader_hint(const HttpResponse *resp, char **ret) {
        _cleanup_json_ json_t *j = NULL;
        const char *url = NULL;

        *ret = NULL;
        if (resp->status >= 300 && resp->status < 400 && resp->redirect)
                url = resp->redirect;
        else if (resp->status >= 400 && resp->body && resp->body_size > 0) {
                j = json_loadb(resp->body, resp->body_size, 0, NULL);
                url = json_string_value(json_object_get(j, "leader")) ?:
                      json_string_value(json_object_get(j, "leader_url"));
        }
        if (!url)
                return 0;
        *ret = url_base(url);
        if (!*ret)
                return 0;
        string_make_printable(*ret);
        return 1;
}

const char *member_leader_hint_refusal(const char *hint, const char *from, const char *const *configured,
                                       bool tls_verified) {
        Url h, f;

        for (const char *const *c = configured; c && *c; c++)
                if (url_same_server(*c, hint))
                        return NULL;
        if (url_parse(hint, URL_PATH_OK, &h, NULL) < 0 || url_parse(from, URL_PATH_OK, &f, NULL) < 0)
                return "it is not a URL the agent can use";
        if (f.https && !h.https)
                return "it is http:// while the server that named it is https://: the request would travel in clear";
        if (!h.https)
                return "it is not a configured server, and http:// has no certificate to prove who answers";
        if (!tls_verified)
                return "it is not a configured server, and TLS verification is off (tls.insecure_skip_verify)";
        return NULL;
}

int member_error_from_status(long status) {
        if (status >= 200 && status < 300)
                return 0;
        if (status >= 400 && status < 500)
                return -EBADE;
        if (status >= 500 && status < 600)
                return -EREMOTEIO;
        /* 1xx, 3xx (redirects are not followed), nonsense */
        return -EBADMSG;
}

static int strdup_optional(const char *s, char **ret) {
        *ret = NULL;
        if (!s)
                return 0;
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

int member_list_append(MemberList *l, const char *id, const char *name, const char *raft_addr,
                       const char *status) {
        Member m = {}, *items;

        if (strdup_optional(id, &m.id) < 0 || strdup_optional(name, &m.name) < 0 ||
            strdup_optional(raft_addr, &m.raft_addr) < 0 || strdup_optional(status, &m.status) < 0)
                goto oom;
        /* A server's text goes to terminals and logs: nothing in it may act on a terminal. */
        string_make_printable(m.id);
        string_make_printable(m.name);
        string_make_printable(m.raft_addr);
        string_make_printable(m.status);

        items = realloc(l->items, (l->n + 1) * sizeof(Member));
        if (!items)
                goto oom;
        items[l->n++] = m;
        l->items = items;
        return 0;

oom:
        free(m.id);
        free(m.name);
        free(m.raft_addr);
        free(m.status);
        return -ENOMEM;
}

int member_list_parse(const HttpResponse *resp, bool missing_ok, int (*parse_one)(json_t *m, MemberList *l),
                      MemberList *ret) {
        _cleanup_json_ json_t *j = NULL;
        MemberList l = {};
        json_t *members, *m;
        size_t i;
        int r;

        j = json_loadb(resp->body, resp->body_size, 0, NULL);
        if (!json_is_object(j))
                return -EBADMSG;
        members = json_object_get(j, "members");
        if (members ? !json_is_array(members) : !missing_ok)
                return -EBADMSG;

        json_array_foreach(members, i, m) {
                r = parse_one(m, &l);
                if (r < 0) {
                        member_list_done(&l);
                        return r;
                }
        }

        *ret = l;
        return 0;
}
