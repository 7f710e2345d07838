/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "backoff.h"
#include "config-value.h"
#include "fileio.h"
#include "iam-secrets.h"
#include "ifaddr.h"
#include "json-util.h"
#include "log.h"
#include "secret.h"
#include "notify.h"
#include "step-progress.h"
#include "join-procedure.h"
#include "step.h"
#include "string-util.h"
#include "strv.h"

/* The IAM admin: wait for IAM, create the admin from the secrets file unless it exists, have a
 * token issued and store it 0600. No secret ever goes into a record: messages name the user,
 * the URLs and the token file, never a password or a token. */

typedef struct IamSetup {
        StepContext *ctx;
        HttpClient *http;               /* its own: freed (and wiped) when the step ends */
        IamSecrets secrets;
        Backoff backoff;
        unsigned max_attempts;          /* per request */
        char *connect;                  /* the checked address of this node's own IAM, or NULL */
} IamSetup;

static void iam_setup_done(IamSetup *s) {
        iam_secrets_done(&s->secrets);
        s->connect = mfree(s->connect);
}

/* Drops a response that may carry a secret (an issued token). */
static void response_wipe(HttpResponse *resp) {
        if (resp->body)
                explicit_bzero(resp->body, resp->body_size);
        http_response_done(resp);
}

/* user_path with "{user}" replaced by the percent-encoded user name. */
static char *iam_user_url(const char *base, const char *user_path, const char *user) {
        const char *at = strstr(user_path, "{user}");
        _cleanup_free_ char *escaped = NULL, *path = NULL;

        if (!at)
                return url_join(base, user_path);
        escaped = url_escape(user);
        if (!escaped)
                return NULL;
        if (asprintf(&path, "%.*s%s%s", (int) (at - user_path), user_path, escaped, at + strlen("{user}")) < 0)
                return NULL;
        return url_join(base, path);
}

/* A fixed description of an IAM status, in place of IAM's own text (see iam_refused()). */
static const char *iam_status_text(long status) {
        switch (status) {
        case 400:
                return "bad request";
        case 401:
                return "not authenticated";
        case 403:
                return "forbidden";
        case 404:
                return "not found";
        case 409:
                return "conflict";
        case 422:
                return "not accepted";
        case 429:
                return "too many requests";
        default:
                return status >= 500 ? "server error" : status >= 400 ? "refused" : "unexpected answer";
        }
}

/* Sends one request, retrying transport failures and 5xx answers with backoff. Returns 0 with
 * resp holding any answer below 500, else a negative errno (logged). */
static int iam_request(IamSetup *s, const char *what, const HttpRequest *req, HttpResponse *resp) {
        StepContext *ctx = s->ctx;

        backoff_reset(&s->backoff);
        for (unsigned attempt = 1;; attempt++) {
                char error[256];
                usec_t delay;
                int r;

                /* The step counted its first attempt; each retry is one more. */
                if (attempt > 1)
                        step_count_attempt(ctx);

                *resp = (HttpResponse) {};
                r = http_perform(s->http, &(HttpRequest) { .method = req->method, .url = req->url,
                                                             .body = req->body, .bearer_token = req->bearer_token,
                                                             .connect_to = s->connect ?: ctx->config->iam.connect,
                                                             .timeout_ms = req->timeout_ms }, resp);
                if (r >= 0 && resp->status < 500)
                        return 0;

                if (r >= 0)
                        snprintf(error, sizeof error, "HTTP %ld (%s)", resp->status, iam_status_text(resp->status));
                else
                        snprintf(error, sizeof error, "%s", resp->error[0] ? resp->error : strerror(-r));
                response_wipe(resp);
                step_set_error(ctx, "%s %s: %s", req->method, req->url, error);

                if (r < 0 && !curl_util_error_is_transient(r))
                        return log_error_errno(r, "Failed to %s at %s: %s. This will not pass by retrying: "
                                               "check the IAM URL and the TLS files in the config.",
                                               what, req->url, error);
                if (attempt >= s->max_attempts)
                        return log_error_errno(r < 0 ? r : EREMOTEIO,
                                               "Failed to %s at %s after %u attempts: %s. Check 'systemctl "
                                               "status iam.service'; the next start tries again.",
                                               what, req->url, attempt, error);

                delay = backoff_next(&s->backoff);
                log_event_errno(LOG_WARNING, r < 0 ? r : EREMOTEIO, MID_ATTEMPT_FAILED,
                                LOG_FIELDS("SERVICE", "iam",
                                           "URL", req->url,
                                           "ATTEMPT", FMT_INT(attempt),
                                           "MAX_ATTEMPTS", FMT_INT(s->max_attempts),
                                           "HTTP_STATUS", r >= 0 ? FMT_INT(resp->status) : NULL,
                                           "ERROR", error),
                                "Failed to %s at %s (attempt %u/%u): %s. Retrying in %" PRIu64 " ms.",
                                what, req->url, attempt, s->max_attempts, error, delay / USEC_PER_MSEC);
                {
                        char waiting[512];

                        snprintf(waiting, sizeof waiting, "IAM at %s to %s (%s)", req->url, what, error);
                        step_wait(ctx, delay, waiting);
                }
        }
}

