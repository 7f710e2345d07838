/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "cleanup.h"
#include "json-util.h"
#include "macro.h"
#include "member.h"

/* The cluster services' own admin API:
 *   GET    {base}/admin/cluster/members  → {"members":[{"id","raft_addr","status"}]}
 *   POST   {base}/admin/member/add       {"id","raft_addr"} → 200/201, 409 already a member
 *   DELETE {base}/admin/member/{id}      → 200, 404 */

/* Percent-encodes everything but RFC 3986's unreserved characters. */
static char *url_escape(const char *s) {
        static const char hex[] = "0123456789ABCDEF";
        size_t n = strlen(s);
        char *e, *o;

        e = malloc(n * 3 + 1);
        if (!e)
                return NULL;
        o = e;
        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
                    *p == '-' || *p == '.' || *p == '_' || *p == '~')
                        *o++ = (char) *p;
                else {
                        *o++ = '%';
                        *o++ = hex[*p >> 4];
                        *o++ = hex[*p & 15];
                }
        }
        *o = 0;
        return e;
}

static const char *member_string(json_t *m, const char *key) {
        json_t *v = json_object_get(m, key);

        return json_is_string(v) ? json_string_value(v) : NULL;
}

static int admin_parse_members(const HttpResponse *resp, MemberList *ret) {
        _cleanup_json_ json_t *j = NULL;
        MemberList l = {};
        json_t *members, *m;
        size_t i;
        int r;

        j = json_loadb(resp->body, resp->body_size, 0, NULL);
        if (!json_is_object(j))
                return -EBADMSG;
        members = json_object_get(j, "members");
        if (!json_is_array(members))
                return -EBADMSG;

        json_array_foreach(members, i, m) {
                const char *id = member_string(m, "id");

                if (!id || !*id) {
                        member_list_done(&l);
                        return -EBADMSG;
                }
                r = member_list_append(&l, id, member_string(m, "name") ?: id,
                                       member_string(m, "raft_addr"), member_string(m, "status"));
                if (r < 0) {
                        member_list_done(&l);
                        return r;
                }
        }

        *ret = l;
        return 0;
}

static int admin_list(HttpClient *c, const char *base_url, MemberList *ret, HttpResponse *resp) {
        _cleanup_free_ char *url = NULL;
        int r;

        url = member_url_join(base_url, "/admin/cluster/members");
        if (!url)
                return -ENOMEM;

        r = http_perform(c, &(HttpRequest) { .method = "GET", .url = url }, resp);
        if (r < 0)
                return r;
        r = member_error_from_status(resp->status);
        if (r < 0)
                return r;

        return admin_parse_members(resp, ret);
}

static int admin_add(HttpClient *c, const char *base_url, const char *id, const char *raft_addr,
                     bool tls, HttpResponse *resp) {
        _cleanup_json_ json_t *j = NULL;
        _cleanup_free_ char *url = NULL, *body = NULL;
        int r;

        if (!id || !raft_addr)
                return -EINVAL;

        url = member_url_join(base_url, "/admin/member/add");
        j = json_pack("{s:s, s:s}", "id", id, "raft_addr", raft_addr);
        if (!url || !j)
                return -ENOMEM;
        body = json_dumps(j, JSON_COMPACT);
        if (!body)
                return -ENOMEM;

        r = http_perform(c, &(HttpRequest) { .method = "POST", .url = url, .body = body }, resp);
        if (r < 0)
                return r;
        if (resp->status == 409)
                return MEMBER_EXISTS;
        r = member_error_from_status(resp->status);
        if (r < 0)
                return r;
        return MEMBER_ADDED;
}

static int admin_remove(HttpClient *c, const char *base_url, const char *id, HttpResponse *resp) {
        _cleanup_free_ char *escaped = NULL, *path = NULL, *url = NULL;
        int r;

        if (!id || !*id)
                return -EINVAL;

        escaped = url_escape(id);
        if (!escaped)
                return -ENOMEM;
        if (asprintf(&path, "/admin/member/%s", escaped) < 0) {
                path = NULL;
                return -ENOMEM;
        }
        url = member_url_join(base_url, path);
        if (!url)
                return -ENOMEM;

        r = http_perform(c, &(HttpRequest) { .method = "DELETE", .url = url }, resp);
        if (r < 0)
                return r;
        return member_error_from_status(resp->status);
}

const MemberDriver member_driver_admin = {
        .name = "admin",
        .list = admin_list,
        .add = admin_add,
        .remove = admin_remove,
};
