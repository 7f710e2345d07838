#!/bin/bash
# SPDX-License-Identifier: MIT
# Five nodes join a real three-member etcd cluster (Debian's etcd-server) at once, each through
# "run" with the etcd driver and the default join lock: the cluster ends with eight voting
# members, no learner left behind, no member twice; the lock took them one at a time (etcd
# never answered "too many learner members"). TAP. Address block 127.63.0.0/24.
. "$(dirname "$0")/lib.sh"

lib_init 127.63.0 "etcd fleet: five nodes join a three-member etcd at once"
. "$(dirname "$0")/etcd-lib.sh"
etcd_lock_block
etcd_check_free 1 2 3 4 5 6 7 8
etcd_cluster_start

nodes=(node04 node05 node06 node07 node08)
for i in 4 5 6 7 8; do
        etcd_agent "node0$i" "$i"
done

start=$(now_ns)
fpids=()
for n in "${nodes[@]}"; do
        FBA_TIMEOUT=300 fba_bg "$n" run
        fpids+=($FBA_PID)
        eval "err_$n=\$ERR"
done
failed=""
for k in "${!nodes[@]}"; do
        wait "${fpids[$k]}" || failed+=" ${nodes[$k]}"
done
ms=$(elapsed_ms "$start")
is "$failed" "" "every agent exits 0"
diag "five etcd joins at once: the last voter after $ms ms"
is "$(etcd_members)" "8 0 0 0" "eight voting members, no learner, every one started, no peer URL twice"

taken=0 waited=0 too_many=0
for n in "${nodes[@]}"; do
        eval "e=\$err_$n"
        has_mid "$e" JOIN_LOCK_TAKEN && taken=$((taken + 1))
        has_mid "$e" JOIN_LOCK_WAITING && waited=$((waited + 1))
        grep -q "too many learner" "$e" && too_many=$((too_many + 1))
        has_mid "$e" MEMBER_PROMOTED || diag "$n: no promotion logged"
done
is "$taken" 5 "each agent took the join lock"
ok "$([ "$waited" -ge 1 ]; echo $?)" "agents waited for it ($waited of 5 logged whose turn it was)"
is "$too_many" 0 "etcd never answered \"too many learner members\""
grep -h "held by node0" "$tmp"/node0*/out.*.stderr | head -n 1 | sed 's/.*"message":"\([^"]*\)".*/# \1/'
ectl get --prefix first-boot-agent/ --keys-only >"$tmp/keys" 2>&1
is "$(grep -c . "$tmp/keys")" 0 "the lock and its holder key are gone"

etcd_agents_stop "${nodes[@]}"
tap_done
