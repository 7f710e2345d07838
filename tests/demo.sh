#!/bin/bash
# SPDX-License-Identifier: MIT
# The demo: one command, nothing to start by hand (Debian 12, as root).
#
#   1. installs what it needs (tests/setup-deps.sh demo) and builds the agent (build-demo/);
#   2. starts the test servers on loopback (127.50.0.0/24): a three-node cluster (node01 is the
#      leader) with chainfire, flaredb and IAM over HTTPS with certificates made here, a report
#      sink (what a collector of the agent's reports sees), and an HTTP image server;
#   3. builds a small gold image (GPT, ext4 with files), zstd-compresses it, and flashes it to a
#      loop device as the installer would (SHA-256 verified, partition table written last, the
#      speed of the whole flash), then compares the device with the image byte for byte;
#   4. walks the first-boot steps as node04, a node joining the existing cluster, and prints
#      `first-boot-agent status` and the leader's member list;
#   5. runs the agent again: every step is done, so it exits at once;
#   6. names the binary and, with FBA_DEMO_KEEP=1, keeps its directory and prints commands to
#      try on it (status, the records, reset STEP; servers.sh there starts the servers again).
#
# Outside journald the agent's records are JSON lines on standard error; the demo asks for the
# console form ("time level message") instead. FBA_DEMO_LOG=json shows the JSON lines.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD

if [ "$(id -u)" -ne 0 ]; then
        echo "tests/demo.sh: run as root: it installs packages and uses a loop device." >&2
        exit 1
fi

if [ -t 1 ]; then
        say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
else
        say() { printf '\n== %s\n' "$*"; }
fi

if ! losetup -f >/dev/null 2>&1; then
        echo "tests/demo.sh: no loop device can be attached here (losetup -f finds none): the demo flashes" >&2
        echo "one. Load the module (modprobe loop); in a chroot or container, bind the host's /dev." >&2
        exit 1
fi

say "Installing what the demo needs"
tests/setup-deps.sh demo

say "Building the agent (without the test programs)"
if [ -d build-demo/meson-private ]; then
        meson setup --reconfigure build-demo -Dtests=false -Ddebug=false >/dev/null
else
        meson setup build-demo -Dtests=false -Ddebug=false >/dev/null
fi
meson compile -C build-demo >"build-demo/compile.log" 2>&1 || { tail -n 30 build-demo/compile.log >&2; exit 1; }
bin=$src/build-demo/agent/first-boot-agent
fba() { "$bin" --log-target "${FBA_DEMO_LOG:-console}" "$@"; }
echo "  $bin: $(fba --version)"

B=127.50.0
tmp=$(mktemp -d /var/tmp/first-boot-agent-demo-XXXXXX)
chmod 700 "$tmp"
pids=()
loop=

cleanup() {
        local p
        for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
        for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
        [ -n "$loop" ] && losetup -d "$loop" 2>/dev/null
        if [ "${FBA_DEMO_KEEP:-0}" = 1 ]; then
                echo "Kept $tmp (remove it with: rm -r $tmp)"
        else
                rm -rf "$tmp"
        fi
}
trap cleanup EXIT

wait_ready() {
        local i
        for ((i = 0; i < 200; i++)); do
                [ -e "$1" ] && return 0
                sleep 0.05
        done
        echo "A test server did not start; its log:" >&2
        cat "$2" >&2
        exit 1
}

say "Starting the test servers on $B.0/24"
sh tests/server/gen-certs.sh "$tmp/certs" "$B.1" "$B.2" "$B.3" "$B.4" "$B.100" >/dev/null
args=()
for i in 1 2 3 4; do
        args+=(--listen "chainfire:node0$i:$B.$i:2379" --listen "flaredb:node0$i:$B.$i:2479")
done
for i in 1 2 3; do
        args+=(--member "chainfire:node0$i:$B.$i:2380" --member "flaredb:node0$i:$B.$i:2480")
