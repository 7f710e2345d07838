/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"
#include "metrics.h"
#include "string-util.h"

/* The state as the operator sees it: a step whose marker was already there is done, a step
 * that does not apply to this node is skipped. */
typedef enum MetricsStepState {
        METRICS_PENDING,
        METRICS_RUNNING,
        METRICS_DONE,
        METRICS_FAILED,
        METRICS_SKIPPED,
        _METRICS_STEP_STATE_MAX,
} MetricsStepState;

static const char *const step_state_names[_METRICS_STEP_STATE_MAX] = {
        [METRICS_PENDING] = "pending",
        [METRICS_RUNNING] = "running",
        [METRICS_DONE] = "done",
        [METRICS_FAILED] = "failed",
        [METRICS_SKIPPED] = "skipped",
};

static const char *const run_state_names[] = { "running", "done", "failed" };

/* The verdicts of the flasher's per-target records (flash/image.c, flash/firmware.c); any other
 * word counts as failed, so that no unexpected text becomes a label. */
static const char *const flash_verdict_names[] = {
        "running", "written", "current", "hash-mismatch", "bad-signature", "failed",
};

static MetricsStepState step_state_of(StepStatus s) {
        switch (s) {
        case STEP_STATUS_RUNNING:
                return METRICS_RUNNING;
        case STEP_STATUS_DONE:
        case STEP_STATUS_SKIPPED:
                return METRICS_DONE;
        case STEP_STATUS_DISABLED:
                return METRICS_SKIPPED;
        case STEP_STATUS_FAILED:
                return METRICS_FAILED;
        default:
                return METRICS_PENDING;
        }
}

/* Length of the valid UTF-8 sequence at p (1 to 4), or 0. */
static size_t utf8_sequence(const unsigned char *p) {
        unsigned char c = p[0];
        size_t n;

        if (c < 0x80)
                return 1;
        if (c >= 0xC2 && c <= 0xDF)
                n = 2;
        else if (c >= 0xE0 && c <= 0xEF)
                n = 3;
        else if (c >= 0xF0 && c <= 0xF4)
                n = 4;
        else
                return 0;
        for (size_t i = 1; i < n; i++)
                if ((p[i] & 0xC0) != 0x80)
                        return 0;
        /* Overlong forms, surrogates, beyond U+10FFFF. */
        if ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] >= 0xA0) ||
            (c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] >= 0x90))
                return 0;
        return n;
}

static void put_escaped(FILE *f, const char *value) {
        const unsigned char *p = (const unsigned char *) (value ?: "");

        while (*p) {
                size_t n = utf8_sequence(p);

                if (*p == '\\')
                        fputs("\\\\", f);
                else if (*p == '"')
                        fputs("\\\"", f);
                else if (*p == '\n')
                        fputs("\\n", f);
                else if (n == 0 || *p < ' ' || *p == 0x7F) {
                        fputc('?', f);
                        n = 1;
                } else {
                        fwrite(p, 1, n, f);
                        p += n;
                        continue;
                }
                p++;
        }
}

char *metrics_escape_label(const char *value) {
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;
        FILE *f;

        f = open_memstream(&buf, &size);
        if (!f)
                return NULL;
        put_escaped(f, value);
        if (fclose(f) != 0)
                return NULL;
        return TAKE_PTR(buf);
}

