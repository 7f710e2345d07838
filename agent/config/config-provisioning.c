/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "config-answer-policy.h"
#include "config-parser.h"
#include "config-provisioning.h"
#include "config-value.h"
#include "json-util.h"
#include "proc-cmdline.h"
#include "string-util.h"
#include "strv.h"

static const char *const key_table[_PROVISIONING_KEY_MAX] = {
        [PROVISIONING_KEY_NONE] = NULL,
        [PROVISIONING_KEY_MAC] = "mac",
        [PROVISIONING_KEY_UUID] = "uuid",
        [PROVISIONING_KEY_SERIAL] = "serial",
};

const char *provisioning_key_to_string(ProvisioningKey k) {
        return k > 0 && k < _PROVISIONING_KEY_MAX ? key_table[k] : NULL;
}

/* The placeholders of a URL's path: PROVISIONING_KEY_NONE when it has none, -EINVAL for an
 * unknown one, two different ones, or one in the scheme or host. */
static int url_key(const char *url) {
        const char *path = strstr(url, "://");
        int found = PROVISIONING_KEY_NONE;

        if (!path)
                return -EINVAL;
        path = strchr(path + 3, '/');
        if ((path ? (size_t) (path - url) : strlen(url)) > strcspn(url, "{}"))
                return -EINVAL;
        for (const char *p = path ? strpbrk(path, "{}") : NULL; p; p = strpbrk(p + 1, "{}")) {
                int k = -EINVAL;

                if (*p == '}')
                        return -EINVAL;
                for (size_t i = 1; i < _PROVISIONING_KEY_MAX; i++) {
                        size_t n = strlen(key_table[i]);

                        if (strneq(p + 1, key_table[i], n) && p[1 + n] == '}')
                                k = (int) i;
                }
                if (k < 0 || (found != PROVISIONING_KEY_NONE && found != k))
                        return -EINVAL;
                found = k;
                p = strchr(p, '}');
        }
        return found;
}

static bool check_url(const char *s, const char **ret_hint, bool *ret_hide) {
        if (!config_value_url.check(s, ret_hint, ret_hide))
                return false;
        if (url_key(s) < 0) {
                *ret_hint = "use at most one kind of placeholder, {mac}, {uuid} or {serial}, and only in the path";
                return false;
        }
        return true;
}

static const ValueType value_provisioning_url = {
        .expected = "an http(s) URL, optionally with one placeholder {mac}, {uuid} or {serial} in its path",
        .check = check_url,
};

bool config_provisioning_is_template(json_t *root) {
        _cleanup_free_ char *url = NULL;

        if (json_object_get(root, "node_id"))
                return false;
        if (json_object_get(root, "provisioning"))
                return true;
        return proc_cmdline_get_key(PROVISIONING_CMDLINE_KEY, &url) > 0 && url[0];
}

ProvisioningConfig *provisioning_config_free(ProvisioningConfig *pc) {
        if (!pc)
                return NULL;
        free(pc->url);
        free(pc->ca_cert_path);
        free(pc->public_key);
        strv_free(pc->allow);
        json_decref(pc->template);
        free(pc);
        return NULL;
}

/* The URL from the kernel command line, when it names one: it wins over the file's. */
static int apply_cmdline(ProvisioningConfig *pc, ProblemList *problems) {
        _cleanup_free_ char *url = NULL;
        const char *hint = NULL;
        bool hide = false;
        int r;

        r = proc_cmdline_get_key(PROVISIONING_CMDLINE_KEY, &url);
        if (r == -ENOMEM)
                return r;
        if (r <= 0 || !url[0])
                return 0;
        if (!check_url(url, &hint, &hide)) {
                r = problem_addf(problems, PROVISIONING_CMDLINE_KEY " (kernel command line)",
                                 value_provisioning_url.expected, hint, "%s", hide ? "a URL with a user name or password" : url);
                return r < 0 ? r : 0;
        }
        free(pc->url);
        pc->url = TAKE_PTR(url);
        pc->url_from_cmdline = true;
        return 0;
}

static bool check_allow(const char *s, const char **ret_hint, bool *ret_hide) {
        return answer_policy_path_is_valid(s, ret_hint);
}

static const ValueType value_allow = {
        .expected = "a key path such as \".services.*.health_url\" (a '.' before each member name, \"*\" for any one)",
        .check = check_allow,
};

