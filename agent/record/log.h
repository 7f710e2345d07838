/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdlib.h>
#include <syslog.h>

#include "macro.h"
#include "message-id.h"
#include "string-util.h"

/* Every event is one record: a priority, an optional MESSAGE_ID, extra fields and a message.
 * Under journald (stderr is the journal stream, or the target is forced) records go through
 * sd_journal_send() with their fields; elsewhere each record is one JSON line on stderr:
 *   {"time":"…","priority":6,"message_id":"…","message":"…","STEP":"health-wait",…}
 * NODE_ID and the current STEP are added to every record once set. */

typedef enum LogTarget {
        LOG_TARGET_AUTO,
        LOG_TARGET_JOURNAL,
        LOG_TARGET_JSON,
        LOG_TARGET_CONSOLE,             /* "12:00:01 info    message": for people at a terminal */
        LOG_TARGET_NULL,
} LogTarget;

void log_setup(LogTarget target);
LogTarget log_target_from_string(const char *s); /* -1 when unknown */
void log_set_max_level(int priority);
void log_set_node_id(const char *node_id);
void log_set_step(const char *step);
/* Every message and field goes through secret_redact() (secret.h) before it is written: a
 * secret registered there never reaches a record, raw or escaped. */

/* fields: NULL-terminated list of key, value pairs; a NULL value skips that field.
 * Returns -abs(error) so that "return log_event_errno(r, …);" works; error 0 returns 0. */
int log_eventv(int priority, int error, const char *message_id, const char *const *fields,
               const char *format, ...) _printf_(5, 6);

#define LOG_FIELDS(...) ((const char *const[]) { __VA_ARGS__, NULL })
#define NO_FIELDS ((const char *const[]) { NULL })

#define log_event(prio, mid, fields, ...) log_eventv((prio), 0, (mid), (fields), __VA_ARGS__)
#define log_event_errno(prio, err, mid, fields, ...) log_eventv((prio), (err), (mid), (fields), __VA_ARGS__)

#define log_debug(...) log_eventv(LOG_DEBUG, 0, NULL, NO_FIELDS, __VA_ARGS__)
#define log_info(...) log_eventv(LOG_INFO, 0, NULL, NO_FIELDS, __VA_ARGS__)
#define log_notice(...) log_eventv(LOG_NOTICE, 0, NULL, NO_FIELDS, __VA_ARGS__)
#define log_warning(...) log_eventv(LOG_WARNING, 0, NULL, NO_FIELDS, __VA_ARGS__)
#define log_error(...) log_eventv(LOG_ERR, 0, NULL, NO_FIELDS, __VA_ARGS__)
#define log_error_errno(err, ...) log_eventv(LOG_ERR, (err), NULL, NO_FIELDS, __VA_ARGS__)
#define log_warning_errno(err, ...) log_eventv(LOG_WARNING, (err), NULL, NO_FIELDS, __VA_ARGS__)
#define log_oom() log_eventv(LOG_ERR, ENOMEM, NULL, NO_FIELDS, "Out of memory.")
