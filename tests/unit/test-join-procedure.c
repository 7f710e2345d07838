/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>

#include "cleanup.h"
#include "join-procedure.h"
#include "member.h"
#include "service-kind.h"
#include "step.h"
#include "tap.h"

/* The join-procedure table (join-procedure.c) against the other two tables a kind of service
 * has a row in: the kinds (config/service-kind.c) and the member drivers (net/member.c). A kind
 * added to one and not the others, or rows that disagree, fail here. */

int main(void) {
        _cleanup_(step_plan_freep) StepPlan *plan = NULL;
        const Step *s;

        for (ServiceKind k = 0; k < _SERVICE_KIND_MAX; k++) {
                const JoinProcedure *p = join_procedure(k);
                const ServiceKindInfo *info = service_kind(k);
                const MemberDriver *d = member_driver_get(k);

                ok(p && p->join, "%s: a join procedure", service_kind_to_string(k));
                ok(!p || !d || p->member_check == member_check_list,
                   "%s: a member driver's kind checks membership through its member list", service_kind_to_string(k));
                ok(!p || !info || (p->member_check != NULL) == (info->raft || !info->local_health),
                   "%s: a membership check for a raft group and for a kind without a local health check (k3s, "
                   "Consul: membership is all there is)", service_kind_to_string(k));
                ok(!p || !info || info->raft == (d != NULL), "%s: a member list exactly for a raft group",
                   service_kind_to_string(k));
                ok(!d || !info || d->health_first == info->health_first,
                   "%s: the driver and the kind agree on when it turns healthy", service_kind_to_string(k));
        }
        ok(join_procedure(SERVICE_KIND_ETCD)->stale_by_name, "etcd goes by member name (its --name)");
        ok(!join_procedure(SERVICE_KIND_ADMIN)->stale_by_name, "the admin API by member id");
        ok(join_procedure(_SERVICE_KIND_MAX) == NULL, "no row past the table");
        ok(join_procedure((ServiceKind) -1) == NULL, "nor before it");

        /* The plan's join steps run the procedure of their service's kind. */
        is_int(step_plan_new(NULL, &plan), 0, "the seed's plan");
        s = plan ? step_plan_find(plan, "chainfire-join") : NULL;
        ok(s && s->run == join_procedure(SERVICE_KIND_ADMIN)->join, "chainfire-join runs the admin join");
        s = plan ? step_plan_find(plan, "iam-setup") : NULL;
        ok(s && s->run == join_procedure(SERVICE_KIND_IAM)->join, "iam-setup runs the IAM setup");
        ok(join_procedure(SERVICE_KIND_K3S)->join == step_join_k3s, "k3s joins through its own procedure");
        ok(join_procedure(SERVICE_KIND_CONSUL)->join == step_join_consul, "Consul too");
        return tap_done();
}
