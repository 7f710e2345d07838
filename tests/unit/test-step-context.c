/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cleanup.h"
#include "log.h"
#include "step-fixture.h"
#include "tap.h"

/* What a step works with (step-context.c): the records it keeps on the running step, saved as
 * they change so that "status" sees them live, and the configuration handed over mid-walk.
 * Nothing is sent: the report URLs are on 127.79.8.0/24, where nothing listens. */

#define CONFIG                                                                                  \
        "{\"node_id\": \"%s\", \"bootstrap\": true, \"initial_peers\": [\"127.79.8.4:2380\"], "      \
        "\"raft_addr\": \"127.79.8.4:2380\", \"tls\": {\"enabled\": false}%s}"

static const StepState *on_disk(const char *dir, const char *name, State **keep) {
        *keep = state_free(*keep);
        if (state_load(dir, keep) < 0)
                return NULL;
        for (size_t i = 0; i < (*keep)->n_steps; i++)
                if (streq((*keep)->steps[i]->name, name))
                        return (*keep)->steps[i];
        return NULL;
}

static void test_records(void) {
        _cleanup_(state_freep) State *disk = NULL;
        const StepState *st;
        StepFixture f;

        (void) step_fixture_init(&f, "chainfire-join", NULL, CONFIG, "node04", "");
        ok(f.ctx->http != NULL, "an HTTP client");
        ok(reporter_url(f.ctx->reporter) == NULL && reporter_url(f.ctx->progress) == NULL,
           "no report.url: reporters that send nothing");

        step_count_attempt(f.ctx);
        step_count_attempt(f.ctx);
        is_int(f.ctx->current->attempts, 2, "attempts counted");
        st = on_disk(f.dir, "chainfire-join", &disk);
        ok(st && st->attempts == 2, "and saved at once");

        step_set_error(f.ctx, "%s answered %d", "http://127.79.8.1:2379", 503);
        is_str(fixture_error(&f), "http://127.79.8.1:2379 answered 503", "an error, formatted");
        st = on_disk(f.dir, "chainfire-join", &disk);
        is_str(st ? st->last_error : NULL, "http://127.79.8.1:2379 answered 503", "saved");

        step_set_detail(f.ctx, "joined via %s", "http://127.79.8.2:2379");
        is_str(fixture_detail(&f), "joined via http://127.79.8.2:2379", "a detail");
        st = on_disk(f.dir, "chainfire-join", &disk);
        is_str(st ? st->detail : NULL, "joined via http://127.79.8.2:2379", "saved");

        f.ctx->current = NULL;
        step_count_attempt(f.ctx);
        step_set_error(f.ctx, "lost");
        step_set_detail(f.ctx, "lost");
        st = on_disk(f.dir, "chainfire-join", &disk);
        ok(st && st->attempts == 2 && streq(st->last_error, "http://127.79.8.1:2379 answered 503") &&
           streq(st->detail, "joined via http://127.79.8.2:2379"), "without a running step: nothing changes");
        step_count_attempt(NULL);     /* a NULL context is ignored (no crash) */
        step_set_error(NULL, "x");

        ok(step_context_jitter_seed(f.ctx) != 0 && step_context_jitter_seed(NULL) != 0, "a jitter seed is never 0");
        step_fixture_done(&f);
}

static void test_adopt(void) {
        _cleanup_(http_client_freep) HttpClient *c = NULL;
        HttpClient *before;
        Config *other;
        StepFixture f;

        (void) step_fixture_init(&f, "identity", NULL, CONFIG, "node04", "");
        other = fixture_config_parse("{\"node_id\": \"node05\", \"bootstrap\": true, \"initial_peers\": [\"127.79.8.5:2380\"], "
                                     "\"raft_addr\": \"127.79.8.5:2380\", \"tls\": {\"enabled\": false}, "
                                     "\"report\": {\"url\": \"http://127.79.8.1:9/report\"}}");
        ok(other != NULL, "another configuration");
        before = f.ctx->http;
        is_int(step_context_adopt_config(f.ctx, other), 0, "adopted");
        ok(f.ctx->config == other && f.ctx->owned_config == other, "the context owns it and works with it");
        is_str(f.ctx->config->node_id, "node05", "the new node id");
        is_str(reporter_url(f.ctx->reporter), "http://127.79.8.1:9/report", "the reporter set up from it");
        is_str(reporter_url(f.ctx->progress), "http://127.79.8.1:9/report", "the progress reporter too");
        ok(f.ctx->http != NULL && f.ctx->http != before, "a new HTTP client");
        is_int(step_context_new_client(f.ctx, &c), 0, "another client like it");
        ok(c != NULL && c != f.ctx->http, "a client of its own");
        step_fixture_done(&f);      /* frees the adopted configuration: ASan tells */
}

int main(void) {
        log_setup(getenv("TEST_STEP_LOG") ? LOG_TARGET_JSON : LOG_TARGET_NULL);

        test_records();
        test_adopt();
        return tap_done();
}
