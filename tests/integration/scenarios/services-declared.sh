#!/bin/bash
# SPDX-License-Identifier: MIT
# A cluster the seed does not name, declared in the configuration alone: a fourth admin-API
# service ("ledger", its own ports and health URL, after chainfire) is joined through the test
# servers like chainfire and flaredb, in the order its "after" gives; every verb names its steps;
# a cycle and an unknown "after" are refused with their path. Address block 127.78.1.0/24.
. "$(dirname "$0")/../lib.sh"
lib_init 127.78.1 "a fourth admin-API service declared in JSON joins"
LEDGER=22579 LEDGER_RAFT=22580
extra=(--cluster-service ledger)
for i in 1 2 3 4; do
        extra+=(--listen "ledger:node0$i:$B.$i:$LEDGER")
done
for i in 1 2 3; do
        extra+=(--member "ledger:node0$i:$B.$i:$LEDGER_RAFT")
done
# The ledger turns healthy only once this node is a chainfire member: its "after" must hold.
cluster_start "${extra[@]}" --healthy-when-member ledger:node04:chainfire

node_config node04 false
config_edit node04 'c["services"]["ledger"] = {"driver": "admin", "after": ["chainfire"], "api_port": '$LEDGER',
    "raft_port": '$LEDGER_RAFT', "health_url": "https://'$B'.4:'$LEDGER'/health"}'

fba node04 validate
rc=$?
is "$rc" 0 "validate accepts it"
cat "$OUT" "$ERR" >"$tmp/validate.txt"
like "$tmp/validate.txt" "plan \(node_role control-plane\): config → chainfire-health → chainfire-join → flaredb-health → flaredb-join → ledger-health → ledger-join → health-report" \
        "validate's plan has its steps, after chainfire's"
fba node04 reset --list
rc=$?
is "$(tr '\n' ' ' <"$OUT")" "identity config chainfire-health chainfire-join flaredb-health flaredb-join iam-health iam-setup ledger-health ledger-join health-report " \
        "reset --list names them"

fba node04 run
rc=$?
is "$rc" 0 "run exits 0"
[ "$rc" -eq 0 ] || show_output
is "$(count_member ledger node04)" 1 "node04 is a ledger member"
is "$(marker_names node04)" ".chainfire-joined .first-boot-done .flaredb-joined .health-reported .ledger-joined" \
        "its marker, .ledger-joined"
ledger_add=$(cstate "min([r['t'] for r in d['requests'] if r['service'] == 'ledger' and r['path'] == '/admin/member/add'])")
cf_add=$(cstate "min([r['t_end'] for r in d['requests'] if r['service'] == 'chainfire' and r['path'] == '/admin/member/add'])")
python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) >= float(sys.argv[2]) else 1)" "$ledger_add" "$cf_add"
ok $? "the ledger add came after chainfire's ($ledger_add ≥ $cf_add)"
is "$(requests_where "r['service'] == 'ledger' and r['path'] == '/health' and r['node'] == 'node04'" | awk '{print ($1 > 0)}')" 1 \
        "its own health URL was asked"
is "$(cstate "[r['body'] for r in R if r['body'].get('event') == 'firstboot-done'][0]['services'][-1]")" \
        '{"healthy": true, "member": true, "name": "ledger"}' "the report names it, healthy and a member"

fba node04 status
rc=$?
like "$OUT" "ledger-join +done" "status shows its join done"
fba node04 member --list-services
rc=$?
is "$(tr '\n' ' ' <"$OUT")" "chainfire flaredb ledger " "member --list-services names it"
fba node04 member --service ledger list
rc=$?
is "$rc" 0 "member --service ledger list"
like "$OUT" "node04" "lists node04"
fba node04 member --service iam list
rc=$?
is "$rc" 2 "member --service iam: a usage error (no member list)"
like "$ERR" "expected one of chainfire, flaredb, ledger" "naming the services that have one"

fba node04 reset ledger-join --yes
rc=$?
is "$rc" 0 "reset ledger-join"
is "$(marker_names node04)" ".chainfire-joined .flaredb-joined" "removes its marker and those after it"
fba node04 run
rc=$?
is "$rc" 0 "the next run joins again (already a member)"
has_mid "$ERR" MEMBER_ALREADY
ok $? "already a member: nothing added"
is "$(count_member ledger node04)" 1 "still one ledger member node04"

# Refusals, each naming its path.
config_edit node04 'c["services"]["chainfire"]["after"] = ["ledger"]'
fba node04 validate
rc=$?
is "$rc" 3 "a cycle: exit 3"
like "$ERR" "\.services\.chainfire\.after: expected an order without a cycle .*found the cycle chainfire → ledger → chainfire" \
        "naming the cycle"
config_edit node04 'del c["services"]["chainfire"]["after"]; c["services"]["ledger"]["after"] = ["chainfrie"]'
fba node04 validate
rc=$?
is "$rc" 3 "an unknown after: exit 3"
like "$ERR" '\.services\.ledger\.after\[0\]: expected the name of a service in \.services, found the string "chainfrie"' \
        "naming its path"

tap_done
