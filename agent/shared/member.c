/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "member.h"

void member_list_done(MemberList *l) {
        if (!l)
                return;
        for (size_t i = 0; i < l->n; i++) {
                free(l->items[i].id);
                free(l->items[i].name);
                free(l->items[i].raft_addr);
                free(l->items[i].status);
        }
        free(l->items);
        *l = (MemberList) {};
}

const Member *member_list_find(const MemberList *l, const char *id, const char *raft_addr) {
        if (!l)
                return NULL;

        /* An id match wins over an address match: a node that moved keeps its name. */
        if (id && *id)
                for (size_t i = 0; i < l->n; i++) {
                        const Member *m = l->items + i;

                        if ((m->id && streq(m->id, id)) || (m->name && streq(m->name, id)))
                                return m;
                }

        if (raft_addr && *raft_addr)
                for (size_t i = 0; i < l->n; i++) {
                        const Member *m = l->items + i;

                        if (m->raft_addr && streq(m->raft_addr, raft_addr))
                                return m;
                }

        return NULL;
}

const MemberDriver *member_driver_get(MemberDriverKind kind) {
        switch (kind) {
        case MEMBER_DRIVER_ADMIN:
                return &member_driver_admin;
        case MEMBER_DRIVER_ETCD:
                return &member_driver_etcd;
        default:
                return NULL;
        }
}

bool member_error_is_transient(int error) {
        if (error >= 0)
                return false;
        if (error == -EREMOTEIO)
                return true;
        return http_error_is_transient(error);
}

const char *member_driver_kind_to_string(MemberDriverKind kind) {
        const MemberDriver *d = member_driver_get(kind);

        return d ? d->name : NULL;
}

int member_driver_kind_from_string(const char *s) {
        if (!s)
                return -EINVAL;
        if (streq(s, "admin"))
                return MEMBER_DRIVER_ADMIN;
        if (streq(s, "etcd"))
                return MEMBER_DRIVER_ETCD;
        return -EINVAL;
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

char *member_url_join(const char *base, const char *path) {
        size_t n = strlen(base);
        char *u;

        while (n > 0 && base[n - 1] == '/')
                n--;
        if (asprintf(&u, "%.*s%s", (int) n, base, path) < 0)
                return NULL;
        return u;
}
