/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cleanup.h"
#include "config-resolve.h"
#include "config-value.h"
#include "fileio.h"
#include "service-kind.h"
#include "string-util.h"
#include "strv.h"

/* The derived values: every URL and address the steps use is computed here, once. */

static const char *scheme_of(const Config *c) {
        return c->tls.enabled ? "https" : "http";
}

static int make_url(const char *scheme, const char *host, uint16_t port, const char *suffix,
                    char **ret) {
        bool v6 = strchr(host, ':');

        if (asprintf(ret, "%s://%s%s%s:%u%s", scheme, v6 ? "[" : "", host, v6 ? "]" : "",
                     (unsigned) port, suffix) < 0) {
                *ret = NULL;
                return -ENOMEM;
        }
        return 0;
}

/* "https://node01:2379/" is the base "https://node01:2379": paths are appended to it. */
static void strip_trailing_slashes(char *url) {
        const char *authority = strstr(url, "://");
        size_t n = strlen(url), min = authority ? (size_t) (authority - url) + 3 : 0;

        while (n > min && url[n - 1] == '/')
                url[--n] = '\0';
}

/* "node01" and "node01.prod.example.com" are taken to be one machine; addresses must match
 * exactly. */
static bool same_host(const char *a, const char *b) {
        const char *da, *db;

        if (strcasecmp(a, b) == 0)
                return true;
        if (is_ip_address(a) || is_ip_address(b))
                return false;
        da = strchr(a, '.');
        db = strchr(b, '.');
        if (!da && db)
                return strlen(a) == (size_t) (db - b) && strncasecmp(a, b, (size_t) (db - b)) == 0;
        if (da && !db)
                return strlen(b) == (size_t) (da - a) && strncasecmp(a, b, (size_t) (da - a)) == 0;
        return false;
}

static bool strv_has_host(char *const *l, const char *host) {
        STRV_FOREACH(h, l)
                if (same_host(*h, host))
                        return true;
        return false;
}

/* The names this node goes by: node_id, node_ip, node_fqdn and the host of raft_addr. */
static int self_hosts(const Config *c, char ***ret) {
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        char *host = NULL;
        uint16_t port;
        int r;

        if (!l)
                return -ENOMEM;
        if (c->node_id && strv_extend(&l, c->node_id) < 0)
                return -ENOMEM;
        if (c->node_ip && strv_extend(&l, c->node_ip) < 0)
                return -ENOMEM;
        if (c->node_fqdn && strv_extend(&l, c->node_fqdn) < 0)
                return -ENOMEM;
        if (c->raft_addr) {
                r = parse_host_port(c->raft_addr, &host, &port);
                if (r == -ENOMEM)
                        return r;
                if (r >= 0 && strv_push(&l, host) < 0) {
                        free(host);
                        return -ENOMEM;
                }
        }
        *ret = TAKE_PTR(l);
        return 0;
}

/* The other peers' admin API bases, in the order of the list, without the leader (asked first
 * anyway) and without this node. */
static int resolve_peers(const Config *c, char *const *self, ServiceConfig *s) {
        _cleanup_strv_free_ char **urls = calloc(1, sizeof(char *));
        _cleanup_free_ char *leader_host = NULL;
        char *const *peers = config_service_peers(c, s);
        int r;

        if (!urls)
                return -ENOMEM;
        if (s->leader_url) {
                r = config_url_host(s->leader_url, &leader_host, NULL);
                if (r == -ENOMEM)
                        return r;
        }

        STRV_FOREACH(peer, peers) {
                _cleanup_free_ char *host = NULL, *url = NULL;
                uint16_t port;

                r = parse_host_port(*peer, &host, &port);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        continue;
                if ((leader_host && same_host(host, leader_host)) || strv_has_host(self, host))
                        continue;
                r = make_url(scheme_of(c), host, s->api_port, "", &url);
                if (r < 0)
                        return r;
                if (strv_contains(urls, url))
                        continue;
                r = strv_push(&urls, url);
                if (r < 0)
                        return r;
                url = NULL;
        }

        strv_free(s->peer_urls);
        s->peer_urls = TAKE_PTR(urls);
        return 0;
}

static int resolve_raft_service(Config *c, ServiceConfig *s, char *const *self) {
        int r;

        if (s->leader_url)
                strip_trailing_slashes(s->leader_url);
        else if (c->leader_url) {
                _cleanup_free_ char *host = NULL;

                r = config_url_host(c->leader_url, &host, NULL);
                if (r < 0)
                        return r;
                r = make_url(scheme_of(c), host, s->api_port, "", &s->leader_url);
                if (r < 0)
                        return r;
        }

        if (!s->raft_addr && c->raft_addr) {
                _cleanup_free_ char *host = NULL;
                uint16_t port;
                bool v6;

                r = parse_host_port(c->raft_addr, &host, &port);
                if (r < 0)
                        return r;
                v6 = strchr(host, ':');
                if (asprintf(&s->raft_addr, "%s%s%s:%u", v6 ? "[" : "", host, v6 ? "]" : "",
                             (unsigned) s->raft_port) < 0) {
                        s->raft_addr = NULL;
                        return -ENOMEM;
                }
        }

        return resolve_peers(c, self, s);
}

/* This node's name for its own certificate, and the address to reach its own services at: the
 * FQDN when there is one (else the address), and node_ip (else the host of raft_addr). */
