/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "config-sections.h"
#include "config-services.h"
#include "config-static-network.h"
#include "config-value.h"
#include "json-util.h"
#include "strv.h"

static int parse_tls(ConfigParser *p, json_t *root) {
        static const char *const keys[] = {
                "enabled", "ca_cert_path", "node_cert_path", "node_key_path",
                "insecure_skip_verify", "secrets_dir", NULL
        };
        TlsConfig *t = &p->config->tls;
        bool has_cert, has_key;
        json_t *obj;
        int r;

        t->enabled_source = CONFIG_SOURCE_DEFAULT;
        r = json_get_object(root, ".", "tls", false, &obj, p->problems);
        if (r <= 0)
                return r == -ENOMEM ? r : 0;

        KEEP_GOING(json_check_keys(obj, ".tls", keys, p->problems));
        r = json_get_boolean(obj, ".tls", "enabled", false, &t->enabled, p->problems);
        KEEP_GOING(r);
        if (r > 0)
                t->enabled_source = CONFIG_SOURCE_FILE;
        KEEP_GOING(config_get_value(obj, ".tls", "secrets_dir", &config_value_path, false,
                                    &t->secrets_dir, p->problems));
        KEEP_GOING(config_get_value(obj, ".tls", "ca_cert_path", &config_value_path, false,
                                    &t->ca_cert_path, p->problems));
        KEEP_GOING(config_get_value(obj, ".tls", "node_cert_path", &config_value_path, false,
                                    &t->node_cert_path, p->problems));
        KEEP_GOING(config_get_value(obj, ".tls", "node_key_path", &config_value_path, false,
                                    &t->node_key_path, p->problems));
        KEEP_GOING(json_get_boolean(obj, ".tls", "insecure_skip_verify", false,
                                    &t->insecure_skip_verify, p->problems));

        /* A client certificate is useless without its key, and the reverse. */
        has_cert = json_object_get(obj, "node_cert_path");
        has_key = json_object_get(obj, "node_key_path");
        if (has_cert && !has_key)
                return config_add_missing(p->problems, ".tls", "node_key_path", config_value_path.expected,
                                          "node_cert_path is set: the client certificate needs its key");
        if (has_key && !has_cert)
                return config_add_missing(p->problems, ".tls", "node_cert_path", config_value_path.expected,
                                          "node_key_path is set: the key needs its client certificate");
        return 0;
}

static int parse_network(ConfigParser *p, json_t *root) {
        Config *c = p->config;
        const char *name;
        json_t *obj, *v;
        int r;

        r = json_get_object(root, ".", "network", false, &obj, p->problems);
        if (r <= 0)
                return r == -ENOMEM ? r : 0;

        c->network = calloc(MAX(json_object_size(obj), (size_t) 1), sizeof(NetworkEntry));
        if (!c->network)
                return -ENOMEM;

        json_object_foreach(obj, name, v) {
                NetworkEntry *e = &c->network[c->n_network];
                char *cidr = NULL;

                if (streq(name, "static")) {
                        KEEP_GOING(config_static_network_parse(p, v, ".network.static"));
                        continue;
                }

                r = config_get_value(obj, ".network", name, &config_value_cidr, false, &cidr,
                                     p->problems);
                KEEP_GOING(r);
                if (r <= 0)
                        continue;
                e->name = strdup(name);
                if (!e->name) {
                        free(cidr);
                        return -ENOMEM;
                }
                e->cidr = cidr;
                c->n_network++;
        }
        return 0;
}

/* first must not exceed second; blames whichever of the two the file sets (first if both). */
static int check_order(ConfigParser *p, const char *first_key, int64_t first, bool first_explicit,
                       const char *second_key, int64_t second, bool second_explicit,
                       const char *unit) {
        _cleanup_free_ char *path = NULL, *expected = NULL;
        bool blame_first = first_explicit || !second_explicit;

        if (first <= second)
                return 0;
        if (asprintf(&path, ".timeouts.%s", blame_first ? first_key : second_key) < 0) {
                path = NULL;
                return -ENOMEM;
        }
        if (asprintf(&expected, "at %s %s (%lld %s%s)", blame_first ? "most" : "least",
                     blame_first ? second_key : first_key,
                     (long long) (blame_first ? second : first), unit,
                     (blame_first ? second_explicit : first_explicit) ? "" : ", the default") < 0) {
                expected = NULL;
                return -ENOMEM;
        }
        return problem_addf(p->problems, path, expected, NULL, "the number %lld",
                            (long long) (blame_first ? first : second));
}

