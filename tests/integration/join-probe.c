/* SPDX-License-Identifier: MIT */
/* The k3s and Consul pieces (net/k3s, net/kubeconfig, net/consul, machine/k3s-config,
 * machine/consul-config, crypto/derive) as commands, for the integration tests against the
 * stand-ins in tests/server. Exit 0 on success, 1 on an error (its text on stderr), 5 when a
 * CA hash does not match the token's, 2 on a usage error.
 *
 *   join-probe password SECRET_FILE NAME OUT          derived node password written to OUT
 *   join-probe k3s-config OUT SERVER TOKEN_FILE NAME IP [label:K=V|taint:K=V:E]...
 *   join-probe cacerts SERVER TOKEN_FILE OUT_PEM      prints "pinned HASH" or "unpinned HASH"
 *   join-probe node KUBECONFIG NAME                   prints "ready", "not-ready REASON: MESSAGE",
 *                                                     "not-registered"
 *   join-probe node-id NAME                           the derived Consul node ID
 *   join-probe consul-config DIR NAME NODE_ID JOIN ENCRYPT_FILE|- TOKEN_FILE|-
 *   join-probe consul URL NAME TOKEN_FILE|-           prints "leader ADDR|none" then
 *                                                     "node ID SERF_STATUS" or "not-registered" */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "consul-config.h"
#include "consul.h"
#include "derive.h"
#include "fileio.h"
#include "k3s-config.h"
#include "k3s.h"
#include "kubeconfig.h"
#include "secret.h"
#include "string-util.h"

static int fail(int r, const char *what, const char *detail) {
        fprintf(stderr, "join-probe: %s: %s%s%s\n", what, strerror(-r), detail && *detail ? ": " : "",
                detail ?: "");
        return 1;
}

/* A secret file's text without trailing newlines, or NULL for "-". */
static int read_secret(const char *path, char **ret) {
        char *s = NULL;
        int r;

        *ret = NULL;
        if (streq(path, "-"))
                return 0;
        r = read_full_file(path, 4096, &s, NULL);
        if (r < 0)
                return r;
        s[strcspn(s, "\r\n")] = '\0';
        r = secret_register(s);
        *ret = s;
        return r;
}

static int cmd_password(char **argv) {
        char pw[DERIVE_PASSWORD_SIZE];
        void *secret = NULL;
        size_t n = 0;
        int r;

        r = derive_secret_read(argv[0], &secret, &n);
        if (r < 0)
                return fail(r, argv[0], "the cluster secret");
        r = derive_password(secret, n, DERIVE_K3S_NODE_PASSWORD, argv[1], pw);
        secret_free_buffer(secret, n);
        if (r < 0)
                return fail(r, "derive", NULL);
        r = k3s_node_password_write(argv[2], pw);
        explicit_bzero(pw, sizeof pw);
        return r < 0 ? fail(r, argv[2], NULL) : 0;
}

static int cmd_k3s_config(int argc, char **argv) {
        _cleanup_free_ char *text = NULL;
        char *labels[16] = {}, *taints[16] = {};
        size_t nl = 0, nt = 0;
        const char *bad = NULL;
        int r;

        for (int i = 5; i < argc && nl < 15 && nt < 15; i++)
                if (startswith(argv[i], "label:"))
                        labels[nl++] = argv[i] + 6;
                else if (startswith(argv[i], "taint:"))
                        taints[nt++] = argv[i] + 6;
        r = k3s_config_format(&(K3sConfig) { .server = argv[1], .token_file = argv[2], .node_name = argv[3],
                                             .node_ip = argv[4], .node_labels = labels, .node_taints = taints },
                              &text, &bad);
        if (r < 0)
                return fail(r, "config.yaml", bad);
        r = k3s_config_write(argv[0], text);
        return r < 0 ? fail(r, argv[0], NULL) : 0;
}

static int cmd_cacerts(char **argv) {
        _cleanup_(k3s_token_freep) K3sToken *t = NULL;
        K3sCaBundle b = {};
        char error[512] = "";
        int r;

        r = k3s_token_read(argv[1], &t);
        if (r < 0)
                return fail(r, argv[1], "the k3s token");
        r = k3s_cacerts_fetch(argv[0], 5000, &b, error, sizeof error);
        if (r < 0)
                return fail(r, argv[0], error);
        r = k3s_cacerts_check(&b, t);
        if (r == -EKEYREJECTED) {
                fprintf(stderr, "join-probe: the CA of %s has hash %s, the token pins %s\n", argv[0], b.hash, t->ca_hash);
                k3s_ca_bundle_done(&b);
                return 5;
        }
        r = write_file_atomic(argv[2], b.pem, b.size, 0644);
        if (r < 0)
                return fail(r, argv[2], NULL);
        printf("%s %s\n", t->ca_hash[0] ? "pinned" : "unpinned", b.hash);
        k3s_ca_bundle_done(&b);
        return 0;
}

