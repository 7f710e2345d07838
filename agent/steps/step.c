/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exit-code.h"
#include "fileio.h"
#include "log.h"
#include "marker.h"
#include "notify.h"
#include "step.h"

/* ---- the "config" step: what config_load() cannot check ---- */

/* Opens the file for reading (access() would say yes to root for any file). */
static int check_readable(const char *setting, const char *path) {
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

        if (fd < 0)
                return log_error_errno(errno, "Cannot read '%s' (%s): %m. Put the file in place or correct %s.",
                                       path, setting, setting);
        (void) close(fd);
        return 0;
}

static int check_private(const char *setting, const char *path) {
        mode_t mode = 0;
        int r;

        r = check_readable(setting, path);
        if (r < 0)
                return r;
        r = check_file_private(path, &mode);
        if (r == -EPERM && (mode & 077))
                return log_error_errno(r, "'%s' (%s) is open to group or others (mode %04o); it holds a secret. "
                                       "Run: chmod 600 '%s'", path, setting, (unsigned) mode, path);
        if (r == -EPERM)
                return log_error_errno(r, "'%s' (%s) belongs to another user; it holds a secret. "
                                       "Run: chown root: '%s'", path, setting, path);
        if (r < 0)
                return log_error_errno(r, "Cannot check the permissions of '%s' (%s): %m", path, setting);
        return 0;
}

static int check_dir_writable(const char *dir) {
        _cleanup_free_ char *p = path_join(dir, ".write-test-XXXXXX");
        int fd;

        if (!p)
                return log_oom();
        /* A real write: access(W_OK) says yes to root on a read-only file system. */
        fd = mkstemp(p);
        if (fd < 0)
                return log_error_errno(errno, "State directory '%s' is not writable: %m. "
                                       "Markers and the state file live there.", dir);
        (void) close(fd);
        (void) unlink(p);
        return 0;
}

static int step_config(Agent *a) {
        const Config *c = a->config;
        unsigned n = 0;
        int first = 0, r;

#define CHECK(expr)                                             \
        do {                                                    \
                r = (expr);                                     \
                if (r < 0) {                                    \
                        if (n++ == 0)                           \
                                first = r;                      \
                }                                               \
        } while (0)

        if (c->tls.enabled) {
                if (c->tls.ca_cert_path && !c->tls.insecure_skip_verify)
                        CHECK(check_readable("tls.ca_cert_path", c->tls.ca_cert_path));
                if (c->tls.node_cert_path)
                        CHECK(check_readable("tls.node_cert_path", c->tls.node_cert_path));
                if (c->tls.node_key_path)
                        CHECK(check_private("tls.node_key_path", c->tls.node_key_path));
        }
        if (c->services[SERVICE_IAM].enabled && c->iam.secrets_file)
                CHECK(check_private("iam.secrets_file", c->iam.secrets_file));
        CHECK(check_dir_writable(c->state_dir ? c->state_dir : CONFIG_STATE_DIR_DEFAULT));
#undef CHECK

        if (n > 0) {
                agent_set_error(a, "%u problem%s with the files the configuration names (see the log): %s",
                                n, n == 1 ? "" : "s", strerror(-first));
                return first;
        }
        agent_set_detail(a, "TLS files, secrets file permissions and state directory checked");
        return 0;
}

/* ---- the table ---- */

static bool chainfire_enabled(const Config *c) {
        return c->services[SERVICE_CHAINFIRE].enabled;
}

static bool flaredb_enabled(const Config *c) {
        return c->services[SERVICE_FLAREDB].enabled;
}

static bool iam_enabled(const Config *c) {
        return c->services[SERVICE_IAM].enabled;
}

static bool health_report_enabled(const Config *c) {
        return c->health_check;
}

static const char *chainfire_marker(const Config *c) {
        return c->bootstrap ? ".chainfire-initialized" : ".chainfire-joined";
}

static const char *flaredb_marker(const Config *c) {
        return c->bootstrap ? ".flaredb-initialized" : ".flaredb-joined";
}

static const char *iam_marker(const Config *c) {
        return ".iam-initialized";
}

static const char *health_report_marker(const Config *c) {
        return ".health-reported";
}

