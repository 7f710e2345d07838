#!/bin/bash
# SPDX-License-Identifier: MIT
# An etcd member list whose peer URL carries a newline (and one whose name carries the
# initial-cluster separators), from clusterd's etcd gateway playing a hostile server: refused
# before anything is added or written, the record naming the member and the value escaped; the
# env file, sourced by a shell, defines no variable of the server's. Then an env file an earlier
# writer left with such a value spread over lines: the next join rewrites that entry whole, and
# nothing of it survives. Address block 127.72.3.0/24.
. "$(dirname "$0")/../lib.sh"
lib_init 127.72.3 "etcd: hostile peer URLs never reach the env file"
EP=22579 EP_RAFT=22580
args=()
for i in 1 2 3 4; do args+=(--listen "etcd:node0$i:$B.$i:$EP"); done
cluster_start "${args[@]}"

node=$tmp/node04
mkdir -p "$node"
cat >"$node/start-etcd.sh" <<EOS
#!/bin/bash
# The local etcd "starts": it announces itself under the name in the env file, as etcd does.
set -eu
set -a
. "$node/etcd.env"
set +a
echo started >>"$node/starts"
curl -sS --max-time 5 -o /dev/null -d "{\"peer_url\": \"\$ETCD_INITIAL_ADVERTISE_PEER_URLS\", \"name\": \"\$ETCD_NAME\"}" \
        "http://$CTL/control/etcd-started"
EOS
chmod 755 "$node/start-etcd.sh"
printf '# Settings of the local etcd (read by its unit)\nETCD_DATA_DIR=%s\n' "$node/data" >"$node/etcd.env"
cp "$node/etcd.env" "$tmp/env.before"

node_config node04 false
config_edit node04 "
c['leader_url'] = 'https://$B.1:$EP'
c['raft_addr'] = '$B.4:$EP_RAFT'
c['initial_peers'] = ['$B.1:$EP_RAFT', '$B.2:$EP_RAFT', '$B.3:$EP_RAFT']
c['services']['chainfire'] = {'driver': 'etcd', 'api_port': $EP, 'raft_port': $EP_RAFT,
    'health_url': 'https://$B.4:$EP/health',
    'etcd': {'env_file': '$node/etcd.env', 'start_command': ['$node/start-etcd.sh']}}
c['services']['flaredb']['enabled'] = False
c['timeouts'].update(join_lock_ttl_s=0, join_attempts=2, backoff_initial_ms=100, backoff_max_ms=200)
c.pop('report')
"

# members JSON: e1..e3 at $B.1..3, started voters; $1 replaces e2's peer URL, $2 e3's name.
members() {
        python3 -c 'import json, sys
b, port, url2, name3 = sys.argv[1:5]
ms = [{"ID": str(1000 + i), "name": "e%d" % i, "peerURLs": ["https://%s.%d:%s" % (b, i, port)],
       "clientURLs": ["https://%s.%d:22579" % (b, i)]} for i in (1, 2, 3)]
if url2: ms[1]["peerURLs"] = [url2]
if name3: ms[2]["name"] = name3
print(json.dumps({"members": ms}))' "$B" "$EP_RAFT" "${1:-}" "${2:-}"
}
# sourced FILE NAME: what "set -a; . FILE" defines for NAME, or <unset>.
sourced() { env -i bash -c 'set -a; . "$1"; if [ "${!2+set}" = set ]; then printf %s "${!2}"; else echo "<unset>"; fi' _ "$1" "$2"; }
adds() { requests_where "r['path'] == '/v3/cluster/member/add'"; }

# --- a newline in a peer URL ------------------------------------------------------------------
EVIL="https://$B.2:$EP_RAFT
ETCD_AUTH_TOKEN=simple
ETCD_LISTEN_CLIENT_URLS=http://0.0.0.0:2379"
ctl /control/etcd-members "$(members "$EVIL")" >/dev/null || bail "control API"
fba node04 run
rc=$?
is "$rc" 4 "run exits 4: the member list is refused"
[ "$rc" -eq 4 ] || show_output
has_mid "$ERR" PEER_URL_REFUSED; ok $? "MID_PEER_URL_REFUSED"
like "$ERR" "names member 3ea \('e2'\) with the peer URL" "the record names the member (its hex ID and name)"
like "$ERR" 'https://127\.72\.3\.2:22580\\\\nETCD_AUTH_TOKEN=simple\\\\nETCD_LISTEN_CLIENT_URLS' \
        "and shows the value escaped (\\n, not a line break)"