static int parse_timeouts(ConfigParser *p, json_t *root) {
        static const char *const keys[] = {
                "health_wait_s", "request_s", "connect_s", "join_attempts", "backoff_initial_ms",
                "backoff_max_ms", "join_start_delay_max_ms", "join_lock_ttl_s", NULL
        };
        TimeoutConfig *t = &p->config->timeouts;
        int64_t health_wait = 120, request = 10, connect = 3, attempts = 5;
        int64_t backoff_initial = 200, backoff_max = 10000;
        int64_t start_delay = JOIN_START_DELAY_MAX_MS_DEFAULT, lock_ttl = JOIN_LOCK_TTL_S_DEFAULT;
        bool e_request = false, e_connect = false, e_initial = false, e_max = false;
        json_t *obj;
        int r;

        r = json_get_object(root, ".", "timeouts", false, &obj, p->problems);
        KEEP_GOING(r);
        if (r > 0) {
                KEEP_GOING(json_check_keys(obj, ".timeouts", keys, p->problems));
                KEEP_GOING(config_get_integer(obj, ".timeouts", "health_wait_s", 1, 3600, "seconds",
                                       &health_wait, NULL, p->problems));
                KEEP_GOING(config_get_integer(obj, ".timeouts", "request_s", 1, 600, "seconds", &request,
                                       &e_request, p->problems));
                KEEP_GOING(config_get_integer(obj, ".timeouts", "connect_s", 1, 300, "seconds", &connect,
                                       &e_connect, p->problems));
                KEEP_GOING(config_get_integer(obj, ".timeouts", "join_attempts", 1, 1000, NULL, &attempts,
                                       NULL, p->problems));
                KEEP_GOING(config_get_integer(obj, ".timeouts", "backoff_initial_ms", 1, 600000,
                                       "milliseconds", &backoff_initial, &e_initial, p->problems));
                KEEP_GOING(config_get_integer(obj, ".timeouts", "backoff_max_ms", 1, 3600000,
                                       "milliseconds", &backoff_max, &e_max, p->problems));
                KEEP_GOING(config_get_integer(obj, ".timeouts", "join_start_delay_max_ms", 0, 600000,
                                       "milliseconds", &start_delay, NULL, p->problems));
                KEEP_GOING(config_get_integer(obj, ".timeouts", "join_lock_ttl_s", 0, 3600, "seconds",
                                       &lock_ttl, NULL, p->problems));
                if (lock_ttl > 0 && lock_ttl < 5)
                        KEEP_GOING(json_add_problem(p->problems, ".timeouts.join_lock_ttl_s",
                                                    "0 (no lock) or at least 5 seconds",
                                                    json_object_get(obj, "join_lock_ttl_s"),
                                                    "write 0 to join without the lock, or 60"));
                KEEP_GOING(check_order(p, "connect_s", connect, e_connect, "request_s", request,
                                       e_request, "seconds"));
                KEEP_GOING(check_order(p, "backoff_initial_ms", backoff_initial, e_initial,
                                       "backoff_max_ms", backoff_max, e_max, "milliseconds"));
        }

        t->health_wait = (usec_t) health_wait * USEC_PER_SEC;
        t->request = (usec_t) request * USEC_PER_SEC;
        t->connect = (usec_t) connect * USEC_PER_SEC;
        t->join_attempts = (unsigned) attempts;
        t->backoff_initial = (usec_t) backoff_initial * USEC_PER_MSEC;
        t->backoff_max = (usec_t) backoff_max * USEC_PER_MSEC;
        t->join_start_delay_max = (usec_t) start_delay * USEC_PER_MSEC;
        t->join_lock_ttl = (usec_t) lock_ttl * USEC_PER_SEC;
        return 0;
}

