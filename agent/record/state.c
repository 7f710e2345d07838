/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "secret.h"
#include "state.h"

/* The file format:
 *   {"version":1, "node_id":"node04", "mode":"firstboot", "pid":1234,
 *    "run":{"started":"…","finished":"…","result":"failed","exit_code":4},
 *    "steps":{"chainfire-join":{"status":"failed","started":"…","finished":"…",
 *             "duration_ms":5123,"attempts":5,"last_error":"…","detail":null}, …},
 *    "flash":{…the flasher's record…}}
 * Times are ISO 8601 (UTC), null when not set. Steps keep the order they were first recorded
 * in, which is the order of the step table. */

#define STATE_VERSION 1
#define STATE_MAX_SIZE (4 * 1024 * 1024)

static const char *const step_status_table[_STEP_STATUS_MAX] = {
        [STEP_STATUS_PENDING] = "pending",
        [STEP_STATUS_RUNNING] = "running",
        [STEP_STATUS_DONE] = "done",
        [STEP_STATUS_SKIPPED] = "skipped",
        [STEP_STATUS_DISABLED] = "disabled",
        [STEP_STATUS_FAILED] = "failed",
};

static const char *const run_result_table[_RUN_RESULT_MAX] = {
        [RUN_RESULT_NONE] = "none",
        [RUN_RESULT_RUNNING] = "running",
        [RUN_RESULT_DONE] = "done",
        [RUN_RESULT_FAILED] = "failed",
};

const char *step_status_to_string(StepStatus s) {
        return s >= 0 && s < _STEP_STATUS_MAX ? step_status_table[s] : NULL;
}

int step_status_from_string(const char *s) {
        for (int i = 0; s && i < _STEP_STATUS_MAX; i++)
                if (streq(s, step_status_table[i]))
                        return i;
        return -EINVAL;
}

const char *run_result_to_string(RunResult r) {
        return r >= 0 && r < _RUN_RESULT_MAX ? run_result_table[r] : NULL;
}

int run_result_from_string(const char *s) {
        for (int i = 0; s && i < _RUN_RESULT_MAX; i++)
                if (streq(s, run_result_table[i]))
                        return i;
        return -EINVAL;
}

static StepState *step_state_free(StepState *st) {
        if (!st)
                return NULL;
        free(st->name);
        free(st->last_error);
        free(st->detail);
        free(st);
        return NULL;
}

State *state_free(State *s) {
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n_steps; i++)
                step_state_free(s->steps[i]);
        free(s->steps);
        free(s->path);
        free(s->node_id);
        free(s->mode);
        json_decref(s->flash);
        free(s);
        return NULL;
}

int state_new(const char *dir, State **ret) {
        State *s = calloc(1, sizeof(State));

        if (!s)
                return -ENOMEM;
        s->path = path_join(dir, STATE_FILE_NAME);
        if (!s->path) {
                free(s);
                return -ENOMEM;
        }
        *ret = s;
        return 0;
}

StepState *state_step(State *s, const char *name) {
        StepState *st, **steps;

        for (size_t i = 0; i < s->n_steps; i++)
                if (streq(s->steps[i]->name, name))
                        return s->steps[i];
        steps = reallocarray(s->steps, s->n_steps + 1, sizeof(StepState *));
        if (!steps)
                return NULL;
        s->steps = steps;
        st = calloc(1, sizeof(StepState));
        if (!st)
                return NULL;
        *st = (StepState) { .name = strdup(name), .status = STEP_STATUS_PENDING };
        if (!st->name)
                return step_state_free(st);
        s->steps[s->n_steps++] = st;
        return st;
}

void state_steps_retain(State *s, bool (*keep)(const char *name, void *userdata), void *userdata) {
        size_t n = 0;

        for (size_t i = 0; i < s->n_steps; i++) {
                if (keep(s->steps[i]->name, userdata))
                        s->steps[n++] = s->steps[i];
                else
                        step_state_free(s->steps[i]);
        }
        s->n_steps = n;
}

static int set_string(char **field, const char *value) {
        char *copy = NULL;

        if (value) {
                copy = strdup(value);
                if (!copy)
                        return -ENOMEM;
        }
        free(*field);
        *field = copy;
        return 0;
}

