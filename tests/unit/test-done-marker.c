/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "config-load.h"
#include "done-marker.h"
#include "fileio.h"
#include "marker.h"
#include "step.h"
#include "tap.h"

/* The done marker against the step markers: fresh while the directory is unchanged since the
 * stamp; re-checked (and removed when a step marker is gone) otherwise. */

#define CONFIG                                                                  \
        "{\"node_id\": \"node04\", \"node_role\": \"control-plane\", "          \
        "\"bootstrap\": false, \"cluster_name\": \"prod\", "                    \
        "\"leader_url\": \"https://10.0.1.10:2379\", "                          \
        "\"raft_addr\": \"10.0.1.13:2380\", \"tls\": {\"enabled\": true}, "     \
        "\"services\": {\"iam\": {\"enabled\": false}}}"

static const char *const markers[] = { ".chainfire-joined", ".flaredb-joined", ".health-reported", NULL };

static uint64_t now_ns(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

int main(void) {
        char dir[] = "/tmp/test-done-marker-XXXXXX";
        _cleanup_(config_freep) Config *c = NULL;
        ProblemList l = {};
        const char *missing = "x";

        ok(mkdtemp(dir) != NULL, "temporary directory");
        is_int(config_parse(CONFIG, strlen(CONFIG), "test.json", &c, &l), 0, "config (iam disabled)");
        problem_list_done(&l);
        if (!c)
                return tap_done();

        is_int(done_marker_fresh(dir), 0, "no done marker: not fresh");
        is_int(done_marker_verify(dir, c, &missing), 0, "no done marker: verify says not done");
        ok(!missing, "… and names no missing marker");

        for (const char *const *m = markers; *m; m++)
                ok(marker_write(dir, *m) == 0, "write %s", *m);
        ok(marker_write(dir, MARKER_DONE) == 0, "write the done marker");
        ok(marker_write(dir, "state.json") == 0, "a file written after it (as the state file is)");
        is_int(done_marker_fresh(dir), 0, "the directory changed after the done marker: not fresh");
        is_int(done_marker_verify(dir, c, &missing), 1,
               "verify: every enabled step's marker is there (iam's is not needed: disabled)");
        is_int(done_marker_fresh(dir), 1, "verify stamped it: fresh");
        is_int(done_marker_fresh(dir), 1, "and stays fresh while nothing changes");

        ok(marker_remove(dir, ".flaredb-joined") == 1, "a person removes .flaredb-joined");
        is_int(done_marker_fresh(dir), 0, "the directory's mtime moved: not fresh");
        is_int(done_marker_verify(dir, c, &missing), 0, "verify: not done");
        is_str(missing, ".flaredb-joined", "verify names the missing marker");
        is_int(marker_exists(dir, MARKER_DONE), 0, "the stale done marker was removed");

        ok(marker_write(dir, ".flaredb-joined") == 0 && marker_write(dir, MARKER_DONE) == 0,
           "the walk writes the marker and the done marker again");
        is_int(done_marker_stamp(dir), 0, "stamp after the walk");
        is_int(done_marker_fresh(dir), 1, "fresh at once, no re-check needed");

        ok(marker_remove(dir, "state.json") == 1, "an unrelated entry changes");
        is_int(done_marker_fresh(dir), 0, "any entry change asks for a re-check");
        is_int(done_marker_verify(dir, c, &missing), 1, "which finds every marker and stamps again");

        /* What the every-boot path costs (printed, not asserted). */
        const int n = 100000;
        uint64_t t0 = now_ns();
        int fresh = 0;
        for (int i = 0; i < n; i++)
                fresh += done_marker_fresh(dir);
        uint64_t per = (now_ns() - t0) / (uint64_t) n;
        is_int(fresh, n, "fresh on every call of the loop");
        printf("# done_marker_fresh(): %llu ns per call (two stat() calls; %d calls)\n",
               (unsigned long long) per, n);
        t0 = now_ns();
        for (int i = 0; i < n / 10; i++)
                (void) done_marker_verify(dir, c, &missing);
        printf("# done_marker_verify(): %llu ns per call (every marker, and the stamp)\n",
               (unsigned long long) ((now_ns() - t0) / (uint64_t) (n / 10)));

        for (const char *const *m = markers; *m; m++)
                (void) marker_remove(dir, *m);
        (void) marker_remove(dir, MARKER_DONE);
        (void) rmdir(dir);
        return tap_done();
}
