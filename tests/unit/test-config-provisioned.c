/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "config-load.h"
#include "config-provisioning.h"
#include "config-provisioned.h"
#include "fileio.h"
#include "tap.h"

/* A server's answer merged over the image's template (RFC 7386), and every way it is refused. */

#define TEMPLATE                                                                                \
        "{\"cluster_name\": \"prod\", \"leader_url\": \"https://10.0.1.10:2379\", "             \
        "\"tls\": {\"enabled\": true, \"ca_cert_path\": \"/etc/ca.crt\"}, "                     \
        "\"services\": {\"chainfire\": {\"api_port\": 2379}, \"iam\": {\"enabled\": false}}, "  \
        "\"rack\": \"r1\", \"provisioning\": {\"url\": \"https://prov/v1/node\", "                    \
        "\"allow\": [\".services.*.health_url\", \".tls.ca_cert_path\"]}}"
/* The image's template with nothing allowed beyond the default. */
#define STRICT                                                                                  \
        "{\"cluster_name\": \"prod\", \"leader_url\": \"https://10.0.1.10:2379\", "             \
        "\"tls\": {\"enabled\": true, \"ca_cert_path\": \"/etc/ca.crt\"}, "                     \
        "\"services\": {\"chainfire\": {\"driver\": \"etcd\", \"etcd\": {\"unit\": \"etcd.service\"}}, " \
        "\"iam\": {\"enabled\": true, \"url\": \"https://10.0.1.10:8080\"}}, "                 \
        "\"iam\": {\"token_file\": \"/var/lib/fba/iam.token\"}, "                                 \
        "\"state_dir\": \"/var/lib/fba\", \"provisioning\": {\"url\": \"https://prov/v1/node\"}}"
#define IDENTITY "\"node_id\": \"node04\", \"bootstrap\": false"
#define NODE IDENTITY ", \"node_role\": \"worker\", \"raft_addr\": \"10.0.1.14:2380\""

static char cmdline[] = "/tmp/test-config-provisioned.XXXXXX";

static Config *template_of(const char *text) {
        ProblemList l = {};
        Config *c = NULL;

        (void) config_parse(text, strlen(text), "/etc/cluster-config.json", &c, &l);
        problem_list_done(&l);
        return c;
}

static char *macs[] = { (char *) "52:54:00:12:34:56", NULL };
static const MachineIds machine = { .macs = macs, .uuid = "6c1c0b3e-0000-4000-8000-000000000004" };
static AnswerCheck check = { .machine = &machine, .now = 1800000000 * USEC_PER_SEC,
                             .clock_floor = 1700000000 * USEC_PER_SEC };

/* The old interface, for the checks of the merge: the configuration and its text. */
static int build(const Config *t, const char *answer, Config **ret, char **ret_text, ProblemList *l) {
        ProvisionedAnswer a = {};
        int r;

        r = config_provisioned_build(t->provisioning, &check, answer, strlen(answer), "the answer of X",
                                     "/var/lib/s/cluster-config.json", &a, l);
        if (r >= 0) {
                *ret = TAKE_PTR(a.config);
                *ret_text = TAKE_PTR(a.text);
        }
        provisioned_answer_done(&a);
        return r;
}

static char *first_problem(const ProblemList *l) {
        return l->n > 0 ? problem_format(&l->items[0]) : strdup("(none)");
}

static void refused_with(const Config *t, const char *answer, int error, const char *expected, const char *what) {
        _cleanup_(config_freep) Config *c = NULL;
        _cleanup_free_ char *text = NULL, *first = NULL;
        ProblemList l = {};

        is_int(build(t, answer, &c, &text, &l), error, "%s: refused", what);
        ok(!c && !text, "%s: nothing built", what);
        first = first_problem(&l);
        is_str(first, expected, "%s: the problem", what);
        problem_list_done(&l);
}

static void refused(const Config *t, const char *answer, const char *expected, const char *what) {
        refused_with(t, answer, -EINVAL, expected, what);
}

