#!/bin/bash
# SPDX-License-Identifier: MIT
# A node that has finished: "run" exits 0 at once without a single request, and nothing is
# written again. Address block 127.10.3.0/24.
. "$(dirname "$0")/../lib.sh"
lib_init 127.10.3 "rerun: a finished node makes no request at all"
cluster_start

node_config node04 false
fba node04 run
rc=$?
is "$rc" 0 "first run exits 0"
[ "$rc" -eq 0 ] || show_output
before=$(cd "$(state_dir node04)" && for f in .[a-z]*; do echo "$f $(cat "$f")"; done)

ctl /control/reset-log '{"reports": true}' >/dev/null
for i in 1 2 3; do
        start=$(now_ns)
        fba node04 run
        rc=$?
        ms=$(elapsed_ms "$start")
        is "$rc" 0 "rerun $i exits 0"
done
cmp_le "$ms" 1000 "a rerun is quick (${ms} ms, includes process start)"
is "$(cstate "len(d['requests'])")" 0 "no request reached the server"
is "$(cstate "len(R)")" 0 "no report was sent again"
is "$(count_member chainfire node04)/$(count_member flaredb node04)" "1/1" "still exactly one member"
after=$(cd "$(state_dir node04)" && for f in .[a-z]*; do echo "$f $(cat "$f")"; done)
is "$after" "$before" "markers untouched"

tap_done
