/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backoff.h"
#include "fileio.h"
#include "health-poll.h"
#include "iam-secrets.h"
#include "log.h"
#include "notify.h"
#include "step.h"
#include "strv.h"

/* The IAM admin: wait for IAM, create the admin from the secrets file unless it exists, have a
 * token issued and store it 0600. No secret ever goes into a record: messages name the user,
 * the URLs and the token file, never a password or a token. */

typedef struct IamSetup {
        Agent *agent;
        IamSecrets secrets;
        Backoff backoff;
        unsigned max_attempts;          /* per request */
} IamSetup;

static void iam_setup_done(IamSetup *s) {
        iam_secrets_done(&s->secrets);
}

/* Drops a response that may carry a secret (an issued token). */
static void response_wipe(HttpResponse *resp) {
        if (resp->body)
                explicit_bzero(resp->body, resp->body_size);
        http_response_done(resp);
}

static char *url_concat(const char *base, const char *path) {
        size_t n = strlen(base);
        char *u;

        while (n > 0 && base[n - 1] == '/')
                n--;
        if (asprintf(&u, "%.*s%s%s", (int) n, base, path[0] == '/' ? "" : "/", path) < 0)
                return NULL;
        return u;
}

/* user_path with "{user}" replaced by the percent-encoded user name. */
static char *iam_user_url(const char *base, const char *user_path, const char *user) {
        static const char hex[] = "0123456789ABCDEF";
        const char *at = strstr(user_path, "{user}");
        char *escaped, *p, *path, *url;

        if (!at)
                return url_concat(base, user_path);

        escaped = p = malloc(strlen(user) * 3 + 1);
        if (!escaped)
                return NULL;
        for (const unsigned char *c = (const unsigned char *) user; *c; c++)
                if ((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
                    strchr("-._~", *c))
                        *p++ = (char) *c;
                else {
                        *p++ = '%';
                        *p++ = hex[*c >> 4];
                        *p++ = hex[*c & 15];
                }
        *p = '\0';

        if (asprintf(&path, "%.*s%s%s", (int) (at - user_path), user_path, escaped, at + strlen("{user}")) < 0)
                path = NULL;
        free(escaped);
        if (!path)
                return NULL;
        url = url_concat(base, path);
        free(path);
        return url;
}

/* Sends one request, retrying transport failures and 5xx answers with backoff. Returns 0 with
 * resp holding any answer below 500, else a negative errno (logged). */
static int iam_request(IamSetup *s, const char *what, const HttpRequest *req, HttpResponse *resp) {
        Agent *a = s->agent;

        backoff_reset(&s->backoff);
        for (unsigned attempt = 1;; attempt++) {
                char error[256], reason[160];
                usec_t delay;
                int r;

                /* The step counted its first attempt; each retry is one more. */
                if (attempt > 1)
                        agent_count_attempt(a);

                *resp = (HttpResponse) {};
                r = http_perform(a->http, req, resp);
                if (r >= 0 && resp->status < 500)
                        return 0;

                if (r >= 0)
                        snprintf(error, sizeof error, "HTTP %ld (%s)", resp->status,
                                 http_response_reason(resp, reason, sizeof reason));
                else
                        snprintf(error, sizeof error, "%s", resp->error[0] ? resp->error : strerror(-r));
                response_wipe(resp);
                agent_set_error(a, "%s %s: %s", req->method, req->url, error);

                if (r < 0 && !http_error_is_transient(r))
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
                sleep_usec(delay);
        }
}

/* A 4xx that retrying cannot change. */
static int iam_refused(IamSetup *s, const char *what, const HttpRequest *req, const HttpResponse *resp,
                       const char *hint) {
        char reason[160];

        http_response_reason(resp, reason, sizeof reason);
        agent_set_error(s->agent, "%s %s: HTTP %ld (%s)", req->method, req->url, resp->status, reason);
        return log_error_errno(EBADE, "IAM refused to %s: %s %s answered HTTP %ld (%s). %s",
                               what, req->method, req->url, resp->status, reason, hint);
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
        secret_json_wipe(json_object_get(body, "password"));
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
        const Config *c = s->agent->config;
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
        const char *path = s->agent->config->iam.token_file;
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
        log_register_secret(json_string_value(tok));
        token = strdup(json_string_value(tok));
        if (json_is_string(json_object_get(root, "expires_at")))
                expires = json_string_value(json_object_get(root, "expires_at"));
        if (!token) {
                secret_json_wipe(tok);
                json_decref(root);
                return log_oom();
        }

        dir = strndup(path, strrchr(path, '/') ? (size_t) (strrchr(path, '/') - path) : 0);
        if (dir && dir[0])
                (void) mkdir_p(dir, 0700);

        r = write_file_atomic(path, token, strlen(token), 0600);
        token = secret_free(token);
        if (r < 0) {
                secret_json_wipe(tok);
                json_decref(root);
                return log_error_errno(r, "Failed to write the IAM token to '%s': %m", path);
        }

        log_event(LOG_INFO, MID_IAM_TOKEN_ISSUED,
                  LOG_FIELDS("SERVICE", "iam",
                             "URL", url,
                             "TARGET", path),
                  "IAM token for '%s' issued%s%s and stored in '%s' (mode 0600).",
                  s->secrets.username, expires ? ", valid until " : "", expires ?: "", path);
        secret_json_wipe(tok);
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

static int iam_setup(IamSetup *s) {
        Agent *a = s->agent;
        const Config *c = a->config;
        const ServiceConfig *sc = &c->services[SERVICE_IAM];
        _cleanup_free_ char *user_url = NULL, *create_url = NULL, *token_url = NULL;
        bool created = false;
        int r;

        if (sc->health_url) {
                HealthTarget t = { .service = "iam", .url = sc->health_url };

                r = health_poll(a, &t, 1, c->timeouts.health_wait);
                if (r < 0)
                        return r;
        }

        if (!c->iam.url)
                return log_error_errno(EINVAL, "No IAM URL: set services.iam.url in '%s'.", strna(c->path));

        r = iam_secrets_load(c->iam.secrets_file, &s->secrets);
        if (r < 0)
                return r;

        user_url = iam_user_url(c->iam.url, strempty(c->iam.user_path), s->secrets.username);
        create_url = url_concat(c->iam.url, strempty(c->iam.create_path));
        token_url = url_concat(c->iam.url, strempty(c->iam.token_path));
        if (!user_url || !create_url || !token_url)
                return log_oom();

        notify_status("setting up the IAM admin '%s'", s->secrets.username);
        agent_count_attempt(a);

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
                          "IAM admin '%s' created at %s.", s->secrets.username, create_url);
        else
                log_event(LOG_INFO, MID_IAM_ADMIN_EXISTS,
                          LOG_FIELDS("SERVICE", "iam", "URL", user_url),
                          "IAM admin '%s' already exists; not created again.", s->secrets.username);

        if (c->iam.token_file) {
                r = iam_token_issue(s, token_url);
                if (r < 0)
                        return r;
        }

        agent_set_detail(a, "admin '%s' %s%s%s", s->secrets.username, created ? "created" : "present",
                         c->iam.token_file ? "; token in " : "", strempty(c->iam.token_file));
        return 0;
}

int step_iam_setup(Agent *a) {
        const TimeoutConfig *tc = &a->config->timeouts;
        IamSetup s = {
                .agent = a,
                .max_attempts = MAX(tc->join_attempts, 1u),
        };
        int r;

        backoff_init(&s.backoff, tc->backoff_initial, tc->backoff_max, agent_jitter_seed(a));
        r = iam_setup(&s);
        iam_setup_done(&s);
        return r;
}
