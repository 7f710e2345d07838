#!/bin/bash
# SPDX-License-Identifier: MIT
# Thirty nodes join one k3s server stand-in at once: each writes its config.yaml and derived
# password (join-probe), starts the stand-in k3s agent, and every Node reaches Ready with its own
# certificate; then the herd is re-flashed (roots wiped) and rejoins with the same passwords.
# Block 127.81.4.0/24.
set -u
src=${FBA_SOURCE_ROOT:-$(cd "$(dirname "$0")/../../.." && pwd)}
build=${FBA_BUILD_ROOT:-$src/build}
probe=$build/tests/integration/join-probe
. "$src/tests/tap.sh"
. "$src/tests/integration/standin-lib.sh"

IP=127.81.4.1 PORT=26443 CTL=26444 N=${HERD:-30}
standin_init "$IP"
standin_tls "$IP"
server="https://$IP:$PORT"
python3 "$src/tests/server/k3s-server.py" --listen "$IP:$PORT" --tls-dir "$tmp/tls" --token "server:herdtok3n" \
        --state "$tmp/state.json" --control "$IP:$CTL" --ready-file "$tmp/ready" --ready-after 1 2>"$tmp/server.log" &
pids+=($!)
for _ in $(seq 100); do [ -e "$tmp/ready" ] && break; sleep 0.05; done
[ -e "$tmp/ready" ] || bail "k3s-server.py did not start: $(cat "$tmp/server.log")"
( umask 077; printf 'herd-wide-node-password-secret\n' > "$tmp/cluster-secret" )

# cacerts NODE: the CA bundle fetched and checked against the token's pin; like the step, a
# transient failure (a connection timed out under the herd's load) is tried again.
cacerts() {
        local root=$tmp/$1 _
        for _ in 1 2 3 4 5; do
                "$probe" cacerts "$server" "$root/secrets/k3s-token" "$root/ca.pem" >/dev/null && return 0
                sleep 1
        done
        return 1
}
join() {        # join NODE: what the k3s step does, then the stand-in k3s agent; exit status
        local n=$1 root=$tmp/$1
        mkdir -p "$root/secrets"
        ( umask 077; printf 'K10%s::server:herdtok3n\n' "$ca_hash" > "$root/secrets/k3s-token" )
        cacerts "$n" &&
        "$probe" k3s-config "$root/etc/rancher/k3s/config.yaml" "$server" "$root/secrets/k3s-token" "$n" "$IP" &&
        "$probe" password "$tmp/cluster-secret" "$n" "$root/etc/rancher/node/password" &&
        K3S_CONFIG_FILE="$root/etc/rancher/k3s/config.yaml" K3S_DATA_DIR="$root/var/lib/rancher/k3s" \
        K3S_NODE_PASSWORD_FILE="$root/etc/rancher/node/password" \
                python3 "$src/tests/server/k3s-agent.py" agent --exit-when-registered --max-retries 10 --retry-interval 1 2>"$root.log"
}
herd() {        # herd: all N at once; prints how many joined and then were Ready
        local i k jp=() joined=() ok=0 ready=0 out names
        read -r -a names <<<"$(seq -w -s ' ' 1 "$N")"
        for i in "${names[@]}"; do join "node$i" & jp+=($!); done
        for k in "${!jp[@]}"; do
                if wait "${jp[$k]}"; then ok=$((ok + 1)); joined+=("${names[$k]}"); fi
        done
        # Only a node that joined can turn Ready: one that did not is counted as not Ready at once.
        for i in "${joined[@]}"; do
                for _ in $(seq 100); do
                        out=$("$probe" node "$tmp/node$i/var/lib/rancher/k3s/agent/kubelet.kubeconfig" "node$i" 2>&1)
                        [ "$out" = ready ] && { ready=$((ready + 1)); break; }
                        sleep 0.1
                done
        done
        echo "$ok $ready"
}

is "$(herd)" "$N $N" "$N nodes at once: all joined, all Ready"
is "$(python3 -c "import json; print(len(json.load(open('$tmp/state.json'))['passwords']))")" "$N" "one node password each"
for i in $(seq -w 1 "$N"); do rm -rf "$tmp/node$i"; done
is "$(herd)" "$N $N" "the herd re-flashed: all rejoined with their derived passwords, all Ready"
grep -l "Node password rejected" "$tmp"/node*.log >/dev/null 2>&1; ok "$((1 - $?))" "no password rejected"
tap_done
