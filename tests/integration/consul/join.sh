#!/bin/bash
# SPDX-License-Identifier: MIT
# The Consul pieces against tests/server/consul-agent.py (a local agent's API over a catalog
# shared by every instance), through tests/integration/join-probe: the config file with the
# pinned node ID, the leader, the node in the catalog with serfHealth passing, the ACL token in
# X-Consul-Token; a re-install with the pinned ID rejoins, one with a random ID is refused with
# Consul's message while the old entry is alive; a wrong gossip key never joins.
# Block 127.81.3.0/24.
set -u
src=${FBA_SOURCE_ROOT:-$(cd "$(dirname "$0")/../../.." && pwd)}
build=${FBA_BUILD_ROOT:-$src/build}
probe=$build/tests/integration/join-probe
. "$src/tests/tap.sh"
. "$src/tests/integration/standin-lib.sh"

IP=127.81.3.1
KEY="pUqJrVyVRj5jsiYEkM/tFQYfWyJIv4s3XkvDwy7Cu5s="
TOKEN="b1gs33cr3t-agent-token"
standin_init "$IP"
( umask 077; printf '%s\n' "$KEY" > "$tmp/encrypt"; printf '%s\n' "$TOKEN" > "$tmp/acl-token"
  printf 'not-the-cluster-key\n' > "$tmp/wrong-encrypt" )

start() {       # start NAME PORT CONFIG_DIR: a stand-in agent on IP:PORT; its pid in $last
        rm -f "$tmp/ready-$1"
        python3 "$src/tests/server/consul-agent.py" --config-dir "$3" --catalog "$tmp/catalog.json" \
                --listen "$IP:$2" --ready-file "$tmp/ready-$1" --cluster-key "$KEY" --acl-token "$TOKEN" \
                2>>"$tmp/$1.log" &
        last=$!
        pids+=("$last")
        for _ in $(seq 100); do [ -e "$tmp/ready-$1" ] && return 0; sleep 0.05; done
        bail "consul-agent.py $1 did not start: $(cat "$tmp/$1.log")"
}
until_joined() {        # until_joined PORT NAME: the probe's answer once it names the node (or the last)
        local out
        for _ in $(seq 60); do
                out=$("$probe" consul "http://$IP:$1" "$2" "$tmp/acl-token" 2>&1)
                case $out in *"node "*passing*) break ;; esac
                sleep 0.1
        done
        echo "$out"
}

# --- a join ------------------------------------------------------------------------------------
id1=$("$probe" node-id node01)
is "$id1" "$(python3 -c "
import hashlib, uuid
d = bytearray(hashlib.sha256(b'consul-node-id:node01').digest()[:16]); d[6] = d[6] & 0x0f | 0x80; d[8] = d[8] & 0x3f | 0x80
print(uuid.UUID(bytes=bytes(d)))")" "the pinned node ID is the documented derivation"
"$probe" consul-config "$tmp/node01" node01 "$id1" 127.81.3.100 "$tmp/encrypt" "$tmp/acl-token"; ok $? "config written"
is "$(stat -c %a "$tmp/node01/first-boot-agent.json")" 600 "0600: it holds the gossip key and the token"
start node01 28501 "$tmp/node01"
out=$(until_joined 28501 node01)
is "$out" "leader 127.0.0.1:8300
node $id1 passing" "node01 joined: a leader, in the catalog under its pinned ID, serfHealth passing"
"$probe" consul "http://$IP:28501" node01 - >"$tmp/out" 2>"$tmp/err"
is "$?" 1 "without the ACL token: refused"
grep -q "ACL not found (HTTP 403)" "$tmp/err"; ok $? "Consul's answer: $(cat "$tmp/err")"
out=$("$probe" consul "http://$IP:28501" node07 "$tmp/acl-token" 2>&1)
is "$out" "leader 127.0.0.1:8300
not-registered" "a node the catalog does not know"
curl -sf -X POST -d '{"path": "/v1/catalog/node/", "status": 500, "times": 1}' "http://$IP:28501/control/fail" >/dev/null
"$probe" consul "http://$IP:28501" node01 "$tmp/acl-token" >"$tmp/out" 2>"$tmp/err"
is "$?" 1 "a failing agent: an error"

