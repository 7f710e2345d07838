/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backoff.h"
#include "consul-config.h"
#include "consul.h"
#include "derive.h"
#include "join-procedure.h"
#include "local-unit.h"
#include "log.h"
#include "secret.h"
#include "step-progress.h"
#include "step.h"

/* Joining Consul (kind consul): the client agent's file with this node's ID pinned (derived from
 * its name, so a re-installed machine keeps it and the servers do not refuse the name), the
 * gossip key and the ACL token from the secrets, the agent started; joined once the local API
 * shows a leader and this node in the catalog under its ID with its Serf health passing. */

/* A secret file's text (no trailing newline), registered as a secret; NULL path: *ret NULL. */
static int read_secret(const char *path, char **ret) {
        void *buf = NULL;
        size_t n = 0;
        char *s;
        int r;

        *ret = NULL;
        if (!path)
                return 0;
        r = derive_secret_read(path, &buf, &n);
        if (r < 0)
                return r;
        s = malloc(n + 1);
        if (s) {
                memcpy(s, buf, n);
                s[n] = '\0';
                (void) secret_register(s);
        }
        secret_free_buffer(buf, n);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

static char *free_secret(char *s) {
        if (s)
                explicit_bzero(s, strlen(s));
        free(s);
        return NULL;
}

static int node_id_of(const ServiceConfig *sc, char id[static DERIVE_UUID_SIZE]) {
        int r = derive_uuid(DERIVE_CONSUL_NODE_ID, sc->consul.node_name, NULL, id);

        return r < 0 ? log_error_errno(r, "Cannot derive the Consul node ID of '%s': %m", sc->consul.node_name) : 0;
}

static int write_config(StepContext *ctx, const ServiceConfig *sc, const char *node_id, const char *encrypt,
                        const char *token) {
        const ConsulServiceConfig *k = &sc->consul;
        _cleanup_free_ char *text = NULL;
        const char *bad = NULL;
        int r;

        r = consul_config_format(&(ConsulConfig) {
                .datacenter = ctx->config->datacenter,
                .node_name = k->node_name,
                .node_id = node_id,
                .data_dir = k->data_dir,
                .bind_addr = k->bind_addr,
                .retry_join = k->retry_join,
                .encrypt = encrypt,
                .agent_token = token,
        }, &text, &bad);
        if (r < 0)
                return log_error_errno(r, "Cannot write the Consul agent's file: its %s is missing or not valid (services.%s).",
                                       strna(bad), sc->name);
        r = consul_config_write(k->config_dir, CONSUL_CONFIG_NAME, text);
        if (text)
                explicit_bzero(text, strlen(text));
        if (r < 0) {
                step_set_error(ctx, "cannot write %s/%s: %s", k->config_dir, CONSUL_CONFIG_NAME, strerror(-r));
                return log_error_errno(r, "Cannot write the Consul agent's file '%s/%s': %m", k->config_dir, CONSUL_CONFIG_NAME);
        }
        log_info("Consul agent's file %s '%s/%s' (node %s, ID %s).", r > 0 ? "written to" : "already in", k->config_dir,
                 CONSUL_CONFIG_NAME, k->node_name, node_id);
        return 0;
}

static int report_stale(StepContext *ctx, const ServiceConfig *sc, const ConsulNodeStatus *st, const char *node_id) {
        const ConsulServiceConfig *k = &sc->consul;
        _cleanup_free_ char *cmd = NULL;

        if (consul_stale_command(k->node_name, &cmd) < 0)
                return log_oom();
        step_set_error(ctx, "Consul holds %s under node ID %s, not %s: run %s", k->node_name, st->node_id, node_id, cmd);
        log_event(LOG_ERR, MID_MEMBER_STALE,
                  LOG_FIELDS("SERVICE", sc->name, "MEMBER_ID", k->node_name, "MEMBER_NAME", k->node_name,
                             "RAFT_ADDR", st->address[0] ? st->address : "unknown", "COMMAND", cmd),
                  "Consul's catalog holds the node name '%s' under the node ID %s (address %s), not this node's %s "
                  "(derived from its name): another machine under this name, or one installed before IDs were "
                  "pinned. Once that machine is gone for good, run: %s; the agent then registers by itself.",
                  k->node_name, st->node_id, st->address[0] ? st->address : "unknown", node_id, cmd);
        return -EBADE;
}

/* Asks the local agent until there is a leader and this node is in the catalog under node_id with
 * its Serf health passing, or the deadline. */
static int wait_member(StepContext *ctx, const ServiceConfig *sc, const char *node_id, const char *token,
                       usec_t deadline) {
        const ConsulServiceConfig *k = &sc->consul;
        char what[512] = "", waiting[640];
        Backoff b;

        backoff_init(&b, ctx->config->timeouts.backoff_initial, ctx->config->timeouts.backoff_max,
                     step_context_jitter_seed(ctx));
        for (;;) {
                _cleanup_free_ char *leader = NULL;
                ConsulNodeStatus st = {};
                char error[256] = "";
                int r;

                r = consul_leader(ctx->http, k->http_url, token, &leader, error, sizeof error);
                if (r < 0)
                        snprintf(what, sizeof what, "the local Consul agent at %s (%s)", k->http_url, error);
                else if (r == 0)
                        snprintf(what, sizeof what, "a Consul leader (the agent at %s knows none yet)", k->http_url);
                else {
                        r = consul_node_get(ctx->http, k->http_url, token, k->node_name, &st, error, sizeof error);
                        if (r < 0)
                                snprintf(what, sizeof what, "this node in Consul's catalog (%s)", error);
                        else if (!st.registered)
                                snprintf(what, sizeof what, "the node %s in Consul's catalog", k->node_name);
                        else if (!streq(st.node_id, node_id))
                                return report_stale(ctx, sc, &st, node_id);
                        else if (!st.serf_passing)
                                snprintf(what, sizeof what, "the Serf health of %s to pass (%s%s%s)", k->node_name,
                                         st.serf_status[0] ? st.serf_status : "no check", st.serf_output[0] ? ": " : "",
                                         st.serf_output);
                        else {
                                step_set_detail(ctx, "node %s in the catalog, leader %s", k->node_name, leader);
                                return 0;
                        }
                }
                if (now_monotonic() >= deadline)
                        break;
                snprintf(waiting, sizeof waiting, "%s", what);
                step_wait(ctx, MIN(backoff_next(&b), deadline - now_monotonic()), waiting);
        }
        step_set_error(ctx, "timed out waiting for %s", what);
        return log_error_errno(ETIMEDOUT, "Timed out after %" PRIu64 " s (timeouts.health_wait_s) waiting for %s. "
                               "\"consul members\" and \"journalctl -u %s\" say what the agent does; the next start "
                               "waits again.", ctx->config->timeouts.health_wait / USEC_PER_SEC, what, k->unit);
}

int step_join_consul(StepContext *ctx) {
        const ServiceConfig *sc = ctx->service;
        const ConsulServiceConfig *k = &sc->consul;
        _cleanup_free_ char *setting = NULL;
        char *encrypt = NULL, *token = NULL, node_id[DERIVE_UUID_SIZE];
        int r;

        if (asprintf(&setting, "services.%s.start_command", sc->name) < 0)
                return log_oom();
        r = node_id_of(sc, node_id);
        if (r < 0)
                return r;
        r = read_secret(k->encrypt_file, &encrypt);
        if (r < 0) {
                step_set_error(ctx, "cannot read the gossip key %s: %s", k->encrypt_file, strerror(-r));
                return log_error_errno(r, "Cannot read the gossip key '%s' (services.%s.encrypt_file): %m. It must be "
                                       "readable by root alone.", k->encrypt_file, sc->name);
        }
        r = read_secret(k->token_file, &token);
        if (r < 0) {
                free_secret(encrypt);
                step_set_error(ctx, "cannot read the ACL token %s: %s", k->token_file, strerror(-r));
                return log_error_errno(r, "Cannot read the ACL token '%s' (services.%s.token_file): %m. It must be "
                                       "readable by root alone.", k->token_file, sc->name);
        }
        r = write_config(ctx, sc, node_id, encrypt, token);
        encrypt = free_secret(encrypt);
        if (r >= 0)
                r = local_unit_start(&(LocalUnit) {
                        .what = "the Consul agent",
                        .service = sc->name,
                        .unit = k->unit,
                        .start_command = k->start_command,
                        .setting = setting,
                });
        if (r >= 0)
                r = wait_member(ctx, sc, node_id, token, now_monotonic() + ctx->config->timeouts.health_wait);
        token = free_secret(token);
        if (r < 0)
                return r;
        log_event(LOG_NOTICE, MID_MEMBER_JOINED,
                  LOG_FIELDS("SERVICE", sc->name, "MEMBER_ID", k->node_name, "PEER", k->http_url, "HTTP_STATUS", "200",
                             "RAFT_ADDR", strna(k->bind_addr)),
                  "Joined Consul: '%s' is in the catalog under its node ID %s with its Serf health passing.",
                  k->node_name, node_id);
        return 0;
}

int member_check_consul(StepContext *ctx, const ServiceConfig *sc, usec_t deadline) {
        char node_id[DERIVE_UUID_SIZE], *token = NULL;
        int r;

        r = node_id_of(sc, node_id);
        if (r < 0)
                return r;
        r = read_secret(sc->consul.token_file, &token);
        if (r < 0)
                return log_error_errno(r, "Cannot read the ACL token '%s': %m", sc->consul.token_file);
        r = wait_member(ctx, sc, node_id, token, deadline);
        free_secret(token);
        return r;
}
