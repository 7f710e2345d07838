/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"
#include "state.h"
#include "tap.h"

static void write_state(const char *dir, const char *text) {
        _cleanup_free_ char *p = path_join(dir, STATE_FILE_NAME);

        (void) write_file_atomic(p, text, strlen(text), 0600);
}

static void test_strings(void) {
        is_str(step_status_to_string(STEP_STATUS_SKIPPED), "skipped", "status to string");
        is_int(step_status_from_string("failed"), STEP_STATUS_FAILED, "status from string");
        is_int(step_status_from_string("bogus"), -EINVAL, "unknown status");
        ok(step_status_to_string(_STEP_STATUS_MAX) == NULL, "status out of range");
        is_str(run_result_to_string(RUN_RESULT_RUNNING), "running", "result to string");
        is_int(run_result_from_string("done"), RUN_RESULT_DONE, "result from string");
        is_int(run_result_from_string(NULL), -EINVAL, "NULL result");
}

static void test_round_trip(const char *dir) {
        _cleanup_(state_freep) State *s = NULL, *t = NULL;
        _cleanup_free_ char *path = path_join(dir, STATE_FILE_NAME), *text = NULL;
        StepState *st;
        struct stat sb;

        is_int(state_load(dir, &s), 0, "missing file: empty state");
        is_int(s->n_steps, 0, "no steps");
        is_int(s->result, RUN_RESULT_NONE, "no run");
        is_str(s->path, path, "path is dir/state.json");

        s->node_id = strdup("node04");
        s->mode = strdup("firstboot");
        s->pid = 4242;
        s->run_started = 1765362645 * USEC_PER_SEC;
        s->run_finished = 1765362700 * USEC_PER_SEC;
        s->result = RUN_RESULT_FAILED;
        s->exit_code = 4;

        st = state_step(s, "config");
        ok(st != NULL, "step created");
        st->status = STEP_STATUS_DONE;
        st->started = 1765362645 * USEC_PER_SEC;
        st->finished = 1765362646 * USEC_PER_SEC;
        st->duration_ms = 12;
        st->attempts = 1;
        ok(state_step(s, "config") == st, "same record found again");

        st = state_step(s, "chainfire-join");
        st->status = STEP_STATUS_FAILED;
        st->attempts = 5;
        is_int(state_step_set_error(st, "leader https://10.0.1.10:2379: HTTP 500 \"boom\""), 0, "set error");
        is_int(state_step_set_detail(st, "tried 2 peers"), 0, "set detail");
        is_int(state_step_set_detail(st, NULL), 0, "clear detail");
        is_int(s->n_steps, 2, "two steps");

        s->flash = json_pack("{s:{s:{s:s, s:I}}}", "targets", "nvme", "status", "done", "bytes", (json_int_t) 1 << 40);

        is_int(state_save(s), 0, "save");
        ok(stat(path, &sb) == 0 && (sb.st_mode & 07777) == 0600, "file is 0600");
        ok(read_full_file(path, 1 << 20, &text, NULL) == 0, "read back");
        ok(strstr(text, "\"version\": 1") != NULL, "has version");
        ok(strstr(text, "\"started\": \"2025-12-10T10:30:45+00:00\"") != NULL, "ISO 8601 times");

        is_int(state_load(dir, &t), 0, "load");
        is_str(t->node_id, "node04", "node_id");
        is_str(t->mode, "firstboot", "mode");
        is_int(t->pid, 4242, "pid");
        is_int(t->run_started, 1765362645 * USEC_PER_SEC, "run started");
        is_int(t->run_finished, 1765362700 * USEC_PER_SEC, "run finished");
        is_int(t->result, RUN_RESULT_FAILED, "result");
        is_int(t->exit_code, 4, "exit code");
        is_int(t->n_steps, 2, "steps");
        is_str(t->steps[0]->name, "config", "order kept: first");
        is_str(t->steps[1]->name, "chainfire-join", "order kept: second");
        is_int(t->steps[0]->status, STEP_STATUS_DONE, "status");
        is_int(t->steps[0]->duration_ms, 12, "duration");
        is_int(t->steps[0]->finished, 1765362646 * USEC_PER_SEC, "finished");
        ok(t->steps[0]->last_error == NULL, "no error");
        is_int(t->steps[1]->attempts, 5, "attempts");
        is_str(t->steps[1]->last_error, "leader https://10.0.1.10:2379: HTTP 500 \"boom\"", "error kept");
        ok(t->steps[1]->detail == NULL, "cleared detail stays null");
        ok(json_equal(t->flash, s->flash), "flash record kept as is");
        ok(!state_run_in_progress(t), "a failed run is not in progress");
}