/* The paths of the problems, "a b c", without "the answer of X: ". */
static char *paths(const ProblemList *l) {
        char *s = strdup("");

        for (size_t i = 0; s && i < l->n; i++) {
                const char *p = l->items[i].path + strlen("the answer of X: ");
                char *n;

                if (asprintf(&n, "%s%s%s", s, i ? " " : "", p) < 0)
                        n = NULL;
                free(s);
                s = n;
        }
        return s;
}

/* The reproductions: an answer may change only what names and places the node. */
static void test_strict(void) {
        _cleanup_(config_freep) Config *t = template_of(STRICT), *c = NULL;
        _cleanup_free_ char *text = NULL, *names = NULL, *first = NULL;
        _cleanup_(json_decrefp) json_t *whole = NULL;
        ProblemList l = {};

        ok(t && t->provisioning, "the strict template parses");
        if (!t || !t->provisioning)
                return;

        is_int(build(t, "{" NODE ", \"cluster_name\": \"other\", \"node_ip\": \"10.0.1.14\", "
                        "\"node_fqdn\": \"n4.example\", \"datacenter\": \"dc1\", \"rack\": \"r9\", "
                        "\"network\": {\"cluster\": \"10.0.0.0/8\"}, \"services\": {\"flaredb\": {\"enabled\": false}, "
                        "\"iam\": {\"enabled\": false}}}", &c, &text, &l), 0,
               "every member the default list names may change");
        is_int(l.n, 0, "(no problem)");
        ok(c && !config_service(c, "iam")->enabled, "(services.iam.enabled from the answer)");
        config_free(TAKE_PTR(c));
        text = mfree(text);
        problem_list_done(&l);

        is_int(build(t, "{" NODE ", \"iam\": {\"allow_http\": true, \"token_file\": \"/etc/cron.d/x\"}, "
                        "\"services\": {\"iam\": {\"url\": \"http://10.9.9.9:8080\"}, \"chainfire\": {\"etcd\": "
                        "{\"start_command\": [\"/bin/sh\", \"-c\", \"id\"]}}}, "
                        "\"flash\": {\"images\": [{\"name\": \"system\", \"url\": \"https://x/i.img\", \"sha256\": "
                        "\"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\", \"target\": "
                        "{\"type\": \"nvme\", \"serial\": \"S4EW*\"}}], \"on_success\": \"reboot\"}, \"tls\": {\"insecure_skip_verify\": true}, "
                        "\"report\": {\"url\": \"https://evil/r\"}, \"timeouts\": {\"request_s\": 600}}",
                     &c, &text, &l), -EPERM, "an answer changing what the image keeps: refused");
        ok(!c && !text, "nothing built");
        names = paths(&l);
        /* In the merged object's order: the template's members first. */
        is_str(names, ".tls.insecure_skip_verify .services.chainfire.etcd.start_command .services.iam.url "
               ".iam.token_file .iam.allow_http .flash.images .flash.on_success .report.url .timeouts.request_s",
               "every refused member named, one by one");
        first = first_problem(&l);
        is_str(first, "the answer of X: .tls.insecure_skip_verify: expected the image's value (nothing: the template "
               "does not set it), which an answer may not change, found true; remove it from the node's answer on the "
               "provisioning server, or, if the image's owner means the server to set it, list "
               "\".tls.insecure_skip_verify\" in provisioning.allow in the image's template", "the problem says what to do");
        problem_list_done(&l);

        /* The image's own configuration served whole, with the node's fields: nothing changes. */
        whole = json_loads(STRICT, 0, NULL);
        json_object_set_new(whole, "node_id", json_string("node04"));
        json_object_set_new(whole, "bootstrap", json_false());
        json_object_set_new(whole, "raft_addr", json_string("10.0.1.14:2380"));
        free(text);
        text = json_dumps(whole, 0);
        {
                _cleanup_free_ char *t2 = NULL;

                is_int(build(t, text, &c, &t2, &l), 0, "a whole cluster-config.json served as the answer passes");
                is_int(l.n, 0, "(no problem)");
                config_free(TAKE_PTR(c));
                problem_list_done(&l);
        }
        json_decref(whole);
        whole = NULL;
        text = mfree(text);

        /* A member set to the template's value again is no change; a changed one is. */
        is_int(build(t, "{" NODE ", \"iam\": {\"token_file\": \"/var/lib/fba/iam.token\"}, \"services\": "
                        "{\"chainfire\": {\"driver\": \"etcd\"}}}", &c, &text, &l), 0,
               "members repeating the template's values pass");
        config_free(TAKE_PTR(c));
        problem_list_done(&l);
        text = mfree(text);
        refused_with(t, "{" NODE ", \"services\": {\"iam\": null}}", -EPERM,
                     "the answer of X: .services.iam.url: expected the image's value (the string "
                     "\"https://10.0.1.10:8080\"), which an answer may not change, found nothing (the answer removes it); "
                     "remove it from the node's answer on the provisioning server, or, if the image's owner means the "
                     "server to set it, list \".services.iam.url\" in provisioning.allow in the image's template",
                     "removing a member is a change too (enabled may go, url may not)");
        refused(t, "{" NODE ", \"bootstap\": true}", "the answer of X: .bootstap: expected a known key, found the "
                "unknown key \"bootstap\"; did you mean \"bootstrap\"?", "a typo is named as one, not as a change");

        /* provisioning.allow widens the list. */
        {
                _cleanup_(config_freep) Config *w = NULL;
                _cleanup_(json_decrefp) json_t *j = json_loads(STRICT, 0, NULL);
                _cleanup_free_ char *wt = NULL, *t2 = NULL;

                json_object_set_new(json_object_get(j, "provisioning"), "allow",
                                    json_pack("[s, s]", ".services.*.etcd.start_command", ".report"));
                wt = json_dumps(j, 0);
                w = template_of(wt);
                ok(w && w->provisioning && w->provisioning->allow, "a template with provisioning.allow parses");
                if (!w || !w->provisioning)
                        return;
                is_int(build(w, "{" NODE ", \"services\": {\"chainfire\": {\"etcd\": {\"start_command\": "
                                "[\"/usr/local/sbin/start-etcd\"]}}}, \"report\": {\"url\": \"https://r/x\", "
                                "\"timeout_s\": 9}}", &c, &t2, &l), 0, "allowed members (a '*' path, a section) pass");
                ok(c && config_service(c, "chainfire")->etcd.start_command &&
                   streq(config_service(c, "chainfire")->etcd.start_command[0], "/usr/local/sbin/start-etcd"),
                   "(the allowed start_command is the answer's)");
                config_free(TAKE_PTR(c));
                problem_list_done(&l);
                refused_with(w, "{" NODE ", \"services\": {\"chainfire\": {\"etcd\": {\"env_file\": \"/x\"}}}}",
                             -EPERM, "the answer of X: .services.chainfire.etcd.env_file: expected the image's value "
                             "(nothing: the template does not set it), which an answer may not change, found the string "
                             "\"/x\"; remove it from the node's answer on the provisioning server, or, if the image's owner "
                             "means the server to set it, list \".services.chainfire.etcd.env_file\" in provisioning.allow "
                             "in the image's template", "a sibling of an allowed member is not");
        }
}

