/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cleanup.h"
#include "consul.h"
#include "string-util.h"

_printf_(3, 4) static void set_error(char *error, size_t size, const char *fmt, ...) {
        va_list ap;

        if (!error || size == 0)
                return;
        va_start(ap, fmt);
        vsnprintf(error, size, fmt, ap);
        va_end(ap);
}

/* GET base + path; 0 with the answer parsed as JSON (any JSON value) for a 200. */
static int get(HttpClient *c, const char *base, const char *path, const char *token, json_t **ret,
               char *error, size_t error_size) {
        _cleanup_(http_response_done) HttpResponse resp = {};
        _cleanup_free_ char *url = url_join(base, path);
        char why[200];
        json_t *v;
        int r;

        if (!url)
                return -ENOMEM;
        r = http_perform(c, &(HttpRequest) { .method = "GET", .url = url, .bearer_token = token,
                                             .token_header = token ? "X-Consul-Token" : NULL }, &resp);
        if (r < 0) {
                set_error(error, error_size, "%s: %s", url, resp.error);
                return r;
        }
        if (resp.status != 200) {
                set_error(error, error_size, "%s: %s (HTTP %ld)", url, http_response_reason(&resp, why, sizeof why),
                          resp.status);
                if (resp.status == 401 || resp.status == 403)
                        return -EACCES;
                return resp.status >= 500 ? -EREMOTEIO : -EPROTO;
        }
        v = json_loads(resp.body, JSON_DECODE_ANY, NULL);
        if (!v) {
                set_error(error, error_size, "%s: the answer is not JSON", url);
                return -EPROTO;
        }
        *ret = v;
        return 0;
}

int consul_leader(HttpClient *c, const char *base, const char *token, char **ret_leader, char *error,
                  size_t error_size) {
        _cleanup_(json_decrefp) json_t *v = NULL;
        const char *leader;
        int r;

        r = get(c, base, "/v1/status/leader", token, &v, error, error_size);
        if (r < 0)
                return r;
        leader = json_string_value(v);
        if (!leader) {
                set_error(error, error_size, "%s/v1/status/leader: the answer is not a JSON string", base);
                return -EPROTO;
        }
        if (!*leader)
                return 0;
        if (ret_leader) {
                *ret_leader = strdup(leader);
                if (!*ret_leader)
                        return -ENOMEM;
        }
        return 1;
}

static void copy(json_t *o, const char *key, char *buf, size_t size) {
        snprintf(buf, size, "%s", json_string_value(json_object_get(o, key)) ?: "");
}

int consul_node_get(HttpClient *c, const char *base, const char *token, const char *name,
                    ConsulNodeStatus *ret, char *error, size_t error_size) {
        _cleanup_(json_decrefp) json_t *node = NULL, *checks = NULL;
        _cleanup_free_ char *escaped = NULL, *path = NULL;
        ConsulNodeStatus s = {};
        json_t *n, *check;
        size_t i;
        int r;

        if (!name || !*name)
                return -EINVAL;
        escaped = url_escape(name);
        if (!escaped || asprintf(&path, "/v1/catalog/node/%s", escaped) < 0)
                return -ENOMEM;
        r = get(c, base, path, token, &node, error, error_size);
        if (r < 0)
                return r;
        if (json_is_null(node)) {
                *ret = s;
                return 0;
        }
        n = json_object_get(node, "Node");
        if (!json_is_object(n)) {
                set_error(error, error_size, "%s%s: no \"Node\" object in the answer", base, path);
                return -EPROTO;
        }
        s.registered = true;
        copy(n, "ID", s.node_id, sizeof s.node_id);
        copy(n, "Address", s.address, sizeof s.address);

        free(path);
        if (asprintf(&path, "/v1/health/node/%s", escaped) < 0) {
                path = NULL;
                return -ENOMEM;
        }
        r = get(c, base, path, token, &checks, error, error_size);
        if (r < 0)
                return r;
        if (!json_is_array(checks)) {
                set_error(error, error_size, "%s%s: the answer is not a list of checks", base, path);
                return -EPROTO;
        }
        json_array_foreach(checks, i, check) {
                const char *id = json_string_value(json_object_get(check, "CheckID"));

                if (!id || !streq(id, "serfHealth"))
                        continue;
                copy(check, "Status", s.serf_status, sizeof s.serf_status);
                copy(check, "Output", s.serf_output, sizeof s.serf_output);
                s.serf_passing = streq(s.serf_status, "passing");
                break;
        }
        *ret = s;
        return 0;
}

int consul_stale_command(const char *name, char **ret) {
        char *c;

        if (!name || !is_hostname(name))
                return -EINVAL;
        if (asprintf(&c, "consul force-leave -prune %s", name) < 0)
                return -ENOMEM;
        *ret = c;
        return 0;
}
