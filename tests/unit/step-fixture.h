/* SPDX-License-Identifier: MIT */
#pragma once

/* A step's world for the unit tests of agent/steps/: a configuration parsed from JSON text (as
 * a file would give it), a state directory of its own, the state, and a StepContext made by
 * step_context_new() (the real HTTP client and reporters), with one step's record running and
 * one service as the step's. */

#define _GNU_SOURCE
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config-load.h"
#include "problem.h"
#include "state.h"
#include "step-context.h"

typedef struct StepFixture {
        char dir[64];
        Config *config;
        State *state;
        StepContext *ctx;
} StepFixture;

/* The configuration of a JSON text; NULL (each problem printed as a TAP comment) when it has any. */
static inline Config *fixture_config_parse(const char *text) {
        ProblemList l = {};
        Config *c = NULL;

        if (config_parse(text, strlen(text), "test.json", &c, &l) < 0)
                for (size_t i = 0; i < l.n; i++) {
                        char *line = problem_format(&l.items[i]);

                        printf("# config problem: %s\n", line ? line : "(out of memory)");
                        free(line);
                }
        problem_list_done(&l);
        return c;
}

static inline int fixture_remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) st;
        (void) flag;
        (void) ftw;
        (void) remove(path);
        return 0;
}

static inline void step_fixture_done(StepFixture *f) {
        f->ctx = step_context_free(f->ctx);
        f->state = state_free(f->state);
        f->config = config_free(f->config);
        if (f->dir[0])
                (void) nftw(f->dir, fixture_remove_one, 8, FTW_DEPTH | FTW_PHYS);
        f->dir[0] = '\0';
}

/* The fixture of the configuration the format gives (printf-like); step: the running step's
 * record (NULL: none); service: ctx->service (NULL: none). 0; a fixture that cannot be made
 * ends the test ("Bail out!", exit status 1). */
__attribute__((format(printf, 4, 5)))
static inline int step_fixture_init(StepFixture *f, const char *step, const char *service, const char *format, ...) {
        char *text = NULL;
        va_list ap;
        int r;

        *f = (StepFixture) {};
        va_start(ap, format);
        r = vasprintf(&text, format, ap);
        va_end(ap);
        if (r < 0) {
                printf("Bail out! fixture: out of memory\n");
                exit(1);
        }
        f->config = fixture_config_parse(text);
        free(text);
        snprintf(f->dir, sizeof f->dir, "/tmp/test-step-fixture-XXXXXX");
        if (!f->config || !mkdtemp(f->dir)) {
                printf("Bail out! fixture: %s\n", f->config ? "no temporary directory" : "the configuration does not parse");
                f->dir[0] = '\0';
                step_fixture_done(f);
                exit(1);
        }
        if (state_new(f->dir, &f->state) < 0 || step_context_new(f->config, f->dir, f->state, &f->ctx) < 0) {
                printf("Bail out! fixture: no state or context\n");
                step_fixture_done(f);
                exit(1);
        }
        if (step)
                f->ctx->current = state_step(f->state, step);
        if (service) {
                f->ctx->service = config_service(f->config, service);
                if (!f->ctx->service) {
                        printf("Bail out! fixture: no service '%s' in the configuration\n", service);
                        step_fixture_done(f);
                        exit(1);
                }
        }
        return 0;
}

/* What the running step's record says (never NULL, for is_str()). */
static inline const char *fixture_error(const StepFixture *f) {
        return f->ctx && f->ctx->current && f->ctx->current->last_error ? f->ctx->current->last_error : "";
}

static inline const char *fixture_detail(const StepFixture *f) {
        return f->ctx && f->ctx->current && f->ctx->current->detail ? f->ctx->current->detail : "";
}

/* How many times needle occurs in haystack. */
static inline unsigned count_of(const char *haystack, const char *needle) {
        unsigned n = 0;

        for (const char *p = haystack ? strstr(haystack, needle) : NULL; p; p = strstr(p + 1, needle))
                n++;
        return n;
}
