/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config-services.h"
#include "join-procedure.h"
#include "service-kind.h"
#include "step.h"
#include "strv.h"

/* The plan: identity and config first; then for each service, in the configuration's order (its
 * "after", else the map's), its health, then its join — as the older automation's units ran
 * them (flaredb may need a joined chainfire to turn healthy, IAM a joined flaredb); the health
 * report last. Each row names what it needs done first, why it may not apply and its marker
 * (the names the older automation used: ".chainfire-joined", ".iam-initialized", …). */

/* A node whose configuration is a template learns who it is from the provisioning server. */
static const char *identity_skip(const Step *s, const Config *c) {
        return c->provisioning ? NULL : "no provisioning section: the configuration names this node";
}

static const char *health_report_skip(const Step *s, const Config *c) {
        return c->health_check ? NULL : "health_check.enabled is false";
}

/* Why a service's steps do not apply, or NULL. */
static const char *service_skip(const Step *s, const Config *c) {
        const ServiceConfig *sc = config_service(c, s->service);

        if (!sc)
                return "the configuration does not declare this service";
        if (sc->enabled)
                return NULL;
        if (sc->enabled_source == CONFIG_SOURCE_FILE)
                return s->off;
        return "node_role worker: a worker runs no cluster service and joins no raft group";
}

/* The health step of a service applies when its kind wants the local service healthy before the
 * join; the etcd kind checks it after adding the member, inside the join. */
static const char *service_health_skip(const Step *s, const Config *c) {
        const ServiceConfig *sc = config_service(c, s->service);
        const char *why = service_skip(s, c);

        if (why)
                return why;
        if (!c->bootstrap && !service_kind(sc->kind)->health_first)
                return "its driver checks the local service's health after adding the member";
        return NULL;
}

static char *plan_string(StepPlan *p, char *s) {
        if (!s || strv_push(&p->strings, s) < 0) {
                free(s);
                return NULL;
        }
        return s;
}

static char *plan_printf(StepPlan *p, const char *format, ...) _printf_(2, 3);
static char *plan_printf(StepPlan *p, const char *format, ...) {
        va_list ap;
        char *s;

        va_start(ap, format);
        if (vasprintf(&s, format, ap) < 0)
                s = NULL;
        va_end(ap);
        return plan_string(p, s);
}

/* A NULL-terminated list kept with the plan (the pointers; the strings are the plan's). */
static const char *const *plan_list(StepPlan *p, const char *const *items, size_t n) {
        const char **l = calloc(n + 1, sizeof(char *));

        if (!l)
                return NULL;
        memcpy(l, items, n * sizeof(char *));
        if (!plan_string(p, (char *) l))
                return NULL;
        return l;
}

static const char *join_step_name(StepPlan *p, const ServiceConfig *sc) {
        return plan_printf(p, "%s-%s", sc->name, service_kind(sc->kind)->join_step);
}

