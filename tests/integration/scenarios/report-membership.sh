#!/bin/bash
# SPDX-License-Identifier: MIT
# The health report: a report server that is down or failing is a warning, not a failure, and
# the report waits in the spool until a later start delivers it; a node missing from a member
# list is a failure naming the service and the server asked.
# Address block 127.10.11.0/24.
. "$(dirname "$0")/../lib.sh"
lib_init 127.10.11 "health report: best-effort report, membership verified"
cluster_start --down report:collector

node_config node04 false
fba node04 run
rc=$?
is "$rc" 0 "report server down: run still exits 0"
[ "$rc" -eq 0 ] || show_output
has_mid "$ERR" REPORT_FAILED; ok $? "MID_REPORT_FAILED logged"
grep -E "\"message_id\": ?\"$(mid REPORT_FAILED)\"" "$ERR" >"$tmp/line"
like "$tmp/line" '"priority": ?4' "it is a warning"
like "$tmp/line" "$REPORT_URL" "it names the report URL"
is "$(missing_markers node04 .health-reported .first-boot-done)" "" "health-reported and done markers written"
is "$(ls "$(state_dir node04)/reports" | wc -l)" 1 "the report waits in the spool"

# The report server answers 500.
ctl /control/listener '{"service":"report","node":"collector","up":true}' >/dev/null
ctl /control/fail '{"service":"report","status":500,"count":-1}' >/dev/null
fba node04 reset health-report >/dev/null
fba node04 run
is "$?" 0 "report server failing (HTTP 500): run exits 0"
grep -E "\"message_id\": ?\"$(mid REPORT_FAILED)\"" "$ERR" >"$tmp/line"
like "$tmp/line" '"HTTP_STATUS": ?"500"' "MID_REPORT_FAILED carries HTTP_STATUS=500"
is "$(ls "$(state_dir node04)/reports" | wc -l)" 2 "two reports wait now, the older first"
ctl /control/clear-rules '{}' >/dev/null

# The node vanished from the chainfire member list: the report step fails and says where.
ctl /control/members "{\"service\":\"chainfire\",\"members\":[{\"id\":\"node01\",\"raft_addr\":\"$B.1:$CF_RAFT\"}]}" >/dev/null
fba node04 reset health-report >/dev/null
fba node04 run
rc=$?
is "$rc" 4 "node04 missing from chainfire's member list: exit 4"
like "$ERR" "not in the chainfire member list" "the error names the service"
like "$ERR" "https://$B.1:$CF" "the error names the server asked"
like "$ERR" "reset chainfire-join" "the error says how to join again"
is "$(cstate "[r['body'].get('event') for r in R]")" '["firstboot-done", "firstboot-done", "firstboot-failed"]' \
        "the two waiting reports went first, then this run's failure; no new firstboot-done"
is "$(ls -A "$(state_dir node04)/reports" | wc -l)" 0 "the spool is empty"
fba node04 status
like "$OUT" "chainfire member list" "status shows the membership error"

# Joined again by hand: the report goes through.
ctl /control/members "{\"service\":\"chainfire\",\"members\":[{\"id\":\"node01\",\"raft_addr\":\"$B.1:$CF_RAFT\"},{\"id\":\"node04\",\"raft_addr\":\"$B.4:$CF_RAFT\"}]}" >/dev/null
fba node04 run
is "$?" 0 "back in the member list: run exits 0"
has_mid "$ERR" REPORT_SENT; ok $? "MID_REPORT_SENT logged"
is "$(cstate "len([r for r in R if r['body'].get('event') == 'firstboot-done'])")" 3 "one more firstboot-done report"

tap_done
