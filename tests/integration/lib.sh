# SPDX-License-Identifier: MIT
# Shared helpers of the end-to-end scenarios (sourced, not run). Each scenario is one TAP
# script that runs the real agent ($FBA_BIN) against tests/server/clusterd.py over HTTPS, in
# its own temporary directory and its own 127.X.Y.0/24 block:
#
#   .1 .2 .3   node01..node03, the existing cluster (chainfire :22379, raft :22380; flaredb
#              :22479, raft :22480; iam :28080)
#   .4         node04, the node under test (its own local services)
#   .100       report sink (:28000) and the control API (:29000, plain HTTP)
#
# The ports are not the services' defaults: a test elsewhere on the machine that binds a default
# port on every address (0.0.0.0:2379) would otherwise take it from under a scenario.
#
# Usage in a scenario:
#   . "$(dirname "$0")/../lib.sh"
#   lib_init 127.10.2 "what this scenario checks"
#   cluster_start [--unhealthy iam:node04 …]
#   node_config node04 false
#   fba node04 run; is "$?" 0 "…"
#   tap_done

set -u

src=${FBA_SOURCE_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
FBA_BIN=${FBA_BIN:-$src/build/agent/first-boot-agent}
server="$src/tests/server/clusterd.py"
gencerts="$src/tests/server/gen-certs.sh"

CF=22379 CF_RAFT=22380 FDB=22479 FDB_RAFT=22480 IAM_PORT=28080 REPORT_PORT=28000 CTL_PORT=29000

# --- TAP ------------------------------------------------------------------------------------
. "$src/tests/tap.sh"

# What every scenario checks last: no sanitizer report in any output of the agent.
tap_before_done() {
        if [ -e "$tmp/all-output" ]; then
                unlike "$tmp/all-output" "AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:" \
                        "no sanitizer report in any output of the agent"
        fi
        [ "$tap_failed" -eq 0 ] || diag "$tap_failed of $tap_n failed; logs were in $tmp (kept: FBA_KEEP=1)"
}


# --- setup and cleanup ----------------------------------------------------------------------
pids=()

lib_cleanup() {
        local p
        for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
        for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
        if [ "${FBA_KEEP:-0}" = 1 ]; then
                echo "# kept $tmp" >&2
        else
                rm -rf "$tmp"
        fi
}

# lib_init BLOCK DESCRIPTION: BLOCK is the scenario's "127.X.Y".
lib_init() {
        local p
        B=$1
        for p in python3 curl openssl; do
                command -v "$p" >/dev/null || skip_all "$p not installed"
        done
        [ -x "$FBA_BIN" ] || bail "FBA_BIN '$FBA_BIN' is not an executable"

        tmp=$(mktemp -d "${TMPDIR:-/tmp}/fba-scenario.XXXXXX")
        chmod 700 "$tmp"
        trap lib_cleanup EXIT
        trap 'exit 130' INT TERM
        diag "$2" "address block $B.0/24, files in $tmp"

        CTL="$B.100:$CTL_PORT"
        REPORT_URL="https://$B.100:$REPORT_PORT/report"
        CA="$tmp/certs/ca.crt"
        "$gencerts" "$tmp/certs" "$B.1" "$B.2" "$B.3" "$B.4" "$B.100" >/dev/null 2>"$tmp/gen-certs.log" ||
                bail "gen-certs.sh failed: $(cat "$tmp/gen-certs.log")"
}

# cluster_start [EXTRA CLUSTERD ARGS…]: node01..node04 listeners for chainfire, flaredb and iam;
# node01..node03 are the members of both clusters; a report sink. Waits for the ready file.
cluster_start() {
        local i args=() name=${CLUSTER_NAME:-clusterd}
        for i in 1 2 3 4; do
                args+=(--listen "chainfire:node0$i:$B.$i:$CF"
                       --listen "flaredb:node0$i:$B.$i:$FDB"
                       --listen "iam:node0$i:$B.$i:$IAM_PORT")
        done
        for i in 1 2 3; do
                args+=(--member "chainfire:node0$i:$B.$i:$CF_RAFT" --member "flaredb:node0$i:$B.$i:$FDB_RAFT")
        done
        args+=(--listen "report:collector:$B.100:$REPORT_PORT")

        python3 "$server" "${args[@]}" --tls-dir "$tmp/certs" --control "$CTL" \
                --ready-file "$tmp/$name.ready" "$@" 2>"$tmp/$name.log" &
        pids+=($!)
        CLUSTER_PID=$!
        for ((i = 0; i < 200; i++)); do
                [ -e "$tmp/$name.ready" ] && return 0
                kill -0 "$CLUSTER_PID" 2>/dev/null || break
                sleep 0.05
        done
        sed 's/^/# /' "$tmp/$name.log"
        bail "clusterd did not become ready"
}

# --- control API ----------------------------------------------------------------------------
# ctl PATH [JSON]: prints the answer; fails unless it is 2xx.
ctl() {
        local code
        if [ $# -ge 2 ]; then
                code=$(curl -sS --max-time 10 -o "$tmp/ctl.out" -w '%{http_code}' -d "$2" "http://$CTL$1")
        else
                code=$(curl -sS --max-time 10 -o "$tmp/ctl.out" -w '%{http_code}' "http://$CTL$1")
        fi
        cat "$tmp/ctl.out"
        case $code in 2??) return 0 ;; *) return 1 ;; esac
}

