/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "exit-code.h"
#include "state.h"
#include "status-view.h"
#include "step.h"
#include "string-util.h"
#include "verbs.h"

/* ---- text ---- */

static const char *format_local(usec_t t, char buf[static 40]) {
        time_t sec = (time_t) (t / USEC_PER_SEC);
        struct tm tm;
        size_t n;

        if (t == 0 || !localtime_r(&sec, &tm) || (n = strftime(buf, 40, "%Y-%m-%dT%H:%M:%S%z", &tm)) < 5)
                return "-";
        /* +0100 → +01:00 */
        memmove(buf + n - 1, buf + n - 2, 3);
        buf[n - 2] = ':';
        return buf;
}

static const char *format_duration(uint64_t ms, char buf[static 32]) {
        if (ms < 1000)
                snprintf(buf, 32, "%" PRIu64 "ms", ms);
        else if (ms < 60 * 1000)
                snprintf(buf, 32, "%" PRIu64 ".%" PRIu64 "s", ms / 1000, ms % 1000 / 100);
        else if (ms < 3600 * 1000)
                snprintf(buf, 32, "%" PRIu64 "m%02" PRIu64 "s", ms / 60000, ms / 1000 % 60);
        else
                snprintf(buf, 32, "%" PRIu64 "h%02" PRIu64 "m", ms / 3600000, ms / 60000 % 60);
        return buf;
}

static unsigned terminal_columns(void) {
        struct winsize ws;

        if (!isatty(STDOUT_FILENO) || ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0 || ws.ws_col == 0)
                return 0;
        return ws.ws_col;
}

/* Strings that may have a password in them ("https://user:pw@host/") lose that part. */
static void print_sanitized(const char *s) {
        const char *scheme = strstr(s, "://");
        const char *at, *slash;

        if (scheme) {
                at = strchr(scheme + 3, '@');
                slash = strchr(scheme + 3, '/');
                if (at && (!slash || at < slash)) {
                        printf("%.*s[redacted]%s", (int) (scheme + 3 - s), s, at);
                        return;
                }
        }
        fputs(s, stdout);
}

static bool key_is_secret(const char *key) {
        static const char *const words[] = { "password", "token", "secret", "passphrase", "private", "auth" };

        for (size_t i = 0; i < ELEMENTSOF(words); i++)
                if (strcasestr(key, words[i]))
                        return true;
        return false;
}

/* The scalar members of a record as ", key=value"; nested ones and secret-looking keys are left out. */
static void print_scalars(json_t *o) {
        const char *key;
        json_t *val;
        bool first = true;

        json_object_foreach(o, key, val) {
                if (key_is_secret(key) || json_is_object(val) || json_is_array(val) || json_is_null(val) ||
                    (json_is_string(val) && json_string_length(val) == 0))
                        continue;
                printf("%s%s=", first ? " " : ", ", key);
                first = false;
                if (json_is_string(val))
                        print_sanitized(json_string_value(val));
                else if (json_is_integer(val))
                        printf("%" JSON_INTEGER_FORMAT, json_integer_value(val));
                else if (json_is_real(val))
                        printf("%.1f", json_real_value(val));
                else
                        printf("%s", json_is_true(val) ? "true" : "false");
        }
}

static void print_flash_entry(const char *group, const char *name, json_t *t) {
        printf("  %s%s%s:", group ? group : "", group ? "/" : "", name);
        if (json_is_object(t))
                print_scalars(t);
        printf("\n");
}

static bool has_object_members(json_t *o) {
        const char *key;
        json_t *v;

        json_object_foreach(o, key, v)
                if (json_is_object(v))
                        return true;
        return false;
}

/* The flasher's record is its own: its scalar members make the first line, then one line per
 * entry of each group ({"images":{"gold":{…}},"firmware":{…}}), or per element of an array. */
