#!/bin/bash
# SPDX-License-Identifier: MIT
# A stale member stands where node04 would: the cluster lists "old04" at node04's raft address
# (the machine's earlier life, before it was re-flashed with a new name), or "node04" at another
# address. The join stops with exit 5, naming the member and the command that removes it, and
# adds nothing; that command works; with services.chainfire.replace_stale_member the agent
# removes it itself and joins. Address block 127.10.21.0/24.
. "$(dirname "$0")/../lib.sh"
lib_init 127.10.21 "stale members: refused with the remove command, or replaced when allowed"
cluster_start

members() {     # members EXTRA_JSON_MEMBER: node01..03 and one more, in chainfire
        ctl /control/members "{\"service\":\"chainfire\",\"members\":[
            {\"id\":\"node01\",\"raft_addr\":\"$B.1:$CF_RAFT\"},{\"id\":\"node02\",\"raft_addr\":\"$B.2:$CF_RAFT\"},
            {\"id\":\"node03\",\"raft_addr\":\"$B.3:$CF_RAFT\"},$1]}" >/dev/null || bail "control API"
}
adds() { requests_where "r['path'] == '/admin/member/add'"; }

node_config node04 false
config_edit node04 'c["services"]["flaredb"]["enabled"] = False'

# --- another name at this node's address ---------------------------------------------------------
members "{\"id\":\"old04\",\"raft_addr\":\"$B.4:$CF_RAFT\"}"
fba node04 run
is "$?" 5 "a member at this node's address under another name: exit 5"
has_mid "$ERR" MEMBER_STALE; ok $? "MID_MEMBER_STALE"
like "$ERR" "lists member old04 \('old04', $B.4:$CF_RAFT\), at this node's raft address" "it names the stale member"
like "$ERR" "'first-boot-agent member --service chainfire remove old04'" "and the command that removes it"
like "$ERR" "replace_stale_member" "and the setting that allows replacing it"
is "$(adds)" 0 "no add was sent"
is "$(members_of chainfire)" "node01 node02 node03 old04" "the member list is unchanged"
fba node04 status
like "$OUT" "old04" "status names it too"

# The command from the message, then the join.
fba node04 member --service chainfire remove old04
is "$?" 0 "the command removes it"
fba node04 run
is "$?" 0 "then the join goes through"
is "$(members_of chainfire)" "node01 node02 node03 node04" "node04 in its place"

# --- this node's name at another address ---------------------------------------------------------
fba node04 reset --all --yes >/dev/null
members "{\"id\":\"node04\",\"raft_addr\":\"$B.99:$CF_RAFT\"}"
fba node04 run
is "$?" 5 "this node's name at another address: exit 5"
like "$ERR" "lists member node04 \('node04', $B.99:$CF_RAFT\), under this node's name" "named as such"

# --- replace_stale_member: removed by the agent --------------------------------------------------
fba node04 reset --all --yes >/dev/null
ctl /control/reset-log '{}' >/dev/null || bail "control API"
members "{\"id\":\"old04\",\"raft_addr\":\"$B.4:$CF_RAFT\"}"
config_edit node04 'c["services"]["chainfire"]["replace_stale_member"] = True'
fba node04 run
is "$?" 0 "with replace_stale_member the run succeeds"
has_mid "$ERR" MEMBER_REPLACED; ok $? "MID_MEMBER_REPLACED"
is "$(members_of chainfire)" "node01 node02 node03 node04" "old04 removed, node04 added once"
is "$(requests_where "r['method'] == 'DELETE' and r['path'] == '/admin/member/old04' and r['node'] == 'node01'")" 1 \
        "removed through the leader, once"
tap_done
