/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>

#include <jansson.h>

#include "cleanup.h"
#include "etcd-gateway.h"
#include "json-util.h"
#include "string-util.h"

int etcd_gateway_post(HttpClient *c, const char *base_url, const char *path, const char *body, long timeout_ms,
                      HttpResponse *resp) {
        _cleanup_free_ char *url = url_join(base_url, path);

        if (!url)
                return -ENOMEM;
        return http_perform(c, &(HttpRequest) { .method = "POST", .url = url, .body = body, .timeout_ms = timeout_ms },
                            resp);
}

bool etcd_gateway_mentions(const HttpResponse *resp, const char *text) {
        _cleanup_json_ json_t *j = NULL;
        const char *msg;

        if (!resp->body || resp->body_size == 0)
                return false;
        j = json_loadb(resp->body, resp->body_size, 0, NULL);
        msg = json_string_value(json_object_get(j, "message")) ?: json_string_value(json_object_get(j, "error"));
        return msg && strcasestr(msg, text);
}
