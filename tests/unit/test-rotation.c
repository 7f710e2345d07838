/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cleanup.h"
#include "log.h"
#include "rotation.h"
#include "step-fixture.h"
#include "tap.h"

/* Asking a cluster through its servers (rotation.c) with a scripted request function: which
 * server is asked in which order, what each kind of failure does to the rest of the round and
 * to later rounds, and what is recorded. Nothing is sent anywhere: the URLs are only names. */

#define L  "https://127.79.9.1:2379"
#define P1 "https://127.79.9.2:2379"
#define P2 "https://127.79.9.3:2379"

#define CONFIG                                                                                  \
        "{\"node_id\": \"node04\", \"bootstrap\": false, \"leader_url\": \"" L "\", \"raft_addr\": \"127.79.9.4:2380\", " \
        "\"timeouts\": {\"join_attempts\": 3, \"backoff_initial_ms\": 1, \"backoff_max_ms\": 2, "  \
        "\"join_start_delay_max_ms\": 0}}"

/* One scripted answer of one server; used once. */
typedef struct Answer {
        size_t server;          /* index in the rotation */
        int result;
        long status;            /* of the response rotation_record() sees; 0: a transport error */
        const char *body;
        unsigned retry_after_s;
        bool used;
} Answer;

typedef struct Script {
        Rotation *rot;
        Answer *answers;
        size_t n;
        char calls[256];        /* the indexes asked, space-separated */
} Script;

/* A server without an answer left refuses the connection. */
static int scripted(StepContext *ctx, RotationServer *srv, void *userdata) {
        Script *s = userdata;
        size_t idx = (size_t) (srv - s->rot->servers), len = strlen(s->calls);

        snprintf(s->calls + len, sizeof s->calls - len, "%s%zu", len > 0 ? " " : "", idx);
        for (size_t i = 0; i < s->n; i++) {
                Answer *a = &s->answers[i];
                HttpResponse resp = {};

                if (a->used || a->server != idx)
                        continue;
                a->used = true;
                if (a->result < 0) {
                        resp.status = a->status;
                        resp.body = (char *) a->body;
                        resp.body_size = a->body ? strlen(a->body) : 0;
                        resp.retry_after_s = a->retry_after_s;
                        rotation_record(srv, a->result, a->status > 0 ? &resp : NULL);
                }
                return a->result;
        }
        rotation_record(srv, -ECONNREFUSED, NULL);
        return -ECONNREFUSED;
}

static char *const peers[] = { P1, L, P2, P1, NULL };

/* Runs the script over a fresh rotation of L, P1, P2 in a fresh fixture. */
static int run(StepFixture *f, Rotation *r, Script *s, Answer *answers, size_t n, RotationServer **ret_srv) {
        rotation_init(r, L, peers);
        *s = (Script) { .rot = r, .answers = answers, .n = n };
        if (step_fixture_init(f, "chainfire-join", NULL, CONFIG) < 0)
                return -ENOTRECOVERABLE;
        return rotation_run(f->ctx, r, "chainfire", "add 'node04' to chainfire", scripted, s, ret_srv);
}

static void test_init(void) {
        char *many[ROTATION_MAX_SERVERS + 4] = {};
        char urls[ROTATION_MAX_SERVERS + 3][32];
        Rotation r;

        rotation_init(&r, L, peers);
        is_int(r.n, 3, "the leader, then each peer once");
        ok(r.n == 3 && streq(r.servers[0].url, L) && streq(r.servers[1].url, P1) && streq(r.servers[2].url, P2),
           "in the configured order");
        rotation_done(&r);

        rotation_init(&r, NULL, peers);
        is_int(r.n, 3, "without a leader: the peers");
        ok(streq(r.servers[0].url, P1), "the first peer first");
        rotation_done(&r);

        for (size_t i = 0; i < ELEMENTSOF(urls); i++) {
                snprintf(urls[i], sizeof urls[i], "https://127.79.9.%zu:2379", 10 + i);
                many[i] = urls[i];
        }
        rotation_init(&r, L, many);
        is_int(r.n, ROTATION_MAX_SERVERS, "at most ROTATION_MAX_SERVERS servers");
        rotation_done(&r);

        rotation_init(&r, NULL, NULL);
        {
                StepFixture f;
                Script s = { .rot = &r };

                if (step_fixture_init(&f, "chainfire-join", NULL, CONFIG) == 0) {
                        is_int(rotation_run(f.ctx, &r, "chainfire", "list", scripted, &s, NULL), -EINVAL,
                               "no server at all: -EINVAL");
                        is_str(s.calls, "", "and nothing asked");
                }
                step_fixture_done(&f);
        }
}

