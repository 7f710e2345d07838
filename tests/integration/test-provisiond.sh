#!/bin/bash
# SPDX-License-Identifier: MIT
# The reference provisioning server itself (tests/server/provisiond.py), driven with curl over
# HTTPS: --state-file keeps the groups across a restart (the same answers byte for byte, in
# both forms; a deleted group stays deleted), a state file that is not a list of groups is
# refused naming it, and the lookup address is loopback unless --listen-any, the control
# address always. TAP output. Address block 127.85.0.0/24.
set -u

src=${FBA_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
server="$src/tests/server/provisiond.py"

. "$src/tests/tap.sh"

for p in python3 curl openssl; do
        command -v "$p" >/dev/null || skip_all "$p not installed"
done

tmp=$(mktemp -d)
pid=
cleanup() {
        [ -n "$pid" ] && { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; }
        rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

A=127.85.0.1
LP=28510
CP=28511
MAC=52:54:00:85:00:01
UUID=0f8a85d1-8500-4c85-9a85-000000850002
sh "$src/tests/server/gen-certs.sh" "$tmp/certs" "$A" >/dev/null || bail "gen-certs.sh failed"

# start: provisiond with the state file, HTTPS, waits for its ready file.
start() {
        local i
        rm -f "$tmp/ready"
        python3 "$server" --listen "$A:$LP" --tls-dir "$tmp/certs" --control "$A:$CP" \
                --state-file "$tmp/state.json" --ready-file "$tmp/ready" 2>>"$tmp/server.log" &
        pid=$!
        for ((i = 0; i < 300; i++)); do
                [ -e "$tmp/ready" ] && return 0
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.05
        done
        sed 's/^/# /' "$tmp/server.log"
        bail "provisiond did not become ready"
}
stop() {        # returns the server's exit status
        local rc
        kill "$pid"
        wait "$pid"
        rc=$?
        pid=
        return $rc
}
ctl() {         # ctl PATH JSON: the control API's HTTP status; its body in $tmp/ctl.out
        curl -sS --max-time 10 -o "$tmp/ctl.out" -w '%{http_code}' -H 'Content-Type: application/json' \
                -d "$2" "http://$A:$CP$1"
}
get() {         # get PATH OUT: the lookup's HTTP status over HTTPS; its body in OUT
        curl -sS --max-time 10 --cacert "$tmp/certs/ca.crt" -o "$2" -w '%{http_code}' "https://$A:$LP$1"
}
# lookups SUFFIX: the three answers (query by MAC, path by MAC, query by UUID) into $tmp/*.SUFFIX
lookups() {
        echo "$(get "/v1/node?mac=$MAC" "$tmp/query.$1") $(get "/nodes/${MAC//:/-}.json" "$tmp/path.$1")" \
                "$(get "/v1/node?uuid=$UUID" "$tmp/raw.$1")"
}

# --- the groups kept in the state file ---------------------------------------------------------
start
is "$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1])))' "$tmp/state.json" 2>&1)" "[]" \
        "a new state file is written at start: no group"
is "$(stat -c %a "$tmp/state.json")" 600 "the state file is 0600"
is "$(ctl /control/groups '{"groups": [
        {"name": "node01", "selector": {"mac": "52-54-00-85-00-01"}, "not_after": "2031-01-01T00:00:00Z",
         "config": {"node_id": "node01", "node_ip": "127.85.0.11"}},
        {"name": "node02", "selector": {"uuid": "0F8A85D1-8500-4C85-9A85-000000850002"}, "raw": "not json, served as it is\n"}]}')" \
        200 "two groups added through the control API" || sed 's/^/#   /' "$tmp/ctl.out"
is "$(lookups before)" "200 200 200" "node01 by MAC (query and path form), node02 by UUID"
like "$tmp/query.before" '"not_after": "2031-01-01T00:00:00Z"' "node01's answer carries its not_after"
is "$(cat "$tmp/raw.before")" "not json, served as it is" "node02's raw answer is served as it is"
python3 - "$tmp/state.json" <<'EOF'
import json, sys
groups = {g["name"]: g for g in json.load(open(sys.argv[1]))}
assert sorted(groups) == ["node01", "node02"], groups
assert groups["node01"]["config"]["node_id"] == "node01" and groups["node01"]["not_after"], groups
assert groups["node02"]["selector"] == {"uuid": "0f8a85d1-8500-4c85-9a85-000000850002"}, groups
EOF
ok $? "the state file holds both groups as the control API took them"
is "$(stat -c %a "$tmp/state.json")" 600 "and is still 0600 after the change"

stop
is "$?" 0 "SIGTERM: provisiond exits 0"
start
like "$tmp/server.log" "control on $A:$CP, 2 group\(s\)" "after a restart: 2 groups read from the state file"
is "$(lookups after)" "200 200 200" "the same three lookups answer 200 after the restart"
cmp -s "$tmp/query.before" "$tmp/query.after" && cmp -s "$tmp/path.before" "$tmp/path.after" &&
        cmp -s "$tmp/raw.before" "$tmp/raw.after"
ok $? "with the same bytes as before the restart"

is "$(ctl /control/delete '{"name": "node02"}')" 200 "node02 deleted through the control API"
stop
start
is "$(lookups deleted)" "200 200 404" "after another restart node02 stays deleted, node01 is still served"
stop

# --- a state file that is not a list of groups ------------------------------------------------
printf '{"name": ' >"$tmp/broken.json"
timeout 30 python3 "$server" --listen "$A:$LP" --control "$A:$CP" --state-file "$tmp/broken.json" \
        >"$tmp/broken.out" 2>&1
is "$?" 2 "a state file that is not JSON: exit status 2"
like "$tmp/broken.out" "$tmp/broken.json: not JSON .*fix or remove the file" "naming the file and what to do"
echo '[{"name": "x", "selector": {"hostname": "a"}, "config": {}}]' >"$tmp/wrong.json"
timeout 30 python3 "$server" --listen "$A:$LP" --control "$A:$CP" --state-file "$tmp/wrong.json" \
        >"$tmp/wrong.out" 2>&1
is "$?" 2 "a group with an unknown selector in the state file: exit status 2"
like "$tmp/wrong.out" "$tmp/wrong.json: group 'x': unknown selector 'hostname'" "naming the file, the group and the selector"

# --- loopback unless --listen-any; the control API always ---------------------------------------
# (refused before anything is bound: no address outside loopback is ever listened on here)
timeout 30 python3 "$server" --listen "0.0.0.0:$LP" --control "$A:$CP" >"$tmp/any.out" 2>&1
is "$?" 2 "--listen 0.0.0.0 without --listen-any: exit status 2"
like "$tmp/any.out" "--listen '0.0.0.0:$LP': '0.0.0.0' is not a loopback address" "naming the option and the address"
timeout 30 python3 "$server" --listen "$A:$LP" --listen-any --control "0.0.0.0:$CP" >"$tmp/ctl-any.out" 2>&1
is "$?" 2 "--listen-any does not open the control API: --control 0.0.0.0 is refused"
like "$tmp/ctl-any.out" "--control '0.0.0.0:$CP': '0.0.0.0' is not a loopback address" "naming --control"

tap_done
