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
#include "string-util.h"

/* The cluster services' own admin API:
 *   GET    {base}/admin/cluster/members  → {"members":[{"id","raft_addr","status"}]}
 *   POST   {base}/admin/member/add       {"id","raft_addr"} → 200/201, 409 already a member
 *   DELETE {base}/admin/member/{id}      → 200, 404 */

static const char *member_string(json_t *m, const char *key) {
        json_t *v = json_object_get(m, key);

        return json_is_string(v) ? json_string_value(v) : NULL;
}

static int admin_parse_member(json_t *m, MemberList *l) {
        const char *id = member_string(m, "id");

        if (!id || !*id)
                return -EBADMSG;
        return member_list_append(l, id, member_string(m, "name") ?: id, member_string(m, "raft_addr"),
                                  member_string(m, "status"));
}

static int admin_parse_list(const HttpResponse *resp, MemberList *ret) {
        return member_list_parse(resp, false, admin_parse_member, ret);
}

static int admin_list(HttpClient *c, const char *base_url, MemberList *ret, HttpResponse *resp) {
        _cleanup_free_ char *url = NULL;
        int r;

        url = url_join(base_url, "/admin/cluster/members");
        if (!url)
                return -ENOMEM;

        r = http_perform(c, &(HttpRequest) { .method = "GET", .url = url }, resp);
        if (r < 0)
                return r;
        r = member_error_from_response(resp);
        if (r < 0)
                return r;

        return admin_parse_list(resp, ret);
}

static int admin_add(HttpClient *c, const char *base_url, const char *id, const char *raft_addr,
                     unsigned flags, HttpResponse *resp) {
        _cleanup_json_ json_t *j = NULL;
        _cleanup_free_ char *url = NULL, *body = NULL;
        int r;

        if (!id || !raft_addr)
                return -EINVAL;

        url = url_join(base_url, "/admin/member/add");
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
        r = member_error_from_response(resp);
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
        url = url_join(base_url, path);
        if (!url)
                return -ENOMEM;

        r = http_perform(c, &(HttpRequest) { .method = "DELETE", .url = url }, resp);
        if (r < 0)
                return r;
        return member_error_from_response(resp);
}

const MemberDriver member_driver_admin = {
        .name = "admin",
        .health_first = true,
        .list = admin_list,
        .parse_list = admin_parse_list,
        .add = admin_add,
        .remove = admin_remove,
};
