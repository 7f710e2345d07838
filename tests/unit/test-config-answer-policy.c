/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "config-answer-policy.h"
#include "json-util.h"
#include "tap.h"

/* What an answer may change: the comparison of the merged result with the template, and the
 * key paths of provisioning.allow. */

/* The paths of the problems found comparing merged with template, "a b c" ("" for none). */
static char *changes(const char *template, const char *merged, char *const *allow, int *ret_n) {
        _cleanup_(json_decrefp) json_t *t = json_loads(template, 0, NULL), *m = json_loads(merged, 0, NULL);
        _cleanup_free_ char *s = strdup("");
        ProblemList l = {};

        *ret_n = answer_policy_check(t, m, allow, &l);
        for (size_t i = 0; s && i < l.n; i++) {
                char *n;

                if (asprintf(&n, "%s%s%s", s, i ? " " : "", l.items[i].path) < 0)
                        n = NULL;
                free(s);
                s = n;
        }
        problem_list_done(&l);
        return TAKE_PTR(s);
}

static int words(const char *s) {
        int n = s[0] ? 1 : 0;

        for (const char *p = s; *p; p++)
                n += *p == ' ';
        return n;
}

static void check(const char *template, const char *merged, char *const *allow, const char *expected,
                  const char *what) {
        _cleanup_free_ char *got = NULL;
        int n;

        got = changes(template, merged, allow, &n);
        is_str(got, expected, "%s", what);
        is_int(n, words(expected), "%s: the count", what);
}

static void plan(const char *template, const char *merged, int expected, const char *what) {
        _cleanup_(json_decrefp) json_t *t = json_loads(template, 0, NULL), *m = json_loads(merged, 0, NULL);

        is_int(answer_policy_changes_plan(t, m), expected, "%s", what);
}

static void valid(const char *path, bool expected) {
        const char *hint = NULL;

        is_int(answer_policy_path_is_valid(path, &hint), expected, "allow path '%s' is %s", path,
               expected ? "valid" : "refused");
        if (!expected)
                ok(hint != NULL, "'%s': the reason: %s", path, hint ? hint : "(none)");
}

