/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "kubeconfig.h"
#include "macro.h"

/* k3s's join token and its TLS bootstrap, as k3s itself does them (pkg/clientaccess/token.go),
 * and the one question the agent asks the Kubernetes API afterwards. Never logs.
 *
 *   K10<ca-hash>::<user>:<password>      secure form: the CA is pinned by the hash
 *   K10<ca-hash>::<id>.<secret>          a kubeadm-style bootstrap token ([a-z0-9]{6}.[a-z0-9]{16})
 *   K10::<user>:<password>               no hash: the CA cannot be pinned
 *   <password>, <id>.<secret>            the short forms: no hash either
 *
 * The CA hash is SHA-256 (lower-case hex) of the bundle served at https://SERVER/cacerts: of its
 * exact bytes when it holds one certificate, else of the DER of the root that the bundle's first
 * certificate chains to through the others (so that a renewed intermediate keeps the hash). The
 * bundle is fetched without verification; it is trusted only once its hash is the token's. */

#define K3S_CA_HASH_SIZE 65     /* 64 hex digits, NUL */

typedef struct K3sToken {
        char ca_hash[K3S_CA_HASH_SIZE]; /* "" when the token pins no CA */
        char *username;                 /* "" for a bare password; the id of a bootstrap token */
        char *password;                 /* the secret part, wiped when freed */
        bool bootstrap;                 /* the credentials are a bootstrap token */
} K3sToken;

/* Parses text (the token, without surrounding blanks). The token and its password are registered as secrets (secret.h) before anything else happens, so no error text
 * can carry them. -EINVAL: empty; -EBADMSG: a hash that is not 64 hex digits (k3s: "invalid
 * token CA hash length"), or credentials with neither a bootstrap token's form nor a non-empty
 * password after a ':' (k3s: "invalid token format"). */
int k3s_token_parse(const char *text, K3sToken **ret);
/* The same from a file (k3s's token-file): the whole file, blanks at either end removed. The file
 * must be private (-EPERM). */
int k3s_token_read(const char *path, K3sToken **ret);
K3sToken *k3s_token_free(K3sToken *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(K3sToken *, k3s_token_free);

/* k3s's hash of a CA bundle (above) into ret. -EBADMSG: no PEM certificate in it. */
int k3s_ca_hash(const void *bundle, size_t size, char ret[static K3S_CA_HASH_SIZE]);

typedef struct K3sCaBundle {
        char *pem;                      /* the exact bytes served, NUL-terminated */
        size_t size;
        char hash[K3S_CA_HASH_SIZE];    /* k3s_ca_hash() of them */
} K3sCaBundle;

/* GET SERVER/cacerts without verification (SERVER: "https://HOST:PORT", k3s's `server`), its
 * hash, then the same request again verifying the server with the bundle (as k3s does: a bundle
 * that does not sign the server's certificate is refused, -EKEYREJECTED). Errors: -EINVAL for a
 * server URL that is not https:// without a path; the transport's (http.h); -EREMOTEIO for a 5xx
 * answer, -EPROTO for another status than 200; -EBADMSG for an answer without a certificate.
 * error (may be NULL) gets the transport's or the server's text. ret is filled only on success;
 * release it with k3s_ca_bundle_done(). */
int k3s_cacerts_fetch(const char *server, long timeout_ms, K3sCaBundle *ret, char *error,
                      size_t error_size);
void k3s_ca_bundle_done(K3sCaBundle *b);

/* 1 when the bundle's hash is the token's (the same string: k3s compares them so, and a token
 * with an upper-case hash is refused by k3s too), 0 when the token pins no CA (then the caller says
 * that the CA is trusted on first use), -EKEYREJECTED when they differ (k3s: "token CA hash does
 * not match the Cluster CA certificate hash: TOKEN != SERVER"). */
int k3s_cacerts_check(const K3sCaBundle *b, const K3sToken *t);

typedef struct K3sNodeStatus {
        bool registered;                /* false: 404, the kubelet has not registered the node */
        bool ready;                     /* its Ready condition is "True" */
        char ready_status[16];          /* "True", "False", "Unknown", or "" when no condition */
        char reason[128];               /* the Ready condition's reason and message, or "" */
        char message[256];
} K3sNodeStatus;

/* GET /api/v1/nodes/NAME at the kubeconfig's server, with its CA and client certificate (the
 * kubelet's own: the API serves a node's object to that node). 0 with the status filled in (a
 * 404 is "not registered"); -EACCES for 401/403 (the certificate is not this node's), -EREMOTEIO
 * for 5xx, -EPROTO for another status or an answer that is not a Node; the transport's errors.
 * error (may be NULL) gets the server's or the transport's text. */
int k3s_node_get(const Kubeconfig *kc, const char *name, long timeout_ms, K3sNodeStatus *ret,
                 char *error, size_t error_size);

/* What k3s logs when the server refuses the node password (a re-flashed node without the derived
 * password, or two machines under one name), word for word. */
#define K3S_PASSWORD_REJECTED                                                                    \
        "Node password rejected, duplicate hostname or contents of '/etc/rancher/node/password' " \
        "may not match server node-passwd entry, try enabling a unique node name with the "      \
        "--with-node-id flag"

/* True when a line of k3s's log (or an answer) carries that refusal. */
bool k3s_password_rejected(const char *text);

/* The command an operator runs on a server to forget the node password stored for name, so that
 * the node can register with its new one: "kubectl -n kube-system delete secret
 * NAME.node-password.k3s". A new string; -EINVAL for a name that is not a DNS label sequence
 * (it goes into a shell command), -ENOMEM. */
int k3s_stale_command(const char *name, char **ret);
