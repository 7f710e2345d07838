#!/bin/bash
# SPDX-License-Identifier: MIT
# Secrets do not linger: once iam-setup is done, the agent's memory (read through
# /proc/PID/mem while the health report waits on a slow report server) holds neither the IAM
# password, nor the bootstrap token, nor the issued token, in any form. Address block
# 127.10.20.0/24.
. "$(dirname "$0")/../lib.sh"
lib_init 127.10.20 "no secret left in the agent's memory after iam-setup"
[ "$(id -u)" -eq 0 ] || skip_all "reading another process's memory needs root"
PASSWORD="Pw-$(openssl rand -hex 20)"
BOOT="Boot-$(openssl rand -hex 20)"
cluster_start --iam-bootstrap-token "$BOOT"
# Every report waits 8 s: the progress reports give up after 2 s, the health report waits.
ctl /control/delay '{"service":"report","path":"/report","ms":8000,"count":-1}' >/dev/null || bail "delay refused"

node_config node04 false
config_edit node04 'c["services"]["iam"]["enabled"] = True; c["report"]["timeout_s"] = 20'
iam_secrets node04 admin "$PASSWORD" "$BOOT"

fba_bg node04 run
# The health report starts after iam-setup; its report POST then waits 8 s on the server.
for ((i = 0; i < 600; i++)); do
        grep -q "Step 'health-report' started" "$ERR" 2>/dev/null && break
        sleep 0.05
done
sleep 1
token_file="$(state_dir node04)/iam-admin.token"
[ -s "$token_file" ] || bail "no token was issued"
TOKEN=$(cat "$token_file")
kill -0 "$FBA_PID" 2>/dev/null || bail "the agent finished before its memory could be read"

python3 - "$FBA_PID" "$PASSWORD" "$BOOT" "$TOKEN" <<'PY' >"$tmp/memory"
import json, re, sys
pid = int(sys.argv[1])
needles = {}
for name, s in (("password", sys.argv[2]), ("bootstrap token", sys.argv[3]), ("issued token", sys.argv[4])):
    needles[name + " (raw)"] = s.encode()
    needles[name + " (JSON)"] = json.dumps(s)[1:-1].encode()
total = 0
found = set()
with open("/proc/%d/maps" % pid) as maps, open("/proc/%d/mem" % pid, "rb", 0) as mem:
    for line in maps:
        m = re.match(r"([0-9a-f]+)-([0-9a-f]+) (\S+)", line)
        start, end, perms = int(m.group(1), 16), int(m.group(2), 16), m.group(3)
        if "r" not in perms or "w" not in perms or end - start > (1 << 31):
            continue
        try:
            mem.seek(start)
            data = mem.read(end - start)
        except (OSError, ValueError, OverflowError):
            continue
        total += len(data)
        for name, n in needles.items():
            if n in data:
                found.add(name)
print("read %d bytes" % total)
for name in sorted(found):
    print("found: " + name)
PY
kill -0 "$FBA_PID" 2>/dev/null; ok $? "the agent was still running while its memory was read"
like "$tmp/memory" "^read [0-9]{6,} bytes" "its writable memory was read ($(head -n 1 "$tmp/memory"))"
unlike "$tmp/memory" "^found" "no secret in any form"
wait "$FBA_PID"
is "$?" 0 "the run finishes"

tap_done