/* A 4xx that retrying cannot change. IAM's own message is left out: it answers requests that
 * carry the password or a token, and an IAM that quotes them back would put them into the log,
 * the state file, "status" and the reports. */
static int iam_refused(IamSetup *s, const char *what, const HttpRequest *req, const HttpResponse *resp,
                       const char *hint) {
        step_set_error(s->ctx, "%s %s: HTTP %ld (%s)", req->method, req->url, resp->status,
                       iam_status_text(resp->status));
        return log_error_errno(EBADE, "IAM refused to %s: %s %s answered HTTP %ld (%s; IAM's own message is not "
                               "shown, it may quote the credentials). %s",
                               what, req->method, req->url, resp->status, iam_status_text(resp->status), hint);
}

static const char *auth_hint(const IamSetup *s, long status) {
        if (status != 401 && status != 403)
                return "Check the IAM paths in the config's \"iam\" section.";
        return s->secrets.bootstrap_token ?
                "Check the bootstrap_token in the secrets file against the one IAM was started with." :
                "IAM wants credentials: add the \"bootstrap_token\" IAM was started with to the secrets file.";
}

/* 1: the admin exists, 0: it does not. */
static int iam_admin_exists(IamSetup *s, const char *url) {
        HttpRequest req = {
                .method = "GET",
                .url = url,
                .bearer_token = s->secrets.bootstrap_token,
        };
        HttpResponse resp = {};
        int r;

        r = iam_request(s, "look up the IAM admin", &req, &resp);
        if (r < 0)
                return r;
        if (resp.status == 200 || resp.status == 404) {
                r = resp.status == 200;
                http_response_done(&resp);
                return r;
        }
        /* Without credentials of its own, this node cannot tell: the caller decides. */
        if (!s->secrets.password && (resp.status == 401 || resp.status == 403)) {
                http_response_done(&resp);
                return -EACCES;
        }
        r = iam_refused(s, "look up the admin", &req, &resp, auth_hint(s, resp.status));
        http_response_done(&resp);
        return r;
}

/* Sends body (which holds the password; consumed) as req's JSON body. The serialized copy and
 * the password inside body are wiped before this returns, whatever the outcome. */
static int iam_post_credentials(IamSetup *s, const char *what, json_t *body, HttpRequest *req,
                                HttpResponse *resp) {
        char *text;
        int r;

        if (!body)
                return log_oom();
        text = json_dumps(body, JSON_COMPACT);
        json_string_wipe(json_object_get(body, "password"));
        json_decref(body);
        if (!text)
                return log_oom();

        req->body = text;
        r = iam_request(s, what, req, resp);
        req->body = NULL;
        secret_free(text);
        return r;
}

/* 1: created, 0: it existed after all (409). */
static int iam_admin_create(IamSetup *s, const char *url) {
        const Config *c = s->ctx->config;
        HttpRequest req = {
                .method = "POST",
                .url = url,
                .bearer_token = s->secrets.bootstrap_token,
        };
        HttpResponse resp = {};
        json_t *roles;
        int r;

        roles = json_array();
        STRV_FOREACH(role, c->iam.roles)
                json_array_append_new(roles, json_string(*role));
        r = iam_post_credentials(s, "create the IAM admin",
                                 json_pack("{s:s, s:s, s:o}", "name", s->secrets.username,
                                           "password", s->secrets.password, "roles", roles),
                                 &req, &resp);
        if (r < 0)
                return r;

        if (resp.status == 200 || resp.status == 201)
                r = 1;
        else if (resp.status == 409)
                r = 0;
        else
                r = iam_refused(s, "create the admin", &req, &resp, auth_hint(s, resp.status));
        http_response_done(&resp);
        return r;
}

