/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config-load.h"
#include "join-procedure.h"
#include "problem.h"
#include "service-kind.h"
#include "step.h"
#include "strv.h"
#include "tap.h"

/* The step plan made from a configuration: the seed's steps exactly when it declares no
 * services, services declared in JSON alone, any number of them, and the order "after" gives. */

#define JOIN_BASE                                                               \
        "\"node_id\": \"node04\", \"node_role\": \"control-plane\", "           \
        "\"bootstrap\": false, \"cluster_name\": \"prod\", "                    \
        "\"leader_url\": \"http://10.0.1.10:2379\", "                           \
        "\"raft_addr\": \"10.0.1.13:2380\""

static Config *parse(const char *text, char **ret_problems) {
        Config *c = NULL;
        ProblemList l = {};
        char *lines = NULL;
        size_t used = 0;

        if (config_parse(text, strlen(text), "test.json", &c, &l) < 0) {
                for (size_t i = 0; i < l.n; i++) {
                        _cleanup_free_ char *one = problem_format(&l.items[i]);
                        size_t k = one ? strlen(one) : 0;
                        char *grown = realloc(lines, used + k + 2);

                        if (!grown)
                                break;
                        lines = grown;
                        memcpy(lines + used, one, k);
                        used += k;
                        lines[used++] = '\n';
                        lines[used] = '\0';
                }
        }
        problem_list_done(&l);
        if (ret_problems)
                *ret_problems = lines;
        else
                free(lines);
        return c;
}

/* The plan's step names, space-separated. */
static char *names(const StepPlan *p) {
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));

        for (size_t i = 0; l && i < p->n; i++)
                if (strv_extend(&l, p->steps[i].name) < 0)
                        return NULL;
        return l ? strv_join(l, " ") : NULL;
}

static void test_seed(void) {
        _cleanup_(config_freep) Config *c = parse("{" JOIN_BASE "}", NULL);
        _cleanup_(step_plan_freep) StepPlan *p = NULL, *none = NULL;
        _cleanup_free_ char *n = NULL, *n2 = NULL;
        const Step *s;

        ok(c, "a configuration without services parses");
        if (!c)
                return;
        is_int(step_plan_new(c, &p), 0, "its plan");
        n = names(p);
        is_str(n, "identity config chainfire-health chainfire-join flaredb-health flaredb-join iam-health iam-setup "
                  "health-report", "the seed's steps, in the seed's order");
        is_int(step_plan_new(NULL, &none), 0, "the plan without a configuration");
        n2 = names(none);
        is_str(n2, n, "is the same");

        s = step_plan_find(p, "chainfire-join");
        c->bootstrap = true;
        is_str(step_marker(s, c), ".chainfire-initialized", "bootstrap marker");
        c->bootstrap = false;
        is_str(step_marker(s, c), ".chainfire-joined", "join marker");
        is_str(step_marker(step_plan_find(p, "flaredb-join"), c), ".flaredb-joined", "flaredb join marker");
        is_str(step_marker(step_plan_find(p, "iam-setup"), c), ".iam-initialized", "iam marker");
        is_str(step_marker(step_plan_find(p, "health-report"), c), ".health-reported", "health-report marker");
        ok(!step_marker(step_plan_find(p, "config"), c) && !step_marker(step_plan_find(p, "chainfire-health"), c),
           "config and health have no marker");
        ok(step_plan_find(p, "chainfire-join")->run == step_join_admin, "chainfire joins through the admin API");
        ok(step_plan_find(p, "iam-setup")->run == step_iam_setup, "IAM sets up its admin");
        is_int(step_plan_index(p, "nope"), -ENOENT, "unknown step");

        for (size_t i = 0; i < p->n; i++) {
                for (const char *const *d = p->steps[i].after; d && *d; d++) {
                        int j = step_plan_index(p, *d);
                        ok(j >= 0 && (size_t) j < i, "%s after %s: an earlier row", p->steps[i].name, *d);
                }
                ok(p->steps[i].summary && p->steps[i].run, "%s has a summary and a function", p->steps[i].name);
                ok(!p->steps[i].serves || (step_plan_index(p, p->steps[i].serves) > (int) i && !p->steps[i].markers),
                   "%s serves a later step and has no marker of its own", p->steps[i].name);
        }

        config_service(c, "chainfire")->enabled = false;
        config_service(c, "chainfire")->enabled_source = CONFIG_SOURCE_FILE;
        is_str(step_skip_reason(s, c), "services.chainfire.enabled is false", "an explicit false names the setting");
        config_service(c, "chainfire")->enabled_source = CONFIG_SOURCE_ROLE;
        ok(strstr(strempty(step_skip_reason(s, c)), "worker") != NULL, "a worker's reason names the role");
        config_service(c, "chainfire")->enabled = true;
        ok(step_skip_reason(s, c) == NULL, "chainfire-join applies when chainfire runs");
        ok(step_skip_reason(step_plan_find(p, "chainfire-health"), c) == NULL, "with the admin driver health comes first");
        config_service(c, "chainfire")->kind = SERVICE_KIND_ETCD;
        ok(strstr(strempty(step_skip_reason(step_plan_find(p, "chainfire-health"), c)), "after adding") != NULL,
           "the etcd driver checks health inside the join");
        c->bootstrap = true;
        ok(step_skip_reason(step_plan_find(p, "chainfire-health"), c) == NULL,
           "a bootstrapping etcd node waits for health first");
        c->health_check = false;
        ok(step_skip_reason(step_plan_find(p, "health-report"), c) != NULL, "health-report follows health_check (off)");
        ok(step_skip_reason(step_plan_find(p, "identity"), c) != NULL,
           "identity does not apply without a provisioning section");
}

