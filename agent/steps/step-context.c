/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "curl-util.h"
#include "fileio.h"
#include "log.h"
#include "report-spool.h"
#include "step-context.h"

/* The context borrows the config, the state directory and the state (the verb owns them) and
 * owns the HTTP client and the reporter. */

static TlsOptions cluster_tls(const Config *c) {
        /* The certificates apply to the cluster's own endpoints; with TLS off they would only get
         * in the way of an https:// report URL, which then uses the system's trust store. */
        if (!c->tls.enabled)
                return (TlsOptions) { .insecure = c->tls.insecure_skip_verify };
        return (TlsOptions) {
                .ca_file = c->tls.ca_cert_path,
                .cert_file = c->tls.node_cert_path,
                .key_file = c->tls.node_key_path,
                .insecure = c->tls.insecure_skip_verify,
        };
}

/* The HTTP client and the reporters for config. */
typedef struct Clients {
        HttpClient *http;
        Reporter *reporter;
        Reporter *progress;
} Clients;

static void clients_done(Clients *c) {
        http_client_free(c->http);
        reporter_free(c->reporter);
        reporter_free(c->progress);
}

static int clients_new(const Config *config, const char *state_dir, Clients *ret) {
        _cleanup_(clients_done) Clients c = {};
        _cleanup_free_ char *spool = NULL;
        TlsOptions tls = cluster_tls(config);
        int r;

        r = http_client_new(&tls, (long) (config->timeouts.connect / USEC_PER_MSEC),
                            (long) (config->timeouts.request / USEC_PER_MSEC), &c.http);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the HTTP client: %m");
        r = reporter_new(config->report.url, config->node_id, &tls, config->timeouts.connect,
                         config->report.timeout, &c.reporter);
        if (r < 0)
                return log_error_errno(r, "Failed to set up reports to '%s': %m", config->report.url);
        r = reporter_new(config->report.url, config->node_id, &tls, MIN(config->timeouts.connect, STEP_PROGRESS_TIMEOUT),
                         MIN(config->report.timeout, STEP_PROGRESS_TIMEOUT), &c.progress);
        if (r < 0)
                return log_error_errno(r, "Failed to set up progress reports to '%s': %m", config->report.url);
        spool = path_join(state_dir, REPORT_SPOOL_DIR);
        if (!spool || reporter_set_spool(c.reporter, spool) < 0)
                return log_oom();

        if (config->report.url && startswith(config->report.url, "http://"))
                log_warning("Reports go to %s in clear (http://): they name this node and its cluster and "
                            "carry its state, never a secret. Use https:// where the network is not trusted.",
                            config->report.url);
        if (tls.insecure)
                log_event(LOG_WARNING, MID_TLS_INSECURE, NO_FIELDS,
                          "TLS certificate verification is off (tls.insecure_skip_verify is true): "
                          "any server can pose as the cluster. Remove the setting once the CA is in place.");
        *ret = c;
        c = (Clients) {};
        return 0;
}

static void context_set_clients(StepContext *ctx, Clients *c) {
        http_client_free(ctx->http);
        reporter_free(ctx->reporter);
        reporter_free(ctx->progress);
        ctx->http = c->http;
        ctx->reporter = c->reporter;
        ctx->progress = c->progress;
        *c = (Clients) {};
}

int step_context_new(const Config *config, const char *state_dir, State *state, StepContext **ret) {
        _cleanup_(step_context_freep) StepContext *ctx = NULL;
        Clients c;
        int r;

        ctx = calloc(1, sizeof(StepContext));
        if (!ctx)
                return -ENOMEM;
        ctx->config = config;
        ctx->state_dir = state_dir;
        ctx->state = state;

        r = clients_new(config, state_dir, &c);
        if (r < 0)
                return r;
        context_set_clients(ctx, &c);

        *ret = TAKE_PTR(ctx);
        return 0;
}

int step_context_new_client(const StepContext *ctx, HttpClient **ret) {
        TlsOptions tls = cluster_tls(ctx->config);

        return http_client_new(&tls, (long) (ctx->config->timeouts.connect / USEC_PER_MSEC),
                               (long) (ctx->config->timeouts.request / USEC_PER_MSEC), ret);
}

