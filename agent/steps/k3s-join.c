/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backoff.h"
#include "curl-util.h"
#include "derive.h"
#include "fileio.h"
#include "join-procedure.h"
#include "k3s-config.h"
#include "k3s.h"
#include "local-unit.h"
#include "log.h"
#include "secret.h"
#include "step-progress.h"
#include "step.h"

/* Joining k3s (kind k3s) as k3s's own agent does, with each check done early so that a wrong
 * server is refused with a clear record rather than by k3s in a loop: the server's CA bundle
 * pinned by the token's hash before anything is written; the node password derived from a
 * cluster secret (so a re-flashed machine under its old name presents the same one); config.yaml;
 * k3s started; then the kubelet's own credentials read the node's object until Ready. */

#define K3S_REQUEST_MS 5000

static usec_t deadline_of(const StepContext *ctx) {
        return now_monotonic() + ctx->config->timeouts.health_wait;
}

/* The server's CA bundle, checked against the token's hash. 0 when pinned or (a token without a
 * hash) trusted on first use; -EBADE when it is another cluster's. */
static int pin_ca(StepContext *ctx, const ServiceConfig *sc, const K3sToken *token) {
        const K3sServiceConfig *k = &sc->k3s;
        const usec_t deadline = deadline_of(ctx);
        K3sCaBundle bundle = {};
        char error[256] = "", waiting[384];
        Backoff b;
        int r;

        backoff_init(&b, ctx->config->timeouts.backoff_initial, ctx->config->timeouts.backoff_max,
                     step_context_jitter_seed(ctx));
        for (;;) {
                step_count_attempt(ctx);
                r = k3s_cacerts_fetch(k->server, K3S_REQUEST_MS, &bundle, error, sizeof error);
                if (r >= 0 || (!curl_util_error_is_transient(r) && r != -EREMOTEIO) || now_monotonic() >= deadline)
                        break;
                snprintf(waiting, sizeof waiting, "the CA bundle of the k3s server %s/cacerts (last: %s)", k->server, error);
                step_wait(ctx, MIN(backoff_next(&b), deadline - now_monotonic()), waiting);
        }
        if (r < 0) {
                step_set_error(ctx, "%s/cacerts: %s", k->server, error);
                return log_error_errno(r, "Could not fetch the CA bundle of the k3s server %s/cacerts (services.%s.server): "
                                       "%s. Check the address and that the server runs; nothing was written.",
                                       k->server, sc->name, error);
        }

        r = k3s_cacerts_check(&bundle, token);
        if (r == -EKEYREJECTED) {
                step_set_error(ctx, "the CA of %s has hash %s, the token pins %s", k->server, bundle.hash, token->ca_hash);
                log_event(LOG_ERR, MID_JOIN_REFUSED,
                          LOG_FIELDS("SERVICE", sc->name, "URL", k->server, "SERVER_CA_HASH", bundle.hash,
                                     "TOKEN_CA_HASH", token->ca_hash, "ERROR", "token CA hash does not match"),
                          "The k3s server %s serves a CA bundle with hash %s, but the token in '%s' pins %s: it is not "
                          "the cluster the token is for. Nothing was written. Fix services.%s.server, or put the token "
                          "of that server's /var/lib/rancher/k3s/server/node-token in '%s'.",
                          k->server, bundle.hash, k->token_file, token->ca_hash, sc->name, k->token_file);
                k3s_ca_bundle_done(&bundle);
                return -EBADE;
        }
        if (r == 0)
                log_warning("The k3s token in '%s' pins no CA (a short token): the CA bundle of %s (hash %s) is trusted "
                            "as first seen. The full token (K10<hash>::…) in the server's node-token file pins it.",
                            k->token_file, k->server, bundle.hash);
        else
                log_info("The CA bundle of %s has the hash the token pins (%s).", k->server, bundle.hash);
        k3s_ca_bundle_done(&bundle);
        return 0;
}

/* The node password from the cluster secret, where there is one. 1 when written or already in
 * place, 0 when there is no secret (k3s makes up a random password). */
