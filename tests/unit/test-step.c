/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "config-provisioning.h"
#include "exit-code.h"
#include "fileio.h"
#include "log.h"
#include "marker.h"
#include "step.h"
#include "tap.h"
#include "walk.h"

/* Fake steps: each counts its runs and does what the test set for it. */
typedef struct Fake {
        unsigned runs;
        int result;             /* what run() returns */
        unsigned attempts;      /* step_count_attempt() calls */
        const char *error;      /* step_set_error() text, or NULL */
} Fake;

static Fake fa, fb, fc, fd;
static bool c_enabled = true;
static char *tmp_dir;

static int fake_run(StepContext *ctx, Fake *f) {
        f->runs++;
        for (unsigned i = 0; i < f->attempts; i++)
                step_count_attempt(ctx);
        if (f->error)
                step_set_error(ctx, "%s", f->error);
        return f->result;
}

static int run_a(StepContext *ctx) {
        return fake_run(ctx, &fa);
}

static int run_b(StepContext *ctx) {
        /* The state on disk is live while the step runs. */
        _cleanup_(state_freep) State *s = NULL;
        int r = fake_run(ctx, &fb);

        if (state_load(tmp_dir, &s) >= 0)
                for (size_t i = 0; i < s->n_steps; i++)
                        if (streq(s->steps[i]->name, "b") && s->steps[i]->status != STEP_STATUS_RUNNING)
                                return -EUCLEAN;
        return r;
}

static int run_c(StepContext *ctx) {
        return fake_run(ctx, &fc);
}

static int run_d(StepContext *ctx) {
        return fake_run(ctx, &fd);
}

static const char *c_skip(const Step *s, const Config *c) {
        return c_enabled ? NULL : "services.c.enabled is false";
}

static const char *const marker_b[] = { ".b-done", NULL };
static const char *const marker_c[] = { ".c-done", NULL };
static const char *const marker_d[] = { ".d-initialized", ".d-joined", NULL };

static const Step fake_table[] = {
        { .name = "a", .run = run_a },
        { .name = "b", .after = (const char *const[]) { "a", NULL }, .markers = marker_b, .run = run_b },
        { .name = "c", .after = (const char *const[]) { "b", NULL }, .skip = c_skip,
          .markers = marker_c, .run = run_c },
        { .name = "d", .after = (const char *const[]) { "c", NULL }, .markers = marker_d, .run = run_d },
};

static void reset_fakes(void) {
        fa = fb = fc = fd = (Fake) {};
        c_enabled = true;
}

static bool exists(const char *name) {
        return marker_exists(tmp_dir, name) > 0;
}

static void clean_dir(void) {
        static const char *const names[] = { ".b-done", ".c-done", ".d-joined", ".d-initialized", MARKER_DONE,
                                             STATE_FILE_NAME };

        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                (void) marker_remove(tmp_dir, names[i]);
}

typedef struct Fixture {
        Config config;
        State *state;
        StepContext ctx;
} Fixture;

static void fixture_init(Fixture *f) {
        *f = (Fixture) {};
        f->config.node_id = (char *) "node04";
        if (state_new(tmp_dir, &f->state) < 0)
                abort();
        f->ctx = (StepContext) { .config = &f->config, .state_dir = tmp_dir, .state = f->state };
}

static void fixture_done(Fixture *f) {
        f->state = state_free(f->state);
}

static const StepState *record(const State *s, const char *name) {
        for (size_t i = 0; i < s->n_steps; i++)
                if (streq(s->steps[i]->name, name))
                        return s->steps[i];
        return NULL;
}

static void test_all_done(void) {
        Fixture f;

        clean_dir();
        reset_fakes();
        c_enabled = false;
        fb.attempts = 3;
        fixture_init(&f);

        is_int(step_walk_table(&f.ctx, fake_table, ELEMENTSOF(fake_table)), EXIT_OK, "walk succeeds");
        is_int(fa.runs, 1, "a ran");
        is_int(fb.runs, 1, "b ran");
        is_int(fc.runs, 0, "disabled c did not run");
        is_int(fd.runs, 1, "d ran after disabled c");
        ok(exists(".b-done"), "b's marker written");
        ok(!exists(".c-done"), "no marker for a disabled step");
        ok(exists(".d-joined"), "d's marker chosen by the config");
        ok(exists(MARKER_DONE), "done marker written");
        is_int(record(f.state, "a")->status, STEP_STATUS_DONE, "a done");
        is_int(record(f.state, "a")->attempts, 1, "a step that counts nothing made one attempt");
        is_int(record(f.state, "b")->attempts, 3, "b's attempts recorded");
        is_int(record(f.state, "c")->status, STEP_STATUS_DISABLED, "c disabled");
        ok(record(f.state, "b")->started > 0 && record(f.state, "b")->finished >= record(f.state, "b")->started,
           "times recorded");
        is_int(f.state->result, RUN_RESULT_DONE, "run result done");
        fixture_done(&f);

        /* The state on disk says the same. */
        _cleanup_(state_freep) State *s = NULL;
        is_int(state_load(tmp_dir, &s), 0, "state saved");
        is_int(record(s, "d")->status, STEP_STATUS_DONE, "d done on disk");

        /* Again: every marker is there, nothing runs, not even the unmarked step. */
        fixture_init(&f);
        is_int(step_walk_table(&f.ctx, fake_table, ELEMENTSOF(fake_table)), EXIT_OK, "second walk succeeds");
        is_int(fa.runs + fb.runs + fd.runs, 3, "nothing ran again");
        is_int(record(f.state, "b")->status, STEP_STATUS_SKIPPED, "b skipped (marker) in a fresh record");
        ok(record(f.state, "b")->finished > 0, "skipped step carries the marker's time");
        fixture_done(&f);
}

