/* SPDX-License-Identifier: MIT */
#include "join-procedure.h"

const JoinProcedure join_procedures[_SERVICE_KIND_MAX] = {
        [SERVICE_KIND_ADMIN] = {
                .join = step_join_admin,
                .member_check = member_check_list,
        },
        [SERVICE_KIND_ETCD] = {
                .join = step_join_etcd,
                .member_check = member_check_list,
                .stale_by_name = true,
        },
        [SERVICE_KIND_IAM] = {
                .join = step_iam_setup,
        },
        [SERVICE_KIND_K3S] = {
                .join = step_join_k3s,
                .member_check = member_check_k3s,
        },
        [SERVICE_KIND_CONSUL] = {
                .join = step_join_consul,
                .member_check = member_check_consul,
        },
};

const JoinProcedure *join_procedure(ServiceKind kind) {
        return kind >= 0 && kind < _SERVICE_KIND_MAX ? &join_procedures[kind] : NULL;
}
