#!/bin/bash
# SPDX-License-Identifier: MIT
# The leader refuses the join with a 403 and every peer is unreachable (addresses of this block
# where nothing listens): the refusal is the cluster's answer. The agent stops at once with exit
# 5 — not 4 after rounds of attempts at the dead peers — and asks no dead peer after the refusal.
# (tests/bench/bench-refusal.sh measures how long that takes.) Address block 127.72.1.0/24.
. "$(dirname "$0")/../lib.sh"
lib_init 127.72.1 "refused by the leader, peers unreachable: exit 5 at once"
cluster_start
ctl /control/fail '{"service":"chainfire","node":"node01","path":"/admin/member/add","status":403,"count":-1,
        "body":{"error":"node04 is not on the allow list"}}' >/dev/null || bail "fail injection refused"

DEAD1=$B.201 DEAD2=$B.202
for h in $DEAD1 $DEAD2; do
        (exec 3<>"/dev/tcp/$h/$CF") 2>/dev/null && bail "$h:$CF answers; it should be dead"
done
node_config node04 false
config_edit node04 "
c['initial_peers'] = ['$B.1:$CF_RAFT', '$DEAD1:$CF_RAFT', '$DEAD2:$CF_RAFT']
c['services']['flaredb']['enabled'] = False
c['timeouts'].update(join_attempts=5, backoff_initial_ms=500, backoff_max_ms=2000)
c.pop('report')
"

fba node04 run
rc=$?
is "$rc" 5 "run exits 5 (refused), not 4"
[ "$rc" -eq 5 ] || show_output
has_mid "$ERR" JOIN_REFUSED; ok $? "MID_JOIN_REFUSED logged"
like "$ERR" "not on the allow list" "the leader's message is in the output"
is "$(cstate "[(r['node'], r['status']) for r in d['requests'] if r['path'] == '/admin/member/add']")" \
        '[["node01", 403]]' "one add, to the leader, refused"

# Nothing after the refusal names a dead peer: no attempt, no fallback, no second round.
refusal=$(grep -n '"HTTP_STATUS": \?"403"\|HTTP 403' "$ERR" | head -n 1 | cut -d: -f1)
ok "$([ -n "$refusal" ]; echo $?)" "the refusal is in the records"
after=$(tail -n "+${refusal:-1}" "$ERR")
unlike <(echo "$after") "$DEAD1|$DEAD2" "no record after the refusal names a dead peer"
unlike "$ERR" "\"message_id\": ?\"$(mid PEER_FALLBACK)\"" "no move to another server"
unlike "$ERR" "\"message_id\": ?\"$(mid ATTEMPT_FAILED)\"" "no second round announced"
unlike "$ERR" "the next round starts" "no backoff before a next round"
fba node04 status --json
is "$(jpy "$OUT" "d['steps']['chainfire-join']['attempts']")" 1 "chainfire-join: one attempt"
fba node04 status
is "$?" 5 "status exits 5"
is "$(missing_markers node04 .chainfire-joined)" ".chainfire-joined" "no join marker"

tap_done