static int write_password(StepContext *ctx, const ServiceConfig *sc) {
        const K3sServiceConfig *k = &sc->k3s;
        char pw[DERIVE_PASSWORD_SIZE];
        size_t n = 0;
        void *secret = NULL;
        int r;

        if (access(k->password_secret_file, F_OK) < 0) {
                log_info("No cluster secret at '%s' (services.%s.password_secret_file): k3s makes up this node's "
                         "password, and a re-flashed node named '%s' will be refused until its old password "
                         "entry is deleted on a server.", k->password_secret_file, sc->name, k->node_name);
                return 0;
        }
        r = derive_secret_read(k->password_secret_file, &secret, &n);
        if (r < 0) {
                step_set_error(ctx, "cannot read the cluster secret %s: %s", k->password_secret_file, strerror(-r));
                return log_error_errno(r, "Cannot read the cluster secret '%s' (services.%s.password_secret_file): %m. "
                                       "It must be a file only root can read, of at least %d bytes.",
                                       k->password_secret_file, sc->name, DERIVE_SECRET_MIN);
        }
        r = derive_password(secret, n, DERIVE_K3S_NODE_PASSWORD, k->node_name, pw);
        secret_free_buffer(secret, n);
        if (r < 0)
                return log_error_errno(r, "Cannot derive the node password of '%s': %m", k->node_name);
        (void) secret_register(pw);
        r = k3s_node_password_write(k->password_path, pw);
        explicit_bzero(pw, sizeof pw);
        if (r < 0) {
                step_set_error(ctx, "cannot write the node password %s: %s", k->password_path, strerror(-r));
                return log_error_errno(r, "Cannot write the node password '%s': %m", k->password_path);
        }
        log_info("Node password of '%s' derived from the cluster secret and %s '%s'.", k->node_name,
                 r > 0 ? "written to" : "already in", k->password_path);
        return 1;
}

static int write_config(StepContext *ctx, const ServiceConfig *sc) {
        const K3sServiceConfig *k = &sc->k3s;
        _cleanup_free_ char *text = NULL;
        const char *bad = NULL;
        int r;

        r = k3s_config_format(&(K3sConfig) {
                .server = k->server,
                .token_file = k->token_file,
                .node_name = k->node_name,
                .node_ip = ctx->config->node_ip,
                .node_labels = k->labels,
                .node_taints = k->taints,
        }, &text, &bad);
        if (r < 0)
                return log_error_errno(r, "Cannot write k3s's configuration: its %s is missing or not valid (services.%s).",
                                       strna(bad), sc->name);
        r = k3s_config_write(k->config_path, text);
        if (r < 0) {
                step_set_error(ctx, "cannot write %s: %s", k->config_path, strerror(-r));
                return log_error_errno(r, "Cannot write k3s's configuration '%s': %m", k->config_path);
        }
        log_info("k3s's configuration %s '%s' (server %s, node %s).", r > 0 ? "written to" : "already in",
                 k->config_path, k->server, k->node_name);
        return 0;
}

/* The size of k3s's log (services.NAME.log_file) now: only what k3s writes after it counts. */
static size_t log_size(const K3sServiceConfig *k) {
        struct stat st;

        return k->log_file && stat(k->log_file, &st) >= 0 ? (size_t) st.st_size : 0;
}

/* True when k3s's log says, past offset, that the server refused the node password. */
static bool password_rejected(const K3sServiceConfig *k, size_t offset) {
        _cleanup_free_ char *text = NULL;
        size_t n;

        if (!k->log_file || read_full_file(k->log_file, 16 * 1024 * 1024, &text, &n) < 0 || n <= offset)
                return false;
        return k3s_password_rejected(text + offset);
}

static int report_stale(StepContext *ctx, const ServiceConfig *sc) {
        const K3sServiceConfig *k = &sc->k3s;
        _cleanup_free_ char *cmd = NULL;

        if (k3s_stale_command(k->node_name, &cmd) < 0)
                return log_oom();
        step_set_error(ctx, "the k3s server refused the node password of %s: run %s on a server", k->node_name, cmd);
        log_event(LOG_ERR, MID_MEMBER_STALE,
                  LOG_FIELDS("SERVICE", sc->name, "MEMBER_ID", k->node_name, "MEMBER_NAME", k->node_name,
                             "RAFT_ADDR", strna(ctx->config->node_ip), "URL", k->server, "COMMAND", cmd),
                  "The k3s server %s refused the node password of '%s': it holds the password of an earlier machine "
                  "of that name (this one was re-flashed, or two machines share the name). Run on a server: %s; "
                  "k3s then registers this node by itself. A cluster secret at '%s' (services.%s.password_secret_file) "
                  "makes a re-flashed node present the same password.",
                  k->server, k->node_name, cmd, k->password_secret_file, sc->name);
        return -EBADE;
}

