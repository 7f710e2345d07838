#!/bin/bash
# SPDX-License-Identifier: MIT
# Fleet benchmark (not a test). See tests/bench/README.md.
#
#   tests/bench/bench-fleet.sh [SIZES [SPREADS_MS [ETCD_SIZES]]]   (as root for etcd)
#   default: "100 200" agents, start delays "0 2000 5000" ms, etcd "5 10" ("" for none)
#
# 1. Admin API: SIZE agents (tests/integration/fleet-lib.sh) wait for their local services, which
#    all turn healthy at one moment (a rack's services coming up together), then join one leader,
#    for each timeouts.join_start_delay_max_ms in SPREADS_MS, against a healthy leader and
#    against one that serves 50 requests a second (429 with Retry-After: 1 beyond). Reported per
#    run: the time from that moment to the last add the leader took, joined agents and duplicate
#    entries, requests per agent at the leader (most and mean), 429 answers, and the leader's
#    busiest 100 ms (requests arriving).
# 2. etcd: N nodes join a real three-member etcd at once through "run" (learners, the join lock):
#    time until the last one is a voter; voters, learners and duplicates left.
# Address blocks 127.65.0.0/23 (admin API) and 127.66.0.0/24 (etcd).
set -u

src=$(cd "$(dirname "$0")/../.." && pwd)
. "$src/tests/bench/bench-lib.sh"

# --- 2. etcd (run as its own process: its own address block) -------------------------------------
if [ "${1:-}" = "--etcd" ]; then
        n=$2
        . "$src/tests/integration/lib.sh"
        lib_init 127.66.0 "etcd fleet: $n joiners"
        . "$src/tests/integration/etcd-lib.sh"
        etcd_lock_block
        etcd_check_free $(seq 1 $((n + 3)))
        etcd_cluster_start
        names=()
        for ((i = 4; i < n + 4; i++)); do
                name=$(printf 'n%02d' "$i")
                etcd_agent "$name" "$i" "c['node_id'] = '$name'"
                names+=("$name")
        done
        start=$(now_ns)
        bpids=()
        for name in "${names[@]}"; do
                FBA_TIMEOUT=600 fba_bg "$name" run
                bpids+=($FBA_PID)
        done
        failed=0
        for p in "${bpids[@]}"; do wait "$p" || failed=$((failed + 1)); done
        ms=$(elapsed_ms "$start")
        read -r voters learners unnamed dups <<<"$(etcd_members)"
        printf '| etcd | %d | %d ms | %d | %d | %d | %d |\n' "$n" "$ms" "$failed" "$voters" "$learners" "$dups"
        etcd_agents_stop "${names[@]}"
        exit 0
fi

SIZES=${1-100 200}
SPREADS=${2-0 2000 5000}
ETCD_SIZES=${3-5 10}

. "$src/tests/integration/lib.sh"
lib_init 127.65.0 "fleet benchmark: $FBA_BIN"
. "$src/tests/integration/fleet-lib.sh"
ulimit -n 65536 2>/dev/null

# run_fleet SIZE SPREAD LEADER: one fresh cluster, SIZE agents; prints one table row. Every
# agent's local chainfire turns healthy at the same moment, FLIP seconds after clusterd starts
# (time enough for every agent to be up and polling): the rack's services coming up together,
# so the joins start together whatever this machine's 2 cores do to the agents' start-up.
run_fleet() {
        local size=$1 spread=$2 leader=$3 i args=()
        flip=$((4 + size / 20))
        if [ -n "${CLUSTER_PID:-}" ]; then
                kill "$CLUSTER_PID" 2>/dev/null
                wait "$CLUSTER_PID" 2>/dev/null
        fi
        rm -rf "$tmp"/f[0-9][0-9][0-9]
        for ((i = 1; i <= size; i++)); do
                args+=(--healthy-after "chainfire:$(fleet_name "$i"):$flip")
        done
        fleet_start "$size" "${args[@]}"
        ctl /control/leader '{"service": "chainfire", "node": "node01", "mode": "421"}' >/dev/null || bail "leader"
        if [ "$leader" = throttled ]; then
                ctl /control/throttle '{"service": "chainfire", "node": "node01", "rate": 50, "burst": 10,
                                        "retry_after": 1}' >/dev/null || bail "throttle"
        fi
        fleet_configs "c['timeouts']['join_start_delay_max_ms'] = $spread"
        fleet_run
        read -r joined dups <<<"$(fleet_members_ok)"
        cstate "(lambda rs: '%d %.2f %d %d %d' % (
                    max(__import__('collections').Counter(r['user_agent'] for r in rs).values(), default=0),
                    len(rs) / max(len(set(r['user_agent'] for r in rs)), 1),
                    len([r for r in rs if r['status'] == 429]),
                    max((len([1 for b in rs if a['t'] <= b['t'] < a['t'] + 0.1]) for a in rs), default=0),
                    1000 * (max([r['t_end'] for r in rs if r['path'] == '/admin/member/add' and r['status'] == 201],
                                default=$flip) - $flip)))(
                    [r for r in d['requests'] if r['node'] == 'node01' and r['service'] == 'chainfire'
                     and '(f' in r['user_agent']])" >"$tmp/metrics"
        read -r most mean throttled peak joins <"$tmp/metrics"
        printf '| %s | %d | %d | %d ms | %d/%d | %d | %d | %s | %d | %d |\n' "$leader" "$size" "$spread" "$joins" \
                "$joined" "$size" "$FLEET_FAILED" "$dups" "$most / $mean" "$throttled" "$peak"
}

echo "| leader | agents | start delay max (ms) | healthy → last add | joined | failed | duplicates | leader requests per agent (most / mean) | 429 | busiest 100 ms at the leader |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for size in $SIZES; do
        for leader in healthy throttled; do
                for spread in $SPREADS; do
                        run_fleet "$size" "$spread" "$leader"
                done
        done
done

echo
echo "| etcd | joiners | until the last is a voter | failed | voters | learners | duplicate peer URLs |"
echo "|---|---|---|---|---|---|---|"
for n in $ETCD_SIZES; do
        bash "$0" --etcd "$n" | grep '^| etcd'
done