/* Services as data: a k3s and a Consul service declared by the image. The answer may turn each
 * on or off; where they join, with what credential, what runs and what is written stay the
 * image's, and an answer cannot bring a service of its own. */
#define KINDS                                                                                   \
        "{\"cluster_name\": \"prod\", \"tls\": {\"enabled\": true, \"ca_cert_path\": \"/etc/ca.crt\"}, " \
        "\"services\": {\"k3s\": {\"driver\": \"k3s\", \"server\": \"https://10.0.1.10:6443\", "  \
        "\"enabled\": false}, \"consul\": {\"driver\": \"consul\", \"retry_join\": [\"10.0.1.10\"], " \
        "\"encrypt_file\": \"/etc/fba/consul.key\"}}, "                                          \
        "\"provisioning\": {\"url\": \"https://prov/v1/node\"}}"

static void test_kinds(void) {
        _cleanup_(config_freep) Config *t = template_of(KINDS), *c = NULL;
        _cleanup_free_ char *text = NULL, *names = NULL;
        ProblemList l = {};

        ok(t && t->provisioning && config_service(t, "k3s") && config_service(t, "consul"),
           "the template with a k3s and a Consul service parses");
        if (!t || !t->provisioning || !config_service(t, "k3s"))
                return;

        is_int(build(t, "{" NODE ", \"datacenter\": \"dc1\", \"services\": {\"k3s\": {\"enabled\": true}, "
                        "\"consul\": {\"enabled\": false}}}", &c, &text, &l), 0,
               "k3s and Consul: enabled may change");
        is_int(l.n, 0, "(no problem)");
        ok(c && config_service(c, "k3s")->enabled && !config_service(c, "consul")->enabled,
           "(each service's enabled is the answer's)");
        ok(c && streq(config_service(c, "k3s")->k3s.server, "https://10.0.1.10:6443"), "(k3s's server is the image's)");
        config_free(TAKE_PTR(c));
        text = mfree(text);
        problem_list_done(&l);

        is_int(build(t, "{" NODE ", \"services\": {\"k3s\": {\"enabled\": true, \"server\": \"https://10.9.9.9:6443\", "
                        "\"role\": \"server\", \"token_file\": \"/etc/cron.d/k3s\", \"config_path\": \"/etc/cron.d/y\", "
                        "\"labels\": [\"a=b\"], \"start_command\": [\"/bin/sh\", \"-c\", \"id\"]}, "
                        "\"consul\": {\"retry_join\": [\"10.9.9.9\"], \"encrypt_file\": \"/tmp/key\", "
                        "\"token_file\": \"/tmp/token\", \"http_url\": \"http://10.9.9.9:8500\", "
                        "\"start_command\": [\"/bin/sh\"]}}}", &c, &text, &l), -EPERM,
               "k3s and Consul settings from an answer: refused");
        ok(!c && !text, "nothing built");
        names = paths(&l);
        is_str(names, ".services.k3s.server .services.k3s.role .services.k3s.token_file .services.k3s.config_path "
               ".services.k3s.labels .services.k3s.start_command .services.consul.retry_join "
               ".services.consul.encrypt_file .services.consul.token_file .services.consul.http_url "
               ".services.consul.start_command", "each one named: server, token, gossip key, files, commands");
        names = mfree(names);
        problem_list_done(&l);

        is_int(build(t, "{" NODE ", \"services\": {\"evil\": {\"driver\": \"k3s\", \"server\": \"https://10.9.9.9:6443\", "
                        "\"enabled\": true}}}", &c, &text, &l), -EPERM, "a k3s service the image does not declare: refused");
        names = paths(&l);
        is_str(names, ".services.evil", "the service named, once: the image does not declare it");
        ok(l.n == 1 && strstr(l.items[0].hint, "\"enabled\": false"), "the hint: declare it in the template, disabled");
        names = mfree(names);
        problem_list_done(&l);

        is_int(build(t, "{" NODE ", \"services\": {\"evil\": {\"enabled\": true}}}", &c, &text, &l), -EPERM,
               "a service the image does not declare, with enabled alone: refused by the policy, not as incomplete");
        ok(!c && !text, "nothing built");
        names = paths(&l);
        is_str(names, ".services.evil", "the service named, once");
        ok(l.n == 1 && strstr(l.items[0].expected, "does not declare"), "as a service the image does not declare");
        names = mfree(names);
        problem_list_done(&l);

        is_int(build(t, "{" NODE ", \"services\": {\"evil\": {\"enabled\": true}, \"chainfire\": "
                        "{\"api_port\": \"x\"}}}", &c, &text, &l), -EPERM,
               "an undeclared service beside a mistyped port: the plan is judged first");
        names = paths(&l);
        is_str(names, ".services.evil .services.chainfire.api_port",
               "every change named as a refused change: nothing is parsed from a refused plan");
        names = mfree(names);
        problem_list_done(&l);
}