static int plan_service(StepPlan *p, const Config *c, const ServiceConfig *sc, const char **ret_join) {
        const ServiceKindInfo *kind = service_kind(sc->kind);
        _cleanup_free_ const char **after = calloc(strv_length(sc->after) + 2, sizeof(char *));
        const char *health, *join, *off, *m0, *m1, *markers[2];
        char b0[SERVICE_MARKER_MAX], b1[SERVICE_MARKER_MAX];
        size_t k = 0;

        health = plan_printf(p, "%s-health", sc->name);
        join = join_step_name(p, sc);
        off = plan_printf(p, "services.%s.enabled is false", sc->name);
        if (!after || !health || !join || !off)
                return -ENOMEM;

        after[k++] = "config";
        STRV_FOREACH(a, sc->after) {
                const ServiceConfig *d = config_service(c, *a);

                if (d && !(after[k++] = join_step_name(p, d)))
                        return -ENOMEM;
        }
        m0 = service_marker(kind->marker_bootstrap, sc->name, b0);
        m1 = service_marker(kind->marker_join, sc->name, b1);
        if (!m0 || !m1)
                return -EINVAL;
        markers[0] = plan_printf(p, "%s", m0);
        markers[1] = streq(m0, m1) ? NULL : plan_printf(p, "%s", m1);
        if (!markers[0] || (!streq(m0, m1) && !markers[1]))
                return -ENOMEM;

        /* A kind without a local health check (k3s, Consul) waits for membership in its join. */
        if (kind->local_health)
                p->steps[p->n++] = (Step) {
                        .name = health,
                        .service = sc->name,
                        .phase = "health",
                        .summary = plan_printf(p, "%s: wait until the local service answers its health check", sc->name),
                        .after = plan_list(p, after, k),
                        .skip = service_health_skip,
                        .off = off,
                        .serves = join,
                        .run = step_health,
                };
        p->steps[p->n++] = (Step) {
                .name = join,
                .service = sc->name,
                .phase = kind->join_phase,
                .summary = plan_printf(p, "%s: %s", sc->name, kind->join_summary),
                .after = kind->local_health ? plan_list(p, &health, 1) : plan_list(p, after, k),
                .skip = service_skip,
                .off = off,
                .markers = plan_list(p, markers, markers[1] ? 2 : 1),
                .run = join_procedures[sc->kind].join,
        };
        for (size_t i = kind->local_health ? p->n - 2 : p->n - 1; i < p->n; i++)
                if (!p->steps[i].summary || !p->steps[i].after)
                        return -ENOMEM;
        if (!p->steps[p->n - 1].markers)
                return -ENOMEM;
        *ret_join = join;
        return 0;
}

static const char *const identity_markers[] = { ".node-identity", NULL };
static const char *const health_report_markers[] = { ".health-reported", NULL };

int step_plan_new(const Config *config, StepPlan **ret) {
        _cleanup_(step_plan_freep) StepPlan *p = calloc(1, sizeof(StepPlan));
        _cleanup_(config_freep) Config *seed = NULL;
        const Config *c = config;
        const char **joins;
        int r;

        if (!p)
                return -ENOMEM;
        if (!c) {
                seed = calloc(1, sizeof(Config));
                if (!seed)
                        return -ENOMEM;
                r = config_default_services(seed);
                if (r < 0)
                        return r;
                c = seed;
        }
        p->steps = calloc(3 + 2 * c->n_services, sizeof(Step));
        joins = calloc(c->n_services + 1, sizeof(char *));
        if (!p->steps || !plan_string(p, (char *) joins))
                return -ENOMEM;

        p->steps[p->n++] = (Step) {
                .name = "identity",
                .phase = "identity",
                .summary = "look this machine up at the provisioning server, set its host name and static address",
                .skip = identity_skip,
                .markers = identity_markers,
                .run = step_identity,
        };
        p->steps[p->n++] = (Step) {
                .name = "config",
                .phase = "config",
                .summary = "check the TLS files, secret file permissions and the state directory",
                .run = step_config,
        };
        for (size_t i = 0; i < c->n_services; i++) {
                r = plan_service(p, c, &c->services[i], &joins[i]);
                if (r < 0)
                        return r;
        }
        p->steps[p->n++] = (Step) {
                .name = "health-report",
                .phase = "report",
                .summary = "check every service and membership, then report to the provisioning server",
                .after = joins,
                .skip = health_report_skip,
                .markers = health_report_markers,
                .run = step_health_report,
        };
        *ret = TAKE_PTR(p);
        return 0;
}

StepPlan *step_plan_free(StepPlan *p) {
        if (!p)
                return NULL;
        free(p->steps);
        strv_free(p->strings);
        free(p);
        return NULL;
}

int step_plan_index(const StepPlan *p, const char *name) {
        for (size_t i = 0; p && i < p->n; i++)
                if (streq(p->steps[i].name, name))
                        return (int) i;
        return -ENOENT;
}

const Step *step_plan_find(const StepPlan *p, const char *name) {
        int i = step_plan_index(p, name);

        return i < 0 ? NULL : &p->steps[i];
}

const char *step_skip_reason(const Step *s, const Config *c) {
        return s->skip ? s->skip(s, c) : NULL;
}

const char *step_marker(const Step *s, const Config *c) {
        if (!s->markers || !s->markers[0])
                return NULL;
        return !c->bootstrap && s->markers[1] ? s->markers[1] : s->markers[0];
}