static int iam_token_store(IamSetup *s, const char *url, HttpResponse *resp) {
        const char *path = s->ctx->config->iam.token_file;
        _cleanup_free_ char *dir = NULL;
        const char *expires = NULL;
        json_error_t err;
        json_t *root, *tok;
        char *token = NULL;
        int r;

        root = json_loadb(resp->body, resp->body_size, 0, &err);
        tok = root ? json_object_get(root, "token") : NULL;
        if (!json_is_string(tok) || json_string_length(tok) == 0) {
                json_decref(root);
                return log_error_errno(EBADMSG, "IAM issued a token at %s, but the answer has no \"token\" "
                                       "string; is iam.token_path right?", url);
        }
        secret_register(json_string_value(tok));
        token = strdup(json_string_value(tok));
        if (json_is_string(json_object_get(root, "expires_at")))
                expires = json_string_value(json_object_get(root, "expires_at"));
        if (!token) {
                json_string_wipe(tok);
                json_decref(root);
                return log_oom();
        }

        dir = strndup(path, strrchr(path, '/') ? (size_t) (strrchr(path, '/') - path) : 0);
        if (dir && dir[0])
                (void) mkdir_p(dir, 0700);

        r = write_file_atomic(path, token, strlen(token), 0600);
        token = secret_free(token);
        if (r < 0) {
                json_string_wipe(tok);
                json_decref(root);
                return log_error_errno(r, "Failed to write the IAM token to '%s': %m", path);
        }

        log_event(LOG_INFO, MID_IAM_TOKEN_ISSUED,
                  LOG_FIELDS("SERVICE", "iam",
                             "URL", url,
                             "TARGET", path),
                  "IAM token for '%s' issued%s%s and stored in '%s' (mode 0600).",
                  s->secrets.username, expires ? ", valid until " : "", expires ?: "", path);
        json_string_wipe(tok);
        json_decref(root);
        return 0;
}

static int iam_token_issue(IamSetup *s, const char *url) {
        HttpRequest req = {
                .method = "POST",
                .url = url,
        };
        HttpResponse resp = {};
        int r;

        r = iam_post_credentials(s, "have an IAM token issued",
                                 json_pack("{s:s, s:s}", "name", s->secrets.username,
                                           "password", s->secrets.password),
                                 &req, &resp);
        if (r < 0)
                return r;

        if (resp.status == 200 || resp.status == 201)
                r = iam_token_store(s, url, &resp);
        else
                r = iam_refused(s, "issue a token", &req, &resp,
                                resp.status == 401 ?
                                "The admin exists with another password than the secrets file holds: "
                                "fix the file or the account." :
                                "Check iam.token_path in the config.");
        response_wipe(&resp);
        return r;
}

/* A node without the secrets file: the admin is cluster-wide and made where the secrets are (the
 * bootstrap node). Wait for it to appear, within timeouts.health_wait. */
