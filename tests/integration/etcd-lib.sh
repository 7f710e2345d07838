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