static void test_json(void) {
        _cleanup_(state_freep) State *s = NULL;
        json_t *j, *steps;

        ok(state_new("/nonexistent", &s) == 0, "new state");
        state_step(s, "health-wait")->status = STEP_STATUS_RUNNING;
        j = state_to_json(s);
        ok(j != NULL, "to JSON");
        is_int(json_integer_value(json_object_get(j, "version")), 1, "version");
        ok(json_is_null(json_object_get(j, "node_id")), "unset node_id is null");
        is_str(json_string_value(json_object_get(json_object_get(j, "run"), "result")), "none", "run result");
        steps = json_object_get(j, "steps");
        is_str(json_string_value(json_object_get(json_object_get(steps, "health-wait"), "status")), "running",
               "step status");
        ok(json_is_null(json_object_get(json_object_get(steps, "health-wait"), "started")), "unset time is null");
        ok(json_object_get(j, "flash") == NULL, "no flash member without a record");
        json_decref(j);
}

static void test_corrupt(const char *dir) {
        static const char *const bad[] = {
                "{ not json",
                "[]",
                "{\"version\": 2}",
                "{\"node_id\": \"n\"}",
                "{\"version\": 1, \"pid\": \"12\"}",
                "{\"version\": 1, \"run\": {\"result\": \"exploded\"}}",
                "{\"version\": 1, \"run\": {\"started\": \"yesterday\"}}",
                "{\"version\": 1, \"steps\": {\"config\": {\"status\": \"done\", \"attempts\": -1}}}",
                "{\"version\": 1, \"steps\": {\"config\": {}}}",
                "{\"version\": 1, \"steps\": {\"config\": {\"status\": \"done\"}, \"config\": {\"status\": \"done\"}}}",
        };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                State *s = NULL;

                write_state(dir, bad[i]);
                is_int(state_load(dir, &s), -EBADMSG, "corrupt: %s", bad[i]);
                ok(s == NULL, "nothing returned");
        }

        _cleanup_(state_freep) State *s = NULL;
        write_state(dir, "{\"version\": 1, \"future_member\": [1, 2], \"steps\": {\"config\": {\"status\": \"done\", "
                         "\"last_error\": null}}}");
        is_int(state_load(dir, &s), 0, "unknown members and nulls are accepted");
        is_int(s->n_steps, 1, "one step read");
}

static void test_in_progress(void) {
        _cleanup_(state_freep) State *s = NULL;
        pid_t child;

        ok(state_new("/nonexistent", &s) == 0, "new state");
        s->pid = getpid();
        s->result = RUN_RESULT_RUNNING;
        ok(state_run_in_progress(s), "running and alive");
        s->result = RUN_RESULT_DONE;
        ok(!state_run_in_progress(s), "alive but finished");

        child = fork();
        if (child == 0)
                _exit(0);
        (void) waitpid(child, NULL, 0);
        s->pid = child;
        s->result = RUN_RESULT_RUNNING;
        ok(!state_run_in_progress(s), "marked running but the process is gone");
        s->pid = 0;
        ok(!state_run_in_progress(s), "no pid");
}

static void test_full(void) {
        _cleanup_(state_freep) State *s = NULL;
        char name[16];
        size_t i;

        StepState *first;

        ok(state_new("/nonexistent", &s) == 0, "new state");
        first = state_step(s, "s0");
        for (i = 1; i < 100; i++) {
                snprintf(name, sizeof(name), "s%zu", i);
                if (!state_step(s, name))
                        break;
        }
        is_int(i, 100, "room for 100 steps (no fixed limit)");
        ok(state_step(s, "s0") == first, "a record's address stays as the list grows");
        is_str(state_step(s, "s99")->name, "s99", "the last one is found");
}

int main(void) {
        char dir[] = "/tmp/test-state-XXXXXX";
        _cleanup_free_ char *p = NULL;

        ok(mkdtemp(dir) != NULL, "temporary directory");
        test_strings();
        test_round_trip(dir);
        test_json();
        test_corrupt(dir);
        test_in_progress();
        test_full();

        p = path_join(dir, STATE_FILE_NAME);
        (void) unlink(p);
        (void) rmdir(dir);
        return tap_done();
}
