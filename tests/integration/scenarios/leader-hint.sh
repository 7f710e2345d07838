#!/bin/bash
# SPDX-License-Identifier: MIT
# "Not the leader" answers that name another server, from an https:// cluster: a hint to an
# http:// listener is not followed (nothing reaches it in clear; MID_LEADER_HINT_REFUSED names the
# hint and why) and the configured peers are asked instead, by the join and by "member add"; a
# hint to an https:// server whose certificate the cluster's CA signed is followed, unless TLS
# verification is off. Address block 127.72.2.0/24.
. "$(dirname "$0")/../lib.sh"
lib_init 127.72.2 "leader hints: never https to http, verified https followed"
ROGUE=$B.50
cluster_start --listen "chainfire:rogue:$ROGUE:$CF" --plain chainfire:rogue

node_config node04 false
config_edit node04 "c['services']['flaredb']['enabled'] = False; c.pop('report')"
adds() {        # adds: [node, status] of every add, in order
        cstate "[(r['node'], r['status']) for r in d['requests'] if r['path'] == '/admin/member/add']"
}

# --- a hint to http:// ------------------------------------------------------------------------
ctl /control/fail '{"service":"chainfire","node":"node01","path":"/admin/member/add","status":421,"count":-1,
        "body":{"error":"not the leader","leader":"http://'$ROGUE:$CF'"}}' >/dev/null || bail "fail injection"
fba node04 run
rc=$?
is "$rc" 0 "run exits 0 (joined through a configured peer)"
[ "$rc" -eq 0 ] || show_output
is "$(requests_where "r['node'] == 'rogue'")" 0 "the http:// listener the hint named got no request"
is "$(adds)" '[["node01", 421], ["node02", 201]]' "the leader's 421, then the first peer added the node"
has_mid "$ERR" LEADER_HINT_REFUSED; ok $? "MID_LEADER_HINT_REFUSED"
like "$ERR" "named http://$ROGUE:$CF; not following it: it is http:// while the server that named it is https://" \
        "the record names the hint and why"
like "$ERR" "\"LEADER_HINT\": ?\"http://$ROGUE:$CF\"" "LEADER_HINT field"
is "$(count_member chainfire node04)" 1 "node04 is a member, once"

# The member verb follows the same rule.
fba node04 member add node07 "$B.7:$CF_RAFT"
rc=$?
is "$rc" 0 "member add: exit 0 (through a configured peer)"
[ "$rc" -eq 0 ] || show_output
is "$(requests_where "r['node'] == 'rogue'")" 0 "member add: the http:// listener got no request"
like "$ERR" "named http://$ROGUE:$CF; not following it" "member add: the hint is refused, and logged"
is "$(count_member chainfire node07)" 1 "node07 was added"

# --- a hint to a verified https:// server that is not configured ---------------------------------
ctl /control/clear-rules '{}' >/dev/null
ctl /control/reset-log '{}' >/dev/null
ctl /control/members '{"service":"chainfire","members":[{"id":"node01","raft_addr":"'$B.1:$CF_RAFT'"}]}' >/dev/null
rm -f "$(state_dir node04)"/.chainfire-joined "$(state_dir node04)"/.first-boot-done
ctl /control/fail '{"service":"chainfire","node":"node01","path":"/admin/member/add","status":421,"count":-1,
        "body":{"error":"not the leader","leader":"https://'$B.4:$CF'"}}' >/dev/null || bail "fail injection"
fba node04 run
rc=$?
is "$rc" 0 "run exits 0"
[ "$rc" -eq 0 ] || show_output
is "$(adds)" '[["node01", 421], ["node04", 201]]' "the hinted https server, verified against the CA, added it"
unlike "$ERR" "\"message_id\": ?\"$(mid LEADER_HINT_REFUSED)\"" "no hint refused"

# --- the same hint while TLS verification is off: only configured servers are followed ------------
ctl /control/reset-log '{}' >/dev/null
ctl /control/members '{"service":"chainfire","members":[{"id":"node01","raft_addr":"'$B.1:$CF_RAFT'"}]}' >/dev/null
rm -f "$(state_dir node04)"/.chainfire-joined "$(state_dir node04)"/.first-boot-done
config_edit node04 "c['tls']['insecure_skip_verify'] = True"
fba node04 run
rc=$?
is "$rc" 0 "run exits 0"
[ "$rc" -eq 0 ] || show_output
is "$(adds)" '[["node01", 421], ["node02", 201]]' "not followed: the first peer added it"
like "$ERR" "not following it: it is not a configured server, and TLS verification is off" "and says why"

tap_done