done
iam_token=$(openssl rand -hex 16)
# The servers' command, kept as a script: FBA_DEMO_KEEP=1 leaves it for starting them again.
{
        echo '#!/bin/bash'
        echo "# The demo's test servers (in memory: a fresh cluster at every start). Ctrl-C stops them."
        printf 'exec python3 %q' "$src/tests/server/clusterd.py"
        printf ' %q' "${args[@]}" --listen "iam:node04:$B.4:8080" --listen "report:sink:$B.100:8000" \
                --plain report:sink --tls-dir "$tmp/certs" --iam-bootstrap-token "$iam_token" \
                --control "$B.100:9000"
        printf ' "$@"\n'
} >"$tmp/servers.sh"
chmod 700 "$tmp/servers.sh"
"$tmp/servers.sh" --ready-file "$tmp/clusterd.ready" 2>"$tmp/clusterd.log" &
pids+=($!)
wait_ready "$tmp/clusterd.ready" "$tmp/clusterd.log"
echo "  cluster: node01 (leader) $B.1, node02 $B.2, node03 $B.3 — chainfire :2379, flaredb :2479, HTTPS"
echo "  node04's local services: chainfire, flaredb and IAM on $B.4"
echo "  report sink (collects the agent's reports): http://$B.100:8000/report"

say "Installer: flashing a gold image to a loop device"
img=$tmp/srv/gold.img
mkdir -p "$tmp/srv" "$tmp/rootfs/etc" "$tmp/rootfs/var/lib"
echo "gold image, built $(date -u +%FT%TZ)" >"$tmp/rootfs/etc/issue"
head -c 4M /dev/urandom >"$tmp/rootfs/var/lib/payload"
truncate -s 64M "$img"
printf 'label: gpt\nstart=2048, size=60M, name=root\n' | sfdisk -q "$img"
mkfs.ext4 -q -F -L root -d "$tmp/rootfs" "$tmp/root.ext4" 60M >/dev/null
dd if="$tmp/root.ext4" of="$img" bs=1M seek=1 conv=notrunc,sparse status=none
zstd -q -f "$img" -o "$img.zst"
sha=$(sha256sum "$img.zst" | cut -d' ' -f1)
echo "  gold.img.zst: $(stat -c %s "$img.zst") bytes (64 MiB uncompressed), sha256 $sha"
python3 tests/server/imaged.py --root "$tmp/srv" --listen "$B.200:8080" --control "$B.200:9001" \
        --ready-file "$tmp/imaged.ready" 2>"$tmp/imaged.log" &
pids+=($!)
wait_ready "$tmp/imaged.ready" "$tmp/imaged.log"
truncate -s 80M "$tmp/nvme.img"
loop=$(losetup -f --show "$tmp/nvme.img")
echo "  target: $loop (80 MiB loop device standing in for the node's NVMe)"
(umask 077; cat >"$tmp/installer.json" <<EOF
{
  "node_id": "node04", "node_role": "worker", "bootstrap": false, "cluster_name": "demo",
  "leader_url": "https://$B.1:2379", "raft_addr": "$B.4:2380",
  "tls": { "enabled": true, "ca_cert_path": "$tmp/certs/ca.crt" },
  "report": { "url": "http://$B.100:8000/report" },
  "flash": {
    "images": [ { "name": "system", "url": "http://$B.200:8080/gold.img.zst", "sha256": "$sha",
                  "target": { "type": "loop", "backing_file": "$tmp/nvme.img" } } ],
    "on_success": "none"
  }
}
EOF
)
# The flash's own records; the progress records (a speed over the last seconds) are left out:
# the final record gives the speed of the whole flash.
mid_progress=$(sed -n 's/^#define MID_FLASH_PROGRESS "\([0-9a-f]*\)".*/\1/p' agent/record/message-id.h)
set +e
fba --config "$tmp/installer.json" --state-dir "$tmp/installer-state" flash --no-power-action --no-progress 2>&1 |
        grep -Ev "Flashing '[^']*' to [^ ]*: .* written \([0-9?]+%\), [0-9]+ MB/s\.|\"$mid_progress\""