int main(void) {
        const char *t = "{\"cluster_name\": \"prod\", \"leader_url\": \"https://l\", \"state_dir\": \"/var/lib/s\", "
                        "\"services\": {\"chainfire\": {\"enabled\": true, \"health_url\": \"https://h\"}}, "
                        "\"network\": {\"cluster\": \"10.0.0.0/8\"}, \"provisioning\": {\"url\": \"https://p\"}}";
        char *health[] = { (char *) ".services.*.health_url", NULL };
        char *iam[] = { (char *) ".iam", (char *) ".services.iam", NULL };
        char *everything[] = { (char *) ".state_dir", (char *) ".provisioning", NULL };
        char *services[] = { (char *) ".services", NULL };

        {
                /* The default list is what names and places the node, and nothing more. */
                _cleanup_free_ char *list = strdup("");

                for (const char *const *p = answer_policy_default; list && *p; p++) {
                        char *n;

                        if (asprintf(&n, "%s%s%s", list, p == answer_policy_default ? "" : " ", *p) < 0)
                                n = NULL;
                        free(list);
                        list = n;
                }
                is_str(list, ".node_id .node_role .bootstrap .cluster_name .raft_addr .node_ip .node_fqdn .datacenter "
                       ".rack .network .services.*.enabled", "the default list: the node's names and places only");
        }
        check(t, t, NULL, "", "the template itself: nothing changed");
        check(t, "{\"network\": {\"cluster\": \"10.0.0.0/8\"}, \"provisioning\": {\"url\": \"https://p\"}, "
                 "\"state_dir\": \"/var/lib/s\", \"services\": {\"chainfire\": {\"health_url\": \"https://h\", "
                 "\"enabled\": true}}, \"leader_url\": \"https://l\", \"cluster_name\": \"prod\"}", NULL, "",
              "the same members in another order: nothing changed");
        check(t, "{\"cluster_name\": \"other\", \"node_id\": \"n4\", \"node_role\": \"worker\", \"bootstrap\": true, "
                 "\"raft_addr\": \"10.0.0.4:2380\", \"node_ip\": \"10.0.0.4\", \"node_fqdn\": \"n4.x\", \"datacenter\": "
                 "\"d\", \"rack\": \"r\", \"leader_url\": \"https://l\", \"state_dir\": \"/var/lib/s\", \"services\": "
                 "{\"chainfire\": {\"enabled\": false, \"health_url\": \"https://h\"}, \"iam\": {\"enabled\": true}}, "
                 "\"network\": {\"static\": {\"address\": \"10.0.0.4/24\"}}, \"provisioning\": {\"url\": \"https://p\"}}",
              NULL, "", "every member of the default list may change");
        check(t, "{\"cluster_name\": \"prod\", \"leader_url\": \"http://evil\", \"state_dir\": \"/tmp\", "
                 "\"services\": {\"chainfire\": {\"enabled\": true, \"health_url\": \"https://h\", \"etcd\": "
                 "{\"start_command\": [\"/bin/sh\"]}}}, \"network\": {\"cluster\": \"10.0.0.0/8\"}, "
                 "\"provisioning\": {\"url\": \"https://evil\"}, \"iam\": {\"allow_http\": true, \"roles\": [\"a\"]}}",
              NULL, ".leader_url .state_dir .services.chainfire.etcd.start_command .provisioning.url .iam.allow_http "
              ".iam.roles", "changed, added and nested members named one by one (an array is one value)");
        check(t, "{\"cluster_name\": \"prod\", \"leader_url\": \"https://l\", \"state_dir\": \"/var/lib/s\", "
                 "\"network\": {\"cluster\": \"10.0.0.0/8\"}, \"provisioning\": {\"url\": \"https://p\"}, "
                 "\"flash\": {}}", NULL, ".flash .services.chainfire.health_url",
              "an empty object added, members removed (enabled may go, health_url may not)");
        check(t, "{\"cluster_name\": \"prod\", \"leader_url\": \"https://l\", \"state_dir\": \"/var/lib/s\", "
                 "\"services\": {\"chainfire\": {\"enabled\": true, \"health_url\": \"https://other\"}, \"flaredb\": "
                 "{\"health_url\": \"https://f\", \"api_port\": 1}}, \"network\": {\"cluster\": \"10.0.0.0/8\"}, "
                 "\"provisioning\": {\"url\": \"https://p\"}}", health, ".services.flaredb.api_port",
              "allow \".services.*.health_url\": any service's health_url, nothing beside it");
        check(t, "{\"cluster_name\": \"prod\", \"leader_url\": \"https://l\", \"state_dir\": \"/var/lib/s\", "
                 "\"services\": {\"chainfire\": {\"enabled\": true, \"health_url\": \"https://h\"}, \"iam\": "
                 "{\"url\": \"https://i\"}}, \"network\": {\"cluster\": \"10.0.0.0/8\"}, \"provisioning\": "
                 "{\"url\": \"https://p\"}, \"iam\": {\"token_file\": \"/x\", \"roles\": [\"r\"]}}", iam, "",
              "allow a section: everything in it");
        check(t, "{\"cluster_name\": \"prod\", \"leader_url\": \"https://l\", \"state_dir\": \"/tmp\", "
                 "\"services\": {\"chainfire\": {\"enabled\": true, \"health_url\": \"https://h\"}}, "
                 "\"network\": {\"cluster\": \"10.0.0.0/8\"}, \"provisioning\": {\"url\": \"https://evil\"}}",
              everything, ".state_dir .provisioning.url", "state_dir and provisioning: never, even when listed");
        check("{\"services\": {\"chainfire\": {\"etcd\": {\"unit\": \"etcd.service\"}}}}",
              "{\"services\": {\"chainfire\": {\"etcd\": {\"unit\": \"etcd.service\"}, \"health_url\": 5}}, "
              "\"network\": {\"my net\": \"10.0.0.0/8\"}, \"tls\": {\"x\": {\"y\": {\"z\": 1}}}}", health,
              ".tls.x.y.z", "a whole new object is named down to its values; allowed members inside pass");
        check("{\"a\": {\"b\": 1}}", "{\"a\": 1}", NULL, ".a", "an object replaced by a value");
        check("{\"services\": {\"k3s\": {\"driver\": \"k3s\", \"after\": [\"iam\"]}}}",
              "{\"services\": {\"k3s\": {\"driver\": \"consul\", \"after\": [], \"server\": \"https://s\"}, "
              "\"new\": {\"driver\": \"admin\"}, \"chainfire\": {\"after\": [\"k3s\"], \"health_url\": \"https://h\"}}}",
              services, ".services.k3s.driver .services.k3s.after .services.new .services.chainfire.after",
              "the plan (a service added, a driver, an after): never, even when .services is listed");
        check("{\"services\": {\"k3s\": {\"driver\": \"k3s\"}}}", "{\"services\": {\"chainfire\": {\"enabled\": true}}}",
              services, ".services.k3s", "a declared service removed: never; a seed service is always there");
        check("{\"services\": {\"k3s\": {\"driver\": \"k3s\"}}}", "{}", NULL, ".services.k3s",
              "the whole map removed: the declared service it held named");

        /* The plan alone, asked before the merged result is parsed. */
        plan("{\"services\": {\"k3s\": {\"driver\": \"k3s\"}}}",
             "{\"services\": {\"k3s\": {\"driver\": \"consul\"}}}", 1, "plan: a driver changed");
        plan("{\"services\": {\"k3s\": {\"after\": [\"iam\"]}}}", "{\"services\": {\"k3s\": {\"after\": []}}}", 1,
             "plan: an after changed");
        plan("{}", "{\"services\": {\"new\": {\"enabled\": true}}}", 1, "plan: a service added, enabled alone");
        plan("{\"services\": {\"k3s\": {\"driver\": \"k3s\"}}}", "{}", 1, "plan: the whole map removed");
        plan(t, "{\"leader_url\": \"http://evil\", \"services\": {\"chainfire\": {\"enabled\": false, "
                "\"health_url\": \"https://other\", \"etcd\": {\"start_command\": [\"/bin/sh\"]}}}}", 0,
             "plan: a URL, enabled, a service's settings are not the plan (answer_policy_check() judges them)");
        plan("{}", "{\"services\": {\"chainfire\": {\"enabled\": false}}}", 0, "plan: a seed service is always there");

        valid(".leader_url", true);
        valid(".services.*.etcd.start_command", true);
        valid(".network", true);
        valid("leader_url", false);
        valid(".", false);
        valid(".*", false);
        valid(".services.", false);
        valid(".a..b", false);
        valid(".provisioning", false);
        valid(".state_dir", false);
        valid(".provisioning_x", true);
        valid(".a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p", true);
        valid(".a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q", false);
        valid(".tls.ca cert", false);
        valid(".services.*.driver", false);
        valid(".services.k3s.after", false);
        valid(".services.*.drivers", true);
        valid(".services.*.k3s.after", true);
        return tap_done();
}