/* The services a node joins and their order make the step plan, which is the template's: no
 * provisioning.allow hands them over. */
static void test_plan(void) {
        _cleanup_(config_freep) Config *t = template_of(
                "{\"cluster_name\": \"c\", \"leader_url\": \"https://leader:2379\", "
                "\"services\": {\"ledger\": {\"driver\": \"admin\", \"api_port\": 3379, \"raft_port\": 3380, "
                "\"enabled\": false}}, "
                "\"provisioning\": {\"url\": \"https://prov/v1/node\", \"allow\": [\".services\"]}}");
        _cleanup_(config_freep) Config *c = NULL;
        _cleanup_free_ char *text = NULL, *names = NULL;
        ProblemList l = {};

        ok(t && t->provisioning && config_service(t, "ledger"), "a template that allows .services");
        if (!t || !t->provisioning)
                return;
        is_int(build(t, "{" NODE ", \"services\": {\"ledger\": {\"enabled\": true, \"api_port\": 3381}}}", &c,
                     &text, &l), 0, "allowed: a declared service's settings and enabled");
        ok(c && config_service(c, "ledger")->enabled, "(ledger on)");
        config_free(TAKE_PTR(c));
        text = mfree(text);
        problem_list_done(&l);

        is_int(build(t, "{" NODE ", \"services\": {\"books\": {\"driver\": \"admin\", \"api_port\": 4379, "
                        "\"raft_port\": 4380}}}", &c, &text, &l), -EPERM, "allow .services: a new service still refused");
        names = paths(&l);
        is_str(names, ".services.books", "(named)");
        names = mfree(names);
        problem_list_done(&l);

        is_int(build(t, "{" NODE ", \"services\": {\"ledger\": {\"driver\": \"etcd\", \"after\": [\"iam\"]}}}", &c,
                     &text, &l), -EPERM, "allow .services: a driver or an after still refused");
        names = paths(&l);
        is_str(names, ".services.ledger.driver .services.ledger.after", "(both named)");
        names = mfree(names);
        problem_list_done(&l);

        is_int(build(t, "{" NODE ", \"services\": {\"ledger\": null}}", &c, &text, &l), -EPERM,
               "allow .services: a declared service removed: refused");
        names = paths(&l);
        is_str(names, ".services.ledger", "(named)");
        names = mfree(names);
        problem_list_done(&l);
        ok(!c && !text, "nothing built");
}