static void test_failure_and_resume(void) {
        Fixture f;

        clean_dir();
        reset_fakes();
        fc.result = -EIO;
        fc.attempts = 2;
        fc.error = "leader said 500";
        fixture_init(&f);

        is_int(step_walk_table(&f.ctx, fake_table, ELEMENTSOF(fake_table)), EXIT_STEP_FAILED, "failure: exit 4");
        is_int(fd.runs, 0, "the walk stopped at c");
        ok(exists(".b-done"), "b's marker kept");
        ok(!exists(".c-done"), "no marker for the failed step");
        ok(!exists(MARKER_DONE), "no done marker");
        is_int(record(f.state, "c")->status, STEP_STATUS_FAILED, "c failed");
        is_str(record(f.state, "c")->last_error, "leader said 500", "c's error recorded");
        is_int(record(f.state, "c")->attempts, 2, "c's attempts recorded");
        is_int(f.state->result, RUN_RESULT_FAILED, "run failed");
        is_int(f.state->exit_code, EXIT_STEP_FAILED, "exit code recorded");
        ok(record(f.state, "d") == NULL || record(f.state, "d")->status == STEP_STATUS_PENDING, "d untouched");
        fixture_done(&f);

        /* The next start resumes at c: a (no marker) runs again, b does not. */
        fc = (Fake) {};
        fixture_init(&f);
        is_int(step_walk_table(&f.ctx, fake_table, ELEMENTSOF(fake_table)), EXIT_OK, "resume succeeds");
        is_int(fa.runs, 2, "a runs on every walk with work left");
        is_int(fb.runs, 1, "b not run again");
        is_int(fc.runs, 1, "c ran");
        is_int(fd.runs, 1, "d ran");
        ok(exists(MARKER_DONE), "done marker now");
        ok(record(f.state, "c")->last_error == NULL, "a fresh run of c starts without an error");
        fixture_done(&f);
}

static void test_refused(void) {
        Fixture f;

        clean_dir();
        reset_fakes();
        fb.result = -EBADE;
        fixture_init(&f);
        is_int(step_walk_table(&f.ctx, fake_table, ELEMENTSOF(fake_table)), EXIT_STEP_REFUSED, "-EBADE: exit 5");
        is_int(f.state->exit_code, EXIT_STEP_REFUSED, "exit 5 recorded");
        ok(record(f.state, "b")->last_error && strlen(record(f.state, "b")->last_error) > 0,
           "an error text even when the step set none: %s", record(f.state, "b")->last_error);
        is_int(fc.runs + fd.runs, 0, "nothing after b");
        fixture_done(&f);
}

static void test_marker_by_hand(void) {
        Fixture f;
        _cleanup_free_ char *p = path_join(tmp_dir, ".b-done");

        clean_dir();
        reset_fakes();
        (void) write_file_atomic(p, "2025-12-10T10:30:45+00:00\n", 26, 0644);
        fixture_init(&f);
        f.config.bootstrap = true;
        is_int(step_walk_table(&f.ctx, fake_table, ELEMENTSOF(fake_table)), EXIT_OK, "walk");
        is_int(fb.runs, 0, "a marker made by hand skips the step");
        is_int(record(f.state, "b")->status, STEP_STATUS_SKIPPED, "recorded as skipped");
        is_int(record(f.state, "b")->finished, 1765362645 * USEC_PER_SEC, "with the marker's time");
        ok(exists(".d-initialized"), "bootstrap marker name");
        fixture_done(&f);
}

