#!/bin/bash
# SPDX-License-Identifier: MIT
# Join benchmark (not a test). See tests/bench/README.md.
#
#   tests/bench/bench-join.sh [RUNS]        (FBA_BIN=… to pick the binary; as root for etcd)
#
# 1. Dead servers: a join node (chainfire and flaredb, admin API) with the leader and the first
#    peer down for good, against the same join with every server up. Reported: the extra time
#    per service.
# 2. CPU per HTTPS request against a 150-certificate CA bundle (and a 1-certificate CA): the
#    agent polls an unhealthy local service for 5 s; CPU seconds (user + sys) over the number of
#    health checks it made.
# 3. etcd: a fourth node joins a real three-member etcd through "run" (learner, settings, start,
#    health, promote): wall time from start to voter.
# Address blocks 127.19.1.0/24 (admin API), 127.19.2.0/24 (etcd); 127.0.0.1:23379 (CA bundle).
set -u

RUNS=${1:-${RUNS:-5}}
src=$(cd "$(dirname "$0")/../.." && pwd)
. "$src/tests/bench/bench-lib.sh"

. "$src/tests/integration/lib.sh"
lib_init 127.19.1 "join benchmark: $RUNS runs, $FBA_BIN"

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
maxof() { sort -n | tail -n 1; }
ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

# --- 1. dead leader and dead peer ----------------------------------------------------------------
cluster_start
node_config node04 false
config_edit node04 'c["health_check"]["enabled"] = False; c.pop("report")'
state=$(state_dir node04)
members3='[{"id":"node01","raft_addr":"'$B.1:$CF_RAFT'"},{"id":"node02","raft_addr":"'$B.2:$CF_RAFT'"},{"id":"node03","raft_addr":"'$B.3:$CF_RAFT'"}]'

one_join() {    # one_join FILE: appends the run's wall time (ms)
        local t0
        rm -rf "$state" && mkdir -p "$state"
        ctl /control/members "{\"service\":\"chainfire\",\"members\":$members3}" >/dev/null &&
                ctl /control/members "{\"service\":\"flaredb\",\"members\":$members3}" >/dev/null || bail "control API"
        t0=$(date +%s%N)
        fba node04 run || { show_output; bail "the join failed"; }
        ms_since "$t0" >>"$1"
}
: >"$tmp/up"
: >"$tmp/down"
for ((run = 1; run <= RUNS; run++)); do
        one_join "$tmp/up"
done
for s in chainfire flaredb; do
        for n in node01 node02; do
                ctl /control/listener "{\"service\":\"$s\",\"node\":\"$n\",\"up\":false}" >/dev/null || bail "control API"
        done
done
for ((run = 1; run <= RUNS; run++)); do
        one_join "$tmp/down"
done
up=$(median <"$tmp/up")
down=$(median <"$tmp/down")
extra=$(awk -v a="$up" -v b="$down" 'BEGIN { printf "%.0f", (b - a) / 2 }')
kill "$CLUSTER_PID"; wait "$CLUSTER_PID" 2>/dev/null; unset 'pids[-1]'

# --- 2. CPU per request with a large CA bundle ----------------------------------------------------
mkdir -p "$tmp/ca"
for ((i = 1; i < 150; i++)); do
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null \
                -subj "/CN=bench extra CA $i" -days 30 2>/dev/null
done >"$tmp/ca/extra.pem"
cat "$tmp/ca/extra.pem" "$CA" >"$tmp/ca/bundle.pem"
CLUSTER_NAME=clusterd-ca python3 "$server" --listen chainfire:node04:127.0.0.1:23379 --tls-dir "$tmp/certs" \
        --unhealthy chainfire:node04 --control 127.0.0.1:23000 --ready-file "$tmp/ca.ready" 2>"$tmp/ca.log" &
pids+=($!)
for ((i = 0; i < 100; i++)); do [ -e "$tmp/ca.ready" ] && break; sleep 0.05; done

cpu_per_request() {     # cpu_per_request CAFILE: "CPU_MS_PER_REQUEST REQUESTS"
        local dir=$tmp/ca/run
        rm -rf "$dir" && mkdir -p -m 0700 "$dir"
        cat >"$dir/config.json" <<EOT
{"node_id": "node04", "node_role": "control-plane", "cluster_name": "bench", "bootstrap": true,
 "raft_addr": "127.0.0.1:23380", "initial_peers": ["127.0.0.1:23380"],
 "services": {"chainfire": {"health_url": "https://127.0.0.1:23379/health"},
              "flaredb": {"enabled": false}, "iam": {"enabled": false}},
 "tls": {"enabled": true, "ca_cert_path": "$1"}, "timeouts": {"health_wait_s": 5},
 "health_check": {"enabled": false}, "state_dir": "$dir"}
EOT
        chmod 600 "$dir/config.json"
        /usr/bin/time -f "%U %S" -o "$dir/time" "$FBA_BIN" --config "$dir/config.json" --log-target json run \
                >/dev/null 2>"$dir/err"
        python3 -c 'import re, sys
u, s = map(float, open(sys.argv[1]).read().split()[-2:])
n = int(re.search(r"\((\d+) checks\)", open(sys.argv[2]).read()).group(1))
print("%.1f %d" % (1000 * (u + s) / n, n))' "$dir/time" "$dir/err"
}
read -r cpu1 n1 <<<"$(cpu_per_request "$CA")"
read -r cpu150 n150 <<<"$(cpu_per_request "$tmp/ca/bundle.pem")"

