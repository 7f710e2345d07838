#!/bin/bash
# SPDX-License-Identifier: MIT
# Three bootstrap nodes: the clusters form from initial_peers, so no join request is ever
# sent; each node records the ".…-initialized" markers. Address block 127.10.1.0/24.
. "$(dirname "$0")/../lib.sh"
lib_init 127.10.1 "bootstrap: three nodes form the cluster without a single join request"
cluster_start

# node01 and node02: no IAM, no health report: not one request may reach an /admin/ endpoint.
for node in node01 node02; do
        node_config $node true
        config_edit $node 'c["health_check"]["enabled"] = False'
        fba $node run
        rc=$?
        is "$rc" 0 "$node: run exits 0"
        [ "$rc" -eq 0 ] || show_output
        is "$(marker_names $node)" ".chainfire-initialized .first-boot-done .flaredb-initialized" \
                "$node: initialized markers and the done marker, no join marker"
        is "$(count_mid "$ERR" CLUSTER_BOOTSTRAP)" 2 "$node: MID_CLUSTER_BOOTSTRAP for chainfire and flaredb"
        unlike "$ERR" "\"message_id\": ?\"$(mid MEMBER_JOINED)\"" "$node: no MID_MEMBER_JOINED"
done
is "$(requests_where "r['path'].startswith('/admin/')")" 0 "node01, node02: no request reached any /admin/ endpoint"
is "$(requests_where "r['path'] == '/health' and r['node'] not in ('node01', 'node02')")" 0 \
        "node01, node02: health checks went to their own listeners only"

# node03 with the health report: only member list reads, never a write.
ctl /control/reset-log '{}' >/dev/null
node_config node03 true
fba node03 run
rc=$?
is "$rc" 0 "node03 (with health report): run exits 0"
[ "$rc" -eq 0 ] || show_output
is "$(marker_names node03)" ".chainfire-initialized .first-boot-done .flaredb-initialized .health-reported" \
        "node03: initialized, health-reported and done markers"
is "$(requests_where "r['method'] != 'GET'  and r['service'] in ('chainfire', 'flaredb')")" 0 \
        "node03: no POST or DELETE reached chainfire or flaredb"
is "$(requests_where "r['path'] == '/admin/member/add'")" 0 "node03: no member add request"
is "$(members_of chainfire)/$(members_of flaredb)" "node01 node02 node03/node01 node02 node03" \
        "member lists unchanged"
is "$(cstate "[(r['body']['event'], r['body']['node_id'], r['body']['bootstrap']) for r in R]")" \
        '[["firstboot-done", "node03", true]]' "node03: one firstboot-done report, bootstrap true"

tap_done