static int cmd_node(char **argv) {
        Kubeconfig kc = {};
        K3sNodeStatus s;
        const char *why = NULL;
        char error[512] = "";
        int r;

        r = kubeconfig_read(argv[0], &kc, &why);
        if (r < 0)
                return fail(r, argv[0], why);
        r = k3s_node_get(&kc, argv[1], 5000, &s, error, sizeof error);
        kubeconfig_done(&kc);
        if (r < 0)
                return fail(r, argv[1], error);
        if (!s.registered)
                printf("not-registered\n");
        else if (s.ready)
                printf("ready\n");
        else
                printf("not-ready %s: %s\n", s.reason, s.message);
        return 0;
}

static int cmd_consul_config(char **argv) {
        _cleanup_(secret_freep) char *encrypt = NULL, *token = NULL;
        _cleanup_free_ char *text = NULL;
        const char *bad = NULL;
        int r;

        if (read_secret(argv[4], &encrypt) < 0 || read_secret(argv[5], &token) < 0)
                return fail(-EIO, "secrets", argv[4]);
        r = consul_config_format(&(ConsulConfig) { .datacenter = "dc1", .node_name = argv[1], .node_id = argv[2],
                                                   .data_dir = "/opt/consul", .bind_addr = "127.0.0.1",
                                                   .retry_join = (char *[]) { argv[3], NULL },
                                                   .encrypt = encrypt, .agent_token = token },
                                 &text, &bad);
        if (r < 0)
                return fail(r, "consul config", bad);
        r = consul_config_write(argv[0], CONSUL_CONFIG_NAME, text);
        return r < 0 ? fail(r, argv[0], NULL) : 0;
}

static int cmd_consul(char **argv) {
        _cleanup_(http_client_freep) HttpClient *c = NULL;
        _cleanup_(secret_freep) char *token = NULL;
        _cleanup_free_ char *leader = NULL;
        ConsulNodeStatus s;
        char error[512] = "";
        int r;

        if (read_secret(argv[2], &token) < 0)
                return fail(-EIO, argv[2], "the ACL token");
        r = http_client_new(NULL, 2000, 5000, &c);
        if (r < 0)
                return fail(r, "client", NULL);
        r = consul_leader(c, argv[0], token, &leader, error, sizeof error);
        if (r < 0)
                return fail(r, "leader", error);
        printf("leader %s\n", r > 0 ? leader : "none");
        if (r == 0)
                return 0;
        r = consul_node_get(c, argv[0], token, argv[1], &s, error, sizeof error);
        if (r < 0)
                return fail(r, argv[1], error);
        if (s.registered)
                printf("node %s %s\n", s.node_id, s.serf_status[0] ? s.serf_status : "no-check");
        else
                printf("not-registered\n");
        return 0;
}

int main(int argc, char **argv) {
        static const struct { const char *name; int args; } verbs[] = {
                { "password", 3 }, { "k3s-config", 5 }, { "cacerts", 3 }, { "node", 2 },
                { "node-id", 1 }, { "consul-config", 6 }, { "consul", 3 },
        };
        int r = 2;

        for (size_t i = 0; argc >= 2 && i < sizeof verbs / sizeof verbs[0]; i++) {
                if (!streq(argv[1], verbs[i].name))
                        continue;
                if (argc - 2 < verbs[i].args)
                        break;
                if (streq(argv[1], "password"))
                        r = cmd_password(argv + 2);
                else if (streq(argv[1], "k3s-config"))
                        r = cmd_k3s_config(argc - 2, argv + 2);
                else if (streq(argv[1], "cacerts"))
                        r = cmd_cacerts(argv + 2);
                else if (streq(argv[1], "node"))
                        r = cmd_node(argv + 2);
                else if (streq(argv[1], "consul-config"))
                        r = cmd_consul_config(argv + 2);
                else if (streq(argv[1], "consul"))
                        r = cmd_consul(argv + 2);
                else {
                        char id[DERIVE_UUID_SIZE];

                        r = derive_uuid(DERIVE_CONSUL_NODE_ID, argv[2], NULL, id);
                        if (r < 0)
                                return fail(r, "node-id", NULL);
                        printf("%s\n", id);
                        r = 0;
                }
                secret_forget_all();
                return r;
        }
        fprintf(stderr, "usage: see the comment at the top of tests/integration/join-probe.c\n");
        return 2;
}
