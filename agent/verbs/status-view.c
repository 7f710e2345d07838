/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dir-trust.h"
#include "exit-code.h"
#include "fileio.h"
#include "marker.h"
#include "report-spool.h"
#include "status-view.h"
#include "string-util.h"

void status_view_done(StatusView *v) {
        v->state = state_free(v->state);
        v->plan = step_plan_free(v->plan);
        v->steps = mfree(v->steps);
        v->oldest_report = mfree(v->oldest_report);
}

static const StepState *find_record(const State *s, const char *name) {
        for (size_t i = 0; i < s->n_steps; i++)
                if (streq(s->steps[i]->name, name))
                        return s->steps[i];
        return NULL;
}

static void view_step(StatusView *v, const Step *step, StepView *sv) {
        const StepState *rec = find_record(v->state, step->name);
        const char *const *names;
        const char *one[2] = {}, *skip = NULL;
        bool enabled;

        *sv = (StepView) { .step = step, .record = rec, .status = STEP_STATUS_PENDING };

        if (v->config) {
                skip = step_skip_reason(step, v->config);
                enabled = !skip;
        } else {
                enabled = !(rec && rec->status == STEP_STATUS_DISABLED);
                skip = rec ? rec->detail : NULL;
        }
        if (!enabled) {
                sv->status = STEP_STATUS_DISABLED;
                snprintf(sv->label, sizeof(sv->label), "does not apply (%s)", strna(skip));
                string_make_printable(sv->label);
                return;
        }

        /* With the config, the marker it names; without, any this step may write. */
        if (v->config && step->markers) {
                one[0] = step_marker(step, v->config);
                names = one;
        } else
                names = step->markers;
        for (const char *const *n = names; !v->untrusted && n && *n; n++) {
                usec_t t = 0;
                int r = marker_read(v->dir, *n, &t);

                if (r >= 0 || r == -EBADMSG) {
                        sv->marker = *n;
                        sv->marker_time = t;
                        break;
                }
        }

        if (sv->marker) {
                sv->status = STEP_STATUS_DONE;
                if (rec && rec->status == STEP_STATUS_DONE) {
                        snprintf(sv->label, sizeof(sv->label), "done");
                        sv->when = rec->finished;
                } else {
                        /* Written by hand, by the older automation, or the state file was lost. */
                        snprintf(sv->label, sizeof(sv->label), "done (marker)");
                        sv->when = sv->marker_time;
                }
                return;
        }

        StepStatus s = rec ? rec->status : STEP_STATUS_PENDING;
        bool has_marker = step->markers && step->markers[0];

        if (s == STEP_STATUS_RUNNING && !v->running) {
                sv->status = STEP_STATUS_FAILED;
                snprintf(sv->label, sizeof(sv->label), "interrupted");
                sv->when = rec->started;
        } else if (s == STEP_STATUS_RUNNING) {
                sv->status = STEP_STATUS_RUNNING;
                snprintf(sv->label, sizeof(sv->label), "running");
                sv->when = rec->started;
        } else if (s == STEP_STATUS_FAILED) {
                sv->status = STEP_STATUS_FAILED;
                snprintf(sv->label, sizeof(sv->label), "failed");
                sv->when = rec->finished ? rec->finished : rec->started;
        } else if (!has_marker && (s == STEP_STATUS_DONE || s == STEP_STATUS_SKIPPED)) {
                sv->status = STEP_STATUS_DONE;
                snprintf(sv->label, sizeof(sv->label), "done");
                sv->when = rec->finished;
        } else if (!has_marker && v->done) {
                sv->status = STEP_STATUS_DONE;
                snprintf(sv->label, sizeof(sv->label), "done (marker)");
                sv->when = v->done_time;
        } else
                /* Never run, or its marker was removed (reset) since. */
                snprintf(sv->label, sizeof(sv->label), "pending");
}

int status_view_build(const GlobalOptions *g, Config *config, StatusView *v) {
        mode_t mode = 0;
        uid_t uid = 0;
        int r;

        status_view_done(v);
        *v = (StatusView) { .config = config };
        v->dir = verbs_state_dir(g, config);

        r = state_load(v->dir, &v->state);
        if (r < 0) {
                /* Corrupt or unreadable: the markers still tell what is done. */
                v->state_corrupt = r == -EBADMSG;
                if (r != -EBADMSG)
                        fprintf(stderr, "Cannot read the state file in '%s': %s; showing the markers only.\n",
                                v->dir, strerror(-r));
                r = state_new(v->dir, &v->state);
                if (r < 0)
                        return r;
        }

        /* A marker in a directory others may write to proves nothing (dir-trust.h): "run"
         * refuses such a directory, and status does not call a step done on its word. */
        r = dir_trust_check(v->dir, &mode, &uid);
        if (r == -EPERM) {
                v->untrusted = true;
                fprintf(stderr, "The state directory '%s' (owner uid %u, mode %04o) may be written by others than "
                        "root: its markers are not believed and \"run\" refuses it. Run: chown root: '%s' && "
                        "chmod go-w '%s', then check the markers in it.\n",
                        v->dir, (unsigned) uid, (unsigned) mode, v->dir, v->dir);
        }
        v->done = !v->untrusted && (marker_read(v->dir, MARKER_DONE, &v->done_time) >= 0 ||
                                    marker_exists(v->dir, MARKER_DONE) > 0);
        v->running = state_run_in_progress(v->state);
        {
                _cleanup_free_ char *spool = path_join(v->dir, REPORT_SPOOL_DIR);

                if (spool)
                        (void) report_spool_pending(spool, &v->reports_waiting, &v->oldest_report,
                                                    &v->oldest_report_time);
        }

        r = step_plan_new(v->config, &v->plan);
        if (r < 0)
                return r;
        v->steps = calloc(v->plan->n, sizeof(StepView));
        if (!v->steps)
                return -ENOMEM;
        for (size_t i = 0; i < v->plan->n; i++)
                view_step(v, &v->plan->steps[i], &v->steps[v->n_steps++]);

        if (v->running)
                v->exit_code = EXIT_PENDING;
        else if (v->done)
                v->exit_code = EXIT_OK;
        else if (v->state->result == RUN_RESULT_FAILED)
                v->exit_code = v->state->exit_code == EXIT_STEP_REFUSED ? EXIT_STEP_REFUSED : EXIT_STEP_FAILED;
        else
                v->exit_code = EXIT_PENDING;
        return 0;
}