const Step step_table[] = {
        {
                .name = "config",
                .summary = "check the TLS files, secret file permissions and the state directory",
                .run = step_config,
        },
        {
                .name = "health-wait",
                .summary = "wait until every enabled local service answers its health check",
                .after = (const char *const[]) { "config", NULL },
                .run = step_health_wait,
        },
        {
                .name = "chainfire-join",
                .summary = "bootstrap the chainfire cluster or join it through the leader",
                .after = (const char *const[]) { "health-wait", NULL },
                .enabled = chainfire_enabled,
                .setting = "services.chainfire.enabled",
                .marker = chainfire_marker,
                .markers = (const char *const[]) { ".chainfire-initialized", ".chainfire-joined", NULL },
                .run = step_chainfire_join,
        },
        {
                .name = "flaredb-join",
                .summary = "bootstrap the flaredb cluster or join it through the leader",
                .after = (const char *const[]) { "chainfire-join", NULL },
                .enabled = flaredb_enabled,
                .setting = "services.flaredb.enabled",
                .marker = flaredb_marker,
                .markers = (const char *const[]) { ".flaredb-initialized", ".flaredb-joined", NULL },
                .run = step_flaredb_join,
        },
        {
                .name = "iam-setup",
                .summary = "create the initial IAM admin and store its token",
                .after = (const char *const[]) { "flaredb-join", NULL },
                .enabled = iam_enabled,
                .setting = "services.iam.enabled",
                .marker = iam_marker,
                .markers = (const char *const[]) { ".iam-initialized", NULL },
                .run = step_iam_setup,
        },
        {
                .name = "health-report",
                .summary = "check every service and membership, then report to the provisioning server",
                .after = (const char *const[]) { "iam-setup", NULL },
                .enabled = health_report_enabled,
                .setting = "health_check.enabled",
                .marker = health_report_marker,
                .markers = (const char *const[]) { ".health-reported", NULL },
                .run = step_health_report,
        },
};

const size_t step_table_size = ELEMENTSOF(step_table);

int step_index(const char *name) {
        for (size_t i = 0; i < step_table_size; i++)
                if (streq(step_table[i].name, name))
                        return (int) i;
        return -ENOENT;
}

const Step *step_find(const char *name) {
        int i = step_index(name);

        return i < 0 ? NULL : &step_table[i];
}

/* ---- the walk ---- */

typedef enum Outcome {
        OUTCOME_NOT_RUN,
        OUTCOME_DONE,           /* ran now, or its marker was there */
        OUTCOME_DISABLED,
        OUTCOME_FAILED,
} Outcome;

static const char *walk_state_dir(const Agent *a) {
        return a->config->state_dir ? a->config->state_dir : CONFIG_STATE_DIR_DEFAULT;
}

static void walk_save(Agent *a) {
        int r = state_save(a->state);

        if (r < 0)
                log_warning_errno(r, "Failed to save the state file '%s', \"status\" may lag behind: %m",
                                  a->state->path);
}

static void walk_report_failure(Agent *a, const Step *s, const StepState *st, int exit_code) {
        const Config *c = a->config;
        _cleanup_(json_decrefp) json_t *state = NULL, *body = NULL;
        _cleanup_free_ char *text = NULL;
        HttpResponse resp = {};
        char now[ISO8601_MAX] = "";
        int r;

        if (!c->report.url || !a->http)
                return;

        (void) iso8601_format(now_realtime(), now);
        state = state_to_json(a->state);
        body = state ? json_pack("{s:s, s:s?, s:s?, s:s, s:s?, s:i, s:s, s:O?}",
                                 "event", "firstboot-failed",
                                 "node_id", c->node_id,
                                 "cluster_name", c->cluster_name,
                                 "step", s->name,
                                 "error", st->last_error,
                                 "exit_code", exit_code,
                                 "time", now,
                                 "steps", json_object_get(state, "steps")) : NULL;
        text = body ? json_dumps(body, JSON_COMPACT) : NULL;
        if (!text) {
                log_oom();
                return;
        }

        HttpRequest req = {
                .method = "POST",
                .url = c->report.url,
                .body = text,
                .timeout_ms = (long) (c->report.timeout / USEC_PER_MSEC),
        };
        r = http_perform(a->http, &req, &resp);
        if (r < 0)
                log_event_errno(LOG_WARNING, r, MID_REPORT_FAILED,
                                LOG_FIELDS("URL", c->report.url, "ERROR", resp.error[0] ? resp.error : strerror(-r)),
                                "Failed to send the failure report to '%s': %s. The failure is in the log and in \"status\".",
                                c->report.url, resp.error[0] ? resp.error : strerror(-r));
        else if (resp.status < 200 || resp.status > 299) {
                char reason[128];

                log_event(LOG_WARNING, MID_REPORT_FAILED,
                          LOG_FIELDS("URL", c->report.url, "HTTP_STATUS", FMT_INT(resp.status)),
                          "The provisioning server at '%s' did not accept the failure report: HTTP %ld (%s).",
                          c->report.url, resp.status, http_response_reason(&resp, reason, sizeof(reason)));
        } else
                log_event(LOG_INFO, MID_REPORT_SENT,
                          LOG_FIELDS("URL", c->report.url, "HTTP_STATUS", FMT_INT(resp.status)),
                          "Failure report sent to '%s'.", c->report.url);
        http_response_done(&resp);
}