/* "match" and "not_after": checked, then taken out of the configuration. */
static void test_binding(const Config *t) {
        ProvisionedAnswer a = {};
        ProblemList l = {};
        const char *bound = "{" NODE ", \"match\": {\"mac\": \"52-54-00-12-34-56\"}, "
                            "\"not_after\": \"2027-01-15T08:00:00Z\"}";

        check.require_match = true;
        refused_with(t, "{" NODE "}", -EKEYREJECTED, "the answer of X: .match: expected the identifiers this signed "
                     "answer is for: {\"mac\": \"52:54:00:12:34:56\"} (or uuid, serial, disk_serial), found nothing; add "
                     "\"match\" to the answer before signing it: a signed answer that names no machine could be served "
                     "to any machine", "a signed answer without match");
        is_int(config_provisioned_build(t->provisioning, &check, bound, strlen(bound), "the answer of X", "/s/c.json",
                                        &a, &l), 0, "a signed answer bound to this machine's MAC, not expired");
        is_str(a.binding.matched, "mac 52:54:00:12:34:56", "what matched");
        ok(a.binding.not_after == 1800000000ULL * USEC_PER_SEC && !a.binding.not_after_unchecked,
           "not_after read, and checked");
        ok(a.text && !strstr(a.text, "match") && !strstr(a.text, "not_after"),
           "match and not_after are not part of the stored configuration");
        provisioned_answer_done(&a);
        problem_list_done(&l);

        refused_with(t, "{" NODE ", \"match\": {\"mac\": \"52:54:00:fb:a0:05\"}}", -EKEYREJECTED,
                     "the answer of X: .match.mac: expected this machine's MACs (52:54:00:12:34:56), found the string "
                     "\"52:54:00:fb:a0:05\"; this answer was made for another machine: serve this machine its own answer, "
                     "whose \"match\" names one of its identifiers", "an answer for another machine's MAC");
        check.now = 1900000000 * USEC_PER_SEC;
        refused_with(t, bound, -EKEYREJECTED, "the answer of X: .not_after: expected a time after now "
                     "(2030-03-17T17:46:40+00:00), found the string \"2027-01-15T08:00:00Z\"; the answer has expired: "
                     "sign a new one with a later not_after", "an expired answer");
        check.now = 1600000000 * USEC_PER_SEC;
        check.clock_floor = 1700000000 * USEC_PER_SEC;
        is_int(config_provisioned_build(t->provisioning, &check, bound, strlen(bound), "the answer of X", "/s/c.json",
                                        &a, &l), 0, "a clock before the build time does not reject on expiry");
        ok(a.binding.not_after_unchecked, "and says that not_after was not checked");
        provisioned_answer_done(&a);
        problem_list_done(&l);
        check.now = 1900000000 * USEC_PER_SEC;
        check.clock_floor = 1950000000 * USEC_PER_SEC;
        is_int(config_provisioned_build(t->provisioning, &check, bound, strlen(bound), "the answer of X", "/s/c.json",
                                        &a, &l), 0, "(the same with the clock after not_after, before the floor)");
        provisioned_answer_done(&a);
        problem_list_done(&l);
        check.clock_floor = 1700000000 * USEC_PER_SEC;

        check.require_match = false;
        check.now = 1800000000 * USEC_PER_SEC;
        refused_with(t, "{" NODE ", \"match\": {\"uuid\": \"00000000-0000-4000-8000-000000000001\"}}", -EKEYREJECTED,
                     "the answer of X: .match.uuid: expected this machine's SMBIOS UUID "
                     "(6c1c0b3e-0000-4000-8000-000000000004), found the string \"00000000-0000-4000-8000-000000000001\"; "
                     "this answer was made for another machine: serve this machine its own answer, whose \"match\" "
                     "names one of its identifiers", "unsigned: a match present must fit all the same");
}

