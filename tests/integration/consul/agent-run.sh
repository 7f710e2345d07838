#!/bin/bash
# SPDX-License-Identifier: MIT
# "first-boot-agent run" joining Consul (a service with "driver": "consul") against the stand-in
# local agent (tests/server/consul-agent.py, over a catalog the instances share), started by the
# service's start_command: joined once there is a leader and this node is in the catalog under its
# pinned ID with serfHealth passing; the gossip key and ACL token in no record or state file; a
# re-install (state and config dir wiped) rejoins under the same ID; a name held by another node
# ID (an earlier install with a random one, still alive) is refused and reported as
# MID_MEMBER_STALE with the command. Block 127.81.6.0/24.
set -u
src=${FBA_SOURCE_ROOT:-$(cd "$(dirname "$0")/../../.." && pwd)}
bin=${FBA_BIN:-$src/build/agent/first-boot-agent}
. "$src/tests/tap.sh"
. "$src/tests/integration/standin-lib.sh"

IP=127.81.6.1
KEY="pUqJrVyVRj5jsiYEkM/tFQYfWyJIv4s3XkvDwy7Cu5s="
TOKEN="b1gs33cr3t-agent-token-6"
[ -x "$bin" ] || bail "no agent at $bin"
standin_init "$IP" consul.pid
( umask 077; printf '%s\n' "$KEY" > "$tmp/encrypt"; printf '%s\n' "$TOKEN" > "$tmp/acl-token" )
mid() { sed -n "s/^#define MID_$1 \"\([0-9a-f]*\)\".*/\1/p" "$src/agent/record/message-id.h"; }

# node NAME PORT: the node's config (a worker running only Consul) and the start command that
# launches its stand-in agent on IP:PORT in the background.
node() {
        local n=$1 d="$tmp/$1"
        mkdir -p "$d/state"
        chmod 700 "$d"
        cat >"$d/start" <<EOS
#!/bin/sh
rm -f "$d/ready"
setsid python3 "$src/tests/server/consul-agent.py" --config-dir "$d/consul.d" --catalog "$tmp/catalog.json" \\
        --listen "$IP:$2" --ready-file "$d/ready" --cluster-key "$KEY" --acl-token "$TOKEN" >>"$d/consul.log" 2>&1 &
echo \$! >"$d/consul.pid"
EOS
        chmod 755 "$d/start"
        ( umask 077; cat >"$d/config.json" <<EOS
{"node_id": "$n", "node_role": "worker", "bootstrap": false, "node_ip": "$IP", "datacenter": "dc1",
 "services": {"consul": {"driver": "consul", "retry_join": ["127.81.6.100"], "encrypt_file": "$tmp/encrypt",
   "token_file": "$tmp/acl-token", "config_dir": "$d/consul.d", "data_dir": "$d/data",
   "http_url": "http://$IP:$2", "start_command": ["$d/start"]}},
 "timeouts": {"health_wait_s": 20, "backoff_initial_ms": 100, "backoff_max_ms": 500},
 "state_dir": "$d/state"}
EOS
        )
}
fba() {         # fba NODE ARGS…: sets rc; output in $tmp/NODE/out, err
        "$bin" --config "$tmp/$1/config.json" --log-target json "${@:2}" >"$tmp/$1/out" 2>"$tmp/$1/err"
        rc=$?
}
stop_consul() { [ -e "$tmp/$1/consul.pid" ] && kill "$(cat "$tmp/$1/consul.pid")" 2>/dev/null; rm -f "$tmp/$1/consul.pid"; sleep 0.2; }

# --- a join -----------------------------------------------------------------------------------------
node node01 28601
fba node01 run
is "$rc" 0 "run: joined"
[ "$rc" = 0 ] || sed 's/^/# /' "$tmp/node01/err" | tail -n 20
id1=$(python3 -c "
import hashlib, uuid
d = bytearray(hashlib.sha256(b'consul-node-id:node01').digest()[:16]); d[6] = d[6] & 0x0f | 0x80; d[8] = d[8] & 0x3f | 0x80
print(uuid.UUID(bytes=bytes(d)))")
grep -q "\"node_id\": *\"$id1\"" "$tmp/node01/consul.d/first-boot-agent.json"; ok $? "the agent's file pins the derived node ID"
is "$(stat -c %a "$tmp/node01/consul.d/first-boot-agent.json")" 600 "0600: it holds the gossip key and the token"
grep -q "\"message_id\":\"$(mid MEMBER_JOINED)\".*under its node ID $id1" "$tmp/node01/err"; ok $? "MID_MEMBER_JOINED"
! grep -rqs -e "$TOKEN" -e "$KEY" "$tmp/node01/err" "$tmp/node01/out" "$tmp/node01/state"
ok $? "the gossip key and the token are in no record or state file"
ok "$([ -e "$tmp/node01/state/.consul-joined" ]; echo $?)" "marker .consul-joined"

# --- re-install: the same name, the same pinned ID --------------------------------------------------
stop_consul node01
rm -rf "$tmp/node01/state" "$tmp/node01/consul.d" "$tmp/node01/data"
mkdir -p "$tmp/node01/state"
fba node01 run
is "$rc" 0 "the re-installed node01 rejoins under its pinned ID"

# --- a name held by another node ID: an earlier install with a random one, still alive -------------
mkdir -p "$tmp/old02/consul.d"
cat >"$tmp/old02/consul.d/old.json" <<EOS
{"node_name": "node02", "node_id": "$(python3 -c 'import uuid; print(uuid.uuid4())')", "data_dir": "$tmp/old02/data",
 "retry_join": ["127.81.6.100"], "encrypt": "$KEY", "acl": {"enabled": true, "tokens": {"agent": "$TOKEN"}}}
EOS
python3 "$src/tests/server/consul-agent.py" --config-dir "$tmp/old02/consul.d" --catalog "$tmp/catalog.json" \
        --listen "$IP:28692" --ready-file "$tmp/old02/ready" --cluster-key "$KEY" --acl-token "$TOKEN" 2>"$tmp/old02.log" &
pids+=($!)
for _ in $(seq 100); do [ -e "$tmp/old02/ready" ] && break; sleep 0.05; done
sleep 0.5
node node02 28602
fba node02 run
is "$rc" 5 "node02's name held under another ID: refused (exit 5)"
grep -q "\"message_id\":\"$(mid MEMBER_STALE)\"" "$tmp/node02/err"; ok $? "reported as MID_MEMBER_STALE"
grep -q "run: consul force-leave -prune node02" "$tmp/node02/err"; ok $? "with the command"

tap_done
