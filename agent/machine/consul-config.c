/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cleanup.h"
#include "consul-config.h"
#include "fileio.h"
#include "string-util.h"

static bool value_valid(const char *v) {
        return v && *v && !string_has_control(v);
}

/* 8-4-4-4-12 hex digits. */
static bool is_uuid(const char *s) {
        if (strlen(s) != 36)
                return false;
        for (size_t i = 0; i < 36; i++)
                if (i == 8 || i == 13 || i == 18 || i == 23 ? s[i] != '-' : !isxdigit((unsigned char) s[i]))
                        return false;
        return true;
}

static const char *check(const ConsulConfig *c) {
        if (!value_valid(c->node_name))
                return "node_name";
        if (!value_valid(c->node_id) || !is_uuid(c->node_id))
                return "node_id";
        if (!value_valid(c->data_dir))
                return "data_dir";
        if (c->datacenter && !value_valid(c->datacenter))
                return "datacenter";
        if (c->bind_addr && !value_valid(c->bind_addr))
                return "bind_addr";
        if (!c->retry_join || !c->retry_join[0])
                return "retry_join";
        for (char *const *v = c->retry_join; *v; v++)
                if (!value_valid(*v))
                        return "retry_join";
        if (c->encrypt && !value_valid(c->encrypt))
                return "encrypt";
        if (c->agent_token && !value_valid(c->agent_token))
                return "acl.tokens.agent";
        return NULL;
}

static int set(json_t *o, const char *key, json_t *v) {
        return v && json_object_set_new(o, key, v) == 0 ? 0 : -ENOMEM;
}

int consul_config_format(const ConsulConfig *c, char **ret, const char **ret_bad) {
        _cleanup_(json_decrefp) json_t *o = NULL;
        json_t *join, *acl;
        const char *bad;
        char *text;
        int r = 0;

        if (!c)
                return -EINVAL;
        bad = check(c);
        if (bad) {
                if (ret_bad)
                        *ret_bad = bad;
                return -EINVAL;
        }
        o = json_object();
        join = json_array();
        if (!o || !join) {
                json_decref(join);
                return -ENOMEM;
        }
        r = set(o, "server", json_false());
        if (r >= 0 && c->datacenter)
                r = set(o, "datacenter", json_string(c->datacenter));
        if (r >= 0)
                r = set(o, "node_name", json_string(c->node_name));
        if (r >= 0)
                r = set(o, "node_id", json_string(c->node_id));
        if (r >= 0)
                r = set(o, "data_dir", json_string(c->data_dir));
        if (r >= 0 && c->bind_addr)
                r = set(o, "bind_addr", json_string(c->bind_addr));
        for (char *const *v = c->retry_join; r >= 0 && *v; v++)
                if (json_array_append_new(join, json_string(*v)) < 0)
                        r = -ENOMEM;
        if (r >= 0)
                r = set(o, "retry_join", join);
        else
                json_decref(join);
        if (r >= 0 && c->encrypt)
                r = set(o, "encrypt", json_string(c->encrypt));
        if (r >= 0 && c->agent_token) {
                acl = json_pack("{s:b, s:{s:s}}", "enabled", 1, "tokens", "agent", c->agent_token);
                r = set(o, "acl", acl);
        }
        if (r < 0)
                return r;
        text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (!text)
                return -ENOMEM;
        *ret = text;
        return 0;
}

int consul_config_write(const char *dir, const char *name, const char *text) {
        _cleanup_free_ char *path = NULL;

        if (!dir || !name || !text)
                return -EINVAL;
        path = path_join(dir, name);
        if (!path)
                return -ENOMEM;
        return write_file_if_changed(path, text, 0755, 0600);
}
