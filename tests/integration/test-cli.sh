#!/bin/bash
# SPDX-License-Identifier: MIT
# The command line of run, status and reset: usage errors and exit codes, the state file and the
# markers as status shows them, reset, the done path of run, the run lock, and a first boot
# whose steps have nothing to contact. Address block 127.7.0.0/16 (the report sink).
set -u

src=${FBA_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
bin=${FBA_BIN:-$src/build/agent/first-boot-agent}
tmp=$(mktemp -d /tmp/test-cli.XXXXXX)
sink_pid=
holder_pid=
cleanup() {
        [ -n "$sink_pid" ] && kill "$sink_pid" 2>/dev/null
        [ -n "$holder_pid" ] && kill "$holder_pid" 2>/dev/null
        wait 2>/dev/null
        rm -rf "$tmp"
}
trap cleanup EXIT

. "$src/tests/tap.sh"

# A clean environment: no kernel command line of the host, no systemd, no inherited state dir.
: > "$tmp/cmdline"
export FIRST_BOOT_AGENT_PROC_CMDLINE="$tmp/cmdline"
unset FIRST_BOOT_AGENT_STATE_DIR NOTIFY_SOCKET JOURNAL_STREAM FIRST_BOOT_AGENT_LOG_LEVEL
out="$tmp/out"
err="$tmp/err"

fba() {         # fba ARGS…: runs the agent, stdout in $out, stderr in $err; returns its status
        "$bin" "$@" >"$out" 2>"$err"
}

json_get() {    # json_get FILE EXPR: prints the value of the python expression on j
        python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print($2)" "$1"
}

# --- global options and usage ---------------------------------------------------------------
fba --version; is $? 0 "--version exits 0"
like "$out" '^first-boot-agent [0-9]' "--version prints the version"
fba; is $? 2 "no verb: exit 2"
like "$err" "first-boot-agent --help" "no verb: a hint"
fba frobnicate; is $? 2 "unknown verb: exit 2"
for v in run status reset; do
        fba "$v" --help; is $? 0 "$v --help exits 0"
        like "$out" "^Usage: first-boot-agent .*$v" "$v --help prints its usage"
        fba "$v" --no-such-option; is $? 2 "$v with an unknown option: exit 2"
        like "$err" "first-boot-agent $v --help" "$v usage error: a hint"
done
fba reset --help; like "$out" "member remove" "reset --help says membership is untouched"
fba run extra; is $? 2 "run with an argument: exit 2"
fba status extra; is $? 2 "status with an argument: exit 2"
fba status --timeout 3; is $? 2 "status --timeout without --wait: exit 2"
fba status --wait --timeout soon; is $? 2 "status --timeout that is not a number: exit 2"
fba reset; is $? 2 "reset without a step: exit 2"
fba reset config --all --yes; is $? 2 "reset with a step and --all: exit 2"
fba --state-dir "$tmp/s0" reset flaredb-jion; is $? 2 "reset of an unknown step: exit 2"
like "$err" "config, chainfire-health, chainfire-join, flaredb-health, flaredb-join, iam-health, iam-setup, health-report" "lists the steps"
like "$err" "Did you mean 'flaredb-join'" "and suggests the nearest"
fba --state-dir "$tmp/s0" reset --all </dev/null; is $? 2 "reset --all without --yes and no terminal: exit 2"

# --- status on nothing ----------------------------------------------------------------------
mkdir -m 0700 "$tmp/empty"
fba --config "$tmp/none.json" --state-dir "$tmp/empty" status; is $? 7 "status on an empty state dir: exit 7"
like "$out" "^config +pending" "config step pending"
like "$out" "^health-report +pending" "health-report step pending"
like "$out" "Run: none recorded" "no run recorded"
fba --config "$tmp/none.json" --state-dir "$tmp/empty" status --json; is $? 7 "status --json: exit 7"
python3 -m json.tool "$out" >/dev/null; ok $? "status --json is JSON"
is "$(json_get "$out" 'j["first_boot_done"]')" "False" "not done"
is "$(json_get "$out" 'list(j["steps"])')" "['identity', 'config', 'chainfire-health', 'chainfire-join', 'flaredb-health', 'flaredb-join', 'iam-health', 'iam-setup', 'health-report']" \
        "steps in table order"
is "$(json_get "$out" 'j["status"]')" "pending" "status pending"
FIRST_BOOT_AGENT_STATE_DIR="$tmp/nowhere" fba --config "$tmp/none.json" status; is $? 7 \
        "status with \$FIRST_BOOT_AGENT_STATE_DIR on a missing dir: exit 7"
like "$out" "State: $tmp/nowhere" "the environment names the state dir"

# --- markers made by hand, and reset ----------------------------------------------------------
d="$tmp/hand"
mkdir -m 0700 "$d"
for m in .chainfire-joined .flaredb-joined .iam-initialized .health-reported .first-boot-done; do
        date -Iseconds >"$d/$m"
done
fba --config "$tmp/none.json" --state-dir "$d" status; is $? 0 "every marker present: exit 0"
like "$out" "^chainfire-join +done \(marker\)" "a marker without a record shows as done (marker)"
like "$out" "First boot: complete since" "complete"
fba --config "$tmp/none.json" --state-dir "$d" reset flaredb-join --yes; is $? 0 "reset flaredb-join: exit 0"
like "$out" "^removed $d/\.flaredb-joined$" "prints the flaredb marker removed"
like "$out" "^removed $d/\.iam-initialized$" "and the later ones"
like "$out" "^removed $d/\.first-boot-done$" "and the done marker"
unlike "$out" "chainfire" "the earlier marker is kept"
[ -e "$d/.chainfire-joined" ] && [ ! -e "$d/.health-reported" ]; ok $? "files match what it printed"
like "$err" '"message_id":"27a7fac49b4045ada6d56f1ddf014a32"' "a reset record is logged"
fba --config "$tmp/none.json" --state-dir "$d" status; is $? 7 "after reset: exit 7"
like "$out" "^flaredb-join +pending" "flaredb-join pending again"
fba --config "$tmp/none.json" --state-dir "$d" reset iam-setup -y; is $? 0 "reset again"
like "$out" "^nothing to remove$" "nothing to remove"
fba --config "$tmp/none.json" --state-dir "$tmp/absent" reset --all --yes; is $? 0 "reset on a missing dir"
like "$out" "nothing to remove" "nothing to remove there either"

# --- status of recorded runs ----------------------------------------------------------------
state() {       # state DIR RESULT EXIT PID STEP_STATUS ERROR
        cat >"$1/state.json" <<EOF
{"version": 1, "node_id": "node04", "mode": "firstboot", "pid": $4,
 "run": {"started": "2025-12-10T10:30:45+00:00", "finished": null, "result": "$2", "exit_code": $3},
 "steps": {"config": {"status": "done", "started": "2025-12-10T10:30:45+00:00",
                      "finished": "2025-12-10T10:30:45+00:00", "duration_ms": 3, "attempts": 1},
           "chainfire-health": {"status": "$5", "started": "2025-12-10T10:30:46+00:00",
                           "finished": "2025-12-10T10:32:46+00:00", "duration_ms": 120000,
                           "attempts": 9, "last_error": "$6"}}}
EOF
        chmod 600 "$1/state.json"
}
d="$tmp/rec"
mkdir -m 0700 "$d"
state "$d" failed 4 999999 failed "chainfire: http://localhost:2379/health answered 503"
fba --config "$tmp/none.json" --state-dir "$d" status; is $? 4 "last run failed: exit 4"
like "$out" "^chainfire-health +failed +[0-9T:+-]+ +2m00s +9 +chainfire: http://localhost:2379/health answered 503$" \
        "failed step row: time, duration, attempts, last error"
like "$out" "Node: node04 +Mode: firstboot" "header names node and mode"
like "$out" "Run: failed \(exit 4\)" "header names the run result"
state "$d" failed 5 999999 failed "refused"
fba --config "$tmp/none.json" --state-dir "$d" status; is $? 5 "last run refused: exit 5"
state "$d" running 0 $$ running ""
fba --config "$tmp/none.json" --state-dir "$d" status; is $? 7 "run in progress: exit 7"
like "$out" "Run: in progress \(pid $$\)" "header shows the pid"
like "$out" "^chainfire-health +running" "the running step"
fba --config "$tmp/none.json" --state-dir "$d" status --json; is $? 7 "status --json while running: exit 7"
is "$(json_get "$out" 'j["in_progress"], j["status"], j["pid"]')" "True running $$" "JSON says running"
sh -c 'exit 0' & dead=$!; wait $dead
state "$d" running 0 $dead running ""
fba --config "$tmp/none.json" --state-dir "$d" status; is $? 7 "run whose process is gone: exit 7"
like "$out" "^chainfire-health +interrupted" "shown as interrupted"
echo '{ broken' >"$d/state.json"
fba --config "$tmp/none.json" --state-dir "$d" status; is $? 7 "corrupt state file: still answers"
like "$out" "state file is corrupt" "and says so"

# The flasher's record, per image and firmware, without credentials.
d="$tmp/flashed"
mkdir -m 0700 "$d"
cat >"$d/state.json" <<'EOF'
{"version": 1, "node_id": "inst01", "mode": "flash", "pid": 1, "run": {"result": "done", "exit_code": 0},
 "flash": {"started": "2025-12-10T10:30:45+00:00", "result": "done",
           "images": {"gold": {"verdict": "done", "url": "https://user:hunter22@10.0.0.1/gold.img.zst",
                               "bytes_written": 8589934592}},
           "firmware": {"spi": {"verdict": "current", "mtd": "spi-nor"}}}}
EOF
fba --config "$tmp/none.json" --state-dir "$d" status; is $? 7 "after a flash, first boot is still to come: exit 7"
like "$out" "^Flash: started=2025-12-10T10:30:45\+00:00, result=done" "flash summary line"
like "$out" "^  images/gold: verdict=done, url=https://\[redacted\]@10.0.0.1/gold.img.zst, bytes_written=8589934592" \
        "one line per image"
like "$out" "^  firmware/spi: verdict=current, mtd=spi-nor" "one line per firmware"
unlike "$out" "hunter22" "no credential printed"

# --- status --wait --------------------------------------------------------------------------
start=$(date +%s)
fba --config "$tmp/none.json" --state-dir "$tmp/empty" status --wait --timeout 1; is $? 8 "--wait --timeout 1 on a pending node: exit 8"
ok $(( $(date +%s) - start > 10 )) "gave up in about a second"
d="$tmp/wait"
mkdir -m 0700 "$d"
( sleep 0.5; date -Iseconds >"$d/.first-boot-done" ) &
fba --config "$tmp/none.json" --state-dir "$d" status --wait --timeout 20; is $? 0 "--wait returns 0 once done"
state "$tmp/rec" failed 4 999999 failed "x"
fba --config "$tmp/none.json" --state-dir "$tmp/rec" status --wait --timeout 20; is $? 4 "--wait returns 4 on a failed run"

# --- run on a done node ---------------------------------------------------------------------
d="$tmp/done"
mkdir -m 0700 "$d"
date -Iseconds >"$d/.first-boot-done"
# Unstamped (as left by a version that did not stamp it: its mtime is not the directory's), and
# no configuration to check it with.
touch -m -d '1 hour ago' "$d/.first-boot-done"
fba --config "$tmp/none.json" --state-dir "$d" run; is $? 0 "unstamped done marker, no config: exit 0"
like "$err" "without a usable configuration the step markers cannot be checked against it: trusting it" \
        "… with a warning that it could not be checked"
# Stamped as the agent stamps it: the directory's mtime, set on the marker long (more than the
# file times' granularity) after the directory last changed.
touch -m -d '1 minute ago' "$d"
touch -m -r "$d" "$d/.first-boot-done"
fba --config "$tmp/none.json" --state-dir "$d" run; is $? 0 "run on a done node: exit 0 without a config"
lines=$(grep -c . "$err")
ok $(( lines > 1 )) "at most one record ($lines)"
like "$err" '"MODE":"done"' "the record says done"
FIRST_BOOT_AGENT_STATE_DIR="$d" fba --config "$tmp/none.json" run; is $? 0 "the environment's state dir is used as well"
echo "quiet first_boot_agent.mode=firstboot" >"$tmp/cmdline.fb"
FIRST_BOOT_AGENT_PROC_CMDLINE="$tmp/cmdline.fb" fba --config "$tmp/none.json" --state-dir "$d" run
is $? 3 "mode=firstboot on the kernel command line wins over the done marker (then needs a config)"

# --- configs ----------------------------------------------------------------------------------
config() {      # config FILE STATE_DIR [EXTRA JSON MEMBERS]
        cat >"$1" <<EOF
{
  "node_id": "node07", "node_role": "worker", "bootstrap": true, "cluster_name": "cli",
  "raft_addr": "127.7.0.7:2380", "initial_peers": ["127.7.0.7:2380"],
  "services": { "chainfire": { "enabled": false }, "flaredb": { "enabled": false },
                "iam": { "enabled": false } },
  "tls": { "enabled": false },
  "health_check": { "enabled": false },
  "timeouts": { "health_wait_s": 5, "request_s": 2, "connect_s": 1 },
  "state_dir": "$2"${3:+,
  $3}
}
EOF
        chmod 600 "$1"
}

echo '{ "node_id": ' >"$tmp/bad.json"; chmod 600 "$tmp/bad.json"
fba --config "$tmp/bad.json" --state-dir "$tmp/s1" run; is $? 3 "invalid config: exit 3"
like "$err" "bad.json" "problems name the file"
like "$err" '"message_id":"455af10f00fa4ae5a0371080a92542fb"' "config refusal is logged"

# The config's own state_dir holds the done marker: run still exits 0 at once.
mkdir -m 0700 "$tmp/cfgdone"
date -Iseconds >"$tmp/cfgdone/.first-boot-done"
config "$tmp/cfgdone.json" "$tmp/cfgdone"
FIRST_BOOT_AGENT_STATE_DIR= fba --config "$tmp/cfgdone.json" run; is $? 0 "done marker in the config's state_dir: exit 0"

# A state directory others may write to: a done marker there may be anybody's. Made by nobody
# (a real unprivileged user) in a 0777 directory, stamped as the agent would stamp it.
d="$tmp/open"
mkdir -m 0777 "$d"
chmod 0777 "$d"
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
        chmod 755 "$tmp"
        chown nobody "$d"
        setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups \
                sh -c "date -Iseconds >'$d/.first-boot-done' && touch -m -d '1 minute ago' '$d' && touch -m -r '$d' '$d/.first-boot-done'"
        ok $? "nobody leaves a stamped .first-boot-done in a 0777 state directory it owns"
else
        date -Iseconds >"$d/.first-boot-done" && touch -m -d '1 minute ago' "$d" && touch -m -r "$d" "$d/.first-boot-done"
        ok $? "a stamped .first-boot-done in a 0777 state directory (not root: made by this user)"
fi
config "$tmp/open.json" "$d"
fba --config "$tmp/open.json" --state-dir "$d" run; is $? 3 "run refuses the state directory (exit 3), no exit 0"
unlike "$err" "First boot already complete" "the foreign done marker is not believed"
like "$err" "Refusing the state directory '$d': group or others may write to it \\(mode 0777\\).*Run: chmod go-w '$d'" \
        "the error names the directory, its mode and the chmod to run"
fba --config "$tmp/none.json" --state-dir "$d" run; is $? 3 "without a configuration: exit 3, not \"trusting it\""
unlike "$err" "First boot already complete|trusting it" "nor believed without a configuration"
fba --config "$tmp/open.json" --state-dir "$d" status; is $? 7 "status: not done on a foreign marker's word (exit 7)"
like "$err" "The state directory '$d' \\(owner uid [0-9]+, mode 0777\\) may be written by others" "status says why"
chmod 0755 "$d"
fba --config "$tmp/open.json" --state-dir "$d" run; is $? 3 "0755 but owned by another user: still refused"
if [ "$(id -u)" = 0 ]; then
        like "$err" "Refusing the state directory '$d': it belongs to uid $(id -u nobody), not to root.*Run: chown root: '$d'" \
                "the error names the owner and the chown to run"
else
        echo "ok $((n += 1)) - # SKIP a directory of another user needs root"
fi
chmod 700 "$tmp"

# A node with every service off: only the config step runs, then it is done.
d="$tmp/node"
config "$tmp/node.json" "$d"
fba --config "$tmp/node.json" run; is $? 0 "first boot with nothing to join: exit 0"
[ -e "$d/.first-boot-done" ]; ok $? "done marker written"
is "$(stat -c %a "$d")" "700" "state dir created 0700"
is "$(stat -c %a "$d/state.json")" "600" "state file 0600"
like "$err" '"message_id":"9363bb69a9b34a5d9f97bc7e81443ec2".*"MODE":"firstboot","MODE_SOURCE":"default"' \
        "mode decided and why"
like "$err" '"message_id":"1513c1601d3d43cb964d5e63a1f7ebb0"' "run done logged"
fba --config "$tmp/node.json" status; is $? 0 "status after it: exit 0"
like "$out" "^chainfire-join +does not apply \(services.chainfire.enabled is false\)" "steps that do not apply name the setting"
like "$out" "^health-report +does not apply \(health_check.enabled is false\)" "health-report off by health_check"
like "$out" "^config +done" "config done"
fba --config "$tmp/node.json" status --json
is "$(json_get "$out" 'j["run"]["result"], j["mode"], j["steps"]["config"]["status"]')" "done firstboot done" \
        "JSON: run done, mode, step"

# The run lock: a second run (or a reset) while one holds it leaves with exit 7.
rm -f "$d/.first-boot-done"
python3 -c 'import fcntl, sys, time; f = open(sys.argv[1], "a"); fcntl.flock(f, fcntl.LOCK_EX); time.sleep(60)' "$d/.lock" &
holder_pid=$!
for i in $(seq 50); do flock -n "$d/.lock" true || break; sleep 0.1; done
fba --config "$tmp/node.json" run; is $? 7 "a second run while the lock is held: exit 7"
like "$err" "[Aa]nother run .*in progress" "says another run is in progress"
fba --config "$tmp/node.json" reset --all --yes; is $? 7 "reset while the lock is held: exit 7"
kill "$holder_pid"; wait "$holder_pid" 2>/dev/null; holder_pid=

# A failing step: the key open to others stops the config step; the failure is reported.
python3 - "$tmp/reports" <<'EOF' &
import http.server, sys
out = open(sys.argv[1], "ab", buffering=0)
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        out.write(self.rfile.read(int(self.headers.get("Content-Length", 0))) + b"\n")
        self.send_response(200); self.send_header("Content-Length", "0"); self.end_headers()
    def log_message(self, *a): pass
http.server.HTTPServer(("127.7.0.1", 18000), H).serve_forever()
EOF
sink_pid=$!
for i in $(seq 50); do python3 -c 'import socket; socket.create_connection(("127.7.0.1", 18000), 1)' 2>/dev/null && break; sleep 0.1; done
d="$tmp/fail"
echo "k" >"$tmp/node.key"; chmod 644 "$tmp/node.key"
echo "c" >"$tmp/node.crt"; echo "c" >"$tmp/ca.crt"
config "$tmp/fail.json" "$d" "\"report\": { \"url\": \"http://127.7.0.1:18000/report\", \"timeout_s\": 2 }"
python3 - "$tmp/fail.json" "$tmp" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))
t = sys.argv[2]
c["tls"] = {"enabled": True, "ca_cert_path": t + "/ca.crt", "node_cert_path": t + "/node.crt",
            "node_key_path": t + "/node.key"}
json.dump(c, open(sys.argv[1], "w"))
EOF
fba --config "$tmp/fail.json" run; is $? 4 "a failing step: exit 4"
like "$err" "chmod 600 '$tmp/node.key'" "the log says the chmod to run"
like "$err" '"message_id":"2dc1f5bf2274457089c58688995bd8a3".*"STEP":"config"' "run failed logged with the step"
[ ! -e "$d/.first-boot-done" ]; ok $? "no done marker"
fba --config "$tmp/fail.json" status; is $? 4 "status after the failure: exit 4"
like "$out" "^config +failed" "config step failed"
python3 -c '
import json, sys
r = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert r and r[-1]["event"] == "firstboot-failed", r
assert r[-1]["node_id"] == "node07" and r[-1]["cluster_name"] == "cli" and r[-1]["step"] == "config", r[-1]
assert r[-1]["steps"]["config"]["status"] == "failed", r[-1]
' "$tmp/reports"; ok $? "firstboot-failed report received with node, cluster, step, steps"
chmod 600 "$tmp/node.key"
fba --config "$tmp/fail.json" run; is $? 0 "fixed: the next run resumes and finishes"
fba --config "$tmp/fail.json" status; is $? 0 "and status says done"

tap_done
