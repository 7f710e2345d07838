#!/bin/bash
# SPDX-License-Identifier: MIT
# First-boot latency benchmark (not a test). See tests/bench/README.md.
#
#   tests/bench/bench-firstboot.sh [RUNS]        (FBA_BIN=… to pick the binary)
#
# 1. Join latency: a join node whose local services start unhealthy; they are flipped healthy
#    through the control API ("after_s"), iam last. Measured: from the moment the last service
#    turns healthy to the moment the agent process has exited with every step done. Both ends
#    are taken with bash's $EPOCHREALTIME (no fork): the flip request is written to the control
#    socket with /dev/tcp, so the server schedules the flip within a fraction of a millisecond
#    of the timestamp; the end is read as soon as "wait" returns. The server's request log
#    gives the part of that spent noticing the flip (first 200 from /health).
# 2. The cost of "run" on a node that is done (hyperfine if installed, else a loop).
# Address block 127.19.0.0/24.
set -u

RUNS=${1:-${RUNS:-10}}
AFTER_S=${AFTER_S:-1.0}         # the last service turns healthy this long after the flip request
src=$(cd "$(dirname "$0")/../.." && pwd)
. "$src/tests/bench/bench-lib.sh"

. "$src/tests/integration/lib.sh"
lib_init 127.19.0 "first-boot benchmark: $RUNS runs, $FBA_BIN"

CTL_HOST=$B.100

# ctl_at PATH JSON: POST through bash's /dev/tcp (no process started); sets SENT to the
# $EPOCHREALTIME just before the request bytes were written. Fails unless the answer is 2xx.
ctl_at() {
        local status
        exec 3<>"/dev/tcp/$CTL_HOST/$CTL_PORT" || return 1
        SENT=$EPOCHREALTIME
        printf 'POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s' \
                "$1" "$CTL_HOST" "${#2}" "$2" >&3
        read -r _ status _ <&3
        cat <&3 >/dev/null
        exec 3<&-
        [ "${status:0:1}" = 2 ]
}

# usec SECONDS.FRACTION: microseconds as an integer.
usec() {
        local s=${1%.*} f=${1#*.}
        f=${f}000000
        echo $((10#$s * 1000000 + 10#${f:0:6}))
}

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
maxof() { sort -n | tail -n 1; }

node_config node04 false
config_edit node04 'c["services"]["iam"]["enabled"] = True'
iam_secrets node04 admin "bench-$RANDOM$RANDOM"
state=$(state_dir node04)

: >"$tmp/latency"
: >"$tmp/detect"
for ((run = 1; run <= RUNS; run++)); do
        CLUSTER_NAME=clusterd-$run cluster_start \
                --unhealthy chainfire:node04 --unhealthy flaredb:node04 --unhealthy iam:node04
        rm -rf "$state" && mkdir -p "$state"

        fba_bg node04 run
        sleep 0.3

        # chainfire, then flaredb, then iam: iam is the last to turn healthy.
        ctl_at /control/health "{\"service\":\"chainfire\",\"node\":\"node04\",\"healthy\":true,\"after_s\":$(awk "BEGIN{print $AFTER_S - 0.4}")}" &&
        ctl_at /control/health "{\"service\":\"flaredb\",\"node\":\"node04\",\"healthy\":true,\"after_s\":$(awk "BEGIN{print $AFTER_S - 0.2}")}" &&
        ctl_at /control/health "{\"service\":\"iam\",\"node\":\"node04\",\"healthy\":true,\"after_s\":$AFTER_S}" ||
                bail "control API refused the health flip"
        flip=$(($(usec "$SENT") + $(usec "$AFTER_S")))
        # The same moment on the server's clock, for the detection latency.
        flip_server=$(cstate "d['now'] + [l for l in d['listeners'] if l['service'] == 'iam' and l['node'] == 'node04'][0].get('health_changes_in_s', 0)")

        wait "$FBA_PID"
        rc=$?
        end=$EPOCHREALTIME
        [ "$rc" -eq 0 ] || { show_output; bail "run $run: the agent exited $rc"; }
        [ -e "$state/.first-boot-done" ] || bail "run $run: no done marker"

        latency=$((($(usec "$end") - flip) / 1000))
        detect=$(cstate "int(1000 * (min(r['t'] for r in d['requests'] if r['service'] == 'iam' and r['node'] == 'node04' and r['path'] == '/health' and r['status'] == 200) - $flip_server))")
        echo "$latency" >>"$tmp/latency"
        echo "$detect" >>"$tmp/detect"
        diag "run $run: done $latency ms after the last service turned healthy (noticed after $detect ms)"

        kill "$CLUSTER_PID"
        wait "$CLUSTER_PID" 2>/dev/null
        unset 'pids[-1]'
done

# "run" on a done node: the state dir of the last run has every marker.
runs_done=${DONE_RUNS:-200}
cmd=("$FBA_BIN" --config "$tmp/node04/config.json" --state-dir "$state" --log-target json run)
if command -v hyperfine >/dev/null; then
        method="hyperfine, $runs_done runs"
        hyperfine -N --warmup 10 --runs "$runs_done" --export-json "$tmp/hyperfine.json" "${cmd[*]}" >/dev/null 2>&1 ||
                bail "hyperfine failed"
        done_ms=$(jpy "$tmp/hyperfine.json" "'%.2f' % (d['results'][0]['median'] * 1000)")
        done_max=$(jpy "$tmp/hyperfine.json" "'%.2f' % (d['results'][0]['max'] * 1000)")
else
        method="date +%s%N loop, $runs_done runs"
        : >"$tmp/done"
        for ((i = 0; i < runs_done; i++)); do
                t0=$(date +%s%N)
                "${cmd[@]}" >/dev/null 2>&1 || bail "run on a done node failed"
                echo $((($(date +%s%N) - t0) / 1000)) >>"$tmp/done"
        done
        done_ms=$(median <"$tmp/done" | awk '{ printf "%.2f", $1 / 1000 }')
        done_max=$(maxof <"$tmp/done" | awk '{ printf "%.2f", $1 / 1000 }')
fi

echo
echo "first-boot-agent benchmark ($RUNS join runs, last service healthy ${AFTER_S} s after the flip)"
printf '%-44s %9s %9s %9s\n' "" median max goal
printf '%-44s %9s %9s %9s\n' "last service healthy -> every step done (ms)" \
        "$(median <"$tmp/latency")" "$(maxof <"$tmp/latency")" "<= 300"
printf '%-44s %9s %9s %9s\n' "  of which: noticing the flip (ms)" \
        "$(median <"$tmp/detect")" "$(maxof <"$tmp/detect")" ""
printf '%-44s %9s %9s %9s\n' "run on a done node (ms, $method)" "$done_ms" "$done_max" "<= 20"
