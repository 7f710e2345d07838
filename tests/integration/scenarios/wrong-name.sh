#!/bin/bash
# SPDX-License-Identifier: MIT
# The leader presents a certificate without the name the node uses for it (another node's): the
# verification failure is logged, the leader is not asked again, and the node joins through the
# next peer, whose certificate is right. Address block 127.10.13.0/24.
. "$(dirname "$0")/../lib.sh"
lib_init 127.10.13 "leader with a certificate for another name: joined via a peer"
"$src/tests/server/gen-node-cert.sh" "$tmp/certs" "node02.scenario" "$B.2" || bail "gen-node-cert.sh failed"
cluster_start --node-cert "node01:$tmp/certs/node02.crt:$tmp/certs/node02.key"

node_config node04 false
fba node04 run
rc=$?
is "$rc" 0 "run exits 0"
[ "$rc" -eq 0 ] || show_output
is "$(cstate "sorted((r['service'], r['node']) for r in d['requests'] if r['path'] == '/admin/member/add')")" \
        '[["chainfire", "node02"], ["flaredb", "node02"]]' "both adds went to the first peer"
has_mid "$ERR" PEER_FALLBACK; ok $? "the move to the peer was logged (MID_PEER_FALLBACK)"
like "$ERR" "not asked again" "the leader is not asked again"
like "$ERR" "certificate|subject name|SSL" "the record names the certificate problem"
is "$(count_member chainfire node04)/$(count_member flaredb node04)" "1/1" "exactly one member in each cluster"
is "$(marker_names node04)" ".chainfire-joined .first-boot-done .flaredb-joined .health-reported" "markers written"

tap_done
