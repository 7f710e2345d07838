#!/bin/bash
# SPDX-License-Identifier: MIT
# A leader that cannot keep up: node01 takes the writes (the others answer 421 naming it) and
# serves 10 requests a second, no burst beyond one (so that two requests closer than 100 ms
# meet a 429 even where a loaded machine spreads the herd out), answering the rest 429 with
# Retry-After: 1. 30 agents join at
# once: every one joins, once; none asks the leader again before its Retry-After has passed;
# the requests per agent stay bounded. The agents' local chainfire turns healthy only once every
# agent waits for it, so that the herd reaches the leader together even where the agents were
# slow to start (a loaded machine, a sanitizer build). Address blocks 127.61.0.0/24 and
# 127.61.1.0/24.
. "$(dirname "$0")/../lib.sh"
lib_init 127.61.0 "fleet: 30 agents against a throttling leader (429, Retry-After)"
. "$(dirname "$0")/../fleet-lib.sh"

fleet_start 30
ctl /control/leader '{"service": "chainfire", "node": "node01", "mode": "421"}' >/dev/null || bail "leader refused"
ctl /control/throttle '{"service": "chainfire", "node": "node01", "rate": 10, "burst": 1, "retry_after": 1}' \
        >/dev/null || bail "throttle refused"
fleet_configs
fleet_gate_close
fleet_launch
asked=$(fleet_gate_open)
is "$asked" 30 "every agent waited for its local chainfire before the gate opened"
fleet_wait
is "$FLEET_FAILED" 0 "every agent exits 0${FLEET_FAILED_NAMES:+ (failed:$FLEET_FAILED_NAMES)}"
diag "30 agents against 10 requests/s: all done after $FLEET_MS ms"
is "$(fleet_members_ok)" "30 0" "30/30 agents are chainfire members, no entry twice"

throttled=$(requests_where "r['node'] == 'node01' and r['status'] == 429")
ok "$([ "$throttled" -gt 0 ]; echo $?)" "the leader throttled ($throttled answers 429)"
# Every request an agent sent to the leader after a 429 came at least Retry-After later.
early=$(cstate "(lambda rs: len([1 for a, b in zip(rs, rs[1:]) if a['status'] == 429 and a['user_agent'] == b['user_agent']
                                  and b['t'] < a['t_end'] + 0.95]))(
            sorted((r for r in d['requests'] if r['node'] == 'node01' and '(f' in r['user_agent']),
                   key=lambda r: (r['user_agent'], r['t'])))")
is "$early" 0 "no agent asked the leader again before its Retry-After had passed"
read -r most total <<<"$(leader_requests_per_node chainfire node01)"
diag "requests at the leader: $total, at most $most from one agent ($throttled answered 429)"
cmp_le "$most" 10 "requests per agent at the leader stay bounded (most: $most)"
is "$(requests_where "r['status'] in (200, 201) and r['path'] == '/admin/member/add' and r['node'] != 'node01'")" 0 \
        "every add was taken by the leader"
has_mid "$(ls "$tmp"/f0*/out.stderr | head -n 1)" SERVICE_HEALTHY; ok $? "the agents' logs are there"
grep -l "it asked to wait 1 s" "$tmp"/f*/out.stderr >/dev/null; ok $? "an agent logged the leader's Retry-After"
fleet_summary | tail -n 2
tap_done
