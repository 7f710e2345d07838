/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "cleanup.h"
#include "fileio.h"
#include "k3s-config.h"
#include "secret.h"
#include "string-util.h"

typedef struct Out {
        FILE *f;
} Out;

static int out_write(void *data, unsigned char *buffer, size_t size) {
        Out *o = data;

        return fwrite(buffer, 1, size, o->f) == size;
}

static bool value_valid(const char *v) {
        return v && *v && !string_has_control(v);
}

static int emit(yaml_emitter_t *e, yaml_event_t *ev) {
        return yaml_emitter_emit(e, ev) ? 0 : -ENOMEM;
}

static int scalar(yaml_emitter_t *e, const char *s, yaml_scalar_style_t style) {
        yaml_event_t ev;

        if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *) s, (int) strlen(s), 1, 1, style))
                return -ENOMEM;
        return emit(e, &ev);
}

static int pair(yaml_emitter_t *e, const char *key, const char *value) {
        int r = scalar(e, key, YAML_PLAIN_SCALAR_STYLE);

        return r < 0 ? r : scalar(e, value, YAML_DOUBLE_QUOTED_SCALAR_STYLE);
}

static int list(yaml_emitter_t *e, const char *key, char *const *values) {
        yaml_event_t ev;
        int r;

        if (!values || !values[0])
                return 0;
        r = scalar(e, key, YAML_PLAIN_SCALAR_STYLE);
        if (r < 0)
                return r;
        if (!yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE))
                return -ENOMEM;
        r = emit(e, &ev);
        for (char *const *v = values; r >= 0 && *v; v++)
                r = scalar(e, *v, YAML_DOUBLE_QUOTED_SCALAR_STYLE);
        if (r < 0)
                return r;
        yaml_sequence_end_event_initialize(&ev);
        return emit(e, &ev);
}

static const char *check(const K3sConfig *c) {
        if (!value_valid(c->server))
                return "server";
        if (!value_valid(c->token_file))
                return "token-file";
        if (!value_valid(c->node_name))
                return "node-name";
        if (c->node_ip && !value_valid(c->node_ip))
                return "node-ip";
        for (char *const *v = c->node_labels; v && *v; v++)
                if (!value_valid(*v) || !strchr(*v, '='))
                        return "node-label";
        for (char *const *v = c->node_taints; v && *v; v++)
                if (!value_valid(*v) || !strchr(*v, ':'))
                        return "node-taint";
        return NULL;
}

static int emit_all(yaml_emitter_t *e, const K3sConfig *c) {
        yaml_event_t ev;
        int r;

        if (!yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) || (r = emit(e, &ev)) < 0)
                return -ENOMEM;
        if (!yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) || (r = emit(e, &ev)) < 0)
                return -ENOMEM;
        if (!yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE) ||
            (r = emit(e, &ev)) < 0)
                return -ENOMEM;
        r = pair(e, "server", c->server);
        if (r >= 0)
                r = pair(e, "token-file", c->token_file);
        if (r >= 0)
                r = pair(e, "node-name", c->node_name);
        if (r >= 0 && c->node_ip)
                r = pair(e, "node-ip", c->node_ip);
        if (r >= 0)
                r = list(e, "node-label", c->node_labels);
        if (r >= 0)
                r = list(e, "node-taint", c->node_taints);
        if (r < 0)
                return r;
        yaml_mapping_end_event_initialize(&ev);
        if ((r = emit(e, &ev)) < 0)
                return r;
        yaml_document_end_event_initialize(&ev, 1);
        if ((r = emit(e, &ev)) < 0)
                return r;
        yaml_stream_end_event_initialize(&ev);
        return emit(e, &ev);
}

int k3s_config_format(const K3sConfig *c, char **ret, const char **ret_bad) {
        _cleanup_free_ char *buf = NULL;
        yaml_emitter_t e;
        const char *bad;
        size_t size = 0;
        Out o;
        int r;

        if (!c)
                return -EINVAL;
        bad = check(c);
        if (bad) {
                if (ret_bad)
                        *ret_bad = bad;
                return -EINVAL;
        }
        o.f = open_memstream(&buf, &size);
        if (!o.f)
                return -ENOMEM;
        fputs("# Written by first-boot-agent from this node's configuration.\n", o.f);
        if (!yaml_emitter_initialize(&e)) {
                fclose(o.f);
                return -ENOMEM;
        }
        yaml_emitter_set_output(&e, out_write, &o);
        yaml_emitter_set_unicode(&e, 1);
        yaml_emitter_set_width(&e, -1);
        r = emit_all(&e, c);
        if (r >= 0 && !yaml_emitter_flush(&e))
                r = -ENOMEM;
        yaml_emitter_delete(&e);
        if (fclose(o.f) != 0)
                return -ENOMEM;
        if (r < 0)
                return r;
        *ret = TAKE_PTR(buf);
        return 0;
}

int k3s_config_write(const char *path, const char *text) {
        if (!path || !text)
                return -EINVAL;
        return write_file_if_changed(path, text, 0755, 0600);
}

int k3s_node_password_write(const char *path, const char *password) {
        _cleanup_(secret_freep) char *line = NULL;
        size_t n;

        if (!path || !value_valid(password))
                return -EINVAL;
        n = strlen(password);
        line = malloc(n + 2);   /* one allocation: no copy left behind by a growing buffer */
        if (!line)
                return -ENOMEM;
        memcpy(line, password, n);
        memcpy(line + n, "\n", 2);
        return write_file_if_changed(path, line, 0700, 0600);
}
