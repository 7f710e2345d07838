#!/bin/bash
# SPDX-License-Identifier: MIT
# The k3s pieces against tests/server/k3s-server.py and the stand-in `k3s agent`
# (tests/server/k3s-agent.py), through tests/integration/join-probe: the CA bundle pinned by the
# token's hash (and a wrong hash refused before anything is written), config.yaml, the kubelet's
# kubeconfig and its Node turning Ready, another node's certificate refused, Ready never reached,
# and a re-flash: the derived node password rejoins, a random one is rejected with k3s's message
# until the old node-password entry is deleted. Block 127.81.2.0/24.
set -u
src=${FBA_SOURCE_ROOT:-$(cd "$(dirname "$0")/../../.." && pwd)}
build=${FBA_BUILD_ROOT:-$src/build}
probe=$build/tests/integration/join-probe
. "$src/tests/tap.sh"
. "$src/tests/integration/standin-lib.sh"

IP=127.81.2.1 PORT=26443 CTL=26444
standin_init "$IP"
standin_tls "$IP"
standin_ctl "$CTL"
server="https://$IP:$PORT"
state() { curl -sf "http://$IP:$CTL/control/state"; }

python3 "$src/tests/server/k3s-server.py" --listen "$IP:$PORT" --tls-dir "$tmp/tls" --token "server:clustertok3n" \
        --state "$tmp/server-state.json" --control "$IP:$CTL" --ready-file "$tmp/ready" --ready-after 1 \
        2>"$tmp/server.log" &
pids+=($!)
for _ in $(seq 100); do [ -e "$tmp/ready" ] && break; sleep 0.05; done
[ -e "$tmp/ready" ] || bail "k3s-server.py did not start: $(cat "$tmp/server.log")"

# A node's root: /etc/rancher, /var/lib/rancher and the agent's secrets under $tmp/NODE.
node_files() {  # node_files NODE TOKEN
        mkdir -p "$tmp/$1/secrets"
        ( umask 077; printf '%s\n' "$2" > "$tmp/$1/secrets/k3s-token" )
}
agent() {       # agent NODE [options]: the stand-in k3s agent with the node's paths
        local n=$1; shift
        K3S_CONFIG_FILE="$tmp/$n/etc/rancher/k3s/config.yaml" K3S_DATA_DIR="$tmp/$n/var/lib/rancher/k3s" \
        K3S_NODE_PASSWORD_FILE="$tmp/$n/etc/rancher/node/password" \
                python3 "$src/tests/server/k3s-agent.py" agent "$@"
}
config() {      # config NODE
        "$probe" k3s-config "$tmp/$1/etc/rancher/k3s/config.yaml" "$server" "$tmp/$1/secrets/k3s-token" "$1" \
                "$IP" label:rack=r3 taint:dedicated=storage:NoSchedule
}
wait_ready() {  # wait_ready NODE: polls until Ready (no timing is asserted, only a bound on tries)
        local out
        for _ in $(seq 100); do
                out=$("$probe" node "$tmp/$1/var/lib/rancher/k3s/agent/kubelet.kubeconfig" "$1" 2>&1)
                [ "$out" = ready ] && break
                sleep 0.1
        done
        echo "$out"
}

# --- a wrong CA hash: refused before anything is written -------------------------------------
wrong=$(printf '%064d' 0)
node_files node01 "K10${wrong}::server:clustertok3n"
"$probe" cacerts "$server" "$tmp/node01/secrets/k3s-token" "$tmp/node01/ca.pem" 2>"$tmp/err"
is "$?" 5 "a token pinning another CA: refused"
grep -q "has hash $ca_hash, the token pins $wrong" "$tmp/err"; ok $? "both hashes named: $(cat "$tmp/err")"
ok "$([ ! -e "$tmp/node01/ca.pem" ]; echo $?)" "nothing written"
ok "$([ ! -e "$tmp/node01/etc" ]; echo $?)" "no config.yaml either"

# --- the secure token: the served bundle is pinned -------------------------------------------
node_files node01 "K10${ca_hash}::server:clustertok3n"
out=$("$probe" cacerts "$server" "$tmp/node01/secrets/k3s-token" "$tmp/node01/ca.pem" 2>&1)
is "$out" "pinned $ca_hash" "the token's hash is the served bundle's"
cmp -s "$tmp/node01/ca.pem" "$tmp/tls/ca.crt"; ok $? "the bundle returned byte for byte"
node_files node09 "server:clustertok3n"
out=$("$probe" cacerts "$server" "$tmp/node09/secrets/k3s-token" "$tmp/node09/ca.pem" 2>&1)
is "$out" "unpinned $ca_hash" "a short token: the bundle comes back, said to be unpinned"
ctl fail '{"path": "/cacerts", "status": 503, "times": 1}'
"$probe" cacerts "$server" "$tmp/node01/secrets/k3s-token" "$tmp/node01/ca2.pem" 2>"$tmp/err"
is "$?" 1 "a failing server: an error"
grep -q "HTTP 503" "$tmp/err"; ok $? "with its status: $(cat "$tmp/err")"