static void print_flash(json_t *flash) {
        const char *key, *name;
        json_t *group, *t;
        size_t i;

        printf("\nFlash:");
        if (json_is_object(flash))
                print_scalars(flash);
        printf("\n");
        json_object_foreach(flash, key, group) {
                if (json_is_array(group))
                        json_array_foreach(group, i, t) {
                                name = json_string_value(json_object_get(t, "name"));
                                if (!name)
                                        name = json_string_value(json_object_get(t, "device"));
                                print_flash_entry(key, name ? name : "?", t);
                        }
                else if (json_is_object(group) && has_object_members(group))
                        json_object_foreach(group, name, t)
                                print_flash_entry(key, name, t);
                else if (json_is_object(group) && json_object_size(group) > 0)
                        print_flash_entry(NULL, key, group);
        }
}

static void print_header(const StatusView *v) {
        const State *s = v->state;
        char t1[40];

        printf("Node: %s   Mode: %s   State: %s\n",
               s->node_id ? s->node_id : v->config && v->config->node_id ? v->config->node_id : "-",
               s->mode ? s->mode : "-", v->dir);
        if (v->running)
                printf("Run: in progress (pid %d), started %s\n", (int) s->pid, format_local(s->run_started, t1));
        else if (s->result == RUN_RESULT_RUNNING)
                printf("Run: interrupted (pid %d is gone), started %s\n", (int) s->pid,
                       format_local(s->run_started, t1));
        else if (s->result == RUN_RESULT_NONE)
                printf("Run: none recorded\n");
        else
                printf("Run: %s (exit %d), finished %s\n", run_result_to_string(s->result), s->exit_code,
                       format_local(s->run_finished ? s->run_finished : s->run_started, t1));
        if (v->done)
                printf("First boot: complete since %s\n", format_local(v->done_time, t1));
        else
                printf("First boot: %s\n", v->exit_code == EXIT_PENDING ? "not finished" : "stopped on a failure");
        if (v->state_corrupt)
                printf("Note: the state file is corrupt; the next run starts a fresh one. Markers are intact.\n");
        if (v->reports_waiting > 0)
                printf("Reports: %zu waiting to be delivered, the oldest (%s) since %s; sent on the next start\n",
                       v->reports_waiting, strna(v->oldest_report), format_local(v->oldest_report_time, t1));
}

static void print_table(const StatusView *v) {
        static const char *const head[] = { "STEP", "STATE", "WHEN", "DURATION", "ATTEMPTS" };
        _cleanup_free_ char (*cells)[5][96] = calloc(v->n_steps + 1, sizeof(*cells));
        size_t w[5];
        unsigned cols = terminal_columns();

        if (!cells) {
                fprintf(stderr, "Out of memory.\n");
                return;
        }
        for (size_t c = 0; c < 5; c++)
                w[c] = strlen(head[c]);
        for (size_t i = 0; i < v->n_steps; i++) {
                const StepView *sv = &v->steps[i];
                const StepState *rec = sv->record;
                bool from_record = rec && sv->status != STEP_STATUS_DISABLED && !strstr(sv->label, "marker") &&
                                   !streq(sv->label, "pending");
                char t[40], d[32];

                snprintf(cells[i][0], 96, "%s", sv->step->name);
                snprintf(cells[i][1], 96, "%.95s", sv->label);
                snprintf(cells[i][2], 96, "%s", sv->when ? format_local(sv->when, t) : "-");
                snprintf(cells[i][3], 96, "%s",
                         from_record && rec->finished ? format_duration(rec->duration_ms, d) : "-");
                if (from_record && rec->attempts > 0)
                        snprintf(cells[i][4], 96, "%u", rec->attempts);
                else
                        snprintf(cells[i][4], 96, "-");
                for (size_t c = 0; c < 5; c++)
                        w[c] = MAX(w[c], strlen(cells[i][c]));
        }

        size_t offset = 0;
        for (size_t c = 0; c < 5; c++)
                offset += w[c] + 2;

        printf("\n");
        for (size_t c = 0; c < 5; c++)
                printf("%-*s  ", (int) w[c], head[c]);
        printf("LAST ERROR\n");
        for (size_t i = 0; i < v->n_steps; i++) {
                const StepView *sv = &v->steps[i];
                _cleanup_free_ char *e = strdup(sv->record && sv->status != STEP_STATUS_DISABLED &&
                                                sv->record->last_error ? sv->record->last_error : "-");
                size_t len;

                /* The error may quote a server: nothing in it may act on the terminal. */
                if (!e)
                        continue;
                string_make_printable(e);
                len = strlen(e);

                for (size_t c = 0; c < 5; c++)
                        printf("%-*s  ", (int) w[c], cells[i][c]);
                if (cols > offset + 4 && len > cols - offset - 1)
                        printf("%.*s...\n", (int) (cols - offset - 4), e);
                else
                        printf("%s\n", e);
        }
}

