/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"
#include "log.h"
#include "metrics.h"
#include "step-fixture.h"
#include "step-metrics.h"
#include "tap.h"

/* The node_exporter textfile of a walk (step-metrics.c): written from the state with each step
 * labelled by the service its row of the plan names, and not at all when it should not be. */

#define CONFIG                                                                                  \
        "{\"node_id\": \"node04\", \"bootstrap\": true, \"cluster_name\": \"prod\", "               \
        "\"initial_peers\": [\"127.79.11.4:2380\"], \"raft_addr\": \"127.79.11.4:2380\", "          \
        "\"tls\": {\"enabled\": false}, \"metrics\": {\"enabled\": %s, \"textfile_dir\": \"%s\"}, "   \
        "\"services\": {\"chainfire\": {\"driver\": \"admin\"}, \"ledger\": {\"driver\": \"admin\", " \
        "\"api_port\": 3000, \"raft_port\": 3001}, \"iam\": {\"enabled\": false}}}"

static char *read_metrics(const char *dir) {
        _cleanup_free_ char *p = path_join(dir, METRICS_FILE_NAME);
        char *data = NULL;
        size_t size;

        if (!p || read_full_file(p, 1024 * 1024, &data, &size) < 0)
                return NULL;
        return data;
}

static void test_written(void) {
        char dir[] = "/tmp/test-step-metrics.XXXXXX";
        _cleanup_free_ char *text = NULL, *p = NULL;
        StepFixture f;

        if (!mkdtemp(dir)) {
                ok(false, "a temporary directory");
                return;
        }
        (void) step_fixture_init(&f, NULL, NULL, CONFIG, "true", dir);
        state_step(f.state, "identity")->attempts = 1;
        state_step(f.state, "ledger-join")->attempts = 3;
        state_step(f.state, "ledger-join")->status = STEP_STATUS_FAILED;

        step_metrics_write_config(f.config, f.dir, f.state, false);
        text = read_metrics(dir);
        ok(text != NULL, "the textfile is written to metrics.textfile_dir");
        ok(text && strstr(text, "first_boot_agent_step_attempts_total{step=\"ledger-join\",service=\"ledger\"} 3"),
           "a service's step carries the service the plan names");
        ok(text && strstr(text, "first_boot_agent_step_attempts_total{step=\"identity\",service=\"\"} 1"),
           "the node's own step an empty service");
        ok(text && strstr(text, "first_boot_agent_step_state{step=\"ledger-join\",service=\"ledger\",state=\"failed\"} 1"),
           "the step's state");
        ok(text && strstr(text, "node_id=\"node04\"") && strstr(text, "cluster=\"prod\""), "the node and its cluster");
        ok(text && strstr(text, "first_boot_agent_reports_pending 0"), "no report waits in the state directory");

        /* A table of its own: the labels come from it. */
        {
                const Step table[] = { { .name = "ledger-join", .service = "books" } };
                _cleanup_free_ char *t2 = NULL;

                step_metrics_write(f.config, NULL, f.state, table, ELEMENTSOF(table), true);
                t2 = read_metrics(dir);
                ok(t2 && strstr(t2, "{step=\"ledger-join\",service=\"books\"} 3"), "the labels of the table given");
                ok(t2 && !strstr(t2, "first_boot_agent_reports_pending"), "no state directory: no pending count");
        }
        step_fixture_done(&f);

        p = path_join(dir, METRICS_FILE_NAME);
        (void) unlink(p);
        (void) step_fixture_init(&f, NULL, NULL, CONFIG, "false", dir);
        state_step(f.state, "identity")->attempts = 1;
        step_metrics_write_config(f.config, f.dir, f.state, false);
        ok(access(p, F_OK) < 0, "metrics.enabled false: nothing written");
        step_fixture_done(&f);
        (void) rmdir(dir);

        (void) step_fixture_init(&f, NULL, NULL, CONFIG, "true", "/tmp/test-step-metrics-missing/dir");
        step_metrics_write_config(f.config, f.dir, f.state, false);
        ok(access("/tmp/test-step-metrics-missing", F_OK) < 0, "a missing directory is not created");
        step_fixture_done(&f);
}

/* Declared services of other kinds: the steps in the file are those of the plan, in its order,
 * each with the service its row names (the service's name, not its kind); k3s and Consul have a
 * join step and no health step of their own. */
