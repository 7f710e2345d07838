# SPDX-License-Identifier: MIT
# A fleet of nodes joining at once (sourced after lib.sh and lib_init): the cluster of lib.sh
# (node01..node03 at $B.1-3, the report sink and control API at $B.100) and FLEET_N agents
# f001.. at $FB.1.. (FB is the /24 after B: "127.60.0" → "127.60.1"), each with its own local
# chainfire (healthy from the start, as the admin API's services are), chainfire alone enabled.
# Used by the fleet scenarios and tests/bench/bench-fleet.sh.
#
#   fleet_start N [CLUSTERD ARGS…]   certificates for every address, clusterd with N more listeners
#   fleet_configs [PYTHON]           f001..fNNN/config.json, PYTHON edits each (c, i)
#   fleet_run                        every agent at once; waits; FLEET_FAILED counts non-zero exits
#   fleet_launch, fleet_wait         the same in two halves (something to do while they run)
#   fleet_gate_close, fleet_gate_open  every agent's local chainfire unhealthy until every agent
#                                    has asked it, then healthy at once: the herd reaches the
#                                    leader together however slowly the agents started
#   fleet_summary                    clusterd's fleet summary as TAP comments
#   leader_requests_per_node SERVICE NODE   "max total" of requests at that listener per agent

FB=${B%.*}.$((${B##*.} + 1))

fleet_name() { printf 'f%03d' "$1"; }

fleet_start() {
        local n=$1 i args=() sans=()
        shift
        FLEET_N=$n
        for ((i = 1; i <= n; i++)); do
                sans+=("$FB.$i")
                args+=(--listen "chainfire:$(fleet_name "$i"):$FB.$i:$CF")
        done
        "$gencerts" "$tmp/certs" "$B.1" "$B.2" "$B.3" "$B.4" "$B.100" "${sans[@]}" >/dev/null 2>"$tmp/gen-certs.log" ||
                bail "gen-certs.sh failed: $(cat "$tmp/gen-certs.log")"
        cluster_start "${args[@]}" "$@"
}

# fleet_configs [PYTHON]: one configuration per agent; PYTHON may edit c (the dict) knowing i.
fleet_configs() {
        python3 - "$tmp" "$B" "$FB" "$FLEET_N" "$CF" "$CF_RAFT" "$CA" "$REPORT_URL" "${1:-}" <<'PY' || bail "fleet_configs failed"
import json, os, sys
tmp, b, fb, n, cf, raft, ca, report, edit = sys.argv[1:]
for i in range(1, int(n) + 1):
    name = "f%03d" % i
    d = os.path.join(tmp, name)
    os.makedirs(os.path.join(d, "state"), mode=0o700, exist_ok=True)
    c = {
        "node_id": name, "node_role": "control-plane", "bootstrap": False, "cluster_name": "fleet",
        "leader_url": "https://%s.1:%s" % (b, cf), "raft_addr": "%s.%d:%s" % (fb, i, raft),
        "initial_peers": ["%s.%d:%s" % (b, k, raft) for k in (1, 2, 3)], "node_ip": "%s.%d" % (fb, i),
        "services": {
            "chainfire": {"enabled": True, "api_port": int(cf), "raft_port": int(raft),
                          "health_url": "https://%s.%d:%s/health" % (fb, i, cf)},
            "flaredb": {"enabled": False}, "iam": {"enabled": False},
        },
        "tls": {"enabled": True, "ca_cert_path": ca},
        "timeouts": {"health_wait_s": 60, "request_s": 10, "connect_s": 5, "join_attempts": 8,
                     "backoff_initial_ms": 200, "backoff_max_ms": 2000},
        "health_check": {"enabled": True},
        "report": {"url": report, "timeout_s": 5},
        "state_dir": os.path.join(d, "state"),
    }
    if edit:
        exec(edit)
    p = os.path.join(d, "config.json")
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(c, f, indent=1)
PY
}

# fleet_run: starts every agent at once and waits for them all. FLEET_FAILED: how many did not
# exit 0 (their names in FLEET_FAILED_NAMES); FLEET_MS: until the last one finished.
fleet_launch() {
        local i name
        FLEET_START=$(now_ns)
        FLEET_PIDS=()
        for ((i = 1; i <= FLEET_N; i++)); do
                name=$(fleet_name "$i")
                timeout -s KILL "${FBA_TIMEOUT:-300}" "$FBA_BIN" --config "$tmp/$name/config.json" \
                        --state-dir "$tmp/$name/state" --log-target json run \
                        >"$tmp/$name/out.stdout" 2>"$tmp/$name/out.stderr" &
                FLEET_PIDS+=($!)
        done
}

fleet_wait() {
        local i
        FLEET_FAILED=0
        FLEET_FAILED_NAMES=""
        for ((i = 1; i <= FLEET_N; i++)); do
                if ! wait "${FLEET_PIDS[$((i - 1))]}"; then
                        FLEET_FAILED=$((FLEET_FAILED + 1))
                        FLEET_FAILED_NAMES+=" $(fleet_name "$i")"
                fi
        done
        FLEET_MS=$(elapsed_ms "$FLEET_START")
        cat "$tmp"/f[0-9][0-9][0-9]/out.std* >>"$tmp/all-output"
}

fleet_run() {
        fleet_launch
        fleet_wait
}

fleet_gate_close() {
        local i
        for ((i = 1; i <= FLEET_N; i++)); do
                ctl /control/health "{\"service\": \"chainfire\", \"node\": \"$(fleet_name "$i")\", \"healthy\": false}" \
                        >/dev/null || bail "cannot make $(fleet_name "$i")'s chainfire unhealthy"
        done
}

# fleet_gate_open: once every agent has asked its local chainfire's health (up to 240 s), all of
# them turn healthy. Prints how many had asked.
fleet_gate_open() {
        local i asked=0
        for ((i = 0; i < 2400; i++)); do
                asked=$(cstate "len(set(r['node'] for r in d['requests'] if r['path'] == '/health' and r['node'].startswith('f')))")
                [ "$asked" -ge "$FLEET_N" ] && break
                sleep 0.1
        done
        for ((i = 1; i <= FLEET_N; i++)); do
                ctl /control/health "{\"service\": \"chainfire\", \"node\": \"$(fleet_name "$i")\", \"healthy\": true}" \
                        >/dev/null || bail "cannot make $(fleet_name "$i")'s chainfire healthy"
        done
        echo "$asked"
}

fleet_summary() {
        ctl "/control/fleet?format=text" | sed 's/^/# /'
}

# leader_requests_per_node SERVICE NODE: "MAX TOTAL" — the most requests one agent sent to the
# listener SERVICE:NODE, and all of them (an agent names its node in its User-Agent: on loopback
# every agent's address is the same).
leader_requests_per_node() {
        cstate "(lambda c: '%d %d' % (max(c.values(), default=0), sum(c.values())))(
            __import__('collections').Counter(r['user_agent'] for r in d['requests']
                                              if r['service'] == '$1' and r['node'] == '$2'
                                              and '(f' in r['user_agent']))"
}

# fleet_members_ok: "JOINED DUPLICATES" — agents listed in chainfire, and entries listed twice.
fleet_members_ok() {
        cstate "(lambda ms: '%d %d' % (len([m for m in ms if m['id'].startswith('f')]),
                                       len(ms) - len(set(m['id'] for m in ms)) +
                                       len(ms) - len(set(m['raft_addr'] for m in ms))))(d['members']['chainfire'])"
}
