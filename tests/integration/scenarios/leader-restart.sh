#!/bin/bash
# SPDX-License-Identifier: MIT
# Every server of the cluster is down when the node starts; the leader comes back about 2 s
# later: the rounds with backoff reach it, and the node joins through it, once.
# Address block 127.10.4.0/24.
. "$(dirname "$0")/../lib.sh"
lib_init 127.10.4 "every server down, then the leader up: the rounds reach it"
cluster_start --down chainfire:node01 --down flaredb:node01 --down chainfire:node02 --down flaredb:node02 \
        --down chainfire:node03 --down flaredb:node03

node_config node04 false
# Ten attempts spread over at least 3 s: the leader's outage fits inside them.
config_edit node04 'c["timeouts"].update(join_attempts=10, backoff_initial_ms=200, backoff_max_ms=800)'

start=$(now_ns)
fba_bg node04 run
sleep 2
ctl /control/listener '{"service":"chainfire","node":"node01","up":true}' >/dev/null || bail "listener up failed"
ctl /control/listener '{"service":"flaredb","node":"node01","up":true}' >/dev/null || bail "listener up failed"
up_ms=$(elapsed_ms "$start")
wait "$FBA_PID"
rc=$?
is "$rc" 0 "run exits 0"
[ "$rc" -eq 0 ] || show_output
diag "leader back after ${up_ms} ms, run finished after $(elapsed_ms "$start") ms"

is "$(requests_where "r['path'] == '/admin/member/add' and r['status'] in (200, 201)")" 2 "two successful adds"
is "$(requests_where "r['path'] == '/admin/member/add' and r['node'] != 'node01'")" 0 "no add reached a peer (they stayed down)"
is "$(cstate "[r['node'] for r in d['requests'] if r['path'] == '/admin/member/add' and r['service'] == 'chainfire']")" \
        '["node01"]' "chainfire: the one add that reached a server reached the leader"
has_mid "$ERR" ATTEMPT_FAILED; ok $? "failed attempts were logged (MID_ATTEMPT_FAILED)"
has_mid "$ERR" PEER_FALLBACK; ok $? "each round moved on from the dead leader to the peers (MID_PEER_FALLBACK)"
like "$ERR" "Connection refused|onnect" "the attempts name the transport error"
is "$(count_member chainfire node04)/$(count_member flaredb node04)" "1/1" "exactly one member in each cluster"
is "$(marker_names node04)" ".chainfire-joined .first-boot-done .flaredb-joined .health-reported" "markers written"

tap_done