/* What a step records may quote a server, and a server may have echoed a secret: the state
 * file (and "status", and the reports built from it) only ever get the redacted text. */
static int set_redacted(char **field, const char *value) {
        char *r = NULL;
        int k;

        if (value) {
                r = secret_redact(value);
                if (!r)
                        return -ENOMEM;
        }
        k = set_string(field, r);
        secret_free(r);
        return k;
}

int state_step_set_error(StepState *st, const char *error) {
        return set_redacted(&st->last_error, error);
}

int state_step_set_detail(StepState *st, const char *detail) {
        return set_redacted(&st->detail, detail);
}

bool state_run_in_progress(const State *s) {
        if (!s || s->result != RUN_RESULT_RUNNING || s->pid <= 0)
                return false;
        /* EPERM: the process exists but belongs to someone else; still alive. */
        return kill(s->pid, 0) == 0 || errno == EPERM;
}

/* ---- to JSON ---- */

static json_t *json_time(usec_t t) {
        char buf[ISO8601_MAX];

        if (t == 0 || iso8601_format(t, buf) < 0)
                return json_null();
        return json_string(buf);
}

static json_t *json_string_or_null(const char *s) {
        return s ? json_string(s) : json_null();
}

static json_t *step_state_to_json(const StepState *st) {
        return json_pack("{s:s, s:o, s:o, s:I, s:I, s:o, s:o}",
                         "status", strna(step_status_to_string(st->status)),
                         "started", json_time(st->started),
                         "finished", json_time(st->finished),
                         "duration_ms", (json_int_t) st->duration_ms,
                         "attempts", (json_int_t) st->attempts,
                         "last_error", json_string_or_null(st->last_error),
                         "detail", json_string_or_null(st->detail));
}

json_t *state_to_json(const State *s) {
        _cleanup_(json_decrefp) json_t *root = NULL, *steps = NULL;

        steps = json_object();
        if (!steps)
                return NULL;
        for (size_t i = 0; i < s->n_steps; i++) {
                json_t *j = step_state_to_json(s->steps[i]);

                if (!j || json_object_set_new(steps, s->steps[i]->name, j) < 0)
                        return NULL;
        }

        root = json_pack("{s:i, s:o, s:o, s:i, s:{s:o, s:o, s:s, s:i}}",
                         "version", STATE_VERSION,
                         "node_id", json_string_or_null(s->node_id),
                         "mode", json_string_or_null(s->mode),
                         "pid", (int) s->pid,
                         "run",
                         "started", json_time(s->run_started),
                         "finished", json_time(s->run_finished),
                         "result", strna(run_result_to_string(s->result)),
                         "exit_code", s->exit_code);
        if (!root)
                return NULL;
        if (json_object_set(root, "steps", steps) < 0)
                return NULL;
        if (s->flash && json_object_set(root, "flash", s->flash) < 0)
                return NULL;
        return TAKE_PTR(root);
}

int state_save(const State *s) {
        _cleanup_(json_decrefp) json_t *j = NULL;
        _cleanup_free_ char *text = NULL;

        if (!s || !s->path)
                return -EINVAL;
        j = state_to_json(s);
        if (!j)
                return -ENOMEM;
        text = json_dumps(j, JSON_INDENT(2));
        if (!text)
                return -ENOMEM;

        size_t n = strlen(text);
        char *t = realloc(text, n + 2);
        if (!t)
                return -ENOMEM;
        text = t;
        text[n++] = '\n';
        text[n] = '\0';
        return write_file_atomic(s->path, text, n, 0600);
}

/* ---- from JSON ---- */

/* Each reader accepts a missing member or null; a member of the wrong type makes the file
 * corrupt (-EBADMSG). */

static int read_string(json_t *o, const char *key, char **ret) {
        json_t *v = json_object_get(o, key);

        if (!v || json_is_null(v))
                return 0;
        if (!json_is_string(v))
                return -EBADMSG;
        return set_string(ret, json_string_value(v));
}

static int read_time(json_t *o, const char *key, usec_t *ret) {
        json_t *v = json_object_get(o, key);

        if (!v || json_is_null(v))
                return 0;
        if (!json_is_string(v) || iso8601_parse(json_string_value(v), ret) < 0)
                return -EBADMSG;
        return 0;
}

