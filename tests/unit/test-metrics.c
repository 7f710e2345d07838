/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"
#include "metrics.h"
#include "string-util.h"
#include "tap.h"

static void test_escape(void) {
        static const struct {
                const char *in, *out, *what;
        } cases[] = {
                { "node04", "node04", "plain text is kept" },
                { "", "", "empty stays empty" },
                { "a\\b", "a\\\\b", "backslash doubled" },
                { "say \"hi\"", "say \\\"hi\\\"", "double quotes escaped" },
                { "two\nlines", "two\\nlines", "newline as \\n" },
                { "tab\there\r", "tab?here?", "other control characters become '?'" },
                { "del\x7f", "del?", "DEL becomes '?'" },
                { "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x9a\x80", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x9a\x80",
                  "valid UTF-8 (2, 3 and 4 bytes) is kept" },
                { "bad\xff", "bad?", "a byte that is not UTF-8 becomes '?'" },
                { "\xc0\xaf", "??", "an overlong form becomes '?'" },
                { "\xed\xa0\x80", "???", "a surrogate becomes '?'" },
                { "cut\xe2\x82", "cut??", "a cut sequence becomes '?'" },
                { "\\\"\n", "\\\\\\\"\\n", "all three escapes in a row" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *e = metrics_escape_label(cases[i].in);

                is_str(e, cases[i].out, "escape: %s", cases[i].what);
        }
}

static const char *service_of(const char *step, void *userdata) {
        (void) userdata;
        if (startswith(step, "chainfire-"))
                return "chainfire";
        return NULL;
}

static StepState *add_step(State *s, const char *name, StepStatus status, uint64_t ms, unsigned attempts,
                           usec_t started) {
        StepState *st = state_step(s, name);

        st->status = status;
        st->duration_ms = ms;
        st->attempts = attempts;
        st->started = started;
        return st;
}

/* How many lines of text start with prefix. */
static unsigned count_lines(const char *text, const char *prefix) {
        unsigned n = 0;

        for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
                if (strncmp(p, prefix, strlen(prefix)) == 0)
                        n++;
        return n;
}

static bool has_line(const char *text, const char *line) {
        _cleanup_free_ char *l = NULL;

        if (asprintf(&l, "\n%s\n", line) < 0)
                return false;
        return strstr(text, l) != NULL;
}

static void test_format_firstboot(const char *dir) {
        _cleanup_(state_freep) State *s = NULL;
        _cleanup_free_ char *text = NULL;
        MetricsInfo info = {
                .version = "9.8.7",
                .cluster = "prod \"east\" \\ 1",
                .reports_pending = 2,
                .service_of = service_of,
        };
        size_t size = 0;

        state_new(dir, &s);
        s->mode = strdup("firstboot");
        s->node_id = strdup("node04");
        s->result = RUN_RESULT_FAILED;
        s->run_started = 1765362645 * USEC_PER_SEC + 250 * USEC_PER_MSEC;
        s->run_finished = 1765362700 * USEC_PER_SEC;
        add_step(s, "config", STEP_STATUS_DONE, 12, 1, 1765362645 * USEC_PER_SEC);
        add_step(s, "chainfire-join", STEP_STATUS_SKIPPED, 0, 0, 0);
        add_step(s, "flaredb-join", STEP_STATUS_FAILED, 5123, 5, 1765362650 * USEC_PER_SEC + 7 * USEC_PER_MSEC);
        add_step(s, "iam-setup", STEP_STATUS_DISABLED, 0, 0, 0);
        add_step(s, "health-report", STEP_STATUS_PENDING, 0, 0, 0);

        is_int(metrics_format(s, &info, &text, &size), 0, "format: a failed first boot");
        is_int(size, strlen(text), "format: the size is the text's");
        ok(size > 0 && text[size - 1] == '\n', "format: the text ends with a newline");

        ok(has_line(text, "first_boot_agent_run_info{mode=\"firstboot\",node_id=\"node04\","
                          "cluster=\"prod \\\"east\\\" \\\\ 1\",version=\"9.8.7\"} 1"),
           "run_info carries mode, node, the escaped cluster name and the version");
        ok(has_line(text, "first_boot_agent_run_state{state=\"failed\"} 1"), "run_state failed is 1");
        ok(has_line(text, "first_boot_agent_run_state{state=\"done\"} 0"), "run_state done is 0");
        ok(has_line(text, "first_boot_agent_run_started_timestamp_seconds 1765362645.250"),
           "the run's start, in seconds with milliseconds");
        is_int(count_lines(text, "first_boot_agent_first_boot_completed_timestamp_seconds"), 0,
               "no completion time for a failed run");
        ok(has_line(text, "first_boot_agent_reports_pending 2"), "reports_pending");

        /* One-hot: five series per step, exactly one of them 1. */
        is_int(count_lines(text, "first_boot_agent_step_state{"), 25, "five state series for each of five steps");
        is_int(count_lines(text, "first_boot_agent_step_state{step=\"flaredb-join\",service=\"\",state=\"failed\"} 1"),
               1, "flaredb-join: failed is 1");
        is_int(count_lines(text, "first_boot_agent_step_state{step=\"flaredb-join\",service=\"\",state=\"done\"} 0"),
               1, "flaredb-join: done is 0");
        ok(has_line(text, "first_boot_agent_step_state{step=\"chainfire-join\",service=\"chainfire\",state=\"done\"} 1"),
           "a step whose marker was there counts as done, labelled with its service");
        ok(has_line(text, "first_boot_agent_step_state{step=\"iam-setup\",service=\"\",state=\"skipped\"} 1"),
           "a step that does not apply counts as skipped");
        ok(has_line(text, "first_boot_agent_step_state{step=\"health-report\",service=\"\",state=\"pending\"} 1"),
           "a step not reached is pending");
        ok(strstr(text, "state=\"running\"} 1") == NULL, "no step is running");

        ok(has_line(text, "first_boot_agent_step_duration_seconds{step=\"flaredb-join\",service=\"\"} 5.123"),
           "duration in seconds, exactly");
        ok(has_line(text, "first_boot_agent_step_duration_seconds{step=\"config\",service=\"\"} 0.012"),
           "a short duration keeps its leading zeroes");
        ok(has_line(text, "first_boot_agent_step_attempts_total{step=\"flaredb-join\",service=\"\"} 5"), "attempts");
        ok(has_line(text, "first_boot_agent_step_started_timestamp_seconds{step=\"flaredb-join\",service=\"\"} "
                          "1765362650.007"), "a step's start time");
        is_int(count_lines(text, "first_boot_agent_step_started_timestamp_seconds{"), 2,
               "start times only for the steps that ran");

        ok(has_line(text, "# TYPE first_boot_agent_step_attempts_total counter"), "attempts is a counter");
        ok(has_line(text, "# TYPE first_boot_agent_step_state gauge"), "state is a gauge");
        is_int(count_lines(text, "# HELP "), count_lines(text, "# TYPE "), "a HELP line for every TYPE line");
        is_int(count_lines(text, "first_boot_agent_flash_"), 0, "no flash series without a flash record");

        /* Done: the completion time; unknown spool: no reports_pending. */
        text = mfree(text);
        s->result = RUN_RESULT_DONE;
        info.reports_pending = -1;
        info.cluster = NULL;
        is_int(metrics_format(s, &info, &text, NULL), 0, "format: a completed first boot");
        ok(has_line(text, "first_boot_agent_first_boot_completed_timestamp_seconds 1765362700.000"),
           "completion time");
        is_int(count_lines(text, "first_boot_agent_reports_pending"), 0, "unknown spool: no reports_pending");
        ok(strstr(text, "cluster=\"\"") != NULL, "no cluster name: an empty label");
}

static void test_format_flash(const char *dir) {
        _cleanup_(state_freep) State *s = NULL;
        _cleanup_free_ char *text = NULL;
        MetricsInfo info = { .version = "1", .reports_pending = -1 };

        state_new(dir, &s);
        s->mode = strdup("flash");
        s->node_id = strdup("installer01");
        s->result = RUN_RESULT_DONE;
        s->run_finished = 1765362700 * USEC_PER_SEC;
        s->flash = json_pack("{s:s, s:{s:{s:s, s:I, s:I}, s:{s:s, s:I}, s:{s:s}}, s:{s:{s:s, s:I}, s:{s:s, s:I}}}",
                             "result", "done",
                             "images",
                             "gold \"A\"", "verdict", "written", "bytes_written", (json_int_t) 67108864,
                             "elapsed_ms", (json_int_t) 1500,
                             "data", "verdict", "hash-mismatch", "bytes_written", (json_int_t) 10,
                             "odd", "verdict", "some text\nfrom elsewhere",
                             "firmware",
                             "spi", "verdict", "written", "bytes", (json_int_t) 4096,
                             "same", "verdict", "current", "bytes", (json_int_t) 4096);

        s->result = RUN_RESULT_RUNNING;
        info.node_id = "from-config";
        is_int(metrics_format(s, &info, &text, NULL), 0, "format: a flash, before the verb records its end");
        ok(has_line(text, "first_boot_agent_run_state{state=\"done\"} 1"),
           "a flash whose record says done is done, though the verb still records it running");
        ok(strstr(text, "node_id=\"from-config\"") != NULL, "the configuration's node_id goes before the state's");
        text = mfree(text);
        info.node_id = NULL;
        s->result = RUN_RESULT_DONE;
        is_int(metrics_format(s, &info, &text, NULL), 0, "format: a flash");
        is_int(count_lines(text, "first_boot_agent_step_"), 0, "no step series without steps");
        is_int(count_lines(text, "first_boot_agent_first_boot_completed_timestamp_seconds"), 0,
               "no first-boot completion for a flash");
        ok(has_line(text, "first_boot_agent_flash_bytes_written_total{kind=\"image\",target=\"gold \\\"A\\\"\"} 67108864"),
           "bytes written of an image (its name escaped)");
        ok(has_line(text, "first_boot_agent_flash_duration_seconds{kind=\"image\",target=\"gold \\\"A\\\"\"} 1.500"),
           "duration of an image");
        ok(has_line(text, "first_boot_agent_flash_bytes_written_total{kind=\"firmware\",target=\"spi\"} 4096"),
           "firmware written: its size");
        ok(has_line(text, "first_boot_agent_flash_bytes_written_total{kind=\"firmware\",target=\"same\"} 0"),
           "firmware already current: nothing written");
        ok(has_line(text, "first_boot_agent_flash_verdict{kind=\"image\",target=\"data\",verdict=\"hash-mismatch\"} 1"),
           "verdict hash-mismatch");
        ok(has_line(text, "first_boot_agent_flash_verdict{kind=\"firmware\",target=\"same\",verdict=\"current\"} 1"),
           "verdict current");
        ok(has_line(text, "first_boot_agent_flash_verdict{kind=\"image\",target=\"odd\",verdict=\"failed\"} 1"),
           "an unknown verdict counts as failed");
        ok(strstr(text, "elsewhere") == NULL, "an unknown verdict's text never becomes a label");
        is_int(count_lines(text, "first_boot_agent_flash_verdict{"), 5 * 6, "six verdict series per target");
        is_int(count_lines(text, "first_boot_agent_flash_duration_seconds{"), 1, "durations only where recorded");
}

static unsigned count_entries(const char *dir) {
        _cleanup_closedir_ DIR *d = opendir(dir);
        struct dirent *de;
        unsigned n = 0;

        while (d && (de = readdir(d)))
                if (de->d_name[0] != '.')
                        n++;
        return n;
}

static void test_write(const char *dir) {
        _cleanup_(state_freep) State *s = NULL;
        _cleanup_free_ char *mdir = path_join(dir, "textfile"), *missing = path_join(dir, "missing"),
                           *path = NULL, *text = NULL, *expected = NULL;
        MetricsInfo info = { .version = "1", .reports_pending = 0 };
        struct stat st;

        state_new(dir, &s);
        s->mode = strdup("firstboot");
        s->node_id = strdup("node04");
        add_step(s, "config", STEP_STATUS_RUNNING, 0, 0, USEC_PER_SEC);

        is_int(metrics_write(missing, s, &info, false), -ENOENT, "write: a missing directory gives -ENOENT");
        ok(access(missing, F_OK) < 0, "write: the missing directory is not created");

        mkdir(mdir, 0755);
        is_int(metrics_write(mdir, s, &info, false), 0, "write: into the directory");
        path = path_join(mdir, METRICS_FILE_NAME);
        ok(stat(path, &st) == 0 && (st.st_mode & 07777) == 0644, "write: first_boot_agent.prom, mode 0644");
        read_full_file(path, 1 << 20, &text, NULL);
        metrics_format(s, &info, &expected, NULL);
        is_str(text, expected, "write: the file holds the formatted text");
        is_int(count_entries(mdir), 1, "write: no temporary file left behind");

        s->steps[0]->status = STEP_STATUS_DONE;
        is_int(metrics_write(mdir, s, &info, true), 0, "write: again, synced, replacing the file");
        text = mfree(text);
        read_full_file(path, 1 << 20, &text, NULL);
        ok(text && strstr(text, "step=\"config\",service=\"\",state=\"done\"} 1"), "write: the new content");
        is_int(count_entries(mdir), 1, "write: still one file");

        {
                _cleanup_free_ char *stale = path_join(mdir, METRICS_FILE_NAME ".a1B2c3"),
                                    *other = path_join(mdir, METRICS_FILE_NAME ".keep-me");

                write_file_atomic(stale, "half", 4, 0600);
                write_file_atomic(other, "x", 1, 0600);
                is_int(metrics_write(mdir, s, &info, false), 0, "write: with a killed writer's temporary file there");
                ok(access(stale, F_OK) < 0, "write: the killed writer's temporary file is removed");
                ok(access(other, F_OK) == 0, "write: a file of another name is left alone");
                unlink(other);
        }

        chmod(mdir, 0777);
        is_int(metrics_write(mdir, s, &info, false), -EPERM, "write: a directory others may write to is refused");
        chmod(mdir, 0755);

        unlink(path);
        ok(write_file_atomic(path, "", 0, 0644) == 0 && metrics_write(path, s, &info, false) == -ENOTDIR,
           "write: a file where the directory should be gives -ENOTDIR");
        unlink(path);
        rmdir(mdir);
}

/* Label values with every escape and a replaced byte, through a real parser: Debian's promtool
 * (package prometheus; node_exporter uses the same parser) must accept the file without a remark. */
static void test_promtool(const char *dir) {
        _cleanup_(state_freep) State *s = NULL;
        _cleanup_free_ char *path = NULL, *outp = NULL, *cmd = NULL, *out = NULL;
        MetricsInfo info = {
                .version = "1.2.3",
                .node_id = "two\nlines",
                .cluster = "say \"hi\" \\ caf\xc3\xa9 \xff\t",
                .reports_pending = 0,
                .service_of = service_of,
        };
        size_t size = 0;
        int status;

        if (system("command -v promtool >/dev/null 2>&1") != 0) {
                skip("promtool not installed (Debian package prometheus)");
                skip("promtool not installed (Debian package prometheus)");
                return;
        }
        state_new(dir, &s);
        s->mode = strdup("flash");
        s->result = RUN_RESULT_FAILED;
        add_step(s, "chainfire-join", STEP_STATUS_FAILED, 10, 2, 1765362645 * USEC_PER_SEC);
        s->flash = json_pack("{s:s, s:{s:{s:s, s:I, s:I}}}", "result", "failed", "images",
                             "gold \"A\"\n\\ 1", "verdict", "hash-mismatch", "bytes_written", (json_int_t) 10,
                             "elapsed_ms", (json_int_t) 20);
        is_int(metrics_write(dir, s, &info, false), 0, "promtool: the file with labels to escape is written");
        path = path_join(dir, METRICS_FILE_NAME);
        outp = path_join(dir, "promtool.out");
        if (!path || !outp || asprintf(&cmd, "promtool check metrics <'%s' >'%s' 2>&1", path, outp) < 0)
                return;
        status = system(cmd);
        if (read_full_file(outp, 65536, &out, &size) < 0)
                out = NULL;
        ok(out && status == 0 && size == 0, "promtool check metrics accepts it, without a remark");
        /* Its remarks as TAP comments, one line each. */
        for (char *l = out, *e; l && *l; l = e ? e + 1 : NULL) {
                e = strchr(l, '\n');
                printf("# promtool: %.*s\n", e ? (int) (e - l) : (int) strlen(l), l);
        }
        (void) unlink(outp);
        (void) unlink(path);
}

int main(void) {
        char dir[] = "/tmp/test-metrics.XXXXXX";

        if (!mkdtemp(dir))
                return 1;
        test_escape();
        test_format_firstboot(dir);
        test_format_flash(dir);
        test_write(dir);
        test_promtool(dir);
        rmdir(dir);
        return tap_done();
}