static int parse_iam(ConfigParser *p, json_t *root) {
        static const char *const keys[] = {
                "secrets_file", "token_file", "user_path", "create_path", "token_path", "roles",
                "admin_user", "allow_http", NULL
        };
        IamConfig *iam = &p->config->iam;
        json_t *obj;
        int r;

        r = json_get_object(root, ".", "iam", false, &obj, p->problems);
        KEEP_GOING(r);
        if (r > 0) {
                KEEP_GOING(json_check_keys(obj, ".iam", keys, p->problems));
                KEEP_GOING(config_get_value(obj, ".iam", "secrets_file", &config_value_path, false,
                                            &iam->secrets_file, p->problems));
                KEEP_GOING(config_get_value(obj, ".iam", "token_file", &config_value_path, false,
                                            &iam->token_file, p->problems));
                KEEP_GOING(config_get_value(obj, ".iam", "user_path", &config_value_user_path,
                                            false, &iam->user_path, p->problems));
                KEEP_GOING(config_get_value(obj, ".iam", "create_path", &config_value_api_path,
                                            false, &iam->create_path, p->problems));
                KEEP_GOING(config_get_value(obj, ".iam", "token_path", &config_value_api_path,
                                            false, &iam->token_path, p->problems));
                KEEP_GOING(config_get_value(obj, ".iam", "admin_user", &config_value_name, false,
                                            &iam->admin_user, p->problems));
                KEEP_GOING(json_get_boolean(obj, ".iam", "allow_http", false, &iam->allow_http, p->problems));
                r = config_get_value_list(obj, ".iam", "roles", &config_value_name, &iam->roles,
                                          p->problems);
                KEEP_GOING(r);
                if (r > 0 && !iam->roles[0]) {
                        r = json_add_problem(p->problems, ".iam.roles",
                                             "a non-empty array of role names",
                                             json_object_get(obj, "roles"), NULL);
                        KEEP_GOING(r);
                }
        }

        if (config_set_default(&iam->secrets_file, "/etc/nixos/secrets/iam-admin.json") < 0 ||
            config_set_default(&iam->user_path, "/admin/users/{user}") < 0 ||
            config_set_default(&iam->create_path, "/admin/users") < 0 ||
            config_set_default(&iam->token_path, "/admin/tokens") < 0 ||
            config_set_default(&iam->admin_user, "admin") < 0)
                return -ENOMEM;
        if (!iam->roles) {
                iam->roles = strv_copy((char *const[]) { (char *) "admin", NULL });
                if (!iam->roles)
                        return -ENOMEM;
        }
        return 0;
}

static int parse_health_check(ConfigParser *p, json_t *root) {
        static const char *const keys[] = { "enabled", NULL };
        json_t *obj;
        int r;

        p->config->health_check = true;
        r = json_get_object(root, ".", "health_check", false, &obj, p->problems);
        if (r <= 0)
                return r == -ENOMEM ? r : 0;
        KEEP_GOING(json_check_keys(obj, ".health_check", keys, p->problems));
        KEEP_GOING(json_get_boolean(obj, ".health_check", "enabled", false,
                                    &p->config->health_check, p->problems));
        return 0;
}

static int parse_report(ConfigParser *p, json_t *root) {
        static const char *const keys[] = { "url", "timeout_s", "progress_interval_s", NULL };
        ReportConfig *rep = &p->config->report;
        int64_t timeout = 5, progress = REPORT_PROGRESS_INTERVAL_S_DEFAULT;
        json_t *obj;
        int r;

        r = json_get_object(root, ".", "report", false, &obj, p->problems);
        KEEP_GOING(r);
        if (r > 0) {
                KEEP_GOING(json_check_keys(obj, ".report", keys, p->problems));
                KEEP_GOING(config_get_value(obj, ".report", "url", &config_value_url, false,
                                            &rep->url, p->problems));
                KEEP_GOING(config_get_integer(obj, ".report", "timeout_s", 1, 300, "seconds", &timeout,
                                       NULL, p->problems));
                KEEP_GOING(config_get_integer(obj, ".report", "progress_interval_s", 0, 3600, "seconds",
                                       &progress, NULL, p->problems));
        }
        rep->timeout = (usec_t) timeout * USEC_PER_SEC;
        rep->progress_interval = (usec_t) progress * USEC_PER_SEC;
        return 0;
}

static int parse_metrics(ConfigParser *p, json_t *root) {
        static const char *const keys[] = { "enabled", "textfile_dir", NULL };
        MetricsConfig *m = &p->config->metrics;
        const char *e;
        json_t *obj;
        int r;

        m->enabled = true;
        r = json_get_object(root, ".", "metrics", false, &obj, p->problems);
        KEEP_GOING(r);
        if (r > 0) {
                KEEP_GOING(json_check_keys(obj, ".metrics", keys, p->problems));
                KEEP_GOING(json_get_boolean(obj, ".metrics", "enabled", false, &m->enabled, p->problems));
                KEEP_GOING(config_get_value(obj, ".metrics", "textfile_dir", &config_value_path, false,
                                            &m->textfile_dir, p->problems));
        }
        /* The environment replaces the default, as for the other system paths (tests). */
        e = getenv("FIRST_BOOT_AGENT_METRICS_DIR");
        return config_set_default(&m->textfile_dir, e && e[0] ? e : METRICS_TEXTFILE_DIR_DEFAULT);
}

int config_parse_sections(ConfigParser *p, json_t *root) {
        KEEP_GOING(config_parse_services(p, root));
        KEEP_GOING(parse_tls(p, root));
        KEEP_GOING(parse_network(p, root));
        KEEP_GOING(parse_timeouts(p, root));
        KEEP_GOING(parse_iam(p, root));
        KEEP_GOING(parse_health_check(p, root));
        KEEP_GOING(parse_report(p, root));
        KEEP_GOING(parse_metrics(p, root));
        return 0;
}
