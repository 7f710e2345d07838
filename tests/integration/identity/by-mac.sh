#!/bin/bash
# SPDX-License-Identifier: MIT
# A node booted from the generic image looks itself up by MAC (the query form), stores its
# configuration 0600 and joins; the next run asks nothing. Address block 127.44.1.0/24.
. "$(dirname "$0")/lib.sh"
id_init 127.44.1 "identity by MAC: template config, lookup, store, host name, join"
cluster_start
prov_start
machine node04 --nic eno1:52:54:00:fb:a0:04 --nic eno2:52:54:00:fb:b0:04 --uuid 6c1c0b3e-0000-4000-8000-000000000004 --serial SN-0004
template node04
group node04 '{"mac": "52:54:00:FB:B0:04"}' "$(answer node04)"
group node05 '{"mac": "52:54:00:fb:a0:05"}' "$(answer node05)"

fba node04 validate
is "$?" 0 "validate accepts the template (no node_id, a provisioning section)"
like "$OUT" "valid template: each node looks itself up at $PROV/v1/node" "validate says it is a template"

idn node04 run
rc=$?
is "$rc" 0 "run exits 0: looked up, joined, reported"
[ "$rc" -eq 0 ] || show_output

stored="$(state_dir node04)/cluster-config.json"
is "$(stat -c %a "$stored" 2>/dev/null)" 600 "the node's configuration is stored 0600 in the state directory"
is "$(jpy "$stored" 'd["node_id"]')" node04 "the stored configuration is node04's"
is "$(jpy "$stored" 'd["services"]["chainfire"]["health_url"]')" "https://$B.4:$CF/health" \
        "the answer was merged over the template (a nested member)"
is "$(jpy "$stored" 'd["cluster_name"]')" scenario "the template's members are kept"
grep -q "^url=$PROV/v1/node?mac=52:54:00:fb:a0:04&mac=52:54:00:fb:b0:04&uuid=6c1c0b3e-0000-4000-8000-000000000004&serial=SN-0004" \
        "$(state_dir node04)/.identity-fetched"
ok $? ".identity-fetched records the URL asked"
grep -q "^node_id=node04$" "$(state_dir node04)/.identity-fetched"
ok $? ".identity-fetched records the node"
[ -e "$(state_dir node04)/.node-identity" ]
ok $? "the step's marker .node-identity is written"
is "$(pstate "[r['query'].get('mac') for r in d['requests']]")" '[["52:54:00:fb:a0:04", "52:54:00:fb:b0:04"]]' \
        "one lookup, with both physical MACs (not the bridge's)"
is "$(pstate "[r['group'] for r in d['requests']]")" '["node04"]' "the server matched group node04"
is "$(cat "$tmp/node04/hostname")" node04.scenario.test "the host name is node_fqdn"
is "$(cat "$tmp/node04/etc-upper/hostname" 2>/dev/null)" node04.scenario.test "/etc/hostname holds it (no hostnamed: written directly)"
has_mid "$ERR" IDENTITY_FOUND; ok $? "MID_IDENTITY_FOUND logged"
has_mid "$ERR" HOSTNAME_SET; ok $? "MID_HOSTNAME_SET logged"
is "$(count_member chainfire node04)" 1 "chainfire lists node04 exactly once"
is "$(cstate "[r['body']['node_id'] for r in d['reports'] if r['body']['event'] == 'firstboot-done']")" '["node04"]' \
        "the report names node04"

idn node04 status --json
is "$?" 0 "status exits 0"
is "$(jpy "$OUT" '[d["node_id"], list(d["steps"])[0], d["steps"]["identity"]["status"]]')" '["node04", "identity", "done"]' \
        "status: node04, identity (the first step) done"

pctl /control/reset-log '{}' >/dev/null
idn node04 member list --service chainfire
is "$?" 0 "member list works with the stored configuration"
idn node04 reset health-report --yes >/dev/null
idn node04 run
is "$?" 0 "a later run exits 0"
is "$(pstate "len(d['requests'])")" 0 "the later run did not ask the provisioning server again"

tap_done