static void test_leader_answers(void) {
        Answer a[] = { { .server = 0, .result = 1 } };
        RotationServer *srv = NULL;
        StepFixture f;
        Rotation r;
        Script s;

        is_int(run(&f, &r, &s, a, ELEMENTSOF(a), &srv), 1, "the function's own result is returned as is");
        is_str(s.calls, "0", "only the leader asked");
        ok(srv == &r.servers[0], "the leader answered");
        is_int(f.ctx->current->attempts, 1, "one attempt in the step's record");
        is_str(fixture_error(&f), "", "no error recorded");
        rotation_done(&r);
        step_fixture_done(&f);
}

static void test_fallback(void) {
        Answer a[] = { { .server = 1, .result = 0 }, { .server = 1, .result = 0 } };
        RotationServer *srv = NULL;
        StepFixture f;
        Rotation r;
        Script s;

        is_int(run(&f, &r, &s, a, ELEMENTSOF(a), &srv), 0, "the leader down, the first peer answers");
        is_str(s.calls, "0 1", "the leader, then the first peer, in one round");
        ok(srv == &r.servers[1], "the peer answered");
        is_int(r.leader, 1, "the peer is asked first from now on");
        is_int(f.ctx->current->attempts, 2, "two attempts recorded");
        ok(strstr(fixture_error(&f), L) && strstr(fixture_error(&f), "onnection refused"),
           "the leader's failure recorded: %s", fixture_error(&f));

        s.calls[0] = '\0';
        is_int(rotation_run(f.ctx, &r, "chainfire", "add", scripted, &s, &srv), 0, "a second request");
        is_str(s.calls, "1", "goes to the server that answered");
        rotation_done(&r);
        step_fixture_done(&f);
}

static void test_refused(void) {
        Answer a[] = { { .server = 0, .result = -EBADE, .status = 400, .body = "{\"error\":\"raft_addr is taken\"}" } };
        char described[512];
        StepFixture f;
        Rotation r;
        Script s;

        is_int(run(&f, &r, &s, a, ELEMENTSOF(a), NULL), -EBADE, "a refusal ends the rotation");
        is_str(s.calls, "0", "no other server is asked after it");
        ok(r.servers[0].refused, "the server is marked refused");
        is_int(r.servers[0].last_status, 400, "its status kept");
        ok(strstr(fixture_error(&f), L ": HTTP 400 (raft_addr is taken)") != NULL,
           "the step's error names the server, status and reason: %s", fixture_error(&f));
        rotation_describe(&r, described, sizeof described);
        is_str(described, L " (refused, 1 attempt, last: HTTP 400 (raft_addr is taken))",
               "the description leaves out the servers never asked");
        rotation_done(&r);
        step_fixture_done(&f);
}

static void test_rounds_run_out(void) {
        char described[512];
        StepFixture f;
        Rotation r;
        Script s;

        is_int(run(&f, &r, &s, NULL, 0, NULL), -ETIMEDOUT, "every server down: -ETIMEDOUT");
        is_str(s.calls, "0 1 2 0 1 2 0 1 2", "each server once per round, timeouts.join_attempts rounds");
        is_int(f.ctx->current->attempts, 9, "every attempt recorded");
        rotation_describe(&r, described, sizeof described);
        is_int(count_of(described, "3 attempts, last: Connection refused"), 3, "each server described: %s", described);
        rotation_done(&r);
        step_fixture_done(&f);
}