static int parse_section(ConfigParser *p, json_t *obj, ProvisioningConfig *pc) {
        static const char *const keys[] = {
                "url", "ca_cert_path", "public_key", "max_size", "wait_s", "retry_max_s", "hostname",
                "allow", NULL
        };
        ProblemList *problems = p->problems;
        int64_t max_size = PROVISIONING_MAX_SIZE_DEFAULT, wait = 0, retry_max = 60;

        KEEP_GOING(json_check_keys(obj, ".provisioning", keys, problems));
        KEEP_GOING(config_get_value(obj, ".provisioning", "url", &value_provisioning_url, false, &pc->url,
                                    problems));
        KEEP_GOING(config_get_value(obj, ".provisioning", "ca_cert_path", &config_value_path, false,
                                    &pc->ca_cert_path, problems));
        KEEP_GOING(config_get_value(obj, ".provisioning", "public_key", &config_value_path, false,
                                    &pc->public_key, problems));
        KEEP_GOING(config_get_integer(obj, ".provisioning", "max_size", 1024, 1024 * 1024, "bytes",
                                      &max_size, NULL, problems));
        KEEP_GOING(config_get_integer(obj, ".provisioning", "wait_s", 0, 365 * 24 * 3600,
                                      "seconds (0: until the node is known)", &wait, NULL, problems));
        KEEP_GOING(config_get_integer(obj, ".provisioning", "retry_max_s", 1, 3600, "seconds", &retry_max,
                                      NULL, problems));
        KEEP_GOING(json_get_boolean(obj, ".provisioning", "hostname", false, &pc->hostname, problems));
        KEEP_GOING(config_get_value_list(obj, ".provisioning", "allow", &value_allow, &pc->allow, problems));
        pc->max_size = (uint64_t) max_size;
        pc->wait = (usec_t) wait * USEC_PER_SEC;
        pc->retry_max = (usec_t) retry_max * USEC_PER_SEC;
        return 0;
}

/* An answer configures the node: it comes over verified HTTPS, or signed. Plain HTTP to this
 * machine is no exception (a local user can listen on a loopback port first). */
static int check_transport(const ProvisioningConfig *pc, ProblemList *problems) {
        _cleanup_free_ char *q = NULL;
        int r;

        if (startswith(pc->url, "https://") || pc->public_key)
                return 0;
        /* A URL with a user name or password never gets here (config_value_url). */
        q = json_quote(pc->url, 256);
        if (!q)
                return -ENOMEM;
        r = problem_addf(problems, pc->url_from_cmdline ? PROVISIONING_CMDLINE_KEY " (kernel command line)" : ".provisioning.url",
                         "an https:// URL, or provisioning.public_key set (signed answers): over plain HTTP anyone on "
                         "the network path could answer, and an answer configures the node",
                         "write https:// (the server's certificate checked against provisioning.ca_cert_path), or sign "
                         "the answers and put the public key in provisioning.public_key (see the README)",
                         "the string %s", q);
        return r < 0 ? r : -EINVAL;
}

int config_provisioning_parse(ConfigParser *p, json_t *root) {
        _cleanup_(provisioning_config_freep) ProvisioningConfig *pc = NULL;
        json_t *obj = NULL;
        int r;

        r = json_get_object(root, ".", "provisioning", false, &obj, p->problems);
        KEEP_GOING(r);

        pc = calloc(1, sizeof(ProvisioningConfig));
        if (!pc)
                return -ENOMEM;
        *pc = (ProvisioningConfig) {
                .max_size = PROVISIONING_MAX_SIZE_DEFAULT,
                .retry_max = 60 * USEC_PER_SEC,
                .hostname = true,
        };
        if (r > 0)
                KEEP_GOING(parse_section(p, obj, pc));
        KEEP_GOING(apply_cmdline(pc, p->problems));

        if (!pc->url) {
                if (r > 0 && !json_object_get(obj, "url"))
                        return config_add_missing(p->problems, ".provisioning", "url",
                                                  value_provisioning_url.expected,
                                                  "required, unless the kernel command line has "
                                                  PROVISIONING_CMDLINE_KEY "=");
                return 0;       /* no section and no command line: not provisioned */
        }
        KEEP_GOING(check_transport(pc, p->problems));
        pc->key = (ProvisioningKey) MAX(url_key(pc->url), 0);
        pc->template = json_incref(root);
        p->config->provisioning = TAKE_PTR(pc);
        return 0;
}