# jpy FILE EXPR: evaluates a Python expression over the JSON in FILE (named d) and prints it.
# R is the reports in it without the progress reports (firstboot-progress), P those alone.
jpy() {
        python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
reports = d.get("reports", []) if isinstance(d, dict) else []
R = [r for r in reports if r["body"].get("event") != "firstboot-progress"]
P = [r for r in reports if r["body"].get("event") == "firstboot-progress"]
v = eval(sys.argv[2])
print(json.dumps(v) if isinstance(v, (dict, list, bool)) or v is None else v)' "$1" "$2"
}

# cstate EXPR: EXPR over GET /control/state (d).
cstate() {
        ctl /control/state >"$tmp/state.json" || bail "control API does not answer"
        jpy "$tmp/state.json" "$1"
}

# requests_where PY_CONDITION: how many logged requests match (r is the entry).
requests_where() {
        cstate "len([r for r in d['requests'] if $1])"
}

members_of() {  # members_of SERVICE: sorted ids, space separated
        cstate "' '.join(sorted(m['id'] for m in d['members']['$1']))"
}

count_member() {        # count_member SERVICE ID
        cstate "len([m for m in d['members']['$1'] if m['id'] == '$2'])"
}

# --- the node under test --------------------------------------------------------------------
# node_config NODE BOOTSTRAP: writes $tmp/NODE/config.json (0600) for nodeNN at $B.N.
node_config() {
        local node=$1 bootstrap=$2 n=${1#node0} dir="$tmp/$1"
        mkdir -p "$dir/state"
        chmod 700 "$dir"
        ( umask 077
          cat >"$dir/config.json" <<EOF
{
  "node_id": "$node",
  "node_role": "control-plane",
  "bootstrap": $bootstrap,
  "cluster_name": "scenario",
  "leader_url": "https://$B.1:$CF",
  "raft_addr": "$B.$n:$CF_RAFT",
  "initial_peers": ["$B.1:$CF_RAFT", "$B.2:$CF_RAFT", "$B.3:$CF_RAFT"],
  "flaredb_peers": ["$B.1:$FDB_RAFT", "$B.2:$FDB_RAFT", "$B.3:$FDB_RAFT"],
  "node_ip": "$B.$n",
  "services": {
    "chainfire": { "enabled": true, "api_port": $CF, "raft_port": $CF_RAFT,
                   "health_url": "https://$B.$n:$CF/health" },
    "flaredb": { "enabled": true, "api_port": $FDB, "raft_port": $FDB_RAFT,
                 "health_url": "https://$B.$n:$FDB/health" },
    "iam": { "enabled": false, "api_port": $IAM_PORT, "health_url": "https://$B.$n:$IAM_PORT/health",
             "url": "https://$B.$n:$IAM_PORT" }
  },
  "tls": { "enabled": true, "ca_cert_path": "$CA" },
  "timeouts": { "health_wait_s": 30, "request_s": 5, "connect_s": 2, "join_attempts": 5,
                "backoff_initial_ms": 100, "backoff_max_ms": 1000, "join_start_delay_max_ms": 0 },
  "iam": { "secrets_file": "$dir/iam-admin.json", "token_file": "$dir/state/iam-admin.token" },
  "health_check": { "enabled": true },
  "report": { "url": "$REPORT_URL", "timeout_s": 5 },
  "state_dir": "$dir/state"
}
EOF
        )
}

# config_edit NODE PYTHON: edits NODE's config (the dict is c), keeping it 0600.
config_edit() {
        python3 -c 'import json, sys
path = sys.argv[1]
c = json.load(open(path))
exec(sys.argv[2])
with open(path, "w") as f:
    json.dump(c, f, indent=2)' "$tmp/$1/config.json" "$2" || bail "config_edit $1 failed"
        chmod 600 "$tmp/$1/config.json"
}

# iam_secrets NODE USER PASSWORD [BOOTSTRAP_TOKEN]: the secrets file (0600).
iam_secrets() {
        local file="$tmp/$1/iam-admin.json"
        ( umask 077
          if [ $# -ge 4 ]; then
                  printf '{"username": "%s", "password": "%s", "bootstrap_token": "%s"}\n' "$2" "$3" "$4"
          else
                  printf '{"username": "%s", "password": "%s"}\n' "$2" "$3"
          fi >"$file" )
}

state_dir() { echo "$tmp/$1/state"; }

# fba NODE ARGS…: runs the agent for NODE (its config and state dir, JSON log lines), with a
# time limit. Sets OUT and ERR to the files holding its stdout and stderr; returns its status.
# Every output also goes to $tmp/all-output, for the scenarios that search all of it.
fba_runs=0
fba() {
        local node=$1 rc
        shift
        fba_runs=$((fba_runs + 1))
        OUT="$tmp/$node/out.$fba_runs.stdout"
        ERR="$tmp/$node/out.$fba_runs.stderr"
        timeout -s KILL "${FBA_TIMEOUT:-120}" "$FBA_BIN" --config "$tmp/$node/config.json" \
                --state-dir "$tmp/$node/state" --log-target json "$@" >"$OUT" 2>"$ERR"
        rc=$?
        cat "$OUT" "$ERR" >>"$tmp/all-output"
        return $rc
}

# fba_bg NODE ARGS…: the same in the background; FBA_PID is its pid.
fba_bg() {
        local node=$1
        shift
        fba_runs=$((fba_runs + 1))
        OUT="$tmp/$node/out.$fba_runs.stdout"
        ERR="$tmp/$node/out.$fba_runs.stderr"
        "$FBA_BIN" --config "$tmp/$node/config.json" --state-dir "$tmp/$node/state" \
                --log-target json "$@" >"$OUT" 2>"$ERR" &
        FBA_PID=$!
}

# show_output: the last run's output as TAP comments (after a failed check).
show_output() {
        diag "stdout:" ; sed 's/^/#   /' "$OUT" | tail -n 20
        diag "stderr:" ; sed 's/^/#   /' "$ERR" | tail -n 30
}


# mid NAME: the MESSAGE_ID of MID_NAME (from message-id.h).
mid() {
        sed -n "s/^#define MID_$1 \"\([0-9a-f]*\)\".*/\1/p" "$src/agent/record/message-id.h"
}

# has_mid FILE NAME: the JSON log lines in FILE carry MID_NAME.
has_mid() {
        grep -qE "\"message_id\": ?\"$(mid "$2")\"" "$1"
}

# count_mid FILE NAME: how many records with MID_NAME.
count_mid() {
        grep -cE "\"message_id\": ?\"$(mid "$2")\"" "$1"
}

# missing_markers NODE NAME…: prints the markers that are absent (nothing when all exist).
missing_markers() {
        local node=$1 m out=()
        shift
        for m in "$@"; do
                [ -e "$tmp/$node/state/$m" ] || out+=("$m")
        done
        echo "${out[*]}"
}

# marker_names NODE: the step markers present, sorted.
marker_names() {
        (cd "$tmp/$1/state" && ls -A) | grep -E '^\.[a-z-]+-(initialized|joined|reported|done)$' | sort | tr '\n' ' ' | sed 's/ $//'
}

# elapsed_ms START_NS: milliseconds since START_NS (from now_ns).
now_ns() { date +%s%N; }
elapsed_ms() { echo $((($(date +%s%N) - $1) / 1000000)); }

# notify_listen: a datagram socket standing in for systemd's notify socket; every message the
# agent sends lands as one line in $tmp/notify.log. Exports NOTIFY_SOCKET.
notify_listen() {
        local i
        python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a") as f:
    while True:
        f.write(s.recv(4096).decode(errors="replace").replace("\n", " | ") + "\n")
        f.flush()' "$tmp/notify.sock" "$tmp/notify.log" &
        pids+=($!)
        for ((i = 0; i < 100; i++)); do
                [ -S "$tmp/notify.sock" ] && break
                sleep 0.02
        done
        export NOTIFY_SOCKET="$tmp/notify.sock"
}