static void test_bad_order(void) {
        const Step bad[] = {
                { .name = "a", .after = (const char *const[]) { "b", NULL }, .run = run_a },
                { .name = "b", .run = run_b },
        };
        const Step after_failed_marker[] = {
                { .name = "b", .markers = marker_b, .run = run_b },
                { .name = "c", .after = (const char *const[]) { "nope", NULL }, .markers = marker_c, .run = run_c },
        };
        Fixture f;

        clean_dir();
        reset_fakes();
        fixture_init(&f);
        is_int(step_walk_table(&f.ctx, bad, ELEMENTSOF(bad)), EXIT_INTERNAL, "a step before its dependency is refused");
        is_int(fa.runs, 0, "and not run");
        is_int(step_walk_table(&f.ctx, after_failed_marker, ELEMENTSOF(after_failed_marker)), EXIT_INTERNAL,
               "an unknown dependency is refused");
        is_int(fc.runs, 0, "and not run");
        ok(!exists(MARKER_DONE), "no done marker");
        fixture_done(&f);
}

static void test_stale_records(void) {
        Fixture f;

        clean_dir();
        reset_fakes();
        fixture_init(&f);
        ok(state_step(f.state, "health-wait") != NULL, "a record of a step an earlier version had");
        (void) state_step_set_error(state_step(f.state, "health-wait"), "old");
        is_int(step_walk_table(&f.ctx, fake_table, ELEMENTSOF(fake_table)), EXIT_OK, "walk");
        ok(record(f.state, "health-wait") == NULL, "is dropped by the walk");
        ok(record(f.state, "a") && record(f.state, "d"), "the table's records are there");
        is_str(f.state->steps[0]->name, "a", "in table order");
        fixture_done(&f);
}

/* A step that serves another runs only when that one has work to do. */
static void test_serves(void) {
        const Step served[] = {
                { .name = "a", .serves = "b", .run = run_a },
                { .name = "b", .after = (const char *const[]) { "a", NULL }, .markers = marker_b, .run = run_b },
                { .name = "c", .markers = marker_c, .run = run_c },
        };
        Fixture f;

        clean_dir();
        reset_fakes();
        fixture_init(&f);
        is_int(step_walk_table(&f.ctx, served, ELEMENTSOF(served)), EXIT_OK, "first walk");
        is_int(fa.runs, 1, "the serving step ran before the step it serves");
        (void) marker_remove(tmp_dir, ".c-done");
        (void) marker_remove(tmp_dir, MARKER_DONE);
        is_int(step_walk_table(&f.ctx, served, ELEMENTSOF(served)), EXIT_OK, "second walk: only c has work");
        is_int(fa.runs, 1, "the serving step does not run again: b is done");
        is_int(fc.runs, 2, "c ran again");
        fixture_done(&f);
}

static void test_unmarked_only(void) {
        static const Step only[] = {
                { .name = "a", .run = run_a },
        };
        Fixture f;

        clean_dir();
        reset_fakes();
        fixture_init(&f);
        is_int(step_walk_table(&f.ctx, only, ELEMENTSOF(only)), EXIT_OK, "a table without markers");
        is_int(fa.runs, 1, "runs its steps");
        ok(exists(MARKER_DONE), "and is done");
        fixture_done(&f);
}

static void test_config_step(void) {
        _cleanup_(step_plan_freep) StepPlan *plan = NULL;
        Step one[1];
        _cleanup_free_ char *key = path_join(tmp_dir, "node.key"), *ca = path_join(tmp_dir, "ca.crt");
        Fixture f;

        ok(step_plan_new(NULL, &plan) >= 0 && step_plan_find(plan, "config"), "the config step");
        one[0] = *step_plan_find(plan, "config");
        clean_dir();
        (void) write_file_atomic(key, "k", 1, 0644);
        (void) write_file_atomic(ca, "c", 1, 0644);
        fixture_init(&f);
        f.config.tls.enabled = true;
        f.config.tls.ca_cert_path = ca;
        f.config.tls.node_key_path = key;
        is_int(step_walk_table(&f.ctx, one, 1), EXIT_STEP_FAILED, "a key open to others fails the config step");
        ok(record(f.state, "config")->last_error != NULL, "with an error: %s", record(f.state, "config")->last_error);
        ok(!exists(MARKER_DONE), "not done");

        (void) chmod(key, 0600);
        is_int(step_walk_table(&f.ctx, one, 1), EXIT_OK, "a private key passes");

        (void) unlink(ca);
        is_int(step_walk_table(&f.ctx, one, 1), EXIT_STEP_FAILED, "a missing CA fails");
        f.config.tls.enabled = false;
        is_int(step_walk_table(&f.ctx, one, 1), EXIT_OK, "TLS files are not needed with TLS off");
        fixture_done(&f);
        (void) unlink(key);
}

int main(void) {
        char dir[] = "/tmp/test-step-XXXXXX";

        log_setup(getenv("TEST_STEP_LOG") ? LOG_TARGET_JSON : LOG_TARGET_NULL);
        ok(mkdtemp(dir) != NULL, "temporary directory");
        tmp_dir = dir;

        test_all_done();
        test_failure_and_resume();
        test_refused();
        test_marker_by_hand();
        test_bad_order();
        test_unmarked_only();
        test_stale_records();
        test_serves();
        test_config_step();

        clean_dir();
        (void) rmdir(dir);
        return tap_done();
}