# --- a server whose bundle does not sign its own certificate: refused, as k3s does -------------
python3 "$src/tests/server/k3s-server.py" --listen "$IP:$((PORT + 10))" --tls-dir "$tmp/tls" --token "server:clustertok3n" \
        --state "$tmp/odd-state.json" --control "$IP:$((CTL + 10))" --ready-file "$tmp/ready-odd" \
        --cacerts "$tmp/tls/other-ca.crt" 2>"$tmp/odd.log" &
pids+=($!)
for _ in $(seq 100); do [ -e "$tmp/ready-odd" ] && break; sleep 0.05; done
node_files node08 "server:clustertok3n"
"$probe" cacerts "https://$IP:$((PORT + 10))" "$tmp/node08/secrets/k3s-token" "$tmp/node08/ca.pem" 2>"$tmp/err"
is "$?" 1 "a bundle that does not sign the server's certificate: refused"
grep -q "Key was rejected" "$tmp/err"; ok $? "as an untrusted peer: $(cat "$tmp/err")"
ok "$([ ! -e "$tmp/node08/ca.pem" ]; echo $?)" "nothing written"

# --- join: config.yaml, the derived password, the stand-in agent, Ready ----------------------
( umask 077; printf 'fleet-wide-node-password-secret\n' > "$tmp/cluster-secret" )
config node01; ok $? "config.yaml written"
grep -q '^node-label:$' "$tmp/node01/etc/rancher/k3s/config.yaml" && \
        grep -q '^- "dedicated=storage:NoSchedule"$' "$tmp/node01/etc/rancher/k3s/config.yaml"; ok $? "with labels and taints"
grep -q clustertok3n "$tmp/node01/etc/rancher/k3s/config.yaml"; ok "$((1 - $?))" "the token is not in config.yaml"
is "$(stat -c %a "$tmp/node01/etc/rancher/k3s/config.yaml")" 600 "config.yaml is 0600"
"$probe" password "$tmp/cluster-secret" node01 "$tmp/node01/etc/rancher/node/password"; ok $? "derived node password written"
pw1=$(cat "$tmp/node01/etc/rancher/node/password")
agent node01 --exit-when-registered --max-retries 0 2>"$tmp/agent1.log"; ok $? "the stand-in k3s agent registers node01"
is "$(cat "$tmp/node01/etc/rancher/node/password")" "$pw1" "k3s kept the password it found"
out=$("$probe" node "$tmp/node01/var/lib/rancher/k3s/agent/kubelet.kubeconfig" node01 2>&1)
case $out in ready|"not-ready KubeletNotReady: "*) r=0 ;; *) r=1 ;; esac
ok $r "the Node is registered: $out"
is "$(wait_ready node01)" ready "node01 turns Ready"
state | grep -q '"rack": "r3"'; ok $? "registered with its label"

# --- the API serves a node's object to that node only -----------------------------------------
"$probe" node "$tmp/node01/var/lib/rancher/k3s/agent/kubelet.kubeconfig" node02 2>"$tmp/err"
is "$?" 1 "node01's certificate asking for node02: refused"
grep -q 'Permission denied.*forbidden' "$tmp/err"; ok $? "403, said: $(cat "$tmp/err")"

# --- Ready never reached ----------------------------------------------------------------------
ctl ready '{"node": "node03", "never": true}'
node_files node03 "K10${ca_hash}::server:clustertok3n"; config node03
agent node03 --exit-when-registered --max-retries 0 2>/dev/null; ok $? "node03 registers"
out=$(wait_ready node03)
is "$out" "not-ready KubeletNotReady: container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized" \
        "never Ready: the reason and message come back"

# --- re-flash: everything under the node's root wiped, same name ------------------------------
rm -rf "$tmp/node01/etc" "$tmp/node01/var"
config node01
"$probe" password "$tmp/cluster-secret" node01 "$tmp/node01/etc/rancher/node/password"
is "$(cat "$tmp/node01/etc/rancher/node/password")" "$pw1" "the same password derived again"
agent node01 --exit-when-registered --max-retries 0 2>"$tmp/agent2.log"; ok $? "the re-flashed node01 rejoins"
is "$(wait_ready node01)" ready "and is Ready"

rm -rf "$tmp/node01/etc" "$tmp/node01/var"
config node01
agent node01 --exit-when-registered --max-retries 1 --retry-interval 0.1 2>"$tmp/agent3.log"
is "$?" 1 "re-flashed without the secret (k3s makes up a password): refused"
grep -q "Node password rejected, duplicate hostname or contents of '/etc/rancher/node/password' may not match server node-passwd entry, try enabling a unique node name with the --with-node-id flag" \
        "$tmp/agent3.log"; ok $? "k3s's message logged"
is "$(grep -c 'Node password rejected' "$tmp/agent3.log")" 2 "and retried"
ctl delete-password '{"node": "node01"}'
agent node01 --exit-when-registered --max-retries 0 2>/dev/null; ok $? "after the operator deletes node01.node-password.k3s: accepted"

tap_done