int step_context_adopt_config(StepContext *ctx, Config *config) {
        _cleanup_(config_freep) Config *owned = config;
        Clients c;
        int r;

        r = clients_new(config, ctx->state_dir, &c);
        if (r < 0)
                return r;
        context_set_clients(ctx, &c);
        config_free(ctx->owned_config);
        ctx->config = ctx->owned_config = TAKE_PTR(owned);
        log_set_node_id(ctx->config->node_id);
        curl_util_set_node(ctx->config->node_id);
        return 0;
}

StepContext *step_context_free(StepContext *ctx) {
        if (!ctx)
                return NULL;
        http_client_free(ctx->http);
        reporter_free(ctx->reporter);
        reporter_free(ctx->progress);
        config_free(ctx->owned_config);
        free(ctx);
        return NULL;
}

void step_context_flush_reports(StepContext *ctx) {
        ReportFlush f;
        int r;

        r = report_flush(ctx->reporter, &f);
        if (f.sent > 0 || f.dropped > 0)
                log_event(LOG_INFO, MID_REPORT_SENT,
                          LOG_FIELDS("URL", reporter_url(ctx->reporter), "HTTP_STATUS", FMT_INT(f.last.status)),
                          "%u waiting report%s delivered to %s%s%s; %zu still waiting.", f.sent, f.sent == 1 ? "" : "s",
                          reporter_url(ctx->reporter), f.dropped > 0 ? ", refused ones dropped: " : "",
                          f.dropped > 0 ? FMT_U64(f.dropped) : "", f.pending);
        if (r < 0 && f.pending > 0)
                log_debug("%zu report%s still waiting for %s: %s.", f.pending, f.pending == 1 ? "" : "s",
                          reporter_url(ctx->reporter), f.last.error);
}

void step_context_save(StepContext *ctx) {
        int r;

        if (!ctx || !ctx->state)
                return;
        r = state_save(ctx->state);
        if (r < 0)
                log_warning_errno(r, "Failed to save the state file '%s', \"status\" may lag behind: %m",
                                  ctx->state->path);
}

void step_count_attempt(StepContext *ctx) {
        if (!ctx || !ctx->current)
                return;
        ctx->current->attempts++;
        step_context_save(ctx);
}

/* Formats a text for the running step's record with set() and saves the state. */
_printf_(3, 0)
static void set_text(StepContext *ctx, int (*set)(StepState *st, const char *text), const char *format,
                     va_list ap) {
        _cleanup_free_ char *s = NULL;

        if (!ctx || !ctx->current)
                return;
        if (vasprintf(&s, format, ap) < 0)
                return;
        if (set(ctx->current, s) >= 0)
                step_context_save(ctx);
}

void step_set_detail(StepContext *ctx, const char *format, ...) {
        va_list ap;

        va_start(ap, format);
        set_text(ctx, state_step_set_detail, format, ap);
        va_end(ap);
}

void step_set_error(StepContext *ctx, const char *format, ...) {
        va_list ap;

        va_start(ap, format);
        set_text(ctx, state_step_set_error, format, ap);
        va_end(ap);
}

void step_set_keepalive(StepContext *ctx, StepKeepalive fn, void *userdata) {
        ctx->keepalive = fn;
        ctx->keepalive_userdata = userdata;
}

uint64_t step_context_jitter_seed(const StepContext *ctx) {
        /* FNV-1a over the node id, mixed with the pid and both clocks: nodes booted from one
         * image at the same second still get different schedules. */
        uint64_t h = 14695981039346656037ULL;
        const char *id = ctx && ctx->config ? ctx->config->node_id : NULL;

        for (const char *p = id; p && *p; p++) {
                h ^= (unsigned char) *p;
                h *= 1099511628211ULL;
        }
        h ^= (uint64_t) getpid() << 32;
        h ^= now_realtime();
        h ^= now_monotonic() * 0x9E3779B97F4A7C15ULL;
        return h != 0 ? h : 0x2545F4914F6CDD1DULL;
}
