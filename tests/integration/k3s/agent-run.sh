#!/bin/bash
# SPDX-License-Identifier: MIT
# "first-boot-agent run" joining k3s (a service with "driver": "k3s") against the stand-in server
# (tests/server/k3s-server.py) and the stand-in `k3s agent` (k3s-agent.py, started by the
# service's start_command and logging where services.k3s.log_file says): joined once the node is
# Ready; a token pinning another CA refused (exit 5) before any file is written; the token in no
# record, state file, status or report; Ready never reached: the step fails at its deadline naming
# what it waited for; a re-flash (state and /etc/rancher wiped, same name) rejoins with the derived
# password, and without the cluster secret is reported stale (MID_MEMBER_STALE) with the command.
# Block 127.81.5.0/24.
set -u
src=${FBA_SOURCE_ROOT:-$(cd "$(dirname "$0")/../../.." && pwd)}
bin=${FBA_BIN:-$src/build/agent/first-boot-agent}
. "$src/tests/tap.sh"
. "$src/tests/integration/standin-lib.sh"

IP=127.81.5.1 PORT=26443 CTL=26444
TOKEN_SECRET=clustertok3n-5
[ -x "$bin" ] || bail "no agent at $bin"
standin_init "$IP" k3s.pid
standin_tls "$IP"
standin_ctl "$CTL"
state() { curl -sf "http://$IP:$CTL/control/state"; }

python3 "$src/tests/server/k3s-server.py" --listen "$IP:$PORT" --tls-dir "$tmp/tls" --token "server:$TOKEN_SECRET" \
        --state "$tmp/server-state.json" --control "$IP:$CTL" --ready-file "$tmp/ready" --ready-after 0.5 \
        2>"$tmp/server.log" &
pids+=($!)
for _ in $(seq 100); do [ -e "$tmp/ready" ] && break; sleep 0.05; done
[ -e "$tmp/ready" ] || bail "k3s-server.py did not start: $(cat "$tmp/server.log")"
( umask 077; printf 'fleet-wide-node-password-secret\n' > "$tmp/cluster-secret" )

# node NAME TOKEN [SECRET]: a node's root under $tmp/NAME, its config (a worker running only
# k3s), its token; the start command launches the stand-in agent in the background.
node() {
        local n=$1 d="$tmp/$1"
        mkdir -p "$d/secrets" "$d/state"
        chmod 700 "$d"
        ( umask 077; printf '%s\n' "$2" > "$d/secrets/k3s-token" )
        cat >"$d/start" <<EOS
#!/bin/sh
K3S_CONFIG_FILE="$d/etc/rancher/k3s/config.yaml" K3S_DATA_DIR="$d/var/lib/rancher/k3s" \\
K3S_NODE_PASSWORD_FILE="$d/etc/rancher/node/password" \\
        setsid python3 "$src/tests/server/k3s-agent.py" agent --retry-interval 0.2 >>"$d/k3s.log" 2>&1 &
echo \$! >"$d/k3s.pid"
EOS
        chmod 755 "$d/start"
        ( umask 077; cat >"$d/config.json" <<EOS
{"node_id": "$n", "node_role": "worker", "bootstrap": false, "node_ip": "$IP",
 "services": {"k3s": {"driver": "k3s", "server": "https://$IP:$PORT", "token_file": "$d/secrets/k3s-token",
   "password_secret_file": "${3:-$d/secrets/none}", "config_path": "$d/etc/rancher/k3s/config.yaml",
   "password_path": "$d/etc/rancher/node/password", "kubeconfig": "$d/var/lib/rancher/k3s/agent/kubelet.kubeconfig",
   "log_file": "$d/k3s.log", "start_command": ["$d/start"], "labels": ["rack=r3"]}},
 "timeouts": {"health_wait_s": ${WAIT_S:-20}, "backoff_initial_ms": 100, "backoff_max_ms": 500},
 "report": {"url": "https://$IP:1/none", "timeout_s": 1},
 "state_dir": "$d/state"}
EOS
        )
}
fba() {         # fba NODE ARGS…: sets rc; output in $tmp/NODE/out, err
        "$bin" --config "$tmp/$1/config.json" --log-target json "${@:2}" >"$tmp/$1/out" 2>"$tmp/$1/err"
        rc=$?
}
stop_k3s() { [ -e "$tmp/$1/k3s.pid" ] && kill "$(cat "$tmp/$1/k3s.pid")" 2>/dev/null; rm -f "$tmp/$1/k3s.pid"; }
mid() { sed -n "s/^#define MID_$1 \"\([0-9a-f]*\)\".*/\1/p" "$src/agent/record/message-id.h"; }

