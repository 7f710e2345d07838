#!/bin/bash
# SPDX-License-Identifier: MIT
# The leader refuses the join with a 403: retrying cannot help, so the agent stops at once
# with exit 5, the server's message in its output and in "status". Address block 127.10.6.0/24.
. "$(dirname "$0")/../lib.sh"
lib_init 127.10.6 "refused: a 4xx stops the join at once (exit 5)"
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
is "$(requests_where "r['path'] == '/admin/member/add'")" 1 "exactly one add request was sent"
has_mid "$ERR" JOIN_REFUSED; ok $? "MID_JOIN_REFUSED logged"
like "$ERR" "quarantined by policy" "the server's message is in the output"
like "$ERR" "403" "the HTTP status is in the output"
unlike "$ERR" "\"message_id\": ?\"$(mid ATTEMPT_FAILED)\"" "no retry was announced"
is "$(missing_markers node04 .chainfire-joined .first-boot-done)" ".chainfire-joined .first-boot-done" \
        "no join marker, no done marker"

fba node04 status
is "$?" 5 "status exits 5 (stopped on a refusal)"
like "$OUT" "quarantined by policy" "status shows the server's message"
fba node04 status --json
like "$OUT" "quarantined by policy" "status --json shows the server's message"

tap_done