static int iam_admin_await(IamSetup *s, const char *user, const char *user_url) {
        StepContext *ctx = s->ctx;
        const Config *c = ctx->config;
        const usec_t deadline = now_monotonic() + c->timeouts.health_wait;
        int r;

        for (;;) {
                r = iam_admin_exists(s, user_url);
                if (r > 0) {
                        log_event(LOG_INFO, MID_IAM_ADMIN_EXISTS, LOG_FIELDS("SERVICE", "iam", "URL", user_url),
                                  "IAM admin '%s' exists; this node has no secrets file ('%s') and needs none: no "
                                  "token is issued here.", user, c->iam.secrets_file);
                        step_set_detail(ctx, "admin '%s' present; no secrets file here, no token issued", user);
                        return 0;
                }
                if (r == -EACCES) {
                        log_notice("IAM at %s wants credentials to look up the admin, and this node has no secrets "
                                   "file ('%s'): the admin is set up by the node that has it. Nothing to do here.",
                                   c->iam.url, c->iam.secrets_file);
                        step_set_detail(ctx, "admin not checked: IAM wants credentials and there is no secrets file here");
                        return 0;
                }
                if (r < 0)
                        return r;
                if (now_monotonic() >= deadline)
                        break;
                if (s->backoff.attempt == 0)
                        log_info("IAM admin '%s' does not exist yet; waiting for the node that holds the secrets "
                                 "to create it.", user);
                {
                        char waiting[256];

                        snprintf(waiting, sizeof waiting, "IAM admin '%s' to be created by the node that holds the secrets",
                                 user);
                        step_wait(ctx, MIN(backoff_next(&s->backoff), deadline - now_monotonic()), waiting);
                }
        }
        step_set_error(ctx, "IAM admin '%s' does not exist and there is no secrets file %s to create it from",
                       user, c->iam.secrets_file);
        return log_error_errno(ENOENT, "The IAM admin '%s' does not exist and this node cannot create it: there is "
                               "no secrets file at '%s'. Put {\"username\", \"password\"} there (mode 0600) on the node "
                               "that should create the admin, or set iam.secrets_file; the next start looks again.",
                               user, c->iam.secrets_file);
}

/* host (a literal, or a name and each address it resolves to): the first address that is not this
 * machine's into ret_foreign, the first that is into ret_own. Negative errno when it does not
 * resolve. */
static int host_addresses(const char *host, char **ret_own, char **ret_foreign) {
        struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL;
        int r;

        r = ifaddr_is_local(host);
        if (r >= 0) {
                *(r > 0 ? ret_own : ret_foreign) = strdup(host);
                return *ret_own || *ret_foreign ? 0 : -ENOMEM;
        }
        r = getaddrinfo(host, NULL, &hints, &ai);
        if (r != 0)
                return r == EAI_MEMORY ? -ENOMEM : r == EAI_SYSTEM ? -errno : -EHOSTUNREACH;
        for (const struct addrinfo *i = ai; i && !*ret_foreign; i = i->ai_next) {
                char text[INET6_ADDRSTRLEN];
                const void *a = i->ai_family == AF_INET6 ? (const void *) &((struct sockaddr_in6 *) i->ai_addr)->sin6_addr
                                                         : (const void *) &((struct sockaddr_in *) i->ai_addr)->sin_addr;

                if (!inet_ntop(i->ai_family, a, text, sizeof text))
                        continue;
                r = ifaddr_is_local(text);
                if (r < 0 || (r > 0 && *ret_own))
                        continue;
                if (!(*(r > 0 ? ret_own : ret_foreign) = strdup(text))) {
                        freeaddrinfo(ai);
                        return -ENOMEM;
                }
        }
        freeaddrinfo(ai);
        return *ret_own || *ret_foreign ? 0 : -EHOSTUNREACH;
}

/* This node's own IAM (iam.url derived from node_fqdn and node_ip, which a provisioning answer
 * sets): the admin's credentials go to it only at an address of this machine. The certificate
 * proves the name, not that the name is this node's. 0 with s->connect set to the address
 * checked (so a second lookup cannot move it); -EBADE, refused, for another machine's. */
static int iam_check_own(IamSetup *s) {
        StepContext *ctx = s->ctx;
        const Config *c = ctx->config;
        _cleanup_free_ char *host = NULL, *own = NULL, *foreign = NULL;
        int r;

        if (!c->iam.url_is_own || !c->tls.enabled)
                return 0;       /* the image's own iam.url, or http://localhost */
        if (c->iam.connect)
                host = strdup(c->iam.connect);
        else if (config_url_host(c->iam.url, &host, NULL) < 0)
                host = NULL;
        if (!host)
                return log_oom();
        r = host_addresses(host, &own, &foreign);
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0) {
                step_set_error(ctx, "%s (this node's own IAM) does not resolve: %s", host, strerror(-r));
                return log_error_errno(r, "Cannot check that %s, this node's own IAM (%s), is this machine: it does "
                                       "not resolve: %m. The next start tries again.", host, c->iam.url);
        }
        if (foreign) {
                step_set_error(ctx, "refusing to send the IAM credentials to %s: %s is not an address of this machine",
                               c->iam.url, foreign);
                return log_error_errno(EBADE, "Refusing to send the IAM admin's credentials to %s (at %s): that URL "
                                       "is this node's own IAM, derived from node_fqdn and node_ip, but %s is not an "
                                       "address of this machine. Correct node_ip and node_fqdn in the node's "
                                       "configuration on the provisioning server, or set services.iam.url in the "
                                       "image's template.", c->iam.url, host, foreign);
        }
        s->connect = TAKE_PTR(own);
        return 0;
}

