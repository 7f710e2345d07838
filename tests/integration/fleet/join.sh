#!/bin/bash
# SPDX-License-Identifier: MIT
# A rack powers on at once: 30 agents join one admin-API leader together, with the default
# random start delay. Every one joins, once; the leader gets at most 3 requests per node (list,
# add, the health report's list); every node's last report says "done". Address blocks
# 127.60.0.0/24 (the cluster) and 127.60.1.0/24 (the agents).
. "$(dirname "$0")/../lib.sh"
lib_init 127.60.0 "fleet: 30 agents join one leader at once"
. "$(dirname "$0")/../fleet-lib.sh"

fleet_start 30
fleet_configs
fleet_run
is "$FLEET_FAILED" 0 "every agent exits 0${FLEET_FAILED_NAMES:+ (failed:$FLEET_FAILED_NAMES)}"
diag "30 agents: all done after $FLEET_MS ms"
is "$(fleet_members_ok)" "30 0" "30/30 agents are chainfire members, no entry twice"
read -r most total <<<"$(leader_requests_per_node chainfire node01)"
cmp_le "$most" 3 "at most 3 requests per agent reached the leader (most: $most, all: $total)"
is "$(requests_where "r['node'] != 'node01' and r['path'] == '/admin/member/add'")" 0 "no add went past the healthy leader"

is "$(cstate "sorted(set(r['body']['event'] for r in d['reports']))")" '["firstboot-done", "firstboot-progress"]' \
        "the collector got progress and done reports"
is "$(ctl /control/fleet | jpy /dev/stdin "d['phases']")" '{"done": 30}' "the fleet summary: 30 nodes done"
fleet_summary | head -n 5
has_mid "$tmp/f001/out.stderr" JOIN_DELAYED; ok $? "a random start delay before the first request"
delays=$(cat "$tmp"/f*/out.stderr | grep -h "\"message_id\": *\"$(mid JOIN_DELAYED)\"" |
         sed -n 's/.*"ELAPSED_MS": *"\([0-9]*\)".*/\1/p' | sort -n | sed -n '1p;$p' | tr '\n' ' ')
diag "start delays from $delays ms (below timeouts.join_start_delay_max_ms)"
read -r lo hi <<<"$delays"
ok "$([ -n "$hi" ] && [ "$hi" -lt 2000 ] && [ "$hi" -gt "$lo" ]; echo $?)" "the delays differ and stay below the 2000 ms default"
tap_done
