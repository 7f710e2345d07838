/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "log.h"
#include "metrics.h"
#include "report-spool.h"
#include "step-metrics.h"

typedef struct Table {
        const Step *steps;
        size_t n;
} Table;

static const char *service_of(const char *step, void *userdata) {
        const Table *t = userdata;

        for (size_t i = 0; i < t->n; i++)
                if (streq(t->steps[i].name, step))
                        return t->steps[i].service;
        return NULL;
}

static long reports_pending(const char *state_dir) {
        _cleanup_free_ char *spool = path_join(state_dir, REPORT_SPOOL_DIR);
        size_t n = 0;

        if (!spool || report_spool_pending(spool, &n, NULL, NULL) < 0)
                return -1;
        return (long) n;
}

void step_metrics_write(const Config *c, const char *state_dir, const State *s, const Step *table, size_t n,
                        bool durable) {
        static bool told, warned;
        const char *dir = c->metrics.textfile_dir;
        Table t = { table, n };
        MetricsInfo info = {
                .version = PACKAGE_VERSION,
                .node_id = c->node_id,
                .cluster = c->cluster_name,
                .reports_pending = -1,
                .service_of = service_of,
                .userdata = &t,
        };
        int r;

        if (!c->metrics.enabled || !dir || !s)
                return;
        /* The usual case on a machine without node_exporter: one access(), nothing else. */
        if (access(dir, F_OK) < 0 && errno == ENOENT) {
                if (!told)
                        log_debug("The metrics directory '%s' (metrics.textfile_dir) does not exist: no metrics "
                                  "written (install prometheus-node-exporter, or set metrics.textfile_dir).", dir);
                told = true;
                return;
        }
        if (state_dir)
                info.reports_pending = reports_pending(state_dir);
        r = metrics_write(dir, s, &info, durable);
        if (r >= 0)
                return;
        if (!warned)
                log_warning_errno(r, "Failed to write the metrics file '%s/%s' (metrics.textfile_dir): %m%s", dir,
                                  METRICS_FILE_NAME,
                                  r == -EPERM ? "; the directory must be writable by root alone (chmod go-w)" : "");
        else
                log_eventv(LOG_DEBUG, r, NULL, NO_FIELDS, "Failed to write the metrics file '%s/%s': %m", dir,
                           METRICS_FILE_NAME);
        warned = true;
}

void step_metrics_write_config(const Config *c, const char *state_dir, const State *s, bool durable) {
        _cleanup_(step_plan_freep) StepPlan *plan = NULL;

        if (!c->metrics.enabled || !s)
                return;
        if (step_plan_new(c, &plan) < 0) {
                log_oom();
                return;
        }
        step_metrics_write(c, state_dir, s, plan->steps, plan->n, durable);
}
