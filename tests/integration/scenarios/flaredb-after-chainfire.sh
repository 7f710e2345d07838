#!/bin/bash
# SPDX-License-Identifier: MIT
# The local flaredb turns healthy only once this node is a chainfire member (as in the older
# automation's timeline): with each service's health checked right before its own join, the
# first boot completes. Address block 127.10.17.0/24.
. "$(dirname "$0")/../lib.sh"
lib_init 127.10.17 "flaredb healthy only after the chainfire join: run completes"
cluster_start --healthy-when-member flaredb:node04:chainfire

node_config node04 false
fba node04 run
rc=$?
is "$rc" 0 "run exits 0"
[ "$rc" -eq 0 ] || show_output
is "$(count_member chainfire node04)/$(count_member flaredb node04)" "1/1" "member of both"
first_fdb_health=$(cstate "min([r['t'] for r in d['requests'] if r['service'] == 'flaredb' and r['node'] == 'node04' and r['path'] == '/health'])")
cf_add=$(cstate "min([r['t_end'] for r in d['requests'] if r['service'] == 'chainfire' and r['path'] == '/admin/member/add'])")
python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) >= float(sys.argv[2]) else 1)" "$first_fdb_health" "$cf_add"
ok $? "flaredb's health was first asked after the chainfire add ($first_fdb_health ≥ $cf_add)"
is "$(marker_names node04)" ".chainfire-joined .first-boot-done .flaredb-joined .health-reported" "markers written"

tap_done