# --- a second node, sharing the catalog ----------------------------------------------------------
id2=$("$probe" node-id node02)
"$probe" consul-config "$tmp/node02" node02 "$id2" 127.81.3.100 "$tmp/encrypt" "$tmp/acl-token"
start node02 28502 "$tmp/node02"
is "$(until_joined 28502 node02)" "leader 127.0.0.1:8300
node $id2 passing" "node02 joined"
out=$("$probe" consul "http://$IP:28502" node01 "$tmp/acl-token" 2>&1)
is "$out" "leader 127.0.0.1:8300
node $id1 passing" "node02's agent sees node01 in the shared catalog"

# --- a re-install with a random node ID while the old entry is alive: refused --------------------
kill -9 "$last" 2>/dev/null; wait "$last" 2>/dev/null     # a power cut: no leave, failure not yet noticed
random=$(python3 -c 'import uuid; print(uuid.uuid4())')
rm -rf "$tmp/node02"
"$probe" consul-config "$tmp/node02" node02 "$random" 127.81.3.100 "$tmp/encrypt" "$tmp/acl-token"
start node02 28502 "$tmp/node02"
out=$(until_joined 28502 node02)
is "$out" "leader 127.0.0.1:8300
node $id2 passing" "node02 re-installed with a random ID: the catalog still holds the old ID"
for _ in $(seq 50); do grep -q "failed inserting node" "$tmp/node02.log" && break; sleep 0.1; done
grep -q "failed inserting node: Error while renaming Node ID: \"$random\": Node name node02 is reserved by node $id2 with name node02 (127.0.0.1)" \
        "$tmp/node02.log"; ok $? "Consul's refusal logged"
kill "$last" 2>/dev/null; wait "$last" 2>/dev/null

# --- the same re-install with the pinned ID: rejoins ---------------------------------------------
rm -rf "$tmp/node02"
"$probe" consul-config "$tmp/node02" node02 "$("$probe" node-id node02)" 127.81.3.100 "$tmp/encrypt" "$tmp/acl-token"
start node02 28502 "$tmp/node02"
is "$(until_joined 28502 node02)" "leader 127.0.0.1:8300
node $id2 passing" "re-installed with the pinned ID: rejoined under its name"

# --- once the servers noticed the old agent is gone, Consul lets another ID take the name -------
kill -9 "$last" 2>/dev/null; wait "$last" 2>/dev/null
curl -sf -X POST -d '{"node": "node02", "status": "critical"}' "http://$IP:28501/control/serf" >/dev/null
is "$("$probe" consul "http://$IP:28501" node02 "$tmp/acl-token" 2>&1)" "leader 127.0.0.1:8300
node $id2 critical" "a dead node02 noticed: serfHealth critical"
rm -rf "$tmp/node02"
"$probe" consul-config "$tmp/node02" node02 "$random" 127.81.3.100 "$tmp/encrypt" "$tmp/acl-token"
start node02 28502 "$tmp/node02"
is "$(until_joined 28502 node02)" "leader 127.0.0.1:8300
node $random passing" "then a random ID takes the name over (Consul's rule for a critical holder)"

# --- a wrong gossip key: no leader ever -----------------------------------------------------------
"$probe" consul-config "$tmp/node03" node03 "$("$probe" node-id node03)" 127.81.3.100 "$tmp/wrong-encrypt" "$tmp/acl-token"
start node03 28503 "$tmp/node03"
is "$("$probe" consul "http://$IP:28503" node03 "$tmp/acl-token" 2>&1)" "leader none" "a wrong gossip key: no leader"

tap_done
