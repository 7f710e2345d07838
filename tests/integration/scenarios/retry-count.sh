#!/bin/bash
# SPDX-License-Identifier: MIT
# The cluster answers 503 to the first two adds: the leader's and the first peer's, each asked
# once in turn; the second peer accepts on the third attempt, and "status" counts the three
# attempts. Address block 127.10.10.0/24.
. "$(dirname "$0")/../lib.sh"
lib_init 127.10.10 "5xx twice then success: three attempts over three servers, counted"
cluster_start
ctl /control/fail '{"service":"chainfire","path":"/admin/member/add","status":503,"count":2}' >/dev/null ||
        bail "fail injection refused"

node_config node04 false
notify_listen
fba node04 run
rc=$?
is "$rc" 0 "run exits 0"
[ "$rc" -eq 0 ] || show_output
is "$(cstate "[(r['node'], r['status']) for r in d['requests'] if r['path'] == '/admin/member/add' and r['service'] == 'chainfire']")" \
        '[["node01", 503], ["node02", 503], ["node03", 201]]' "chainfire add: 503 from the leader, 503 from node02, 201 from node03"
is "$(count_mid "$ERR" PEER_FALLBACK)" 2 "two MID_PEER_FALLBACK records"
is "$(count_mid "$ERR" ATTEMPT_FAILED)" 0 "no round had to be repeated"
grep -E "\"message_id\": ?\"$(mid MEMBER_JOINED)\"" "$ERR" | grep -m1 chainfire >"$tmp/joined.line"
like "$tmp/joined.line" '"ATTEMPT": ?"3"' "MID_MEMBER_JOINED carries ATTEMPT=3"
is "$(count_member chainfire node04)" 1 "exactly one member"
like "$tmp/notify.log" "STATUS=chainfire: add 'node04' to chainfire via $B.3, attempt 3, round 1/5" \
        "sd_notify STATUS shows the join attempt and the server"

fba node04 status --json
is "$(jpy "$OUT" "d['steps']['chainfire-join']['attempts']")" 3 \
        "status --json: chainfire-join took 3 attempts"
is "$(jpy "$OUT" "d['steps']['flaredb-join']['attempts']")" 1 \
        "status --json: flaredb-join took 1 attempt"
fba node04 status
grep -qE '^chainfire-join +done +[^ ]+ +[^ ]+ +3( |$)' "$OUT"
ok $? "status shows 3 attempts for chainfire-join"

tap_done