rc=${PIPESTATUS[0]}
set -e
[ "$rc" -eq 0 ] || { echo "  the flash failed (exit $rc)" >&2; exit 1; }
if cmp -s -n "$(stat -c %s "$img")" "$loop" "$img"; then
        echo "  $loop holds the gold image byte for byte; sfdisk sees: $(sfdisk -d "$loop" 2>/dev/null | grep -c '^/dev') partition(s)"
else
        echo "  $loop differs from the image" >&2
        exit 1
fi

say "First boot: node04 joins the cluster"
mkdir -p "$tmp/node04/state"
(umask 077
cat >"$tmp/node04/iam-admin.json" <<EOF
{ "username": "admin", "password": "$(openssl rand -hex 12)", "bootstrap_token": "$iam_token" }
EOF
cat >"$tmp/node04/cluster-config.json" <<EOF
{
  "node_id": "node04",
  "node_role": "control-plane",
  "bootstrap": false,
  "cluster_name": "demo",
  "leader_url": "https://$B.1:2379",
  "raft_addr": "$B.4:2380",
  "initial_peers": ["$B.1:2380", "$B.2:2380", "$B.3:2380"],
  "flaredb_peers": ["$B.1:2480", "$B.2:2480", "$B.3:2480"],
  "node_ip": "$B.4",
  "services": {
    "chainfire": { "health_url": "https://$B.4:2379/health" },
    "flaredb": { "health_url": "https://$B.4:2479/health" },
    "iam": { "health_url": "https://$B.4:8080/health", "url": "https://$B.4:8080" }
  },
  "tls": { "enabled": true, "ca_cert_path": "$tmp/certs/ca.crt" },
  "iam": { "secrets_file": "$tmp/node04/iam-admin.json", "token_file": "$tmp/node04/state/iam-admin.token" },
  "report": { "url": "http://$B.100:8000/report" },
  "state_dir": "$tmp/node04/state"
}
EOF
)
node=(--config "$tmp/node04/cluster-config.json")
fba "${node[@]}" validate
fba "${node[@]}" run

say "first-boot-agent status"
fba "${node[@]}" status

say "first-boot-agent member list (asks the leader)"
fba "${node[@]}" member list --service chainfire
fba "${node[@]}" member list --service flaredb

say "What the report sink received"
curl -s "http://$B.100:9000/control/state" | python3 -c '
import json, sys
rows = []
for r in json.load(sys.stdin).get("reports", []):
    b = r.get("body", r)
    what = b.get("event")
    if what == "firstboot-progress":
        what += " (%s)" % b.get("step")
    if rows and rows[-1][0] == (what, b.get("node_id")):
        rows[-1][1] += 1
    else:
        rows.append([(what, b.get("node_id")), 1])
for (what, node), n in rows:
    print("  %-38s from %s%s" % (what, node, " (x%d)" % n if n > 1 else ""))'

say "Second start: every step is done"
start=$(date +%s%N)
rc=0
fba "${node[@]}" run || rc=$?
end=$(date +%s%N)
echo "  exit $rc, $(( (end - start) / 1000000 )) ms including process start"

say "Done"
echo "  the agent: $bin"
echo "  node04's markers and state: $(cd "$tmp/node04/state" && printf '%s ' .[!.]* *)"
cfg=$tmp/node04/cluster-config.json
if [ "${FBA_DEMO_KEEP:-0}" = 1 ]; then
        cat <<EOF

Three things to try next (the servers are stopped now; $tmp/servers.sh starts them again,
in another terminal, as a fresh cluster):
  $bin --config $cfg status
        where node04 is: every step, when it ran, how long it took
  $bin --config $cfg --log-target json run
        the records as JSON lines with journald's fields (MESSAGE_ID, STEP, …); under systemd
        they go to the journal (journalctl -u first-boot-agent -o json-pretty)
  $bin --config $cfg reset chainfire-join
        forget chainfire-join and the steps after it; with servers.sh running, "run" joins again
EOF
else
        echo "  FBA_DEMO_KEEP=1 ./tests/demo.sh keeps what the demo made (the configuration, the state,"
        echo "  the certificates, a script that starts the servers) and prints three commands to try on it."
fi