static void test_permanent(void) {
        Answer some[] = { { .server = 0, .result = -EKEYREJECTED }, { .server = 2, .result = -ECONNREFUSED },
                          { .server = 2, .result = 0 } };
        Answer all[] = { { .server = 0, .result = -EKEYREJECTED }, { .server = 1, .result = -ENOENT },
                         { .server = 2, .result = -EKEYREJECTED } };
        RotationServer *srv = NULL;
        char described[512];
        StepFixture f;
        Rotation r;
        Script s;

        is_int(run(&f, &r, &s, some, ELEMENTSOF(some), &srv), 0, "one server unusable, another answers later");
        is_str(s.calls, "0 1 2 1 2", "the unusable server is not asked in the next round");
        ok(r.servers[0].unusable && !r.servers[1].unusable, "only it is marked unusable");
        ok(srv == &r.servers[2], "the last peer answered");
        rotation_done(&r);
        step_fixture_done(&f);

        is_int(run(&f, &r, &s, all, ELEMENTSOF(all), NULL), -EKEYREJECTED, "no server usable: the first permanent error");
        is_str(s.calls, "0 1 2", "after one round, without waiting for more");
        rotation_describe(&r, described, sizeof described);
        is_int(count_of(described, "unusable, 1 attempt"), 3, "each described as unusable: %s", described);
        rotation_done(&r);
        step_fixture_done(&f);
}

static void test_in_progress(void) {
        Answer a[] = { { .server = 0, .result = -EINPROGRESS, .status = 503, .body = "{\"error\":\"membership change in progress\"}" },
                       { .server = 0, .result = 0 } };
        StepFixture f;
        Rotation r;
        Script s;

        is_int(run(&f, &r, &s, a, ELEMENTSOF(a), NULL), 0, "the cluster busy with a change, then done");
        is_str(s.calls, "0 0", "no other server asked in that round: the next round asks the leader again");
        ok(strstr(fixture_error(&f), "membership change in progress") != NULL, "the reason recorded: %s", fixture_error(&f));
        rotation_done(&r);
        step_fixture_done(&f);
}

static void test_not_the_leader(void) {
        Answer to_peer[] = { { .server = 0, .result = -EREMCHG, .status = 421,
                               .body = "{\"error\":\"not the leader\",\"leader\":\"" P2 "/admin\"}" },
                             { .server = 2, .result = 0 } };
        Answer to_peer_down[] = { { .server = 0, .result = -EREMCHG, .status = 421,
                                    .body = "{\"error\":\"not the leader\",\"leader\":\"" P2 "\"}" },
                                  { .server = 1, .result = 0 } };
        Answer to_http[] = { { .server = 0, .result = -EREMCHG, .status = 421,
                               .body = "{\"error\":\"not the leader\",\"leader\":\"http://127.79.9.9:2379\"}" },
                             { .server = 1, .result = 0 } };
        Answer to_new[] = { { .server = 0, .result = -EREMCHG, .status = 421,
                              .body = "{\"error\":\"not the leader\",\"leader_url\":\"https://127.79.9.9:2379\"}" },
                            { .server = 3, .result = 0 } };
        RotationServer *srv = NULL;
        StepFixture f;
        Rotation r;
        Script s;

        is_int(run(&f, &r, &s, to_peer, ELEMENTSOF(to_peer), &srv), 0, "not the leader, naming a configured peer");
        is_str(s.calls, "0 2", "the named leader is asked next, before the first peer");
        is_int(r.leader, 2, "and first from now on");
        is_int(r.redirected, 1, "one redirect counted");
        rotation_done(&r);
        step_fixture_done(&f);

        is_int(run(&f, &r, &s, to_peer_down, ELEMENTSOF(to_peer_down), &srv), 0, "the named leader down");
        is_str(s.calls, "0 2 1", "the rest of the round is still asked, in order");
        ok(srv == &r.servers[1], "the first peer answered");
        rotation_done(&r);
        step_fixture_done(&f);

        is_int(run(&f, &r, &s, to_http, ELEMENTSOF(to_http), &srv), 0, "a leader hint down to http://");
        is_str(s.calls, "0 1", "is not followed: the configured order goes on");
        is_int(r.n, 3, "nothing added");
        is_int(r.redirected, 0, "no redirect counted");
        rotation_done(&r);
        step_fixture_done(&f);

        is_int(run(&f, &r, &s, to_new, ELEMENTSOF(to_new), &srv), 0, "an https:// leader named by an https:// server");
        is_int(r.n, 4, "is added to the servers");
        is_str(r.n == 4 ? r.servers[3].url : NULL, "https://127.79.9.9:2379", "as the API base it names");
        is_str(s.calls, "0 3", "and asked next");
        ok(srv == &r.servers[3], "it answered");
        rotation_done(&r);
        step_fixture_done(&f);
}