int main(void) {
        _cleanup_(config_freep) Config *t = NULL, *c = NULL;
        _cleanup_free_ char *text = NULL, *path = NULL;
        ProblemList l = {};
        json_t *j;
        int fd;

        fd = mkstemp(cmdline);
        if (fd >= 0)
                close(fd);
        (void) write_file_atomic(cmdline, "quiet\n", 6, 0644);
        setenv("FIRST_BOOT_AGENT_PROC_CMDLINE", cmdline, 1);

        path = config_provisioned_path("/var/lib/first-boot-automation");
        is_str(path, "/var/lib/first-boot-automation/cluster-config.json", "where it is stored");

        t = template_of(TEMPLATE);
        ok(t && t->provisioning, "the template parses");
        if (!t || !t->provisioning)
                return tap_done();

        is_int(build(t, "{" NODE ", \"rack\": null, \"services\": {\"chainfire\": {\"health_url\": "
                        "\"https://10.0.1.14:2379/health\"}, \"flaredb\": {\"enabled\": false}}, "
                        "\"tls\": {\"ca_cert_path\": \"/etc/other.crt\"}}", &c, &text, &l),
               0, "an answer completing the template");
        is_int(l.n, 0, "no problem");
        ok(c != NULL, "a configuration");
        if (c) {
                is_str(c->node_id, "node04", "the answer's node_id");
                is_str(c->cluster_name, "prod", "the template's cluster_name");
                ok(c->rack == NULL, "null removes a member (rack)");
                is_str(config_service(c, "chainfire")->health_url, "https://10.0.1.14:2379/health",
                       "objects merge member by member (health_url added)");
                is_int(config_service(c, "chainfire")->api_port, 2379, "(api_port kept)");
                ok(!config_service(c, "flaredb")->enabled, "a nested member from the answer");
                ok(!config_service(c, "iam")->enabled, "a nested member from the template");
                is_str(c->tls.ca_cert_path, "/etc/other.crt", "a member replaced");
                ok(c->tls.enabled, "its sibling kept");
                ok(c->provisioning != NULL, "the provisioning section stays (the step shows done)");
                is_str(c->path, "/var/lib/s/cluster-config.json", "the path is where it is stored");
        }
        ok(text && text[strlen(text) - 1] == '\n', "the text ends with a newline");
        j = text ? json_loads(text, 0, NULL) : NULL;
        ok(j && json_object_get(j, "rack") == NULL && json_is_string(json_object_get(j, "node_id")),
           "the text is the merged JSON");
        json_decref(j);
        problem_list_done(&l);

        refused(t, "{\"node_id\": ", "the answer of X: .: expected a JSON object (the node's configuration), found a "
                "syntax error at line 1, column 12: unexpected token near end of file; serve the node's cluster-config.json, "
                "or the members that complete the image's", "invalid JSON");
        {
                _cleanup_(config_freep) Config *x = NULL;
                _cleanup_free_ char *s = NULL, *line = NULL;

                /* jansson quotes the input near the error: a newline there stays out of the problem. */
                is_int(build(t, "{\n  \"node_id\": \"wk07\",\n  \"\\\\\\\\\\\\\\\n    \"flaredb\": 1}", &x, &s, &l), -EINVAL,
                       "a string broken by a newline: refused");
                line = first_problem(&l);
                ok(line && !strchr(line, '\n'), "the problem is one line: %s", line);
                problem_list_done(&l);
        }
        refused(t, "[1, 2]", "the answer of X: .: expected a JSON object (the node's configuration), found an array of "
                "2 elements", "an array");
        refused(t, "{\"node_role\": \"worker\"}", "the answer of X: .node_id: expected the node's id: an answer names "
                "the node it is for, found nothing; add \"node_id\" to the node's configuration on the provisioning server",
                "no node_id");
        refused(t, "{\"node_id\": null}", "the answer of X: .node_id: expected the node's id: an answer names "
                "the node it is for, found null; add \"node_id\" to the node's configuration on the provisioning server",
                "node_id null (a merge would remove it: a node with no id)");
        refused_with(t, "{" NODE ", \"provisioning\": {\"url\": \"https://elsewhere\"}}", -EPERM,
                     "the answer of X: .provisioning.url: expected the image's value (the string \"https://prov/v1/node\"), "
                     "which an answer may not change, found the string \"https://elsewhere\"; where a node looks itself "
                     "up and keeps its state are the image's alone: remove it from the node's answer (provisioning.allow "
                     "cannot list it)", "provisioning changed by an answer");
        refused_with(t, "{" NODE ", \"state_dir\": \"/tmp\"}", -EPERM,
                     "the answer of X: .state_dir: expected the image's value (nothing: the template does not set it), "
                     "which an answer may not change, found the string \"/tmp\"; where a node looks itself up and keeps "
                     "its state are the image's alone: remove it from the node's answer (provisioning.allow cannot list "
                     "it)", "state_dir set by an answer");
        refused(t, "{" IDENTITY ", \"raft_addr\": \"10.0.1.14:2380\", \"node_role\": \"boss\"}",
                "the answer of X: .node_role: expected one of \"control-plane\", \"worker\", \"all-in-one\", found the "
                "string \"boss\"", "a result that fails validation");
        {
                _cleanup_(config_freep) Config *x = NULL;
                _cleanup_free_ char *s = NULL;

                is_int(build(t, "{" IDENTITY ", \"node_role\": 1, \"raft_addr\": \"x\", \"bootstap\": true}", &x, &s, &l),
                       -EINVAL, "several problems");
                is_int(l.n, 3, "every one named");
                problem_list_done(&l);
        }

        test_strict();
        test_kinds();
        test_plan();
        test_binding(t);

        unlink(cmdline);
        return tap_done();
}
