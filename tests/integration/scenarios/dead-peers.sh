#!/bin/bash
# SPDX-License-Identifier: MIT
# The leader and the first peer are down for good: each costs one connection attempt per round,
# and the node joins through the second peer in the first round. Address block 127.10.14.0/24.
. "$(dirname "$0")/../lib.sh"
lib_init 127.10.14 "dead leader and dead peer: the third server, in the first round"
cluster_start --down chainfire:node01 --down flaredb:node01 --down chainfire:node02 --down flaredb:node02

node_config node04 false
fba node04 run
rc=$?
is "$rc" 0 "run exits 0"
[ "$rc" -eq 0 ] || show_output
is "$(cstate "sorted((r['service'], r['node'], r['status']) for r in d['requests'] if r['path'] == '/admin/member/add')")" \
        '[["chainfire", "node03", 201], ["flaredb", "node03", 201]]' "one add per service, to the second peer"
is "$(count_mid "$ERR" PEER_FALLBACK)" 4 "two moves per service (leader → node02 → node03)"
is "$(count_mid "$ERR" ATTEMPT_FAILED)" 0 "no second round"
fba node04 status --json
is "$(jpy "$OUT" "d['steps']['chainfire-join']['attempts']")" 3 "chainfire-join: three attempts, one per server"
is "$(count_member chainfire node04)/$(count_member flaredb node04)" "1/1" "exactly one member in each cluster"

# Every server down: the error names each one with its own reason, exit 4 (not refused).
ctl /control/listener '{"service":"chainfire","node":"node03","up":false}' >/dev/null
rm -f "$(state_dir node04)"/.chainfire-joined "$(state_dir node04)"/.first-boot-done
ctl /control/members '{"service":"chainfire","members":[{"id":"node01","raft_addr":"'$B.1:$CF_RAFT'"}]}' >/dev/null
config_edit node04 'c["timeouts"].update(join_attempts=2, backoff_initial_ms=50, backoff_max_ms=100)'
fba node04 run
is "$?" 4 "nobody answers: exit 4"
like "$ERR" "https://$B.1:$CF \(2 attempts, last: [^)]*onnect" "the error names the leader and its reason"
like "$ERR" "https://$B.3:$CF \(2 attempts, last: " "and the last peer"
has_mid "$ERR" ATTEMPT_FAILED; ok $? "the second round was announced"

tap_done
