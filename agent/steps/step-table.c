/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "step.h"

/* The steps of first boot, in the order they run. Each row names what it needs done first, what
 * turns it off and its marker (the names the older automation used). */

static bool identity_enabled(const Config *c) {
        return c->provisioning != NULL;
}

static const char *identity_marker(const Config *c) {
        return ".node-identity";
}

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
                .name = "identity",
                .summary = "look this machine up at the provisioning server, set its host name and static address",
                .enabled = identity_enabled,
                .setting = "provisioning",
                .marker = identity_marker,
                .markers = (const char *const[]) { ".node-identity", NULL },
                .run = step_identity,
        },
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

