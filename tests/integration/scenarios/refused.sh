#!/bin/bash
# SPDX-License-Identifier: MIT
# The cluster refuses the join with a 403: retrying cannot help, so the leader's refusal stops the
# agent at once with exit 5 (no peer is asked after it), the server's message in its output and in
# "status".
# Address block 127.10.6.0/24.
. "$(dirname "$0")/../lib.sh"
lib_init 127.10.6 "refused: a 4xx from a cluster member stops the join (exit 5)"
cluster_start
ctl /control/fail '{"service":"chainfire","path":"/admin/member/add","status":403,"count":-1,
        "body":{"error":"node04 is quarantined by policy"}}' >/dev/null || bail "fail injection refused"

node_config node04 false
start=$(now_ns)
fba node04 run
rc=$?
ms=$(elapsed_ms "$start")
is "$rc" 5 "run exits 5 (refused by a server)"
[ "$rc" -eq 5 ] || show_output
cmp_le "$ms" 3000 "it stops at once (${ms} ms)"
is "$(cstate "[r['node'] for r in d['requests'] if r['path'] == '/admin/member/add']")" '["node01"]' \
        "the leader was asked once, and no peer after its refusal"
has_mid "$ERR" JOIN_REFUSED; ok $? "MID_JOIN_REFUSED logged"
like "$ERR" "quarantined by policy" "the server's message is in the output"
like "$ERR" "403" "the HTTP status is in the output"
unlike "$ERR" "\"message_id\": ?\"$(mid ATTEMPT_FAILED)\"" "no second round was announced"
is "$(count_mid "$ERR" PEER_FALLBACK)" 0 "no move to another server"
is "$(missing_markers node04 .chainfire-joined .first-boot-done)" ".chainfire-joined .first-boot-done" \
        "no join marker, no done marker"

fba node04 status
is "$?" 5 "status exits 5 (stopped on a refusal)"
like "$OUT" "quarantined by policy" "status shows the server's message"
fba node04 status --json
like "$OUT" "quarantined by policy" "status --json shows the server's message"

tap_done