static void put_header(FILE *f, const char *name, const char *type, const char *help) {
        fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{k1="v1",…} — labels is a NULL-terminated list of names and values. */
static void put_series(FILE *f, const char *name, const char *const *labels) {
        fputs(name, f);
        if (!labels || !labels[0]) {
                fputc(' ', f);
                return;
        }
        fputc('{', f);
        for (size_t i = 0; labels[i]; i += 2) {
                fprintf(f, "%s%s=\"", i > 0 ? "," : "", labels[i]);
                put_escaped(f, labels[i + 1]);
                fputc('"', f);
        }
        fputs("} ", f);
}

static void put_u64(FILE *f, const char *name, const char *const *labels, uint64_t v) {
        put_series(f, name, labels);
        fprintf(f, "%" PRIu64 "\n", v);
}

/* Milliseconds as seconds, exactly: no floating point, no locale. */
static void put_ms_as_seconds(FILE *f, const char *name, const char *const *labels, uint64_t ms) {
        put_series(f, name, labels);
        fprintf(f, "%" PRIu64 ".%03" PRIu64 "\n", ms / 1000, ms % 1000);
}

static void put_timestamp(FILE *f, const char *name, const char *const *labels, usec_t t) {
        put_ms_as_seconds(f, name, labels, t / USEC_PER_MSEC);
}

static const char *service_label(const MetricsInfo *info, const char *step) {
        const char *s = info->service_of ? info->service_of(step, info->userdata) : NULL;

        return s ?: "";
}

/* The run's state. A flash decides its outcome before the power action, while the verb still
 * records the run as running: its record's result says it. */
static const char *run_state_of(const State *s) {
        const char *r = json_string_value(json_object_get(s->flash, "result"));

        if (s->result == RUN_RESULT_RUNNING && s->mode && streq(s->mode, "flash") && r)
                return streq(r, "running") ? "running" : streq(r, "done") ? "done" : "failed";
        return s->result == RUN_RESULT_RUNNING ? "running" :
               s->result == RUN_RESULT_DONE ? "done" :
               s->result == RUN_RESULT_FAILED ? "failed" : "";
}

static void put_run(FILE *f, const State *s, const MetricsInfo *info) {
        put_header(f, "first_boot_agent_run_info", "gauge",
                   "The last run of first-boot-agent on this node: its mode, node, cluster and version (always 1).");
        put_u64(f, "first_boot_agent_run_info",
                (const char *const[]) { "mode", strempty(s->mode), "node_id", strempty(info->node_id ?: s->node_id),
                                        "cluster", strempty(info->cluster), "version", strempty(info->version),
                                        NULL },
                1);

        put_header(f, "first_boot_agent_run_state", "gauge",
                   "The state of the last run: 1 for the state it is in (running, done, failed), 0 for the others.");
        for (size_t i = 0; i < ELEMENTSOF(run_state_names); i++)
                put_u64(f, "first_boot_agent_run_state", (const char *const[]) { "state", run_state_names[i], NULL },
                        streq(run_state_of(s), run_state_names[i]));

        if (s->run_started > 0) {
                put_header(f, "first_boot_agent_run_started_timestamp_seconds", "gauge",
                           "When the last run started, in seconds since the epoch.");
                put_timestamp(f, "first_boot_agent_run_started_timestamp_seconds", NULL, s->run_started);
        }

        if (s->mode && streq(s->mode, "firstboot") && s->result == RUN_RESULT_DONE && s->run_finished > 0) {
                put_header(f, "first_boot_agent_first_boot_completed_timestamp_seconds", "gauge",
                           "When first boot completed (every step that applies done), in seconds since the epoch.");
                put_timestamp(f, "first_boot_agent_first_boot_completed_timestamp_seconds", NULL, s->run_finished);
        }

        if (info->reports_pending >= 0) {
                put_header(f, "first_boot_agent_reports_pending", "gauge",
                           "Reports waiting in the state directory to be delivered to report.url.");
                put_u64(f, "first_boot_agent_reports_pending", NULL, (uint64_t) info->reports_pending);
        }
}

static void put_steps(FILE *f, const State *s, const MetricsInfo *info) {
        if (s->n_steps == 0)
                return;

        put_header(f, "first_boot_agent_step_state", "gauge",
                   "The state of each first-boot step: 1 for the state it is in (pending, running, done, "
                   "failed, skipped), 0 for the others.");
        for (size_t i = 0; i < s->n_steps; i++) {
                const StepState *st = s->steps[i];
                MetricsStepState now = step_state_of(st->status);

                for (MetricsStepState k = 0; k < _METRICS_STEP_STATE_MAX; k++)
                        put_u64(f, "first_boot_agent_step_state",
                                (const char *const[]) { "step", st->name, "service", service_label(info, st->name),
                                                        "state", step_state_names[k], NULL },
                                k == now);
        }

        put_header(f, "first_boot_agent_step_duration_seconds", "gauge",
                   "How long the step's last run took (0 when it has not run).");
        for (size_t i = 0; i < s->n_steps; i++)
                put_ms_as_seconds(f, "first_boot_agent_step_duration_seconds",
                                  (const char *const[]) { "step", s->steps[i]->name,
                                                          "service", service_label(info, s->steps[i]->name), NULL },
                                  s->steps[i]->duration_ms);

        put_header(f, "first_boot_agent_step_attempts_total", "counter",
                   "Attempts (requests, checks) the step's last run made.");
        for (size_t i = 0; i < s->n_steps; i++)
                put_u64(f, "first_boot_agent_step_attempts_total",
                        (const char *const[]) { "step", s->steps[i]->name,
                                                "service", service_label(info, s->steps[i]->name), NULL },
                        s->steps[i]->attempts);

        put_header(f, "first_boot_agent_step_started_timestamp_seconds", "gauge",
                   "When the step's last run started, in seconds since the epoch (steps that ran only).");
        for (size_t i = 0; i < s->n_steps; i++)
                if (s->steps[i]->started > 0)
                        put_timestamp(f, "first_boot_agent_step_started_timestamp_seconds",
                                      (const char *const[]) { "step", s->steps[i]->name,
                                                              "service", service_label(info, s->steps[i]->name), NULL },
                                      s->steps[i]->started);
}

static uint64_t json_u64(json_t *o, const char *key) {
        json_t *v = json_object_get(o, key);

        return json_is_integer(v) && json_integer_value(v) > 0 ? (uint64_t) json_integer_value(v) : 0;
}

static const char *flash_verdict_of(json_t *entry) {
        const char *v = json_string_value(json_object_get(entry, "verdict"));

        for (size_t i = 0; v && i < ELEMENTSOF(flash_verdict_names); i++)
                if (streq(v, flash_verdict_names[i]))
                        return flash_verdict_names[i];
        return "failed";
}

/* One pass of the flash record's targets ("images", "firmware"); what = 0 bytes, 1 duration, 2
 * verdicts. */
static void put_flash_pass(FILE *f, json_t *flash, int what) {
        static const struct {
                const char *group, *kind;
        } groups[] = { { "firmware", "firmware" }, { "images", "image" } };

        for (size_t g = 0; g < ELEMENTSOF(groups); g++) {
                json_t *targets = json_object_get(flash, groups[g].group), *e;
                const char *name;

                if (!json_is_object(targets))
                        continue;
                json_object_foreach(targets, name, e) {
                        const char *verdict = flash_verdict_of(e);
                        const char *const labels[] = { "kind", groups[g].kind, "target", name, NULL };

                        if (what == 0)
                                put_u64(f, "first_boot_agent_flash_bytes_written_total", labels,
                                        json_object_get(e, "bytes_written") ? json_u64(e, "bytes_written") :
                                        streq(verdict, "written") ? json_u64(e, "bytes") : 0);
                        else if (what == 1 && json_object_get(e, "elapsed_ms"))
                                put_ms_as_seconds(f, "first_boot_agent_flash_duration_seconds", labels,
                                                  json_u64(e, "elapsed_ms"));
                        else if (what == 2)
                                for (size_t i = 0; i < ELEMENTSOF(flash_verdict_names); i++)
                                        put_u64(f, "first_boot_agent_flash_verdict",
                                                (const char *const[]) { "kind", groups[g].kind, "target", name,
                                                                        "verdict", flash_verdict_names[i], NULL },
                                                streq(verdict, flash_verdict_names[i]));
                }
        }
}

static bool flash_has_duration(json_t *flash) {
        json_t *e;
        const char *name;

        json_object_foreach(json_object_get(flash, "images"), name, e)
                if (json_object_get(e, "elapsed_ms"))
                        return true;
        return false;
}

static void put_flash(FILE *f, const State *s) {
        json_t *flash = s->flash;

        if (!json_is_object(flash) || (json_object_size(json_object_get(flash, "images")) == 0 &&
                                       json_object_size(json_object_get(flash, "firmware")) == 0))
                return;

        put_header(f, "first_boot_agent_flash_bytes_written_total", "counter",
                   "Bytes the installer wrote to each target (disk image or firmware) in its last run.");
        put_flash_pass(f, flash, 0);
        if (flash_has_duration(flash)) {
                put_header(f, "first_boot_agent_flash_duration_seconds", "gauge",
                           "How long writing each disk image took, download and verification included.");
                put_flash_pass(f, flash, 1);
        }
        put_header(f, "first_boot_agent_flash_verdict", "gauge",
                   "The outcome for each flash target: 1 for its verdict (running, written, current, "
                   "hash-mismatch, bad-signature, failed), 0 for the others.");
        put_flash_pass(f, flash, 2);
}

int metrics_format(const State *s, const MetricsInfo *info, char **ret_text, size_t *ret_size) {
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;
        FILE *f;
        int r;

        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;
        put_run(f, s, info);
        put_steps(f, s, info);
        put_flash(f, s);
        r = ferror(f) ? -ENOMEM : 0;
        if (fclose(f) != 0 || r < 0)
                return -ENOMEM;

        *ret_text = TAKE_PTR(buf);
        if (ret_size)
                *ret_size = size;
        return 0;
}

/* What a writer killed between creating its temporary file and the rename left behind
 * (write_file_atomic() names it METRICS_FILE_NAME plus "." and six characters). node_exporter
 * ignores it (not *.prom); the next write removes it. */
static void remove_temporaries(const char *dir) {
        _cleanup_closedir_ DIR *d = opendir(dir);
        struct dirent *de;

        while (d && (de = readdir(d)))
                if (startswith(de->d_name, METRICS_FILE_NAME ".") &&
                    strlen(de->d_name) == strlen(METRICS_FILE_NAME ".XXXXXX"))
                        (void) unlinkat(dirfd(d), de->d_name, 0);
}

int metrics_write(const char *dir, const State *s, const MetricsInfo *info, bool durable) {
        _cleanup_free_ char *path = NULL, *text = NULL;
        struct stat st;
        size_t size;
        int r;

        if (stat(dir, &st) < 0)
                return -errno;
        if (!S_ISDIR(st.st_mode))
                return -ENOTDIR;
        r = metrics_format(s, info, &text, &size);
        if (r < 0)
                return r;
        path = path_join(dir, METRICS_FILE_NAME);
        if (!path)
                return -ENOMEM;
        remove_temporaries(dir);
        return durable ? write_file_atomic(path, text, size, 0644) : write_file_atomic_nosync(path, text, size, 0644);
}