static int walk_failed(Agent *a, const Step *s, StepState *st, int error) {
        int code = error == -EBADE ? EXIT_STEP_REFUSED : EXIT_STEP_FAILED;
        const char *e = st->last_error ? st->last_error : strerror(-error);

        a->state->result = RUN_RESULT_FAILED;
        a->state->exit_code = code;
        a->state->run_finished = now_realtime();
        walk_save(a);

        log_event(LOG_ERR, MID_RUN_FAILED,
                  LOG_FIELDS("STEP", s->name, "ERROR", e, "EXIT_CODE", FMT_INT(code)),
                  "First boot stopped at step '%s': %s. %s", s->name, e,
                  code == EXIT_STEP_REFUSED ?
                  "A server refused the request: fix the cause, then start the agent again." :
                  "The next start resumes at this step.");
        notify_status("failed at step %s", s->name);
        walk_report_failure(a, s, st, code);
        return code;
}

/* Runs one step and records it. Returns 0 or the step's negative errno. */
static int walk_run_step(Agent *a, const Step *s, StepState *st, const char *marker,
                         size_t index, size_t n) {
        const char *dir = walk_state_dir(a);
        usec_t t0;
        int r;

        log_set_step(s->name);
        st->status = STEP_STATUS_RUNNING;
        st->started = now_realtime();
        st->finished = 0;
        st->duration_ms = 0;
        st->attempts = 0;
        (void) state_step_set_error(st, NULL);
        (void) state_step_set_detail(st, NULL);
        a->current = st;
        walk_save(a);

        log_event(LOG_INFO, MID_STEP_BEGIN, LOG_FIELDS("STEP", s->name),
                  "Step '%s' started: %s.", s->name, strempty(s->summary));
        notify_status("step %zu of %zu: %s", index + 1, n, s->name);

        t0 = now_monotonic();
        r = s->run(a);
        if (r >= 0 && marker) {
                int q = marker_write(dir, marker);

                if (q < 0) {
                        log_error_errno(q, "Failed to write the marker '%s' in '%s': %m", marker, dir);
                        agent_set_error(a, "cannot write the marker %s: %s", marker, strerror(-q));
                        r = q;
                }
        }
        uint64_t elapsed_ms = (now_monotonic() - t0) / USEC_PER_MSEC;

        a->current = NULL;
        st->finished = now_realtime();
        st->duration_ms = elapsed_ms;
        if (st->attempts == 0)
                st->attempts = 1;

        if (r < 0) {
                if (!st->last_error)
                        (void) state_step_set_error(st, strerror(-r));
                st->status = STEP_STATUS_FAILED;
                walk_save(a);
                log_event_errno(LOG_ERR, r, MID_STEP_FAILED,
                                LOG_FIELDS("STEP", s->name, "ELAPSED_MS", FMT_U64(elapsed_ms),
                                           "ATTEMPT", FMT_U64(st->attempts), "ERROR", st->last_error),
                                "Step '%s' failed after %" PRIu64 " ms: %s",
                                s->name, elapsed_ms, strna(st->last_error));
                log_set_step(NULL);
                return r;
        }

        st->status = STEP_STATUS_DONE;
        walk_save(a);
        log_event(LOG_INFO, MID_STEP_DONE, LOG_FIELDS("STEP", s->name, "ELAPSED_MS", FMT_U64(elapsed_ms)),
                  "Step '%s' done in %" PRIu64 " ms.", s->name, elapsed_ms);
        log_set_step(NULL);
        return 0;
}

static bool walk_after_satisfied(const Step *table, size_t i, const Outcome *outcome, const char **ret_missing) {
        const Step *s = &table[i];

        for (const char *const *dep = s->after; dep && *dep; dep++) {
                size_t j;

                for (j = 0; j < i; j++)
                        if (streq(table[j].name, *dep))
                                break;
                if (j == i || (outcome[j] != OUTCOME_DONE && outcome[j] != OUTCOME_DISABLED)) {
                        *ret_missing = *dep;
                        return false;
                }
        }
        return true;
}

