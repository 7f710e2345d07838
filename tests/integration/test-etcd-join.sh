#!/bin/bash
# SPDX-License-Identifier: MIT
# A fourth node joins a real three-member etcd cluster (Debian's etcd-server) through "run", with
# the etcd driver: the agent adds it as a learner, writes the local etcd's settings into its env
# file, starts it with the configured command, waits for its health and promotes it. It ends as
# a voting member; a rerun adds nothing; a run killed after the add, after the settings were
# written and before the promotion each finishes on the next start with exactly one member, a
# voter. TAP. Address block 127.8.13.0/24.

. "$(dirname "$0")/lib.sh"

lib_init 127.8.13 "etcd join through run: learner, settings, start, health, promote"
. "$(dirname "$0")/etcd-lib.sh"
etcd_lock_block
etcd_check_free 1 2 3 4
etcd_cluster_start

# The node's etcd: started by the agent through this command, with the settings the agent wrote
# into the env file (etcd reads ETCD_* from its environment, as Debian's unit hands them over
# from /etc/default/etcd). KILL_PARENT=before|after (a file in $tmp) kills the agent with
# SIGKILL before or after starting etcd, once: a power cut at that point.
node=$tmp/node04
mkdir -p "$node"
cat >"$tmp/start-etcd.sh" <<EOS
#!/bin/bash
set -eu
if [ -e "$tmp/kill-before" ]; then rm -f "$tmp/kill-before"; kill -9 \$PPID; exit 1; fi
if [ -e "$node/etcd.pid" ]; then kill "\$(cat "$node/etcd.pid")" 2>/dev/null || true; sleep 0.5; fi
set -a
. "$node/etcd.env"
set +a
setsid etcd --listen-client-urls "$(client 4)" --advertise-client-urls "$(client 4)" \\
        --listen-peer-urls "$(peer 4)" >>"$node/etcd.log" 2>&1 </dev/null 9>&- &
echo \$! >"$node/etcd.pid"
if [ -e "$tmp/kill-after" ]; then rm -f "$tmp/kill-after"; kill -9 \$PPID; fi
exit 0
EOS
chmod 755 "$tmp/start-etcd.sh"
printf '# Settings of the local etcd (read by its unit)\nETCD_DATA_DIR=%s\n#ETCD_NAME="default"\n' "$node/data" >"$node/etcd.env"

node_config node04 false
config_edit node04 "
c['leader_url'] = '$(client 1)'
c['tls'] = {'enabled': False}
c['services']['chainfire'] = {'driver': 'etcd', 'api_port': $CF, 'raft_port': $CF_RAFT,
    'health_url': '$(client 4)/health',
    'etcd': {'env_file': '$node/etcd.env', 'start_command': ['$tmp/start-etcd.sh']}}
c['services']['flaredb']['enabled'] = False
c['timeouts'].update(health_wait_s=60, join_attempts=5, backoff_initial_ms=200, backoff_max_ms=2000, join_lock_ttl_s=5)
c.pop('report')
"

# stop_local: stops node04's etcd and forgets its data (the state a fresh node starts from).
stop_local() {
        if [ -e "$node/etcd.pid" ]; then
                kill "$(cat "$node/etcd.pid")" 2>/dev/null
                for i in $(seq 50); do kill -0 "$(cat "$node/etcd.pid")" 2>/dev/null || break; sleep 0.1; done
                rm -f "$node/etcd.pid"
        fi
        rm -rf "$node/data"
}
# forget_node04: removes node04 from the cluster and from this machine; marker-free state dir.
forget_node04() {
        local id
        id=$(ectl member list 2>/dev/null | awk -F', ' -v p="$(peer 4)" '$4 == p {print $1}')
        [ -n "$id" ] && ectl member remove "$id" >/dev/null 2>&1
        stop_local
        rm -f "$(state_dir node04)"/.chainfire-joined "$(state_dir node04)"/.first-boot-done \
              "$(state_dir node04)"/.health-reported
        sleep 6         # etcd's 5 s rule after a membership change
}
# voters_and_learners: "VOTERS LEARNERS NODE04_ROWS" from etcdctl.
members_summary() {
        ectl member list -w json >"$tmp/ml.json" 2>/dev/null || { echo "list failed"; return; }
        python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
ms = d.get("members", [])
voters = sum(1 for m in ms if not m.get("isLearner"))
learners = sum(1 for m in ms if m.get("isLearner"))
mine = [m for m in ms if sys.argv[2] in m.get("peerURLs", [])]
started = all(m.get("name") for m in mine)
print(voters, learners, len(mine), "started" if mine and started else "unstarted")' "$tmp/ml.json" "$(peer 4)"
}

