/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "member.h"
#include "step.h"

/* The steps of first boot, in the order they run: for each cluster service its health, then its
 * join, as the older automation's units did (flaredb may need a joined chainfire to turn
 * healthy, IAM a joined flaredb). Each row names what it needs done first, why it may not apply
 * and its marker (the names the older automation used). */

/* A node whose configuration is a template learns who it is from the provisioning server. */
static const char *identity_skip(const Config *c) {
        return c->provisioning ? NULL : "no provisioning section: the configuration names this node";
}

static const char *identity_marker(const Config *c) {
        return ".node-identity";
}

/* Why a service's steps do not apply, or NULL. */
static const char *service_skip(const Config *c, ServiceId id) {
        static const char *const off[_SERVICE_MAX] = {
                [SERVICE_CHAINFIRE] = "services.chainfire.enabled is false",
                [SERVICE_FLAREDB] = "services.flaredb.enabled is false",
                [SERVICE_IAM] = "services.iam.enabled is false",
        };
        const ServiceConfig *s = &c->services[id];

        if (s->enabled)
                return NULL;
        if (s->enabled_source == CONFIG_SOURCE_FILE)
                return off[id];
        return "node_role worker: a worker runs no cluster service and joins no raft group";
}

/* The health step of a cluster service applies when its driver wants the local service healthy
 * before the join; the etcd driver checks it after adding the member, inside the join. */
static const char *cluster_health_skip(const Config *c, ServiceId id) {
        const MemberDriver *d = member_driver_get(c->services[id].driver);

        if (service_skip(c, id))
                return service_skip(c, id);
        if (!c->bootstrap && d && !d->health_first)
                return "the etcd driver checks the local service's health after adding the member";
        return NULL;
}

static const char *chainfire_skip(const Config *c) {
        return service_skip(c, SERVICE_CHAINFIRE);
}

static const char *chainfire_health_skip(const Config *c) {
        return cluster_health_skip(c, SERVICE_CHAINFIRE);
}

static const char *flaredb_skip(const Config *c) {
        return service_skip(c, SERVICE_FLAREDB);
}

static const char *flaredb_health_skip(const Config *c) {
        return cluster_health_skip(c, SERVICE_FLAREDB);
}

static const char *iam_skip(const Config *c) {
        return service_skip(c, SERVICE_IAM);
}

static const char *health_report_skip(const Config *c) {
        return c->health_check ? NULL : "health_check.enabled is false";
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
                .phase = "identity",
                .summary = "look this machine up at the provisioning server, set its host name and static address",
                .skip = identity_skip,
                .marker = identity_marker,
                .markers = (const char *const[]) { ".node-identity", NULL },
                .run = step_identity,
        },
        {
                .name = "config",
                .phase = "config",
                .summary = "check the TLS files, secret file permissions and the state directory",
                .run = step_config,
        },
        {
                .name = "chainfire-health",
                .service = "chainfire",
                .phase = "health",
                .summary = "wait until the local chainfire answers its health check",
                .after = (const char *const[]) { "config", NULL },
                .skip = chainfire_health_skip,
                .serves = "chainfire-join",
                .run = step_chainfire_health,
        },
        {
                .name = "chainfire-join",
                .service = "chainfire",
                .phase = "join",
                .summary = "bootstrap the chainfire cluster or join it through the leader",
                .after = (const char *const[]) { "chainfire-health", NULL },
                .skip = chainfire_skip,
                .marker = chainfire_marker,
                .markers = (const char *const[]) { ".chainfire-initialized", ".chainfire-joined", NULL },
                .run = step_chainfire_join,
        },
        {
                .name = "flaredb-health",
                .service = "flaredb",
                .phase = "health",
                .summary = "wait until the local flaredb answers its health check",
                .after = (const char *const[]) { "chainfire-join", NULL },
                .skip = flaredb_health_skip,
                .serves = "flaredb-join",
                .run = step_flaredb_health,
        },
        {
                .name = "flaredb-join",
                .service = "flaredb",
                .phase = "join",
                .summary = "bootstrap the flaredb cluster or join it through the leader",
                .after = (const char *const[]) { "flaredb-health", NULL },
                .skip = flaredb_skip,
                .marker = flaredb_marker,
                .markers = (const char *const[]) { ".flaredb-initialized", ".flaredb-joined", NULL },
                .run = step_flaredb_join,
        },
        {
                .name = "iam-health",
                .service = "iam",
                .phase = "health",
                .summary = "wait until the local IAM answers its health check",
                .after = (const char *const[]) { "flaredb-join", NULL },
                .skip = iam_skip,
                .serves = "iam-setup",
                .run = step_iam_health,
        },
        {
                .name = "iam-setup",
                .service = "iam",
                .phase = "iam",
                .summary = "make sure the IAM admin exists (create it where the secrets are) and store its token",
                .after = (const char *const[]) { "iam-health", NULL },
                .skip = iam_skip,
                .marker = iam_marker,
                .markers = (const char *const[]) { ".iam-initialized", NULL },
                .run = step_iam_setup,
        },
        {
                .name = "health-report",
                .phase = "report",
                .summary = "check every service and membership, then report to the provisioning server",
                .after = (const char *const[]) { "iam-setup", NULL },
                .skip = health_report_skip,
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

const char *step_skip_reason(const Step *s, const Config *c) {
        return s->skip ? s->skip(c) : NULL;
}
