/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

#include "cleanup.h"
#include "log.h"
#include "secret.h"
#include "seed-unit.h"
#include "string-util.h"
#include "strv.h"
#include "time-util.h"

#define MAX_FIELDS 24

static LogTarget log_target = LOG_TARGET_AUTO;
static int log_max_level = LOG_INFO;
static char *log_node_id;
static char *log_step;

static bool stderr_is_journal(void) {
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;

        if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
                return false;
        if (fstat(STDERR_FILENO, &st) < 0)
                return false;
        return (unsigned long long) st.st_dev == dev && (unsigned long long) st.st_ino == ino;
}

void log_setup(LogTarget target) {
        const char *e;

        e = getenv("FIRST_BOOT_AGENT_LOG_TARGET");
        if (target == LOG_TARGET_AUTO && e && log_target_from_string(e) >= 0)
                target = log_target_from_string(e);
        if (target == LOG_TARGET_AUTO)
                target = stderr_is_journal() ? LOG_TARGET_JOURNAL : LOG_TARGET_JSON;
        log_target = target;

        e = getenv("FIRST_BOOT_AGENT_LOG_LEVEL");
        if (e && streq(e, "debug"))
                log_max_level = LOG_DEBUG;
}

LogTarget log_target_from_string(const char *s) {
        if (streq(s, "auto"))
                return LOG_TARGET_AUTO;
        if (streq(s, "journal"))
                return LOG_TARGET_JOURNAL;
        if (streq(s, "json"))
                return LOG_TARGET_JSON;
        if (streq(s, "console"))
                return LOG_TARGET_CONSOLE;
        if (streq(s, "null"))
                return LOG_TARGET_NULL;
        return (LogTarget) -1;
}

void log_set_max_level(int priority) {
        log_max_level = priority;
}

static void set_string(char **s, const char *v) {
        free(*s);
        *s = v ? strdup(v) : NULL;
}

void log_set_node_id(const char *node_id) {
        set_string(&log_node_id, node_id);
}

void log_set_step(const char *step) {
        set_string(&log_step, step);
}

/* Returns a copy of s with every registered secret replaced (secret.h). */
static char *redact(const char *s) {
        return secret_redact(s);
}

static void json_string(FILE *f, const char *s) {
        fputc('"', f);
        string_json_escape(f, s, true);
        fputc('"', f);
}

typedef struct Field {
        const char *key;
        char *value;            /* redacted copy */
} Field;

static void emit_json(int priority, const char *message_id, const char *message,
                      const Field *fields, size_t n) {
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;
        char ts[ISO8601_MAX];
        FILE *f;

        /* Build the line in memory and write it with one call, so that lines never interleave. */
        f = open_memstream(&buf, &size);
        if (!f)
                return;
        (void) iso8601_format(now_realtime(), ts);
        fprintf(f, "{\"time\":\"%s\",\"priority\":%d", ts, priority);
        if (message_id) {
                fputs(",\"message_id\":", f);
                json_string(f, message_id);
        }
        fputs(",\"message\":", f);
        json_string(f, message);
        for (size_t i = 0; i < n; i++) {
                fputc(',', f);
                json_string(f, fields[i].key);
                fputc(':', f);
                json_string(f, fields[i].value);
        }
        fputs("}\n", f);
        if (fclose(f) != 0)
                return;
        (void) !write(STDERR_FILENO, buf, size);
}

static void emit_console(int priority, const char *message) {
        static const char *const names[] = { "emerg", "alert", "crit", "error",
                                              "warning", "notice", "info", "debug" };
        _cleanup_free_ char *line = NULL, *shown = strdup(message);
        char ts[ISO8601_MAX];
        int n;

        if (!shown)
                return;
        /* Messages quote servers: nothing in them may act on the terminal. */
        string_make_printable(shown);
        (void) iso8601_format(now_realtime(), ts);
        n = asprintf(&line, "%.8s %-7s %s\n", ts + 11, names[priority & 7], shown);
        if (n > 0)
                (void) !write(STDERR_FILENO, line, (size_t) n);
}

