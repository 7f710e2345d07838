#!/bin/bash
# SPDX-License-Identifier: MIT
# A fourth node joins a running cluster: both member lists hold it exactly once, IAM gets its
# admin and a token, every marker is written and the report arrives. Address block 127.10.2.0/24.
. "$(dirname "$0")/../lib.sh"
lib_init 127.10.2 "join: node04 joins chainfire and flaredb, sets up IAM, reports"
BOOT=boot-$RANDOM$RANDOM
cluster_start --iam-bootstrap-token "$BOOT"

node_config node04 false
config_edit node04 'c["services"]["iam"]["enabled"] = True'
iam_secrets node04 admin "pw-$RANDOM$RANDOM" "$BOOT"

start=$(now_ns)
fba node04 run
rc=$?
is "$rc" 0 "run exits 0"
[ "$rc" -eq 0 ] || show_output
diag "first boot took $(elapsed_ms "$start") ms"

is "$(marker_names node04)" ".chainfire-joined .first-boot-done .flaredb-joined .health-reported .iam-initialized" \
        "markers: joined, iam, health-reported, done (no initialized marker)"
is "$(count_member chainfire node04)" 1 "chainfire lists node04 exactly once"
is "$(count_member flaredb node04)" 1 "flaredb lists node04 exactly once"
is "$(cstate "[m['raft_addr'] for m in d['members']['chainfire'] if m['id'] == 'node04']")" \
        "[\"$B.4:$CF_RAFT\"]" "chainfire raft address is node04's"
is "$(cstate "[m['raft_addr'] for m in d['members']['flaredb'] if m['id'] == 'node04']")" \
        "[\"$B.4:$FDB_RAFT\"]" "flaredb raft address is node04's (raft_addr host, flaredb raft port)"
is "$(requests_where "r['path'] == '/admin/member/add'")" 2 "one add request per service"
is "$(requests_where "r['path'] == '/admin/member/add' and r['node'] == 'node01'")" 2 "both adds went to the leader"
is "$(count_mid "$ERR" MEMBER_JOINED)" 2 "MID_MEMBER_JOINED for chainfire and flaredb"
has_mid "$ERR" SERVICE_HEALTHY; ok $? "MID_SERVICE_HEALTHY logged"

is "$(cstate "[u['name'] for u in d['iam_users']]")" '["admin"]' "IAM admin created"
has_mid "$ERR" IAM_ADMIN_CREATED; ok $? "MID_IAM_ADMIN_CREATED logged"
has_mid "$ERR" IAM_TOKEN_ISSUED; ok $? "MID_IAM_TOKEN_ISSUED logged"
is "$(requests_where "r['service'] == 'iam' and r['path'].startswith('/admin/users') and not r['bearer']")" 0 \
        "every /admin/users request carried the bootstrap token"
token="$(state_dir node04)/iam-admin.token"
is "$(stat -c %a "$token" 2>/dev/null)" 600 "token file is 0600"
[ -s "$token" ]; ok $? "token file is not empty"
code=$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$CA" -H "Authorization: Bearer $(cat "$token")" \
        "https://$B.1:$IAM_PORT/admin/users/admin")
is "$code" 200 "the stored token is accepted by IAM"

is "$(cstate "len(R)")" 1 "one report received"
is "$(cstate "[R[0]['body'][k] for k in ('event', 'node_id', 'cluster_name', 'node_role', 'bootstrap', 'mode')]")" \
        '["firstboot-done", "node04", "scenario", "control-plane", false, "firstboot"]' "report: event and node fields"
is "$(cstate "sorted((s['name'], s['healthy'], s['member']) for s in R[0]['body']['services'])")" \
        '[["chainfire", true, true], ["flaredb", true, true], ["iam", true, null]]' "report: services healthy and members"
is "$(cstate "'steps' in R[0]['body'] and 'time' in R[0]['body']")" true "report: steps and time"
has_mid "$ERR" REPORT_SENT; ok $? "MID_REPORT_SENT logged"
is "$(cstate "[R[0]['body'][k] for k in ('phase', 'step', 'step_index', 'steps_total', 'waiting_for')]")" \
        '["done", "health-report", 9, 9, null]' "report: the fleet members (phase done, the last step)"
is "$(cstate "[(r['body']['phase'], r['body']['step'], r['body']['step_index']) for r in P]")" \
        '[["config", "config", 2], ["health", "chainfire-health", 3], ["join", "chainfire-join", 4], ["health", "flaredb-health", 5], ["join", "flaredb-join", 6], ["health", "iam-health", 7], ["iam", "iam-setup", 8], ["report", "health-report", 9]]' \
        "a progress report as each step began, with its phase and place"
is "$(cstate "sorted(set(k for r in P for k in r['body']))")" \
        '["attempt", "cluster_name", "elapsed_ms", "event", "node_id", "node_role", "phase", "step", "step_index", "steps_total", "time", "waiting_for"]' \
        "progress reports carry the documented members"

fba node04 status
is "$?" 0 "status exits 0 once every step is done"
fba node04 status --json
is "$?" 0 "status --json exits 0"
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$OUT" 2>/dev/null
ok $? "status --json prints JSON"

tap_done
