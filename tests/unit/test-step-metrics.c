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

int main(void) {
        log_setup(getenv("TEST_STEP_LOG") ? LOG_TARGET_JSON : LOG_TARGET_NULL);

        test_written();
        return tap_done();
}