static void print_text(const StatusView *v) {
        print_header(v);
        print_table(v);
        if (v->state->flash)
                print_flash(v->state->flash);
}

/* ---- JSON ---- */

static json_t *time_json(usec_t t) {
        char buf[ISO8601_MAX];

        return t && iso8601_format(t, buf) >= 0 ? json_string(buf) : json_null();
}

static int print_json(const StatusView *v) {
        _cleanup_(json_decrefp) json_t *root = NULL;
        json_t *steps;
        static const char *const summary[] = {
                [EXIT_OK] = "done", [EXIT_STEP_FAILED] = "failed", [EXIT_STEP_REFUSED] = "refused",
                [EXIT_PENDING] = "pending",
        };

        root = state_to_json(v->state);
        steps = json_object();
        if (!root || !steps)
                return -ENOMEM;
        if (json_object_set_new(root, "steps", steps) < 0)
                return -ENOMEM;

        for (size_t i = 0; i < v->n_steps; i++) {
                const StepView *sv = &v->steps[i];
                const StepState *rec = sv->record;
                json_t *j = json_pack("{s:s, s:s, s:o, s:o, s:o, s:I, s:I, s:s?, s:s?, s:s?, s:o}",
                                      "status", step_status_to_string(sv->status),
                                      "label", sv->label,
                                      "when", time_json(sv->when),
                                      "started", time_json(rec ? rec->started : 0),
                                      "finished", time_json(rec ? rec->finished : 0),
                                      "duration_ms", (json_int_t) (rec ? rec->duration_ms : 0),
                                      "attempts", (json_int_t) (rec ? rec->attempts : 0),
                                      "last_error", rec ? rec->last_error : NULL,
                                      "detail", rec ? rec->detail : NULL,
                                      "marker", sv->marker,
                                      "marker_time", time_json(sv->marker_time));
                if (!j || json_object_set_new(steps, sv->step->name, j) < 0)
                        return -ENOMEM;
        }

        if (json_object_set_new(root, "state_dir", json_string(v->dir)) < 0 ||
            json_object_set_new(root, "first_boot_done", json_boolean(v->done)) < 0 ||
            json_object_set_new(root, "done_time", time_json(v->done ? v->done_time : 0)) < 0 ||
            json_object_set_new(root, "in_progress", json_boolean(v->running)) < 0 ||
            json_object_set_new(root, "reports_waiting", json_pack("{s:I, s:s?, s:o}", "count",
                                (json_int_t) v->reports_waiting, "oldest_event", v->oldest_report,
                                "oldest_time", time_json(v->reports_waiting > 0 ? v->oldest_report_time : 0))) < 0 ||
            json_object_set_new(root, "state_corrupt", json_boolean(v->state_corrupt)) < 0 ||
            json_object_set_new(root, "status", json_string(v->running ? "running" : summary[v->exit_code])) < 0)
                return -ENOMEM;

        if (json_dumpf(root, stdout, JSON_INDENT(2)) < 0)
                return -EIO;
        printf("\n");
        return 0;
}

/* ---- --wait ---- */

static void wait_for_change(const char *dir, int *ifd, usec_t max) {
        int ms = (int) MIN(max / USEC_PER_MSEC + 1, 1000);

        if (*ifd < 0) {
                *ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
                if (*ifd >= 0 && inotify_add_watch(*ifd, dir, IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE |
                                                   IN_DELETE | IN_MOVED_FROM) < 0) {
                        /* No directory yet: poll, and try again next time. */
                        close(*ifd);
                        *ifd = -1;
                }
        }
        if (*ifd < 0) {
                sleep_usec(MIN(max, 200 * USEC_PER_MSEC));
                return;
        }

        struct pollfd p = { .fd = *ifd, .events = POLLIN };
        if (poll(&p, 1, ms) > 0) {
                char buf[4096];

                while (read(*ifd, buf, sizeof(buf)) > 0)
                        ;
        }
}