# --- 3. etcd join --------------------------------------------------------------------------------
etcd_ms=-
if [ "${BENCH_ETCD:-1}" = 1 ] && command -v etcd >/dev/null && command -v etcdctl >/dev/null; then
        B=127.19.2
        . "$src/tests/integration/etcd-lib.sh"
        etcd_cluster_start
        node=$tmp/etcd-node04
        mkdir -p "$node"
        cat >"$tmp/start-etcd.sh" <<EOS
#!/bin/bash
[ -e "$node/etcd.pid" ] && kill "\$(cat "$node/etcd.pid")" 2>/dev/null && sleep 0.3
set -a; . "$node/etcd.env"; set +a
setsid etcd --listen-client-urls "$(client 4)" --advertise-client-urls "$(client 4)" \\
        --listen-peer-urls "$(peer 4)" >>"$node/etcd.log" 2>&1 </dev/null 9>&- &
echo \$! >"$node/etcd.pid"
EOS
        chmod 755 "$tmp/start-etcd.sh"
        mkdir -p "$tmp/node05/state"
        cp "$tmp/node04/config.json" "$tmp/node05/config.json"
        config_edit node05 "
c['node_id'] = 'node05'
c['leader_url'] = '$(client 1)'
c['raft_addr'] = '$B.4:$CF_RAFT'
c['node_ip'] = '$B.4'
c['tls'] = {'enabled': False}
c['services'] = {'chainfire': {'driver': 'etcd', 'api_port': $CF, 'raft_port': $CF_RAFT,
    'health_url': '$(client 4)/health',
    'etcd': {'env_file': '$node/etcd.env', 'start_command': ['$tmp/start-etcd.sh']}},
    'flaredb': {'enabled': False}, 'iam': {'enabled': False}}
c['initial_peers'] = ['$B.1:$CF_RAFT', '$B.2:$CF_RAFT', '$B.3:$CF_RAFT']
c.pop('flaredb_peers', None)
c['state_dir'] = '$tmp/node05/state'
"
        : >"$tmp/etcd"
        for ((run = 1; run <= RUNS; run++)); do
                rm -rf "$tmp/node05/state" "$node/data" && mkdir -p "$tmp/node05/state"
                printf 'ETCD_DATA_DIR=%s\n' "$node/data" >"$node/etcd.env"
                t0=$(date +%s%N)
                fba node05 run || { show_output; bail "etcd join $run failed"; }
                ms_since "$t0" >>"$tmp/etcd"
                id=$(ectl member list | awk -F', ' -v p="$(peer 4)" '$4 == p {print $1}')
                ectl member list -w json | python3 -c 'import json, sys; ms = json.load(sys.stdin)["members"]; sys.exit(0 if any(not m.get("isLearner") and m.get("name") == "node05" for m in ms) else 1)' ||
                        bail "run $run: node05 is not a voter"
                kill "$(cat "$node/etcd.pid")"; sleep 0.5
                ectl member remove "$id" >/dev/null || bail "cannot remove node05"
                sleep 6         # etcd's rule: no change until every member was connected for 5 s
        done
        etcd_ms=$(median <"$tmp/etcd")
        etcd_max=$(maxof <"$tmp/etcd")
fi

echo
echo "first-boot-agent join benchmark ($RUNS runs each)"
printf '%-58s %9s %9s\n' "" result goal
printf '%-58s %9s %9s\n' "join, every server up (ms, median)" "$up" ""
printf '%-58s %9s %9s\n' "join, leader and first peer down (ms, median)" "$down" ""
printf '%-58s %9s %9s\n' "  extra time per service (ms)" "$extra" "<= 1000"
printf '%-58s %9s %9s\n' "CPU per HTTPS request, 1-certificate CA (ms, $n1 requests)" "$cpu1" ""
printf '%-58s %9s %9s\n' "CPU per HTTPS request, 150-certificate CA (ms, $n150 requests)" "$cpu150" ""
printf '%-58s %9s %9s\n' "etcd: run to voting member (ms, median; max ${etcd_max:--})" "$etcd_ms" ""