/* A fourth service of the admin kind, declared in JSON alone, after chainfire. */
static void test_declared(void) {
        _cleanup_(config_freep) Config *c = parse(
                "{" JOIN_BASE ", \"services\": {\"ledger\": {\"driver\": \"admin\", \"after\": [\"chainfire\"], "
                "\"api_port\": 2579, \"raft_port\": 2580, \"health_url\": \"http://127.0.0.1:2579/healthz\", "
                "\"leader_url\": \"http://10.0.1.10:2579\"}, \"iam\": {\"enabled\": false}}}", NULL);
        _cleanup_(step_plan_freep) StepPlan *p = NULL;
        _cleanup_free_ char *n = NULL;
        const ServiceConfig *l;

        ok(c, "a declared service parses");
        if (!c)
                return;
        l = config_service(c, "ledger");
        ok(l && l->kind == SERVICE_KIND_ADMIN, "with its driver");
        is_str(l ? l->raft_addr : NULL, "10.0.1.13:2580", "its raft address from raft_addr's host and its raft_port");
        is_str(l ? l->health_url : NULL, "http://127.0.0.1:2579/healthz", "its own health URL");
        is_int(step_plan_new(c, &p), 0, "the plan");
        n = names(p);
        is_str(n, "identity config chainfire-health chainfire-join flaredb-health flaredb-join iam-health "
                  "iam-setup ledger-health ledger-join health-report", "its steps in the map's order");
        ok(step_plan_find(p, "ledger-health") && step_plan_find(p, "ledger-health")->after &&
           streq(strempty(step_plan_find(p, "ledger-health")->after[1]), "chainfire-join") &&
           !step_plan_find(p, "ledger-health")->after[2], "waiting for chainfire's join alone (its \"after\")");
        is_str(step_marker(step_plan_find(p, "ledger-join"), c), ".ledger-joined", "its marker");
        ok(step_skip_reason(step_plan_find(p, "iam-setup"), c) != NULL, "a seed service turned off keeps its steps");
}

/* Twelve services: no limit from a fixed table. */
static void test_many(void) {
        char text[8192];
        size_t used;
        _cleanup_(config_freep) Config *c = NULL;
        _cleanup_(step_plan_freep) StepPlan *p = NULL;

        used = (size_t) snprintf(text, sizeof text, "{" JOIN_BASE ", \"services\": {");
        for (int i = 0; i < 9; i++)
                used += (size_t) snprintf(text + used, sizeof text - used,
                                          "%s\"svc%d\": {\"driver\": \"admin\", \"api_port\": %d, \"raft_port\": %d}",
                                          i > 0 ? ", " : "", i, 3000 + 2 * i, 3001 + 2 * i);
        snprintf(text + used, sizeof text - used, "}}");
        c = parse(text, NULL);
        ok(c && c->n_services == 12, "twelve services");
        if (!c)
                return;
        is_int(step_plan_new(c, &p), 0, "their plan");
        is_int(p->n, 3 + 2 * 12, "two steps each, and identity, config, health-report");
        is_str(p->steps[p->n - 2].name, "svc8-join", "the last declared joins last");
}

