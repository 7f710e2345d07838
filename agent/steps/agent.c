/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "agent.h"
#include "log.h"

/* The agent borrows the config and the state (the verb owns them) and owns the HTTP client. */

int agent_new(Config *config, State *state, Agent **ret) {
        _cleanup_(agent_freep) Agent *a = NULL;
        HttpTlsOptions tls = {};
        int r;

        a = calloc(1, sizeof(Agent));
        if (!a)
                return -ENOMEM;
        a->config = config;
        a->state = state;

        /* The certificates apply to the cluster's own endpoints; with TLS off they would only
         * get in the way of an https:// report URL, which then uses the system's trust store. */
        if (config->tls.enabled) {
                tls.ca_file = config->tls.ca_cert_path;
                tls.cert_file = config->tls.node_cert_path;
                tls.key_file = config->tls.node_key_path;
        }
        tls.insecure = config->tls.insecure_skip_verify;

        r = http_client_new(&tls,
                            (long) (config->timeouts.connect / USEC_PER_MSEC),
                            (long) (config->timeouts.request / USEC_PER_MSEC),
                            &a->http);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the HTTP client: %m");

        if (tls.insecure)
                log_event(LOG_WARNING, MID_TLS_INSECURE, NO_FIELDS,
                          "TLS certificate verification is off (tls.insecure_skip_verify is true): "
                          "any server can pose as the cluster. Remove the setting once the CA is in place.");

        *ret = TAKE_PTR(a);
        return 0;
}

Agent *agent_free(Agent *a) {
        if (!a)
                return NULL;
        http_client_free(a->http);
        free(a);
        return NULL;
}

static void agent_save(Agent *a) {
        int r;

        if (!a->state)
                return;
        r = state_save(a->state);
        if (r < 0)
                log_warning_errno(r, "Failed to save the state file '%s', \"status\" may lag behind: %m",
                                  a->state->path);
}

void agent_count_attempt(Agent *a) {
        if (!a || !a->current)
                return;
        a->current->attempts++;
        agent_save(a);
}

/* Formats a text for the running step's record with set() and saves the state. */
_printf_(3, 0)
static void agent_set_text(Agent *a, int (*set)(StepState *st, const char *text), const char *format,
                           va_list ap) {
        _cleanup_free_ char *s = NULL;

        if (!a || !a->current)
                return;
        if (vasprintf(&s, format, ap) < 0)
                return;
        if (set(a->current, s) >= 0)
                agent_save(a);
}

void agent_set_detail(Agent *a, const char *format, ...) {
        va_list ap;

        va_start(ap, format);
        agent_set_text(a, state_step_set_detail, format, ap);
        va_end(ap);
}

void agent_set_error(Agent *a, const char *format, ...) {
        va_list ap;

        va_start(ap, format);
        agent_set_text(a, state_step_set_error, format, ap);
        va_end(ap);
}

uint64_t agent_jitter_seed(const Agent *a) {
        /* FNV-1a over the node id, mixed with the pid and both clocks: nodes booted from one
         * image at the same second still get different schedules. */
        uint64_t h = 14695981039346656037ULL;
        const char *id = a && a->config ? a->config->node_id : NULL;

        for (const char *p = id; p && *p; p++) {
                h ^= (unsigned char) *p;
                h *= 1099511628211ULL;
        }
        h ^= (uint64_t) getpid() << 32;
        h ^= now_realtime();
        h ^= now_monotonic() * 0x9E3779B97F4A7C15ULL;
        return h != 0 ? h : 0x2545F4914F6CDD1DULL;
}
