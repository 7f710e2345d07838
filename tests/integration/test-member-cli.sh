#!/bin/bash
# SPDX-License-Identifier: MIT
# "first-boot-agent member list|add|remove" against the test cluster over HTTPS: table and JSON
# output, add and its 409 path, remove and its 404, a refusal (4xx: exit 5 with the server's
# message), a leader that does not answer (a peer does), nobody answering (exit 4), --url,
# usage errors. TAP. Address block 127.8.11.0/24.

. "$(dirname "$0")/lib.sh"

lib_init 127.8.11 "member verb against clusterd"

# Another run of this test (from another build directory) would use the same addresses: take
# turns.
exec 9>"${TMPDIR:-/tmp}/fba-test-block-$B.lock"
flock -w 150 9 || bail "another run holds the address block $B.0/24 for more than 150 s"
cluster_start
node_config node04 false

# --- usage ------------------------------------------------------------------------------------
fba node04 member --help
is "$?" 0 "member --help exits 0"
like "$OUT" "member \[OPTIONS\] COMMAND" "--help shows the usage"
fba node04 member
is "$?" 2 "no command: exit 2"
fba node04 member frobnicate
is "$?" 2 "unknown command: exit 2"
fba node04 member remove
is "$?" 2 "remove without an ID: exit 2"
fba node04 member --service iam list
is "$?" 2 "--service iam: exit 2"
fba node04 member --driver raft list
is "$?" 2 "unknown --driver: exit 2"
fba node04 member add --json
is "$?" 2 "--json with add: exit 2"
fba node04 member add node06 not-an-address
is "$?" 2 "add with a bad raft address: exit 2"
fba node04 member --url ftp://$B.1/ list
is "$?" 2 "--url that is not http(s): exit 2"

# --- list -------------------------------------------------------------------------------------
fba node04 member list
is "$?" 0 "list exits 0"
like "$OUT" "^ID +RAFT ADDRESS +STATUS$" "table header"
like "$OUT" "^node01 +$B\.1:$CF_RAFT +active$" "node01 row"
like "$OUT" "^node03 +$B\.3:$CF_RAFT +active$" "node03 row"
is "$(grep -c '^node0' "$OUT")" 3 "three members"
unlike "$OUT" "answered by" "the leader answered: no note"

fba node04 member list --json
is "$?" 0 "list --json exits 0"
is "$(jpy "$OUT" "' '.join(m['id'] for m in d['members'])")" "node01 node02 node03" "JSON member ids"
is "$(jpy "$OUT" "d['members'][1]['raft_addr']")" "$B.2:$CF_RAFT" "JSON raft address"
is "$(jpy "$OUT" "d['url']")" "https://$B.1:$CF" "JSON names the server that answered"
is "$(jpy "$OUT" "d['leader_answered']")" "true" "the leader answered"
is "$(jpy "$OUT" "d['service'] + ' ' + d['driver']")" "chainfire admin" "service and driver"

fba node04 member --service flaredb list --json
is "$?" 0 "flaredb list"
is "$(jpy "$OUT" "d['url'] + ' ' + d['members'][0]['raft_addr']")" "https://$B.1:$FDB $B.1:$FDB_RAFT" "flaredb: its own port"

# --- add --------------------------------------------------------------------------------------
ctl /control/reset-log '{}' >/dev/null
fba node04 member add
is "$?" 0 "add (this node) exits 0"
like "$OUT" "^added: node04 \($B\.4:$CF_RAFT\) to chainfire" "prints added"
is "$(count_member chainfire node04)" 1 "node04 is a chainfire member"
is "$(cstate "[m['raft_addr'] for m in d['members']['chainfire'] if m['id'] == 'node04'][0]")" "$B.4:$CF_RAFT" \
        "with the configured raft address"
is "$(count_mid "$ERR" MEMBER_CHANGED)" 1 "MEMBER_CHANGED record"
like "$ERR" "\"MEMBER_ID\": ?\"node04\"" "record names the member"

fba node04 member add
is "$?" 0 "adding again exits 0"
like "$OUT" "^already a member: node04" "prints already a member"
is "$(requests_where "r['path'] == '/admin/member/add' and r['status'] == 409")" 1 "the server answered 409"
is "$(count_member chainfire node04)" 1 "still one node04"
is "$(count_mid "$ERR" MEMBER_CHANGED)" 0 "no MEMBER_CHANGED when nothing changed"

