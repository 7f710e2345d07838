#!/bin/bash
# SPDX-License-Identifier: MIT
# A worker runs no cluster service and joins no raft group: its first boot is the config step
# and the report; nothing is asked of the cluster's admin APIs. Address block 127.10.15.0/24.
. "$(dirname "$0")/../lib.sh"
lib_init 127.10.15 "worker: no raft group, just the report"
cluster_start

node_config node04 false
config_edit node04 'c["node_role"] = "worker"; del c["services"]'
fba node04 run
rc=$?
is "$rc" 0 "run exits 0"
[ "$rc" -eq 0 ] || show_output
is "$(requests_where "r['path'].startswith('/admin/')")" 0 "no admin API request"
is "$(count_member chainfire node04)/$(count_member flaredb node04)" "0/0" "no membership"
is "$(marker_names node04)" ".first-boot-done .health-reported" "the report's marker and the done marker"
is "$(cstate "[r['body']['event'] for r in R]")" '["firstboot-done"]' "the report arrived"
like "$ERR" "node_role worker: a worker runs no cluster service" "the log says why the joins do not apply"
fba node04 status
like "$OUT" "^chainfire-join +does not apply \(node_role worker" "status says why"

# services.*.enabled still wins over the role.
rm -f "$(state_dir node04)"/.first-boot-done "$(state_dir node04)"/.health-reported
config_edit node04 "c['services'] = {'chainfire': {'enabled': True, 'api_port': $CF, 'raft_port': $CF_RAFT,
        'health_url': 'https://$B.4:$CF/health'}}"
fba node04 run
is "$?" 0 "a worker told to run chainfire joins it"
is "$(count_member chainfire node04)/$(count_member flaredb node04)" "1/0" "chainfire only"

tap_done
