#!/bin/bash
# SPDX-License-Identifier: MIT
# The leader is down for good and a peer answers: after the leader's attempts the node joins
# through the peer. Address block 127.10.5.0/24.
. "$(dirname "$0")/../lib.sh"
lib_init 127.10.5 "leader down for good: the join falls back to a peer"
cluster_start --down chainfire:node01 --down flaredb:node01

node_config node04 false
config_edit node04 'c["timeouts"].update(join_attempts=3, backoff_initial_ms=100, backoff_max_ms=400)'

start=$(now_ns)
fba node04 run
rc=$?
ms=$(elapsed_ms "$start")
is "$rc" 0 "run exits 0"
[ "$rc" -eq 0 ] || show_output
cmp_le "$ms" 10000 "the dead leader costs only its attempts (${ms} ms)"

is "$(count_mid "$ERR" PEER_FALLBACK)" 2 "MID_PEER_FALLBACK for chainfire and flaredb"
like "$ERR" "https://$B.2:$CF" "the fallback names the peer"
is "$(cstate "sorted((r['service'], r['node'], r['status']) for r in d['requests'] if r['path'] == '/admin/member/add')")" \
        '[["chainfire", "node02", 201], ["flaredb", "node02", 201]]' "both adds went to the first peer and succeeded"
is "$(count_member chainfire node04)/$(count_member flaredb node04)" "1/1" "exactly one member in each cluster"
fba node04 status --json
is "$(jpy "$OUT" "d['steps']['chainfire-join']['detail']")" "joined via https://$B.2:$CF" \
        "status --json: chainfire-join joined via the peer"
is "$(marker_names node04)" ".chainfire-joined .first-boot-done .flaredb-joined .health-reported" "markers written"

tap_done