static int parse_timeout(const char *s, usec_t *ret) {
        char *end;
        double d;

        errno = 0;
        d = strtod(s, &end);
        if (errno != 0 || end == s || *end != '\0' || !isfinite(d) || d < 0 || d > 1e9)
                return -EINVAL;
        *ret = (usec_t) (d * USEC_PER_SEC);
        return 0;
}

static void help(void) {
        printf("Usage: first-boot-agent [OPTIONS] status [--json] [--wait [--timeout S]]\n\n"
               "Shows each step's state, when it finished (or started), how long it took, its attempts\n"
               "and its last error, from the state file and the marker files. A marker without a\n"
               "record (made by hand) shows as \"done (marker)\". Works without a configuration; with\n"
               "one, disabled steps are named as such.\n\n"
               "Options:\n"
               "      --json         print the state as JSON\n"
               "      --wait         wait until first boot is done or has failed\n"
               "      --timeout S    give up waiting after S seconds (default: never)\n"
               "  -h, --help         show this help\n\n"
               "Exit codes: 0 every step done, 4 the last run failed, 5 it was refused by a server,\n"
               "7 not finished or a run is in progress, 8 --wait timed out.\n");
}

int verb_status(int argc, char *argv[], const GlobalOptions *g) {
        enum { ARG_JSON = 0x100, ARG_WAIT, ARG_TIMEOUT };
        static const struct option options[] = {
                { "json",    no_argument,       NULL, ARG_JSON },
                { "wait",    no_argument,       NULL, ARG_WAIT },
                { "timeout", required_argument, NULL, ARG_TIMEOUT },
                { "help",    no_argument,       NULL, 'h' },
                {}
        };
        _cleanup_(config_freep) Config *config = NULL;
        _cleanup_(status_view_done) StatusView v = {};
        _cleanup_close_ int ifd = -1;
        bool json = false, wait = false, timed_out = false;
        usec_t timeout = USEC_INFINITY, deadline = USEC_INFINITY;
        int c, r;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case ARG_JSON:
                        json = true;
                        break;
                case ARG_WAIT:
                        wait = true;
                        break;
                case ARG_TIMEOUT:
                        if (parse_timeout(optarg, &timeout) < 0) {
                                fprintf(stderr, "Invalid --timeout '%s': expected a number of seconds.\n", optarg);
                                return EXIT_USAGE;
                        }
                        break;
                case 'h':
                        help();
                        return EXIT_OK;
                default:
                        fprintf(stderr, "Try 'first-boot-agent status --help'.\n");
                        return EXIT_USAGE;
                }
        r = verbs_no_operands("status", argc, argv);
        if (r != EXIT_OK)
                return r;
        if (timeout != USEC_INFINITY && !wait) {
                fprintf(stderr, "--timeout applies to --wait only. Try 'first-boot-agent status --wait --timeout %s'.\n",
                        "S");
                return EXIT_USAGE;
        }

        /* The config only names the disabled steps and may set the state dir; without it
         * the markers and the state file still tell the story. */
        (void) verbs_config_load_quiet(g, &config);

        if (wait && timeout != USEC_INFINITY)
                deadline = now_monotonic() + timeout;

        for (;;) {
                r = status_view_build(g, config, &v);
                if (r < 0) {
                        fprintf(stderr, "Failed to read the state: %s\n", strerror(-r));
                        return EXIT_INTERNAL;
                }
                if (!wait || v.exit_code != EXIT_PENDING)
                        break;
                usec_t now = now_monotonic();
                if (now >= deadline) {
                        timed_out = true;
                        break;
                }
                wait_for_change(v.dir, &ifd, deadline - now);
        }

        if (json) {
                r = print_json(&v);
                if (r < 0) {
                        fprintf(stderr, "Failed to print the state as JSON: %s\n", strerror(-r));
                        return EXIT_INTERNAL;
                }
        } else
                print_text(&v);
        fflush(stdout);

        if (timed_out) {
                fprintf(stderr, "Timed out waiting for first boot to finish.\n");
                return EXIT_TIMEOUT;
        }
        return v.exit_code;
}
