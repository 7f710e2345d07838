#!/bin/bash
# SPDX-License-Identifier: MIT
# The agent is killed (SIGKILL) while it waits for the flaredb add: the next start resumes at
# flaredb-join, finds the node already listed, and finishes; no member is added twice.
# Address block 127.10.8.0/24.
. "$(dirname "$0")/../lib.sh"
lib_init 127.10.8 "kill -9 during the walk: the rerun finishes without a duplicate member"
cluster_start
ctl /control/delay '{"service":"flaredb","path":"/admin/member/add","ms":2500,"count":1}' >/dev/null ||
        bail "delay injection refused"

# wait_delay_taken: the delayed request has reached the server (its rule is used up), so the
# agent is now waiting for that answer.
wait_delay_taken() {
        local i
        for ((i = 0; i < 200; i++)); do
                [ "$(cstate "len(d['rules'])")" = 0 ] && return 0
                sleep 0.05
        done
        show_output
        bail "the delayed flaredb add never reached the server"
}

node_config node04 false
fba_bg node04 run
for ((i = 0; i < 200; i++)); do
        [ -e "$(state_dir node04)/.chainfire-joined" ] && break
        sleep 0.05
done
[ -e "$(state_dir node04)/.chainfire-joined" ] || { show_output; bail "chainfire-join did not finish"; }
wait_delay_taken
kill -9 "$FBA_PID"
wait "$FBA_PID" 2>/dev/null
ok 0 "agent killed during flaredb-join"
is "$(missing_markers node04 .flaredb-joined .first-boot-done)" ".flaredb-joined .first-boot-done" \
        "flaredb-join and done markers absent after the kill"

fba node04 status
is "$?" 7 "status after the kill exits 7 (not finished)"

sleep 2.5       # the server finishes the delayed add (the node is now listed)
is "$(count_member flaredb node04)" 1 "the interrupted add took effect on the server"

fba node04 run
rc=$?
is "$rc" 0 "the rerun exits 0"
[ "$rc" -eq 0 ] || show_output
has_mid "$ERR" MEMBER_ALREADY; ok $? "the rerun saw the node listed (MID_MEMBER_ALREADY)"
grep -E "\"message_id\": ?\"$(mid STEP_SKIPPED)\"" "$ERR" | grep -q chainfire-join
ok $? "the rerun skipped chainfire-join (its marker exists)"
is "$(count_member chainfire node04)/$(count_member flaredb node04)" "1/1" "exactly one member in each cluster"
is "$(requests_where "r['path'] == '/admin/member/add' and r['service'] == 'chainfire'")" 1 \
        "chainfire add sent once over both runs"
is "$(marker_names node04)" ".chainfire-joined .first-boot-done .flaredb-joined .health-reported" "every marker written"
fba node04 status
is "$?" 0 "status exits 0"

# Killed before the add reached the server at all: the rerun adds it, still once.
ctl /control/members '{"service":"flaredb","members":[{"id":"node01","raft_addr":"'$B.1:$FDB_RAFT'"}]}' >/dev/null
fba node04 reset flaredb-join >/dev/null
ctl /control/delay '{"service":"flaredb","path":"/admin/member/add","ms":1500,"count":1}' >/dev/null
fba_bg node04 run
wait_delay_taken
kill -9 "$FBA_PID"
wait "$FBA_PID" 2>/dev/null
fba node04 run
rc=$?
is "$rc" 0 "second kill, rerun at once (the first add still delayed): exits 0"
[ "$rc" -eq 0 ] || show_output
sleep 1.5
is "$(count_member flaredb node04)" 1 "still exactly one flaredb member once the delayed add lands"

tap_done
