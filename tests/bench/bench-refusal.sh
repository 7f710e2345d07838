#!/bin/bash
# SPDX-License-Identifier: MIT
# Refusal benchmark (not a test). See tests/bench/README.md.
#
#   tests/bench/bench-refusal.sh [RUNS]     (FBA_BIN=… to pick the binary)
#
# The leader refuses the join with a 403 while both peers are unreachable (addresses where
# nothing listens): wall time of "run" from start to its exit 5, median and worst of RUNS. The
# goal is ≤ 1 s: a refusal ends the join at once, dead peers cost nothing after it.
# Address block 127.72.9.0/24.
set -u

RUNS=${1:-${RUNS:-10}}
src=$(cd "$(dirname "$0")/../.." && pwd)
. "$src/tests/bench/bench-lib.sh"
. "$src/tests/integration/lib.sh"
lib_init 127.72.9 "refusal benchmark: $RUNS runs, $FBA_BIN"

cluster_start
ctl /control/fail '{"service":"chainfire","node":"node01","path":"/admin/member/add","status":403,"count":-1,
        "body":{"error":"refused"}}' >/dev/null || bail "control API"
node_config node04 false
config_edit node04 "
c['initial_peers'] = ['$B.1:$CF_RAFT', '$B.201:$CF_RAFT', '$B.202:$CF_RAFT']
c['services']['flaredb']['enabled'] = False
c['health_check']['enabled'] = False
c['timeouts'].update(join_attempts=5, backoff_initial_ms=500, backoff_max_ms=2000)
c.pop('report')
"
: >"$tmp/ms"
for ((run = 1; run <= RUNS; run++)); do
        rm -f "$(state_dir node04)"/.chainfire-joined
        t0=$(date +%s%N)
        fba node04 run
        rc=$?
        echo $(( ($(date +%s%N) - t0) / 1000000 )) >>"$tmp/ms"
        [ "$rc" -eq 5 ] || { show_output; bail "run exited $rc, not 5"; }
done
median=$(sort -n "$tmp/ms" | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
worst=$(sort -n "$tmp/ms" | tail -n 1)
echo "403 leader + 2 dead peers → exit 5: median ${median} ms, worst ${worst} ms over $RUNS runs (goal ≤ 1000 ms)"
