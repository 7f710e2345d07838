#!/bin/bash
# SPDX-License-Identifier: MIT
# The leader changes while a fleet joins: node01 leads, then node02 (the others redirect writes
# to it, 307), then node03 (the others answer 421 naming it), each change once the leader before
# has taken four adds. 30 agents, spread over 4 s: every one joins, once; an agent told "not the
# leader" asks the one named next and does not ask the wrong one again for that write. Address
# blocks 127.62.0.0/24 and 127.62.1.0/24.
. "$(dirname "$0")/../lib.sh"
lib_init 127.62.0 "fleet: the leader changes twice while 30 agents join"
. "$(dirname "$0")/../fleet-lib.sh"

fleet_start 30
# The leader hands over after it took a few adds (the server counts them, so the change falls
# inside the herd however fast or slow the agents reach their join).
ctl /control/leader '{"service": "chainfire", "node": "node01", "mode": "redirect", "after_adds": 4,
                      "then": [{"node": "node02", "mode": "redirect"}, {"node": "node03", "mode": "421"}]}' \
        >/dev/null || bail "leader refused"
fleet_configs 'c["timeouts"]["join_start_delay_max_ms"] = 4000'
fleet_run
is "$FLEET_FAILED" 0 "every agent exits 0${FLEET_FAILED_NAMES:+ (failed:$FLEET_FAILED_NAMES)}"
is "$(fleet_members_ok)" "30 0" "30/30 agents are chainfire members, no entry twice"
for n in node01 node02 node03; do
        eval "adds_$n=$(requests_where "r['path'] == '/admin/member/add' and r['status'] == 201 and r['node'] == '$n'")"
done
diag "adds taken: node01 $adds_node01, node02 $adds_node02, node03 $adds_node03 (after $FLEET_MS ms)"
ok "$([ "$adds_node02" -gt 0 ] && [ "$adds_node03" -gt 0 ]; echo $?)" "the later leaders took adds"
redirected=$(requests_where "r['path'] == '/admin/member/add' and r['status'] in (307, 421)")
ok "$([ "$redirected" -gt 0 ]; echo $?)" "agents met a follower ($redirected answers 307 or 421)"
# Each agent sends one add; a "not the leader" answer is followed once, to the leader it names.
most=$(cstate "max(__import__('collections').Counter(r['user_agent'] for r in d['requests']
                   if r['path'] == '/admin/member/add' and r['status'] in (307, 421)).values(), default=0)")
cmp_le "$most" 2 "no agent was turned away more than once per leader change (most: $most)"
is "$(requests_where "r['path'] == '/admin/member/add' and r['status'] not in (201, 307, 421)")" 0 \
        "no add failed otherwise"
grep -l "(not the leader)" "$tmp"/f*/out.stderr >/dev/null; ok $? "the agents logged the follower's answer"
tap_done
