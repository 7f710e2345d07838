/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "config-load.h"
#include "config-provisioned.h"
#include "fileio.h"
#include "tap.h"

/* A server's answer merged over the image's template (RFC 7386), and every way it is refused. */

#define TEMPLATE                                                                                \
        "{\"cluster_name\": \"prod\", \"leader_url\": \"https://10.0.1.10:2379\", "             \
        "\"tls\": {\"enabled\": true, \"ca_cert_path\": \"/etc/ca.crt\"}, "                     \
        "\"services\": {\"chainfire\": {\"api_port\": 2379}, \"iam\": {\"enabled\": false}}, "  \
        "\"rack\": \"r1\", \"provisioning\": {\"url\": \"https://prov/v1/node\"}}"
#define IDENTITY "\"node_id\": \"node04\", \"bootstrap\": false"
#define NODE IDENTITY ", \"node_role\": \"worker\", \"raft_addr\": \"10.0.1.14:2380\""

static char cmdline[] = "/tmp/test-config-provisioned.XXXXXX";

static Config *template(void) {
        ProblemList l = {};
        Config *c = NULL;

        (void) config_parse(TEMPLATE, strlen(TEMPLATE), "/etc/cluster-config.json", &c, &l);
        problem_list_done(&l);
        return c;
}

static int build(const Config *t, const char *answer, Config **ret, char **ret_text, ProblemList *l) {
        return config_provisioned_build(t->provisioning, answer, strlen(answer), "the answer of X",
                                        "/var/lib/s/cluster-config.json", ret, ret_text, l);
}

static char *first_problem(const ProblemList *l) {
        return l->n > 0 ? problem_format(&l->items[0]) : strdup("(none)");
}

static void refused(const Config *t, const char *answer, const char *expected, const char *what) {
        _cleanup_(config_freep) Config *c = NULL;
        _cleanup_free_ char *text = NULL, *first = NULL;
        ProblemList l = {};

        is_int(build(t, answer, &c, &text, &l), -EINVAL, "%s: refused", what);
        ok(!c && !text, "%s: nothing built", what);
        first = first_problem(&l);
        is_str(first, expected, "%s: the problem", what);
        problem_list_done(&l);
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

        t = template();
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
                is_str(c->services[SERVICE_CHAINFIRE].health_url, "https://10.0.1.14:2379/health",
                       "objects merge member by member (health_url added)");
                is_int(c->services[SERVICE_CHAINFIRE].api_port, 2379, "(api_port kept)");
                ok(!c->services[SERVICE_FLAREDB].enabled, "a nested member from the answer");
                ok(!c->services[SERVICE_IAM].enabled, "a nested member from the template");
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
        refused(t, "{" NODE ", \"provisioning\": {\"url\": \"https://elsewhere\"}}",
                "the answer of X: .provisioning: expected no such member in an answer (where a node looks itself up and "
                "keeps its state are the image's to say), found an object; remove it from the node's configuration on "
                "the provisioning server", "provisioning in an answer");
        refused(t, "{" NODE ", \"state_dir\": \"/tmp\"}",
                "the answer of X: .state_dir: expected no such member in an answer (where a node looks itself up and "
                "keeps its state are the image's to say), found the string \"/tmp\"; remove it from the node's "
                "configuration on the provisioning server", "state_dir in an answer");
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

        unlink(cmdline);
        return tap_done();
}