static void test_busy(void) {
        Answer a[] = { { .server = 0, .result = -EBUSY, .status = 429, .body = "{\"error\":\"slow down\"}" },
                       { .server = 0, .result = 0 } };
        RotationServer srv = {};
        Rotation r = {};
        StepFixture f;
        Script s;
        usec_t before;

        is_int(run(&f, &r, &s, a, ELEMENTSOF(a), NULL), 0, "a throttled leader, asked again in the next round");
        is_str(s.calls, "0 1 2 0", "the peers are asked in the meantime");
        is_int(r.throttled, 1, "one throttled answer counted");
        rotation_done(&r);
        step_fixture_done(&f);

        r = (Rotation) {};
        ok(!rotation_note_busy(&r, &srv, -ECONNREFUSED, USEC_PER_SEC), "a refused connection did not ask to wait");
        is_int(srv.not_before, 0, "so it may be asked at once");
        srv.retry_after_s = 5;
        before = now_monotonic();
        ok(rotation_note_busy(&r, &srv, -EREMOTEIO, USEC_PER_SEC), "a Retry-After asks to wait");
        ok(srv.not_before >= before + 5 * USEC_PER_SEC, "for as long as it says");
        srv.retry_after_s = 0;
        before = now_monotonic();
        ok(rotation_note_busy(&r, &srv, -EBUSY, 7 * USEC_PER_SEC), "-EBUSY without Retry-After");
        ok(srv.not_before >= before + 7 * USEC_PER_SEC, "waits at least the given time");
        is_int(r.throttled, 2, "both counted");
}

static void test_record(void) {
        HttpResponse resp = { .status = 503, .body = (char *) "{\"message\":\"no leader yet\"}", .retry_after_s = 3 };
        HttpResponse redirect = { .status = 307, .redirect = (char *) "https://127.79.9.3:2379/admin/member/add" };
        HttpResponse transport = { .error = "Failed to connect to 127.79.9.1 port 2379" };
        RotationServer srv = { .url = L };

        resp.body_size = strlen(resp.body);
        rotation_record(&srv, -EREMOTEIO, &resp);
        is_int(srv.last_status, 503, "the status");
        is_str(srv.last_error, "HTTP 503 (no leader yet)", "the status and the server's reason");
        is_int(srv.retry_after_s, 3, "its Retry-After");
        ok(srv.leader_hint == NULL, "no leader hint unless it is not the leader");

        rotation_record(&srv, -EREMCHG, &redirect);
        is_str(srv.leader_hint, "https://127.79.9.3:2379", "a redirect's target is the leader hint");
        is_int(srv.retry_after_s, 0, "the earlier Retry-After is gone");

        rotation_record(&srv, -ECONNREFUSED, &transport);
        is_int(srv.last_status, 0, "no answer: no status");
        is_str(srv.last_error, "Failed to connect to 127.79.9.1 port 2379", "the transport's own text");
        ok(srv.leader_hint == NULL, "the old hint dropped");
        rotation_record(&srv, -ETIMEDOUT, NULL);
        is_str(srv.last_error, strerror(ETIMEDOUT), "without a response: the error's text");
        free(srv.leader_hint);
}

int main(void) {
        log_setup(getenv("TEST_STEP_LOG") ? LOG_TARGET_JSON : LOG_TARGET_NULL);

        test_init();
        test_leader_answers();
        test_fallback();
        test_refused();
        test_rounds_run_out();
        test_permanent();
        test_in_progress();
        test_not_the_leader();
        test_busy();
        test_record();
        return tap_done();
}