fba node04 member add node05 "$B.5:$CF_RAFT"
is "$?" 0 "add another node by ID and address"
is "$(count_member chainfire node05)" 1 "node05 is a member"

fba node04 member --service flaredb add
is "$?" 0 "flaredb add"
is "$(cstate "[m['raft_addr'] for m in d['members']['flaredb'] if m['id'] == 'node04'][0]")" "$B.4:$FDB_RAFT" \
        "flaredb got its raft port"

# --- remove -----------------------------------------------------------------------------------
fba node04 member remove node05
is "$?" 0 "remove exits 0"
like "$OUT" "^removed: node05 from chainfire" "prints removed"
is "$(count_member chainfire node05)" 0 "node05 is gone"
is "$(count_mid "$ERR" MEMBER_CHANGED)" 1 "MEMBER_CHANGED record for the removal"

fba node04 member remove node05
is "$?" 5 "removing a non-member: exit 5"
like "$ERR" "HTTP 404" "names the status"
like "$ERR" "no member 'node05'" "and the server's message"

# --- refused ----------------------------------------------------------------------------------
ctl /control/reset-log '{}' >/dev/null
ctl /control/fail '{"service":"chainfire","path":"/admin/member/add","status":400,"body":{"error":"raft address outside the cluster network"}}' >/dev/null
fba node04 member add node06 "$B.6:$CF_RAFT"
is "$?" 5 "a 4xx refusal: exit 5"
like "$ERR" "HTTP 400" "names the status"
like "$ERR" "raft address outside the cluster network" "and the server's message"
has_mid "$ERR" JOIN_REFUSED
ok $? "JOIN_REFUSED record"
is "$(requests_where "r['path'] == '/admin/member/add'")" 1 "a refusal is not retried elsewhere"
is "$(count_member chainfire node06)" 0 "node06 was not added"

# --- a leader that does not answer ------------------------------------------------------------
ctl /control/fail '{"service":"chainfire","node":"node01","path":"/admin/cluster/members","status":503}' >/dev/null
fba node04 member list
is "$?" 0 "leader answers 503: list still works"
like "$OUT" "answered by https://$B\.2:$CF" "says which peer answered"
has_mid "$ERR" PEER_FALLBACK
ok $? "PEER_FALLBACK record"

ctl /control/listener '{"service":"chainfire","node":"node01","up":false}' >/dev/null
fba node04 member list --json
is "$?" 0 "leader down: list exits 0"
is "$(jpy "$OUT" "d['url'] + ' ' + str(d['leader_answered'])")" "https://$B.2:$CF False" "JSON: a peer answered"

fba node04 member add node07 "$B.7:$CF_RAFT"
is "$?" 0 "leader down: add exits 0"
like "$OUT" "^added: node07 .*answered by https://$B\.2:$CF" "added through a peer"
is "$(count_member chainfire node07)" 1 "node07 is a member"

fba node04 member remove node07
is "$?" 4 "remove asks the leader only: exit 4 when it is down"
like "$ERR" "https://$B\.1:$CF" "names the leader"

fba node04 member --url "https://$B.3:$CF" remove node07
is "$?" 0 "remove with --url"
is "$(count_member chainfire node07)" 0 "node07 is gone"

ctl /control/listener '{"service":"chainfire","node":"node02","up":false}' >/dev/null
ctl /control/listener '{"service":"chainfire","node":"node03","up":false}' >/dev/null
fba node04 member list
is "$?" 4 "nobody answers: exit 4"
like "$ERR" "No server of chainfire answered \(3 tried\)" "says so"
fba node04 member add
is "$?" 4 "nobody answers: add exits 4"

ctl /control/listener '{"service":"chainfire","node":"node02","up":true}' >/dev/null
fba node04 member --url "https://$B.3:$CF" list
is "$?" 4 "--url: no fallback to the peers"
fba node04 member --url "https://$B.2:$CF/" list
is "$?" 0 "--url (with a trailing slash)"
like "$OUT" "^node04 +$B\.4:$CF_RAFT " "the member list of the peer has node04"

tap_done