static int read_uint(json_t *o, const char *key, uint64_t max, uint64_t *ret) {
        json_t *v = json_object_get(o, key);

        if (!v || json_is_null(v))
                return 0;
        if (!json_is_integer(v) || json_integer_value(v) < 0 || (uint64_t) json_integer_value(v) > max)
                return -EBADMSG;
        *ret = (uint64_t) json_integer_value(v);
        return 0;
}

static int read_step(State *s, const char *name, json_t *o) {
        StepState *st;
        uint64_t u;
        int r;

        if (!json_is_object(o))
                return -EBADMSG;
        st = state_step(s, name);
        if (!st)
                return -ENOMEM;

        json_t *status = json_object_get(o, "status");
        if (!json_is_string(status) || (r = step_status_from_string(json_string_value(status))) < 0)
                return -EBADMSG;
        st->status = (StepStatus) r;

        if ((r = read_time(o, "started", &st->started)) < 0 ||
            (r = read_time(o, "finished", &st->finished)) < 0 ||
            (r = read_uint(o, "duration_ms", UINT64_MAX >> 1, &st->duration_ms)) < 0 ||
            (r = read_string(o, "last_error", &st->last_error)) < 0 ||
            (r = read_string(o, "detail", &st->detail)) < 0)
                return r;
        u = 0;
        r = read_uint(o, "attempts", UINT32_MAX, &u);
        if (r < 0)
                return r;
        st->attempts = (unsigned) u;
        return 0;
}

static int state_from_json(State *s, json_t *root) {
        json_t *run, *steps, *flash, *v;
        const char *name;
        uint64_t u;
        int r;

        if (!json_is_object(root))
                return -EBADMSG;
        v = json_object_get(root, "version");
        if (!json_is_integer(v) || json_integer_value(v) != STATE_VERSION)
                return -EBADMSG;

        if ((r = read_string(root, "node_id", &s->node_id)) < 0 ||
            (r = read_string(root, "mode", &s->mode)) < 0)
                return r;
        u = 0;
        if ((r = read_uint(root, "pid", INT32_MAX, &u)) < 0)
                return r;
        s->pid = (pid_t) u;

        run = json_object_get(root, "run");
        if (run && !json_is_null(run)) {
                if (!json_is_object(run))
                        return -EBADMSG;
                if ((r = read_time(run, "started", &s->run_started)) < 0 ||
                    (r = read_time(run, "finished", &s->run_finished)) < 0)
                        return r;
                v = json_object_get(run, "result");
                if (v) {
                        if (!json_is_string(v) || (r = run_result_from_string(json_string_value(v))) < 0)
                                return -EBADMSG;
                        s->result = (RunResult) r;
                }
                v = json_object_get(run, "exit_code");
                if (v) {
                        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 255)
                                return -EBADMSG;
                        s->exit_code = (int) json_integer_value(v);
                }
        }

        steps = json_object_get(root, "steps");
        if (steps && !json_is_null(steps)) {
                if (!json_is_object(steps))
                        return -EBADMSG;
                json_object_foreach(steps, name, v) {
                        r = read_step(s, name, v);
                        if (r < 0)
                                return r;
                }
        }

        flash = json_object_get(root, "flash");
        if (flash && !json_is_null(flash))
                s->flash = json_incref(flash);
        return 0;
}

int state_load(const char *dir, State **ret) {
        _cleanup_(state_freep) State *s = NULL;
        _cleanup_(json_decrefp) json_t *root = NULL;
        _cleanup_free_ char *text = NULL;
        size_t size;
        int r;

        r = state_new(dir, &s);
        if (r < 0)
                return r;

        r = read_full_file(s->path, STATE_MAX_SIZE, &text, &size);
        if (r == -ENOENT) {
                *ret = TAKE_PTR(s);
                return 0;
        }
        if (r == -EFBIG)
                return -EBADMSG;
        if (r < 0)
                return r;

        root = json_loadb(text, size, JSON_REJECT_DUPLICATES, NULL);
        if (!root)
                return -EBADMSG;
        r = state_from_json(s, root);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(s);
        return 0;
}