static int self_address(const Config *c, char **ret_name, char **ret_connect) {
        _cleanup_free_ char *addr = NULL, *name = NULL;
        uint16_t port;
        int r;

        if (c->node_ip) {
                addr = strdup(c->node_ip);
                if (!addr)
                        return -ENOMEM;
        } else if (c->raft_addr) {
                r = parse_host_port(c->raft_addr, &addr, &port);
                if (r == -ENOMEM)
                        return r;
        }
        name = strdup(c->node_fqdn ?: addr ?: "localhost");
        if (!name)
                return -ENOMEM;
        if (addr && strcasecmp(addr, name) == 0)
                addr = mfree(addr);
        *ret_name = TAKE_PTR(name);
        *ret_connect = TAKE_PTR(addr);
        return 0;
}

static bool file_exists(const char *dir, const char *name, const char *suffix, char **ret) {
        _cleanup_free_ char *p = NULL;

        if (asprintf(&p, "%s/%s%s", dir, name, suffix) < 0)
                return false;
        if (access(p, F_OK) < 0)
                return false;
        *ret = TAKE_PTR(p);
        return true;
}

/* The leader URL that decides: the top-level one, else the first service's own. */
static const char *deciding_leader(const Config *c) {
        if (c->leader_url)
                return c->leader_url;
        CONFIG_FOREACH_SERVICE(s, c)
                if (s->leader_url)
                        return s->leader_url;
        return NULL;
}

/* TLS, when the file does not say: on for an https:// leader (the top-level leader_url, else a
 * service's); for a node without any leader URL (a bootstrap node) on when the seed's CA is in
 * place. The CA and the client certificate: the
 * configured files, else the seed's ca.crt and NODE_ID.crt/.key in the secrets directory, else
 * the system's trust store and no client certificate. */
static int resolve_tls(Config *c) {
        TlsConfig *t = &c->tls;
        _cleanup_free_ char *ca = NULL, *cert = NULL, *key = NULL;
        bool seed_ca;

        if (!t->secrets_dir) {
                t->secrets_dir = strdup(CONFIG_SECRETS_DIR_DEFAULT);
                if (!t->secrets_dir)
                        return -ENOMEM;
        }
        seed_ca = file_exists(t->secrets_dir, "ca", ".crt", &ca);

        if (t->enabled_source != CONFIG_SOURCE_FILE) {
                const char *leader = deciding_leader(c);

                if (leader && startswith(leader, "https://")) {
                        t->enabled = true;
                        t->enabled_source = CONFIG_SOURCE_LEADER_URL;
                } else if (!leader && seed_ca) {
                        t->enabled = true;
                        t->enabled_source = CONFIG_SOURCE_SECRETS_DIR;
                } else {
                        t->enabled = false;
                        t->enabled_source = CONFIG_SOURCE_DEFAULT;
                }
        }

        if (t->ca_cert_path)
                t->ca_source = CONFIG_SOURCE_FILE;
        else if (seed_ca) {
                t->ca_cert_path = TAKE_PTR(ca);
                t->ca_source = CONFIG_SOURCE_SECRETS_DIR;
        } else
                t->ca_source = CONFIG_SOURCE_SYSTEM;

        if (t->node_cert_path)
                t->client_source = CONFIG_SOURCE_FILE;
        else if (c->node_id && file_exists(t->secrets_dir, c->node_id, ".crt", &cert) &&
                 file_exists(t->secrets_dir, c->node_id, ".key", &key)) {
                t->node_cert_path = TAKE_PTR(cert);
                t->node_key_path = TAKE_PTR(key);
                t->client_source = CONFIG_SOURCE_SECRETS_DIR;
        } else
                t->client_source = CONFIG_SOURCE_NONE;
        return 0;
}

int config_resolve(Config *c) {
        _cleanup_strv_free_ char **self = NULL;
        _cleanup_free_ char *name = NULL, *connect = NULL;
        int r;

        if (!c->state_dir) {
                c->state_dir = strdup(CONFIG_STATE_DIR_DEFAULT);
                if (!c->state_dir)
                        return -ENOMEM;
        }

        r = resolve_tls(c);
        if (r < 0)
                return r;
        r = self_hosts(c, &self);
        if (r < 0)
                return r;
        r = self_address(c, &name, &connect);
        if (r < 0)
                return r;

        CONFIG_FOREACH_SERVICE(s, c) {
                const ServiceKindInfo *kind = service_kind(s->kind);

                /* Over TLS the local service is checked under the node's own name (its certificate
                 * names the node, not "localhost"), at the node's own address. */
                if (!s->health_url && kind->local_health) {
                        r = make_url(scheme_of(c), c->tls.enabled ? name : "localhost", s->api_port,
                                     "/health", &s->health_url);
                        if (r < 0)
                                return r;
                        if (c->tls.enabled && connect && !(s->health_connect = strdup(connect)))
                                return -ENOMEM;
                }
                r = kind->raft ? resolve_raft_service(c, s, self) : 0;
                if (r >= 0 && kind->resolve)
                        r = kind->resolve(c, s);
                if (r < 0)
                        return r;
        }

        if (c->iam.url)
                strip_trailing_slashes(c->iam.url);
        else if (config_service_of_kind(c, SERVICE_KIND_IAM)) {
                r = make_url(scheme_of(c), c->tls.enabled ? name : "localhost",
                             config_service_of_kind(c, SERVICE_KIND_IAM)->api_port, "", &c->iam.url);
                if (r < 0)
                        return r;
                c->iam.url_is_own = true;
                if (c->tls.enabled && connect && !(c->iam.connect = strdup(connect)))
                        return -ENOMEM;
        }

        if (!c->iam.token_file) {
                c->iam.token_file = path_join(c->state_dir, "iam-admin.token");
                if (!c->iam.token_file)
                        return -ENOMEM;
        }
        return 0;
}
