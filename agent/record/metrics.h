/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "state.h"

/* The node_exporter textfile: the state of a run as Prometheus metrics, in the text exposition
 * format, written atomically as DIR/first_boot_agent.prom (a temporary name without the .prom
 * suffix, then rename), so a scrape sees the old file or the new one, never half of one; the
 * temporary file of a writer killed before its rename is removed by the next write.
 *
 *   first_boot_agent_run_info{mode,node_id,cluster,version} 1
 *   first_boot_agent_step_state{step,service,state} one-hot over pending/running/done/failed/skipped
 *   first_boot_agent_step_duration_seconds{step,service}, _step_attempts_total{step,service},
 *   _step_started_timestamp_seconds{step,service}
 *   first_boot_agent_first_boot_completed_timestamp_seconds, _reports_pending
 *   first_boot_agent_flash_bytes_written_total{kind,target}, _flash_duration_seconds{kind,target},
 *   _flash_verdict{kind,target,verdict}
 *
 * The writer knows no step: it writes the steps the state holds, labelled by the service the
 * caller names for each. Label values come from the state and the configuration only (names,
 * fixed words), never a server's text; they are escaped as the format asks (backslash, double
 * quote, newline), other control characters and bytes that are not UTF-8 become '?'. Never logs. */

#define METRICS_FILE_NAME "first_boot_agent.prom"

typedef struct MetricsInfo {
        const char *version;            /* the agent's version */
        const char *node_id;            /* from the configuration; NULL: the state's */
        const char *cluster;            /* cluster_name, or NULL */
        long reports_pending;           /* reports waiting in the spool; < 0: unknown, not written */
        /* The service a step belongs to (the "service" label), or NULL for a node-wide step. */
        const char *(*service_of)(const char *step, void *userdata);
        void *userdata;
} MetricsInfo;

/* The file's text. */
int metrics_format(const State *s, const MetricsInfo *info, char **ret_text, size_t *ret_size);
/* Writes dir/first_boot_agent.prom (0644, readable by node_exporter's user). durable: synced
 * (file and directory), for the last write of a run, which a done node keeps showing; else only
 * safe against the writer being killed (the writes during a run: each costs tens of microseconds
 * instead of an fsync's milliseconds, and the next one replaces it). -ENOENT when dir does not
 * exist (node_exporter is not installed: nothing to do), -EPERM for a directory group or others
 * may write to (fileio.h), other negative errno. */
int metrics_write(const char *dir, const State *s, const MetricsInfo *info, bool durable);

/* A label value escaped for the text format (without the quotes around it). NULL on OOM. */
char *metrics_escape_label(const char *value);