int step_walk_table(Agent *a, const Step *table, size_t n) {
        Outcome outcome[STATE_MAX_STEPS] = {};
        const char *dir = walk_state_dir(a);
        bool any_marked = false, work_left = false;
        int r;

        if (n > STATE_MAX_STEPS) {
                log_error("The step table has %zu rows, more than the %d the state file records.",
                          n, STATE_MAX_STEPS);
                return EXIT_INTERNAL;
        }

        r = mkdir_p(dir, 0700);
        if (r < 0) {
                log_error_errno(r, "Failed to create the state directory '%s': %m", dir);
                return EXIT_INTERNAL;
        }

        /* The steps without a marker (config, health-wait) run on every walk that has work left;
         * when every enabled marked step is done, nothing runs and the walk only records it. */
        for (size_t i = 0; i < n; i++) {
                const char *m;

                if (table[i].enabled && !table[i].enabled(a->config))
                        continue;
                m = table[i].marker ? table[i].marker(a->config) : NULL;
                if (!m)
                        continue;
                any_marked = true;
                if (marker_exists(dir, m) <= 0)
                        work_left = true;
        }
        if (!any_marked)
                work_left = true;

        for (size_t i = 0; i < n; i++) {
                const Step *s = &table[i];
                const char *m, *missing = NULL;
                StepState *st;
                usec_t t = 0;

                st = state_step(a->state, s->name);
                if (!st) {
                        log_oom();
                        return EXIT_INTERNAL;
                }

                if (s->enabled && !s->enabled(a->config)) {
                        st->status = STEP_STATUS_DISABLED;
                        outcome[i] = OUTCOME_DISABLED;
                        walk_save(a);
                        log_event(LOG_INFO, MID_STEP_SKIPPED, LOG_FIELDS("STEP", s->name),
                                  "Step '%s' skipped: disabled (%s=false).", s->name, strna(s->setting));
                        continue;
                }

                m = s->marker ? s->marker(a->config) : NULL;
                if (m) {
                        r = marker_read(dir, m, &t);
                        if (r >= 0 || r == -EBADMSG) {
                                char when[ISO8601_MAX] = "an unknown time";

                                if (r >= 0)
                                        (void) iso8601_format(t, when);
                                if (st->status != STEP_STATUS_DONE) {
                                        st->status = STEP_STATUS_SKIPPED;
                                        st->finished = r >= 0 ? t : 0;
                                }
                                outcome[i] = OUTCOME_DONE;
                                walk_save(a);
                                log_event(LOG_INFO, MID_STEP_SKIPPED, LOG_FIELDS("STEP", s->name),
                                          "Step '%s' skipped: marker '%s' present since %s.", s->name, m, when);
                                continue;
                        }
                        if (r != -ENOENT)
                                log_warning_errno(r, "Cannot read the marker '%s' in '%s', running the step: %m", m, dir);
                } else if (!work_left) {
                        outcome[i] = OUTCOME_DONE;
                        log_event(LOG_INFO, MID_STEP_SKIPPED, LOG_FIELDS("STEP", s->name),
                                  "Step '%s' skipped: every step that has a marker is already done.", s->name);
                        continue;
                }

                if (!walk_after_satisfied(table, i, outcome, &missing)) {
                        log_error("Step '%s' must run after '%s', which is neither done nor disabled: "
                                  "the step table is wrong. Refusing to run it.", s->name, missing);
                        return EXIT_INTERNAL;
                }

                r = walk_run_step(a, s, st, m, i, n);
                if (r < 0) {
                        outcome[i] = OUTCOME_FAILED;
                        return walk_failed(a, s, st, r);
                }
                outcome[i] = OUTCOME_DONE;
        }

        r = marker_write(dir, MARKER_DONE);
        if (r < 0) {
                log_error_errno(r, "Every step is done, but the marker '%s' in '%s' cannot be written: %m",
                                MARKER_DONE, dir);
                return EXIT_INTERNAL;
        }
        a->state->result = RUN_RESULT_DONE;
        a->state->exit_code = EXIT_OK;
        a->state->run_finished = now_realtime();
        walk_save(a);
        log_event(LOG_NOTICE, MID_RUN_DONE, NO_FIELDS, "First boot complete: every enabled step is done.");
        notify_status("first boot complete");
        return EXIT_OK;
}

int step_walk(Agent *a) {
        return step_walk_table(a, step_table, step_table_size);
}