#define KINDS_CONFIG                                                                            \
        "{\"node_id\": \"node07\", \"node_role\": \"worker\", \"bootstrap\": false, "              \
        "\"metrics\": {\"textfile_dir\": \"%s\"}, "                                              \
        "\"services\": {\"k3s\": {\"driver\": \"k3s\", \"server\": \"https://10.0.1.10:6443\"}, " \
        "\"discovery\": {\"driver\": \"consul\", \"retry_join\": [\"10.0.1.20\"]}, "             \
        "\"books\": {\"driver\": \"admin\", \"api_port\": 3000, \"raft_port\": 3001}}}"

static void test_kinds(void) {
        char dir[] = "/tmp/test-step-metrics.XXXXXX";
        _cleanup_(step_plan_freep) StepPlan *plan = NULL;
        _cleanup_free_ char *text = NULL, *p = NULL;
        size_t series = 0, in_order = 0, labelled = 0;
        const char *at;
        StepFixture f;

        if (!mkdtemp(dir)) {
                ok(false, "a temporary directory");
                return;
        }
        (void) step_fixture_init(&f, NULL, NULL, KINDS_CONFIG, dir);
        if (step_plan_new(f.config, &plan) < 0) {
                ok(false, "the plan of k3s, Consul and a fourth admin service");
                step_fixture_done(&f);
                return;
        }
        /* As the walk does: a record for every step of the plan, pending until reached. */
        for (size_t i = 0; i < plan->n; i++)
                (void) state_step(f.state, plan->steps[i].name);
        state_step(f.state, "k3s-join")->status = STEP_STATUS_DONE;
        state_step(f.state, "k3s-join")->attempts = 4;
        state_step(f.state, "discovery-join")->status = STEP_STATUS_FAILED;
        state_step(f.state, "discovery-join")->attempts = 2;

        step_metrics_write_config(f.config, f.dir, f.state, true);
        text = read_metrics(dir);
        ok(text != NULL, "kinds: the textfile is written");

        /* The one-hot "pending" series, one per step, in the order of the plan, each labelled
         * with its row's service. */
        at = text;
        for (size_t i = 0; text && i < plan->n; i++) {
                _cleanup_free_ char *want = NULL;
                const char *hit;

                if (asprintf(&want, "first_boot_agent_step_state{step=\"%s\",service=\"%s\",state=\"pending\"} ",
                             plan->steps[i].name, strempty(plan->steps[i].service)) < 0)
                        break;
                hit = strstr(at, want);
                if (hit) {
                        in_order++;
                        at = hit;
                }
                if (strstr(text, want))
                        labelled++;
        }
        series = count_of(text, "first_boot_agent_step_state{");
        is_int((long) labelled, (long) plan->n, "kinds: every step of the plan, with its row's service");
        is_int((long) in_order, (long) plan->n, "kinds: in the plan's order");
        is_int((long) series, (long) (5 * plan->n), "kinds: five state series per step, no other step");
        ok(text && strstr(text, "first_boot_agent_step_state{step=\"k3s-join\",service=\"k3s\",state=\"done\"} 1"),
           "kinds: k3s-join done, service k3s");
        ok(text && strstr(text, "first_boot_agent_step_attempts_total{step=\"k3s-join\",service=\"k3s\"} 4"),
           "kinds: k3s-join's attempts");
        ok(text && strstr(text, "first_boot_agent_step_state{step=\"discovery-join\",service=\"discovery\","
                                "state=\"failed\"} 1"),
           "kinds: a Consul service named discovery: its join failed, service discovery (its name, not its kind)");
        ok(text && strstr(text, "{step=\"books-health\",service=\"books\"}") &&
                   strstr(text, "{step=\"books-join\",service=\"books\"}"),
           "kinds: a fourth admin service: its health and join steps, service books");
        ok(text && !strstr(text, "step=\"k3s-health\"") && !strstr(text, "step=\"discovery-health\"") &&
                   !strstr(text, "service=\"consul\""),
           "kinds: no health step for k3s or Consul, no label from a kind's name");
        step_fixture_done(&f);
        p = path_join(dir, METRICS_FILE_NAME);
        (void) unlink(p);
        (void) rmdir(dir);
}

int main(void) {
        log_setup(getenv("TEST_STEP_LOG") ? LOG_TARGET_JSON : LOG_TARGET_NULL);

        test_written();
        test_kinds();
        return tap_done();
}