# --- a token pinning another CA: refused, nothing written -----------------------------------------
node node02 "K10$(printf '%064d' 0)::server:$TOKEN_SECRET" "$tmp/cluster-secret"
fba node02 run
is "$rc" 5 "a token pinning another CA: exit 5"
grep -q "serves a CA bundle with hash $ca_hash, but the token in '$tmp/node02/secrets/k3s-token' pins $(printf '%064d' 0)" "$tmp/node02/err"
ok $? "both hashes named"
ok "$([ ! -e "$tmp/node02/etc" ] && [ ! -e "$tmp/node02/k3s.pid" ]; echo $?)" "no file written, k3s not started"

# --- join until Ready -------------------------------------------------------------------------------
node node01 "K10$ca_hash::server:$TOKEN_SECRET" "$tmp/cluster-secret"
fba node01 run
is "$rc" 0 "run: joined"
[ "$rc" = 0 ] || sed 's/^/# /' "$tmp/node01/err" | tail -n 20
grep -q "\"message_id\":\"$(mid MEMBER_JOINED)\".*Ready in the Kubernetes API" "$tmp/node01/err"; ok $? "MID_MEMBER_JOINED: Ready"
is "$(stat -c %a "$tmp/node01/etc/rancher/k3s/config.yaml")" 600 "config.yaml written, 0600"
grep -q "^token-file: \"$tmp/node01/secrets/k3s-token\"$" "$tmp/node01/etc/rancher/k3s/config.yaml"; ok $? "pointing at the token file"
pw1=$(cat "$tmp/node01/etc/rancher/node/password")
is "${#pw1}" 64 "the derived node password written before k3s started"
state | grep -q '"rack": "r3"'; ok $? "registered with its label"
ok "$([ -e "$tmp/node01/state/.k3s-joined" ] && [ -e "$tmp/node01/state/.first-boot-done" ]; echo $?)" "markers .k3s-joined and the done marker"
fba node01 status
is "$rc" 0 "status: done"
! grep -rqs "$TOKEN_SECRET" "$tmp/node01/err" "$tmp/node01/out" "$tmp/node01/state" "$tmp/node01/etc"
ok $? "the token is in no record, state file, status or file the agent wrote"
fba node01 run
is "$rc" 0 "a second run: nothing to do"

# --- Ready never reached: the step fails at its deadline -----------------------------------------
ctl ready '{"node": "node03", "never": true}'
WAIT_S=3 node node03 "K10$ca_hash::server:$TOKEN_SECRET" "$tmp/cluster-secret"
fba node03 run
is "$rc" 4 "never Ready: exit 4 at the deadline"
grep -q "Timed out after 3 s (timeouts.health_wait_s) waiting for the node node03 to turn Ready (Ready False, KubeletNotReady" "$tmp/node03/err"
ok $? "naming what it waited for"
stop_k3s node03

# --- re-flash: state, /etc/rancher and /var/lib/rancher wiped, same name ---------------------------
stop_k3s node01
rm -rf "$tmp/node01/etc" "$tmp/node01/var" "$tmp/node01/state" "$tmp/node01/k3s.log"
mkdir -p "$tmp/node01/state"
fba node01 run
is "$rc" 0 "the re-flashed node01 rejoins"
is "$(cat "$tmp/node01/etc/rancher/node/password")" "$pw1" "with the same derived password"

stop_k3s node01
rm -rf "$tmp/node01/etc" "$tmp/node01/var" "$tmp/node01/state" "$tmp/node01/k3s.log"
mkdir -p "$tmp/node01/state"
node node01 "K10$ca_hash::server:$TOKEN_SECRET"       # no cluster secret: k3s makes one up
fba node01 run
is "$rc" 5 "re-flashed without the cluster secret: refused (exit 5)"
grep -q "\"message_id\":\"$(mid MEMBER_STALE)\"" "$tmp/node01/err"; ok $? "reported as MID_MEMBER_STALE"
grep -q "Run on a server: kubectl -n kube-system delete secret node01.node-password.k3s" "$tmp/node01/err"
ok $? "with the command an operator runs"
ctl delete-password '{"node": "node01"}'
stop_k3s node01
fba node01 run
is "$rc" 0 "after the operator deleted the entry: joined"
stop_k3s node01

tap_done
