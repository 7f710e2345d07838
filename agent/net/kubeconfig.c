/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "cleanup.h"
#include "fileio.h"
#include "kubeconfig.h"
#include "string-util.h"

#define KUBECONFIG_MAX (1024 * 1024)

static void yaml_document_freep(yaml_document_t **d) {
        if (*d)
                yaml_document_delete(*d);
}

/* The value of key in mapping node m, or NULL. */
static yaml_node_t *map_get(yaml_document_t *d, yaml_node_t *m, const char *key) {
        if (!m || m->type != YAML_MAPPING_NODE)
                return NULL;
        for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
                yaml_node_t *k = yaml_document_get_node(d, p->key);

                if (k && k->type == YAML_SCALAR_NODE && streq((const char *) k->data.scalar.value, key))
                        return yaml_document_get_node(d, p->value);
        }
        return NULL;
}

static const char *scalar(yaml_node_t *n) {
        return n && n->type == YAML_SCALAR_NODE ? (const char *) n->data.scalar.value : NULL;
}

/* In the sequence named list, the entry whose "name" is name (or the first when name is NULL),
 * then its member inner ("cluster", "user"). */
static yaml_node_t *named_entry(yaml_document_t *d, yaml_node_t *root, const char *list, const char *name,
                                const char *inner) {
        yaml_node_t *seq = map_get(d, root, list);

        if (!seq || seq->type != YAML_SEQUENCE_NODE)
                return NULL;
        for (yaml_node_item_t *i = seq->data.sequence.items.start; i < seq->data.sequence.items.top; i++) {
                yaml_node_t *e = yaml_document_get_node(d, *i);
                const char *n = scalar(map_get(d, e, "name"));

                if (!name || (n && streq(n, name)))
                        return map_get(d, e, inner);
        }
        return NULL;
}

/* A path from the file, made absolute against dir. */
static int path_from(const char *dir, const char *p, char **ret) {
        *ret = p[0] == '/' ? strdup(p) : path_join(dir, p);
        return *ret ? 0 : -ENOMEM;
}

void kubeconfig_done(Kubeconfig *kc) {
        if (!kc)
                return;
        free(kc->server);
        free(kc->ca_file);
        free(kc->cert_file);
        free(kc->key_file);
        *kc = (Kubeconfig) {};
}

int kubeconfig_read(const char *path, Kubeconfig *ret, const char **ret_why) {
        _cleanup_free_ char *data = NULL, *copy = NULL;
        _cleanup_(yaml_document_freep) yaml_document_t *doc = NULL;
        yaml_document_t document;
        yaml_parser_t parser;
        yaml_node_t *root, *cluster, *user;
        const char *why = NULL, *cluster_name = NULL, *user_name = NULL, *current, *v;
        const char *server, *ca, *cert, *key;
        Kubeconfig kc = {};
        size_t size = 0;
        bool loaded;
        int r;

        r = read_full_file(path, KUBECONFIG_MAX, &data, &size);
        if (r < 0)
                return r;
        if (!yaml_parser_initialize(&parser))
                return -ENOMEM;
        yaml_parser_set_input_string(&parser, (const unsigned char *) data, size);
        loaded = yaml_parser_load(&parser, &document);
        yaml_parser_delete(&parser);
        if (!loaded) {
                why = "not YAML";
                goto bad;
        }
        doc = &document;
        root = yaml_document_get_root_node(doc);
        if (!root || root->type != YAML_MAPPING_NODE) {
                why = "not a mapping";
                goto bad;
        }

        current = scalar(map_get(doc, root, "current-context"));
        if (current && *current) {
                yaml_node_t *ctx = named_entry(doc, root, "contexts", current, "context");

                if (!ctx) {
                        why = "current-context names no entry of contexts";
                        goto bad;
                }
                cluster_name = scalar(map_get(doc, ctx, "cluster"));
                user_name = scalar(map_get(doc, ctx, "user"));
                if (!cluster_name || !user_name) {
                        why = "the current context names no cluster or no user";
                        goto bad;
                }
        }
        cluster = named_entry(doc, root, "clusters", cluster_name, "cluster");
        user = named_entry(doc, root, "users", user_name, "user");
        if (!cluster || !user) {
                why = cluster ? "no user" : "no cluster";
                goto bad;
        }
        if (map_get(doc, cluster, "certificate-authority-data") || map_get(doc, user, "client-certificate-data") ||
            map_get(doc, user, "client-key-data")) {
                if (ret_why)
                        *ret_why = "embedded certificates (…-data) instead of file paths";
                return -EOPNOTSUPP;
        }
        server = scalar(map_get(doc, cluster, "server"));
        ca = scalar(map_get(doc, cluster, "certificate-authority"));
        cert = scalar(map_get(doc, user, "client-certificate"));
        key = scalar(map_get(doc, user, "client-key"));
        why = !server || !*server ? "no cluster.server" :
              !ca || !*ca ? "no cluster.certificate-authority" :
              !cert || !*cert ? "no user.client-certificate" :
              !key || !*key ? "no user.client-key" : NULL;
        if (why)
                goto bad;

        copy = strdup(path);
        if (!copy)
                return -ENOMEM;
        v = dirname(copy);
        kc.server = strdup(server);
        if (!kc.server || path_from(v, ca, &kc.ca_file) < 0 || path_from(v, cert, &kc.cert_file) < 0 ||
            path_from(v, key, &kc.key_file) < 0) {
                kubeconfig_done(&kc);
                return -ENOMEM;
        }
        *ret = kc;
        return 0;
bad:
        if (ret_why)
                *ret_why = why;
        return -EBADMSG;
}