# --- the join ---------------------------------------------------------------------------------
start=$(now_ns)
fba node04 run
rc=$?
ms=$(elapsed_ms "$start")
is "$rc" 0 "run exits 0"
[ "$rc" -eq 0 ] || { show_output; tail -n 20 "$node/etcd.log" | sed 's/^/# /'; }
diag "etcd join: run to voter in ${ms} ms"
is "$(members_summary)" "4 0 1 started" "four voters, no learner left, node04 once and running"
has_mid "$ERR" MEMBER_JOINED; ok $? "added (MID_MEMBER_JOINED)"
like "$ERR" "as learner [0-9a-f]+" "as a learner"
has_mid "$ERR" ETCD_CONFIGURED; ok $? "settings written (MID_ETCD_CONFIGURED)"
has_mid "$ERR" SERVICE_STARTED; ok $? "local etcd started (MID_SERVICE_STARTED)"
has_mid "$ERR" MEMBER_PROMOTED; ok $? "promoted (MID_MEMBER_PROMOTED)"
like "$node/etcd.env" "^ETCD_NAME=node04$" "env file: ETCD_NAME"
like "$node/etcd.env" "^ETCD_INITIAL_CLUSTER_STATE=existing$" "env file: state existing"
like "$node/etcd.env" "^ETCD_INITIAL_CLUSTER=.*e1=$(peer 1)" "env file: the initial cluster names e1"
like "$node/etcd.env" "^ETCD_INITIAL_CLUSTER=.*node04=$(peer 4)" "env file: and node04"
like "$node/etcd.env" "^ETCD_INITIAL_ADVERTISE_PEER_URLS=$(peer 4)$" "env file: the peer URL"
like "$node/etcd.env" "^ETCD_DATA_DIR=$node/data$" "env file: the operator's own lines are kept"
is "$(grep -c 'ETCD_NAME' "$node/etcd.env")" 1 "env file: the commented default replaced, not doubled"
is "$(marker_names node04)" ".chainfire-joined .first-boot-done .health-reported" "markers written"
unlike "$ERR" "\"message_id\": ?\"$(mid HEALTH_TIMEOUT)\"" "no health timeout"

# --- a rerun adds nothing ---------------------------------------------------------------------
rm -f "$(state_dir node04)"/.chainfire-joined "$(state_dir node04)"/.first-boot-done "$(state_dir node04)"/.health-reported
fba node04 run
is "$?" 0 "rerun exits 0"
has_mid "$ERR" MEMBER_ALREADY; ok $? "already a voting member"
unlike "$ERR" "\"message_id\": ?\"$(mid SERVICE_STARTED)\"" "the running etcd is left alone"
is "$(members_summary)" "4 0 1 started" "still four voters, node04 once"

# --- killed after the add (the cluster holds a learner that never started) ---------------------
forget_node04
ectl member add node04 --learner --peer-urls "$(peer 4)" >"$tmp/add.out" 2>&1
is "$(members_summary)" "3 1 1 unstarted" "state after the add: an unstarted learner"
fba node04 run
rc=$?
is "$rc" 0 "after an add without the rest: run exits 0"
[ "$rc" -eq 0 ] || show_output
like "$ERR" "already a learner" "it found its learner and went on from there"
is "$(members_summary)" "4 0 1 started" "one member, a voter"

# --- killed after the settings were written, before etcd started --------------------------------
forget_node04
touch "$tmp/kill-before"
fba node04 run
is "$?" 137 "killed (SIGKILL) in the start command"
is "$(members_summary)" "3 1 1 unstarted" "state: an unstarted learner, settings written"
like "$node/etcd.env" "^ETCD_INITIAL_CLUSTER_STATE=existing$" "the settings are there"
fba node04 run
rc=$?
is "$rc" 0 "the next start finishes"
[ "$rc" -eq 0 ] || show_output
is "$(members_summary)" "4 0 1 started" "one member, a voter"

# --- killed after etcd started, before the promotion ---------------------------------------------
forget_node04
touch "$tmp/kill-after"
fba node04 run
is "$?" 137 "killed (SIGKILL) right after starting etcd"
deadline=$((SECONDS + 30))
until [ "$(members_summary)" = "3 1 1 started" ] || [ "$SECONDS" -ge "$deadline" ]; do sleep 0.3; done
is "$(members_summary)" "3 1 1 started" "state: a running learner"
fba node04 run
rc=$?
is "$rc" 0 "the next start promotes it"
[ "$rc" -eq 0 ] || show_output
unlike "$ERR" "\"message_id\": ?\"$(mid SERVICE_STARTED)\"" "without starting etcd again"
has_mid "$ERR" MEMBER_PROMOTED; ok $? "promoted"
is "$(members_summary)" "4 0 1 started" "one member, a voter"

stop_local
tap_done