/* Polls the node's object with the kubelet's credentials until it is Ready or the deadline. */
/* log_offset: where k3s's log stood when it was started; SIZE_MAX: do not look at it. */
static int wait_ready(StepContext *ctx, const ServiceConfig *sc, usec_t deadline, size_t log_offset) {
        const K3sServiceConfig *k = &sc->k3s;
        char what[512] = "", waiting[640];
        K3sNodeStatus st = {};
        Backoff b;

        backoff_init(&b, ctx->config->timeouts.backoff_initial, ctx->config->timeouts.backoff_max,
                     step_context_jitter_seed(ctx));
        for (;;) {
                Kubeconfig kc = {};
                const char *why = NULL;
                char error[256] = "";
                int r;

                if (kubeconfig_read(k->kubeconfig, &kc, &why) < 0)
                        snprintf(what, sizeof what, "the kubelet's kubeconfig '%s', which k3s writes once the node is "
                                 "registered (%s)", k->kubeconfig, strna(why));
                else {
                        r = k3s_node_get(&kc, k->node_name, K3S_REQUEST_MS, &st, error, sizeof error);
                        kubeconfig_done(&kc);
                        if (r >= 0 && st.ready) {
                                step_set_detail(ctx, "node %s Ready at %s", k->node_name, k->server);
                                return 0;
                        }
                        if (r < 0)
                                snprintf(what, sizeof what, "the node %s in the Kubernetes API (%s)", k->node_name, error);
                        else if (!st.registered)
                                snprintf(what, sizeof what, "the node %s to register in the Kubernetes API", k->node_name);
                        else
                                snprintf(what, sizeof what, "the node %s to turn Ready (Ready %s%s%s%s%s)", k->node_name,
                                         st.ready_status[0] ? st.ready_status : "absent", st.reason[0] ? ", " : "",
                                         st.reason, st.message[0] ? ": " : "", st.message);
                }
                if (log_offset != SIZE_MAX && password_rejected(k, log_offset))
                        return report_stale(ctx, sc);
                if (now_monotonic() >= deadline)
                        break;
                snprintf(waiting, sizeof waiting, "%s", what);
                step_wait(ctx, MIN(backoff_next(&b), deadline - now_monotonic()), waiting);
        }
        step_set_error(ctx, "timed out waiting for %s", what);
        return log_error_errno(ETIMEDOUT, "Timed out after %" PRIu64 " s (timeouts.health_wait_s) waiting for %s. "
                               "\"systemctl status %s\" and \"journalctl -u %s\" say what k3s does; the next start "
                               "waits again.", ctx->config->timeouts.health_wait / USEC_PER_SEC, what, k->unit, k->unit);
}

int step_join_k3s(StepContext *ctx) {
        const ServiceConfig *sc = ctx->service;
        const K3sServiceConfig *k = &sc->k3s;
        _cleanup_(k3s_token_freep) K3sToken *token = NULL;
        _cleanup_free_ char *setting = NULL;
        size_t offset;
        int r;

        if (asprintf(&setting, "services.%s.start_command", sc->name) < 0)
                return log_oom();
        r = k3s_token_read(k->token_file, &token);
        if (r < 0) {
                step_set_error(ctx, "cannot read the k3s token %s: %s", k->token_file, strerror(-r));
                return log_error_errno(r, "Cannot read the k3s token '%s' (services.%s.token_file): %m. Put the token "
                                       "of a server's /var/lib/rancher/k3s/server/node-token there, readable by root "
                                       "alone (chmod 600).", k->token_file, sc->name);
        }
        r = pin_ca(ctx, sc, token);
        if (r < 0)
                return r;
        r = write_password(ctx, sc);
        if (r < 0)
                return r;
        r = write_config(ctx, sc);
        if (r < 0)
                return r;
        offset = log_size(k);
        r = local_unit_start(&(LocalUnit) {
                .what = "k3s",
                .service = sc->name,
                .unit = k->unit,
                .start_command = k->start_command,
                .setting = setting,
                .settings_file = k->config_path,
        });
        if (r < 0)
                return r;
        r = wait_ready(ctx, sc, deadline_of(ctx), offset);
        if (r < 0)
                return r;
        log_event(LOG_NOTICE, MID_MEMBER_JOINED,
                  LOG_FIELDS("SERVICE", sc->name, "PEER", k->server, "MEMBER_ID", k->node_name, "HTTP_STATUS", "200",
                             "RAFT_ADDR", strna(ctx->config->node_ip)),
                  "Joined k3s at %s: the node '%s' is Ready in the Kubernetes API.", k->server, k->node_name);
        return 0;
}

int member_check_k3s(StepContext *ctx, const ServiceConfig *sc, usec_t deadline) {
        return wait_ready(ctx, sc, deadline, SIZE_MAX);
}
