# SPDX-License-Identifier: MIT
# A real etcd cluster (Debian's etcd-server) on loopback for the etcd tests (sourced after
# lib.sh and lib_init). Members are named eN and live at $B.N: client URL http://$B.N:$CF, peer
# URL http://$B.N:$CF_RAFT, data in $tmp/NAME.

command -v etcd >/dev/null || skip_all "etcd not installed (apt-get install etcd-server)"
command -v etcdctl >/dev/null || skip_all "etcdctl not installed (apt-get install etcd-client)"

# etcd 3.4 runs unasked only on amd64; elsewhere it wants to be told.
case $(uname -m) in
x86_64) ;;
aarch64) export ETCD_UNSUPPORTED_ARCH=arm64 ;;
*) export ETCD_UNSUPPORTED_ARCH=$(dpkg --print-architecture 2>/dev/null || uname -m) ;;
esac
export ETCDCTL_API=3

peer() { echo "http://$B.$1:$CF_RAFT"; }
client() { echo "http://$B.$1:$CF"; }
INITIAL="e1=$(peer 1),e2=$(peer 2),e3=$(peer 3)"
ENDPOINTS="$(client 1),$(client 2)"

# Another run of the same test (from another build directory) would use the same addresses:
# take turns.
etcd_lock_block() {
        exec 9>"${TMPDIR:-/tmp}/fba-test-block-$B.lock"
        flock -w 150 9 || bail "another run holds the address block $B.0/24 for more than 150 s"
}

# etcd_check_free N…: nothing else listens on the addresses of members N….
etcd_check_free() {
        local i port
        for i in "$@"; do
                for port in $CF $CF_RAFT; do
                        if (exec 3<>"/dev/tcp/$B.$i/$port") 2>/dev/null; then
                                bail "$B.$i:$port is already in use"
                        fi
                done
        done
}

# etcd_start NAME N STATE CLUSTER: one member at $B.N, data in $tmp/NAME.
etcd_start() {
        etcd --name "$1" --data-dir "$tmp/$1" \
                --listen-client-urls "$(client "$2")" --advertise-client-urls "$(client "$2")" \
                --listen-peer-urls "$(peer "$2")" --initial-advertise-peer-urls "$(peer "$2")" \
                --initial-cluster "$4" --initial-cluster-state "$3" \
                --initial-cluster-token "fba-test-$$" >"$tmp/$1.log" 2>&1 9>&- &
        pids+=($!)
}

ectl() { etcdctl --endpoints "$ENDPOINTS" --dial-timeout 2s --command-timeout 5s "$@"; }

# etcd_cluster_start: e1..e3 formed as a new cluster, healthy, and past etcd's rule that refuses
# membership changes until every member has been connected for 5 seconds.
etcd_cluster_start() {
        local i deadline
        for i in 1 2 3; do
                etcd_start "e$i" "$i" new "$INITIAL"
        done
        deadline=$((SECONDS + 30))
        until etcdctl --endpoints "$(client 1),$(client 2),$(client 3)" --dial-timeout 1s --command-timeout 2s \
                        endpoint health >"$tmp/health" 2>&1; do
                if [ "$SECONDS" -ge "$deadline" ]; then
                        sed 's/^/# /' "$tmp/health"
                        tail -n 20 "$tmp/e1.log" | sed 's/^/# /'
                        bail "etcd did not become healthy within 30 s"
                fi
                sleep 0.2
        done
        sleep 6
}

# etcd_agent NAME N [PYTHON]: a node that joins with the etcd driver through "run": its config
# ($tmp/NAME/config.json: chainfire alone, driver etcd, TLS off, no start delay), its etcd's env
# file and the start command the agent runs (etcd at $B.N with the settings the agent wrote;
# while $tmp/NAME/hold exists the command waits first, in $tmp/NAME/holding). PYTHON edits the
# config (c).
etcd_agent() {
        local name=$1 n=$2 node=$tmp/$1
        mkdir -p "$node"
        cat >"$node/start-etcd.sh" <<EOS
#!/bin/bash
set -eu
if [ -e "$node/hold" ]; then
        touch "$node/holding"
        while [ -e "$node/hold" ]; do sleep 0.1; done
fi
if [ -e "$node/etcd.pid" ]; then kill "\$(cat "$node/etcd.pid")" 2>/dev/null || true; sleep 0.5; fi
set -a
. "$node/etcd.env"
set +a
setsid etcd --listen-client-urls "$(client "$n")" --advertise-client-urls "$(client "$n")" \\
        --listen-peer-urls "$(peer "$n")" >>"$node/etcd.log" 2>&1 </dev/null 9>&- &
echo \$! >"$node/etcd.pid"
exit 0
EOS
        chmod 755 "$node/start-etcd.sh"
        printf 'ETCD_DATA_DIR=%s\n' "$node/data" >"$node/etcd.env"
        node_config "$name" false
        config_edit "$name" "
c['node_ip'] = '$B.$n'
c['raft_addr'] = '$B.$n:$CF_RAFT'
c['leader_url'] = '$(client 1)'
c['initial_peers'] = ['$B.1:$CF_RAFT', '$B.2:$CF_RAFT', '$B.3:$CF_RAFT']
c['tls'] = {'enabled': False}
c['services']['chainfire'] = {'driver': 'etcd', 'api_port': $CF, 'raft_port': $CF_RAFT,
    'health_url': '$(client "$n")/health',
    'etcd': {'env_file': '$node/etcd.env', 'start_command': ['$node/start-etcd.sh']}}
c['services']['flaredb']['enabled'] = False
c['timeouts'].update(health_wait_s=120, join_attempts=5, backoff_initial_ms=200, backoff_max_ms=2000)
c.pop('report')
${3:-}
"
}

# etcd_agents_stop NAME…: stops their etcds.
etcd_agents_stop() {
        local name
        for name in "$@"; do
                [ -e "$tmp/$name/etcd.pid" ] && kill "$(cat "$tmp/$name/etcd.pid")" 2>/dev/null
        done
}

# etcd_members: "VOTERS LEARNERS UNNAMED DUPLICATE_PEER_URLS" from etcdctl.
etcd_members() {
        ectl member list -w json >"$tmp/ml.json" 2>/dev/null || { echo "list failed"; return; }
        python3 -c 'import json, sys
ms = json.load(open(sys.argv[1])).get("members", [])
urls = [u for m in ms for u in m.get("peerURLs", [])]
print(sum(1 for m in ms if not m.get("isLearner")), sum(1 for m in ms if m.get("isLearner")),
      sum(1 for m in ms if not m.get("name")), len(urls) - len(set(urls)))' "$tmp/ml.json"
}