like "$ERR" "contains a control character" "and says why"
is "$(adds)" 0 "nothing was added to the cluster"
cmp -s "$node/etcd.env" "$tmp/env.before"; ok $? "the env file is untouched"
is "$(sourced "$node/etcd.env" ETCD_AUTH_TOKEN)" "<unset>" "sourced: no ETCD_AUTH_TOKEN"
is "$(sourced "$node/etcd.env" ETCD_LISTEN_CLIENT_URLS)" "<unset>" "sourced: no ETCD_LISTEN_CLIENT_URLS"
[ ! -e "$node/starts" ]; ok $? "the local etcd was not started"

# --- the initial cluster's separators in a member name -------------------------------------------
ctl /control/etcd-members "$(members "" "e3,evil=http://$B.66:$EP_RAFT")" >/dev/null || bail "control API"
fba node04 run
is "$?" 4 "a name with ',' and '=': run exits 4"
like "$ERR" "names member 3eb \('e3,evil=http://127\.72\.3\.66:22580'\) with the name" "the record names it"
is "$(adds)" 0 "nothing was added"
cmp -s "$node/etcd.env" "$tmp/env.before"; ok $? "the env file is untouched"

# --- an entry spread over lines by an earlier writer is replaced whole ---------------------------
cat >"$node/etcd.env" <<ENV
# Settings of the local etcd (read by its unit)
ETCD_DATA_DIR=$node/data
ETCD_INITIAL_CLUSTER="e1=https://$B.1:$EP_RAFT,e2=https://$B.2:$EP_RAFT
ETCD_AUTH_TOKEN=simple
ETCD_LISTEN_CLIENT_URLS=http://0.0.0.0:2379
#,e3=https://$B.3:$EP_RAFT"
ENV
is "$(sourced "$node/etcd.env" ETCD_LISTEN_CLIENT_URLS)" "<unset>" "before: the shell reads the spread value as one"
ctl /control/etcd-members "$(members)" >/dev/null || bail "control API"
fba node04 run
rc=$?
is "$rc" 0 "with a clean member list: run exits 0"
[ "$rc" -eq 0 ] || show_output
has_mid "$ERR" MEMBER_PROMOTED; ok $? "added as a learner, started, promoted"
is "$(cstate "[(m.get('name'), m.get('isLearner', False)) for m in d['etcd_members']]")" \
        '[["e1", false], ["e2", false], ["e3", false], ["node04", false]]' "four voters, node04 among them"
is "$(grep -c '^ETCD_INITIAL_CLUSTER=' "$node/etcd.env")" 1 "one ETCD_INITIAL_CLUSTER line"
unlike "$node/etcd.env" "ETCD_AUTH_TOKEN|ETCD_LISTEN_CLIENT_URLS|^#,e3" "no line of the old spread entry is left"
is "$(sourced "$node/etcd.env" ETCD_AUTH_TOKEN)" "<unset>" "sourced: no ETCD_AUTH_TOKEN"
is "$(sourced "$node/etcd.env" ETCD_LISTEN_CLIENT_URLS)" "<unset>" "sourced: no ETCD_LISTEN_CLIENT_URLS"
is "$(sourced "$node/etcd.env" ETCD_INITIAL_CLUSTER)" \
        "e1=https://$B.1:$EP_RAFT,e2=https://$B.2:$EP_RAFT,e3=https://$B.3:$EP_RAFT,node04=https://$B.4:$EP_RAFT" \
        "sourced: the initial cluster, every member once"
is "$(sourced "$node/etcd.env" ETCD_DATA_DIR)" "$node/data" "sourced: the operator's own setting kept"
is "$(env -i bash -c 'set -a; . "$1"; env' _ "$node/etcd.env" | grep -c '^ETCD_')" 5 \
        "sourced: exactly five ETCD_ variables (data dir, name, initial cluster, its state, peer URL)"

tap_done