static int iam_setup(IamSetup *s) {
        StepContext *ctx = s->ctx;
        const Config *c = ctx->config;
        _cleanup_free_ char *user_url = NULL, *create_url = NULL, *token_url = NULL;
        bool created = false, have_secrets;
        const char *user;
        int r;

        if (!c->iam.url)
                return log_error_errno(EINVAL, "No IAM URL: set services.iam.url in '%s'.", strna(c->path));
        r = iam_check_own(s);
        if (r < 0)
                return r;
        if (c->iam.allow_http && startswith(c->iam.url, "http://"))
                log_event(LOG_WARNING, MID_TLS_INSECURE, LOG_FIELDS("URL", c->iam.url),
                          "IAM credentials go to %s in clear (iam.allow_http is true): anyone on the way can "
                          "read the admin's password and tokens.", c->iam.url);

        /* The secrets file is needed only where the admin is created: a missing one is fine
         * until then. One that exists must be right. */
        have_secrets = c->iam.secrets_file && access(c->iam.secrets_file, F_OK) >= 0;
        if (have_secrets) {
                r = iam_secrets_load(c->iam.secrets_file, &s->secrets);
                if (r < 0)
                        return r;
        }
        user = have_secrets ? s->secrets.username : c->iam.admin_user;

        user_url = iam_user_url(c->iam.url, strempty(c->iam.user_path), user);
        create_url = url_join(c->iam.url, strempty(c->iam.create_path));
        token_url = url_join(c->iam.url, strempty(c->iam.token_path));
        if (!user_url || !create_url || !token_url)
                return log_oom();

        notify_status("setting up the IAM admin '%s'", user);
        step_count_attempt(ctx);

        if (!have_secrets)
                return iam_admin_await(s, user, user_url);

        r = iam_admin_exists(s, user_url);
        if (r < 0)
                return r;
        if (r == 0) {
                r = iam_admin_create(s, create_url);
                if (r < 0)
                        return r;
                created = r > 0;
        }
        if (created)
                log_event(LOG_NOTICE, MID_IAM_ADMIN_CREATED,
                          LOG_FIELDS("SERVICE", "iam", "URL", create_url),
                          "IAM admin '%s' created at %s.", user, create_url);
        else
                log_event(LOG_INFO, MID_IAM_ADMIN_EXISTS,
                          LOG_FIELDS("SERVICE", "iam", "URL", user_url),
                          "IAM admin '%s' already exists; not created again.", user);

        if (c->iam.token_file) {
                r = iam_token_issue(s, token_url);
                if (r < 0)
                        return r;
        }

        step_set_detail(ctx, "admin '%s' %s%s%s", user, created ? "created" : "present",
                         c->iam.token_file ? "; token in " : "", strempty(c->iam.token_file));
        return 0;
}

int step_iam_setup(StepContext *ctx) {
        const TimeoutConfig *tc = &ctx->config->timeouts;
        IamSetup s = {
                .ctx = ctx,
                .max_attempts = MAX(tc->join_attempts, 1u),
        };
        int r;

        /* While the secrets are in memory, no core dump and no ptrace by another user; when the
         * step ends, every copy is wiped: the secrets, the registered forms, the HTTP client's
         * buffers (freed through curl's wiping allocator). */
        (void) prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        r = step_context_new_client(ctx, &s.http);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the HTTP client for IAM: %m");
        backoff_init(&s.backoff, tc->backoff_initial, tc->backoff_max, step_context_jitter_seed(ctx));
        r = iam_setup(&s);
        iam_setup_done(&s);
        s.http = http_client_free(s.http);
        secret_forget_all();
        (void) prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
        return r;
}
