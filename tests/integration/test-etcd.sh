#!/bin/bash
# SPDX-License-Identifier: MIT
# The etcd member driver against a real etcd (Debian's etcd-server): a three-member cluster on
# loopback; "member add" through the v3 JSON gateway, checked with etcdctl; adding again while
# the new member has not started (etcd answers 503 "unhealthy cluster") and after it started
# (412 "Peer URLs already exists") is "already a member"; the new member joins; remove by name,
# by hex ID and by decimal ID; an unknown name is refused. TAP. Address block 127.8.12.0/24.

. "$(dirname "$0")/lib.sh"

lib_init 127.8.12 "etcd driver against a real etcd cluster"
. "$(dirname "$0")/etcd-lib.sh"
etcd_lock_block
etcd_check_free 1 2 3 4 5 6
etcd_cluster_start

node_config node04 false
config_edit node04 "
c['leader_url'] = '$(client 1)'
c['tls'] = {'enabled': False}
c['services']['chainfire']['driver'] = 'etcd'
c['services']['chainfire']['health_url'] = '$(client 4)/health'
c['services']['flaredb']['enabled'] = False
"

# --- list -------------------------------------------------------------------------------------
fba node04 member list
is "$?" 0 "list through the etcd gateway"
like "$OUT" "^ID +NAME +RAFT ADDRESS +STATUS$" "table with names"
like "$OUT" "^[0-9a-f]+ +e1 +$B\.1:$CF_RAFT +started$" "e1 row (hex ID, name, peer address)"
is "$(grep -c ' started$' "$OUT")" 3 "three started members"

# --- add --------------------------------------------------------------------------------------
fba node04 member add
is "$?" 0 "add node04"
like "$OUT" "^added: node04 \($B\.4:$CF_RAFT\)" "prints added"
has_mid "$ERR" MEMBER_CHANGED
ok $? "MEMBER_CHANGED record"
ectl member list >"$tmp/ectl.1" 2>&1
like "$tmp/ectl.1" "unstarted, , $(peer 4), " "etcdctl: the new peer URL is there, unstarted"

fba node04 member add
is "$?" 0 "add again before it started"
like "$OUT" "^already a member: node04" "already a member (etcd said: unhealthy cluster)"
ectl member list >"$tmp/ectl.2" 2>&1
is "$(grep -c "$(peer 4)" "$tmp/ectl.2")" 1 "still one member with that peer URL"

fba node04 member list --json
is "$?" 0 "list --json"
is "$(jpy "$OUT" "[m['status'] for m in d['members'] if m['raft_addr'] == '$B.4:$CF_RAFT'][0]")" "unstarted" \
        "JSON: the new member is unstarted"
is "$(jpy "$OUT" "d['driver']")" "etcd" "JSON: etcd driver"

# --- the new member starts and joins ------------------------------------------------------------
etcd_start node04 4 existing "$INITIAL,node04=$(peer 4)"
deadline=$((SECONDS + 30))
while [ "$SECONDS" -lt "$deadline" ]; do
        ectl member list 2>/dev/null | grep -q "started, node04, $(peer 4)" && break
        sleep 0.2
done
ectl member list >"$tmp/ectl.3" 2>&1
like "$tmp/ectl.3" "started, node04, $(peer 4), $(client 4)" "node04 joined the etcd cluster"

fba node04 member list
like "$OUT" "^[0-9a-f]+ +node04 +$B\.4:$CF_RAFT +started$" "list shows node04 started"

sleep 6         # etcd's 5 s rule again, now for node04's connections
fba node04 member add
is "$?" 0 "add again once it runs"
like "$OUT" "^already a member: node04" "already a member"
like "$ERR" "\"HTTP_STATUS\": ?\"412\"" "etcd answered 412 (Peer URLs already exists)"

# --- remove -----------------------------------------------------------------------------------
fba node04 member remove node04
is "$?" 0 "remove by name"
like "$OUT" "^removed: node04" "prints removed"
has_mid "$ERR" MEMBER_CHANGED
ok $? "MEMBER_CHANGED record"
ectl member list >"$tmp/ectl.4" 2>&1
unlike "$tmp/ectl.4" "$(peer 4)" "etcdctl: node04 is gone"

fba node04 member add node05 "$B.5:$CF_RAFT"
is "$?" 0 "add node05"
fba node04 member list --json
hex=$(jpy "$OUT" "[m['id'] for m in d['members'] if m['raft_addr'] == '$B.5:$CF_RAFT'][0]")
fba node04 member remove "$hex"
is "$?" 0 "remove by hex ID ($hex)"
ectl member list >"$tmp/ectl.5" 2>&1
unlike "$tmp/ectl.5" "$(peer 5)" "etcdctl: node05 is gone"

fba node04 member add node06 "$B.6:$CF_RAFT"
is "$?" 0 "add node06"
fba node04 member list --json
dec=$(jpy "$OUT" "int([m['id'] for m in d['members'] if m['raft_addr'] == '$B.6:$CF_RAFT'][0], 16)")
fba node04 member remove "$dec"
is "$?" 0 "remove by decimal ID ($dec)"
ectl member list >"$tmp/ectl.6" 2>&1
unlike "$tmp/ectl.6" "$(peer 6)" "etcdctl: node06 is gone"

fba node04 member remove nobody
is "$?" 5 "remove an unknown name: exit 5"
like "$ERR" "no member named 'nobody'" "says so"

# --- the leader does not answer: a peer does ----------------------------------------------------
kill "${pids[0]}"
wait "${pids[0]}" 2>/dev/null
fba node04 member list
is "$?" 0 "e1 stopped: list still works"
like "$OUT" "answered by $(client 2)" "answered by e2"

tap_done
