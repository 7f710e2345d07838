/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "config-load.h"
#include "exit-code.h"
#include "fileio.h"
#include "marker.h"
#include "status-view.h"
#include "tap.h"

/* What "status" shows (verbs/status-view.c), from a state directory the test fills: the state
 * file's records and the markers put together into one label per step, and the exit code. */

static char dir[] = "/tmp/test-status-view.XXXXXX";

static const StepView *view(const StatusView *v, const char *name) {
        for (size_t i = 0; i < v->n_steps; i++)
                if (streq(v->steps[i].step->name, name))
                        return &v->steps[i];
        return NULL;
}

static const char *label(const StatusView *v, const char *name) {
        const StepView *s = view(v, name);

        return s ? s->label : "(no such step)";
}

static void put_marker(const char *name) {
        _cleanup_free_ char *p = path_join(dir, name);

        if (!p || write_file_atomic(p, "2025-12-10T10:30:45+00:00\n", 26, 0644) < 0)
                printf("# cannot write the marker %s\n", name);
}

static void clean(void) {
        static const char *const names[] = { ".chainfire-joined", MARKER_DONE, STATE_FILE_NAME };

        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                (void) marker_remove(dir, names[i]);
}

static void test_pending_and_markers(const GlobalOptions *g) {
        StatusView v = {};

        clean();
        is_int(status_view_build(g, NULL, &v), 0, "an empty state directory");
        is_int(v.n_steps, 9, "the seed's nine steps");
        is_str(label(&v, "chainfire-join"), "pending", "nothing done");
        is_int(v.exit_code, EXIT_PENDING, "steps remain: exit 7");
        ok(!v.done && !v.running && !v.untrusted, "not done, not running, trusted");

        put_marker(".chainfire-joined");
        is_int(status_view_build(g, NULL, &v), 0, "a marker written by hand");
        is_str(label(&v, "chainfire-join"), "done (marker)", "done on the marker's word");
        is_int(view(&v, "chainfire-join")->status, STEP_STATUS_DONE, "its status done");
        is_int(view(&v, "chainfire-join")->when, 1765362645 * USEC_PER_SEC, "at the marker's time");
        is_str(view(&v, "chainfire-join")->marker, ".chainfire-joined", "naming the marker");

        (void) chmod(dir, 0777);
        is_int(status_view_build(g, NULL, &v), 0, "a directory others may write to");
        ok(v.untrusted, "is untrusted");
        is_str(label(&v, "chainfire-join"), "pending", "its markers are not believed");
        (void) chmod(dir, 0700);
        status_view_done(&v);
}

static void test_records(const GlobalOptions *g) {
        _cleanup_(state_freep) State *s = NULL;
        StatusView v = {};

        clean();
        if (state_new(dir, &s) < 0) {
                ok(false, "a state");
                return;
        }
        state_step(s, "flaredb-health")->status = STEP_STATUS_DONE;
        state_step(s, "flaredb-health")->finished = 1765362000 * USEC_PER_SEC;
        state_step(s, "config")->status = STEP_STATUS_RUNNING;
        state_step(s, "config")->started = 1765362100 * USEC_PER_SEC;
        state_step(s, "chainfire-health")->status = STEP_STATUS_FAILED;
        state_step(s, "chainfire-health")->started = 1765362200 * USEC_PER_SEC;
        state_step(s, "chainfire-join")->status = STEP_STATUS_DONE;
        s->result = RUN_RESULT_FAILED;
        s->exit_code = EXIT_STEP_REFUSED;
        if (state_save(s) < 0) {
                ok(false, "the state saved");
                return;
        }

        is_int(status_view_build(g, NULL, &v), 0, "a state file");
        is_str(label(&v, "flaredb-health"), "done", "a step without a marker, done by its record");
        is_int(view(&v, "flaredb-health")->when, 1765362000 * USEC_PER_SEC, "when it finished");
        is_str(label(&v, "config"), "interrupted", "a running record while no run is in progress");
        is_int(view(&v, "config")->status, STEP_STATUS_FAILED, "counts as failed");
        is_str(label(&v, "chainfire-health"), "failed", "a failed one");
        is_int(view(&v, "chainfire-health")->when, 1765362200 * USEC_PER_SEC, "without a finish time: its start");
        is_str(label(&v, "chainfire-join"), "pending", "a marked step whose marker is gone (reset) is pending");
        is_int(v.exit_code, EXIT_STEP_REFUSED, "the run was refused: exit 5");

        s->exit_code = EXIT_STEP_FAILED;
        (void) state_save(s);
        is_int(status_view_build(g, NULL, &v), 0, "again");
        is_int(v.exit_code, EXIT_STEP_FAILED, "a failed run: exit 4");

        s->result = RUN_RESULT_RUNNING;
        s->pid = getpid();
        (void) state_save(s);
        is_int(status_view_build(g, NULL, &v), 0, "a run in progress (this process)");
        ok(v.running, "is seen");
        is_str(label(&v, "config"), "running", "its running step is running");
        is_int(v.exit_code, EXIT_PENDING, "exit 7");

        s->result = RUN_RESULT_DONE;
        (void) state_save(s);
        put_marker(MARKER_DONE);
        is_int(status_view_build(g, NULL, &v), 0, "the done marker");
        ok(v.done, "done");
        is_int(v.exit_code, EXIT_OK, "exit 0");
        is_str(label(&v, "iam-health"), "done (marker)", "an unmarked step without a record: done by the done marker");
        status_view_done(&v);
}

static void test_config(const GlobalOptions *g) {
        _cleanup_(config_freep) Config *c = NULL;
        const char *text = "{\"node_id\": \"node04\", \"bootstrap\": true, \"initial_peers\": [\"127.79.15.4:2380\"], "
                           "\"raft_addr\": \"127.79.15.4:2380\", \"services\": {\"iam\": {\"enabled\": false}}}";
        ProblemList l = {};
        StatusView v = {};

        clean();
        put_marker(".chainfire-joined");
        ok(config_parse(text, strlen(text), "test.json", &c, &l) >= 0, "a bootstrap node without IAM");
        problem_list_done(&l);
        if (!c)
                return;
        is_int(status_view_build(g, c, &v), 0, "its view");
        ok(strstr(label(&v, "iam-setup"), "does not apply (") && strstr(label(&v, "iam-setup"), "iam"),
           "a disabled service's step does not apply: %s", label(&v, "iam-setup"));
        is_int(view(&v, "iam-setup")->status, STEP_STATUS_DISABLED, "its status");
        is_str(label(&v, "chainfire-join"), "pending", "a bootstrap node's marker is not a joining node's");
        put_marker(".chainfire-initialized");
        is_int(status_view_build(g, c, &v), 0, "with its own marker");
        is_str(label(&v, "chainfire-join"), "done (marker)", "done");
        (void) marker_remove(dir, ".chainfire-initialized");
        status_view_done(&v);
}

int main(void) {
        GlobalOptions g = {};

        if (!mkdtemp(dir))
                return 1;
        g.state_dir = dir;

        test_pending_and_markers(&g);
        test_records(&g);
        test_config(&g);

        clean();
        (void) rmdir(dir);
        return tap_done();
}