/* The value of a field of the record, or NULL. */
static const char *field_value(const Field *fields, size_t n, const char *key) {
        for (size_t i = 0; i < n; i++)
                if (streq(fields[i].key, key))
                        return fields[i].value;
        return NULL;
}

static void emit_journal(int priority, const char *message_id, const char *message,
                         const Field *fields, size_t n) {
        struct iovec iov[MAX_FIELDS + 5];
        _cleanup_free_ char *m = NULL, *p = NULL, *id = NULL, *unit = NULL;
        const char *seed;
        char *kv[MAX_FIELDS] = {};
        size_t k = 0;

        if (asprintf(&m, "MESSAGE=%s", message) < 0 || asprintf(&p, "PRIORITY=%d", priority) < 0)
                return;
        iov[k++] = (struct iovec) { m, strlen(m) };
        iov[k++] = (struct iovec) { p, strlen(p) };
        iov[k++] = (struct iovec) { (char *) "SYSLOG_IDENTIFIER=first-boot-agent",
                                    strlen("SYSLOG_IDENTIFIER=first-boot-agent") };
        if (message_id) {
                if (asprintf(&id, "MESSAGE_ID=%s", message_id) < 0)
                        return;
                iov[k++] = (struct iovec) { id, strlen(id) };
        }
        /* "journalctl -u chainfire-cluster-join" finds the records about chainfire. */
        seed = seed_unit_for(field_value(fields, n, "STEP"), field_value(fields, n, "SERVICE"),
                             field_value(fields, n, "MARKER"));
        if (seed) {
                if (asprintf(&unit, "OBJECT_SYSTEMD_UNIT=%s", seed) < 0)
                        return;
                iov[k++] = (struct iovec) { unit, strlen(unit) };
        }
        for (size_t i = 0; i < n; i++) {
                if (asprintf(&kv[i], "%s=%s", fields[i].key, fields[i].value) < 0)
                        goto finish;
                iov[k++] = (struct iovec) { kv[i], strlen(kv[i]) };
        }
        (void) sd_journal_sendv(iov, (int) k);
finish:
        for (size_t i = 0; i < n; i++)
                free(kv[i]);
}

int log_eventv(int priority, int error, const char *message_id, const char *const *fields,
               const char *format, ...) {
        _cleanup_free_ char *raw = NULL, *message = NULL;
        Field f[MAX_FIELDS];
        size_t n = 0;
        int saved_errno = errno;
        va_list ap;

        if (error < 0)
                error = -error;
        if (priority > log_max_level || log_target == LOG_TARGET_NULL)
                goto finish;

        /* %m in the format means the error passed in, as in systemd. */
        errno = error;
        va_start(ap, format);
        if (vasprintf(&raw, format, ap) < 0)
                raw = NULL;
        va_end(ap);
        if (!raw)
                goto finish;
        message = redact(raw);
        if (!message)
                goto finish;

        if (log_node_id)
                f[n++] = (Field) { "NODE_ID", redact(log_node_id) };
        if (log_step)
                f[n++] = (Field) { "STEP", redact(log_step) };
        for (const char *const *p = fields; p && p[0] && n < MAX_FIELDS - 1; p += 2) {
                if (!p[1])
                        continue;
                /* An explicit STEP= overrides the current step. */
                if (streq(p[0], "STEP") && log_step) {
                        free(f[1 - !log_node_id].value);
                        f[1 - !log_node_id].value = redact(p[1]);
                        continue;
                }
                f[n++] = (Field) { p[0], redact(p[1]) };
        }
        if (error != 0 && n < MAX_FIELDS)
                f[n++] = (Field) { "ERRNO", strdup(FMT_INT(error)) };

        /* A field whose copy failed (out of memory) is dropped rather than half written. */
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
                if (f[i].value)
                        f[m++] = f[i];
        n = m;

        if (log_target == LOG_TARGET_JOURNAL)
                emit_journal(priority, message_id, message, f, n);
        else if (log_target == LOG_TARGET_CONSOLE)
                emit_console(priority, message);
        else
                emit_json(priority, message_id, message, f, n);

        for (size_t i = 0; i < n; i++)
                free(f[i].value);
finish:
        errno = saved_errno;
        return error == 0 ? 0 : -error;
}