static void test_refused(void) {
        _cleanup_free_ char *a = NULL, *b = NULL, *d = NULL, *e = NULL;
        Config *c;

        c = parse("{" JOIN_BASE ", \"services\": {\"x\": {\"driver\": \"admin\", \"api_port\": 3000, "
                  "\"raft_port\": 3001, \"after\": [\"y\"]}, \"y\": {\"driver\": \"admin\", \"api_port\": 3002, "
                  "\"raft_port\": 3003, \"after\": [\"x\"]}}}", &a);
        ok(!c, "a cycle is refused");
        config_free(c);
        is_str(a, ".services.x.after: expected an order without a cycle (a service cannot come after itself), "
                  "found the cycle x → y → x; remove one of these names from an \"after\"\n", "naming it");

        c = parse("{" JOIN_BASE ", \"services\": {\"x\": {\"driver\": \"admin\", \"api_port\": 3000, "
                  "\"raft_port\": 3001, \"after\": [\"chainfire\", \"flaredbb\"]}}}", &b);
        ok(!c, "an unknown after is refused");
        config_free(c);
        ok(b && strstr(b, ".services.x.after[1]: expected the name of a service in .services, found the string "
                          "\"flaredbb\"") == b, "naming its path");

        c = parse("{" JOIN_BASE ", \"services\": {\"x\": {\"api_port\": 3000}}}", &d);
        ok(!c, "a new service without a driver is refused");
        config_free(c);
        ok(d && strstr(d, ".services.x.driver: expected one of") != NULL, "naming the driver");

        c = parse("{" JOIN_BASE ", \"services\": {\"x\": {\"driver\": \"admin\", \"raft_port\": 3001}}}", &e);
        ok(!c, "a new service without its api_port is refused");
        config_free(c);
        ok(e && strstr(e, ".services.x.api_port") != NULL, "naming it");
}

/* A worker running k3s alone: no raft_addr needed, its steps, its role's unit. */
static void test_k3s(void) {
        _cleanup_(config_freep) Config *agent = parse(
                "{\"node_id\": \"node07\", \"node_role\": \"worker\", \"bootstrap\": false, "
                "\"services\": {\"k3s\": {\"driver\": \"k3s\", \"server\": \"https://10.0.1.10:6443\"}}}", NULL);
        _cleanup_(config_freep) Config *server = parse(
                "{\"node_id\": \"node07\", \"node_role\": \"worker\", \"bootstrap\": false, "
                "\"services\": {\"k3s\": {\"driver\": \"k3s\", \"role\": \"server\", "
                "\"server\": \"https://10.0.1.10:6443\"}}}", NULL);
        _cleanup_free_ char *bad = NULL, *n = NULL;
        _cleanup_(step_plan_freep) StepPlan *p = NULL;
        Config *c;

        ok(agent, "a worker running only k3s: valid without raft_addr");
        if (!agent || !server)
                return;
        ok(config_service(agent, "k3s")->enabled, "k3s runs on a worker");
        is_str(config_service(agent, "k3s")->k3s.unit, "k3s-agent.service", "an agent's unit");
        is_str(config_service(server, "k3s")->k3s.unit, "k3s.service", "a server's unit");
        is_str(config_service(agent, "k3s")->k3s.node_name, "node07", "node-name: node_id");
        is_int(step_plan_new(agent, &p), 0, "its plan");
        n = names(p);
        is_str(n, "identity config chainfire-health chainfire-join flaredb-health flaredb-join iam-health iam-setup "
                  "k3s-join health-report", "k3s has a join step and no health step of its own");
        c = parse("{\"node_id\": \"node07\", \"node_role\": \"worker\", \"bootstrap\": false, "
                  "\"services\": {\"k3s\": {\"driver\": \"k3s\", \"role\": \"master\", "
                  "\"server\": \"http://10.0.1.10:6443/x\"}}}", &bad);
        ok(!c, "a bad role and a server that is not https://HOST:PORT: refused");
        config_free(c);
        ok(bad && strstr(bad, ".services.k3s.role: expected one of") && strstr(bad, ".services.k3s.server: expected an "
                                                                            "https://HOST:PORT URL without a path"),
           "each named by its path");
}

int main(void) {
        test_seed();
        test_k3s();
        test_declared();
        test_many();
        test_refused();
        return tap_done();
}
