#!/bin/bash
# SPDX-License-Identifier: MIT
# The .deb on a real systemd: a debootstrapped Debian 12 tree with the package installed is
# booted with systemd-nspawn (systemd as PID 1) against tests/server/clusterd.py on the host's
# loopback (nspawn shares it), address block 127.30.0.0/24.
#
#   boot 1  first-boot-agent.service runs and succeeds: STATUS= text seen by systemctl, the
#           agent's records with their MESSAGE_IDs in the journal, catalog text in
#           "journalctl -x", "first-boot-agent status" reports every step done; the node is a
#           member of both clusters. The boot-to-done time is measured.
#   boot 2  the same tree: the agent starts, finds the done marker stamped and the state
#           directory unchanged (two stat() calls, no configuration read) and exits 0; the
#           servers see no request.
#   boot 2b the same tree, the runbook's re-join: .chainfire-joined is deleted by hand and
#           "systemctl restart chainfire-cluster-join" (the older automation's unit name, an
#           alias) joins chainfire again, and only chainfire; "systemctl status" and
#           "journalctl -u" answer under that name.
#   boot 3  a fresh tree whose join the leader refuses (403): the unit fails with exit status
#           5, is not restarted, and first-boot-agent-failure.service prints the status summary
#           on the console and into the journal.
#   boot 4  a fresh tree whose local services never become healthy: chainfire-health fails with
#           exit status 4, which the unit restarts until its start limit (5 starts), then the
#           OnFailure= summary is printed once.
#
# Inside the tree a test unit waits for the agent's unit to settle, writes what systemctl,
# journalctl and "first-boot-agent status" say into /fba-results, and powers off.
# Needs root, systemd-nspawn, debootstrap and the tools of build-deb.sh; the Debian tree is
# cached in /var/cache/first-boot-agent-tests. TAP output.

src=${FBA_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$src/tests/integration/lib.sh"
. "$src/tests/pkg/lib.sh"
set -uo pipefail

[ "$(id -u)" -eq 0 ] || skip_all "needs root"
for c in systemd-nspawn debootstrap dpkg-buildpackage dpkg-deb flock; do
        command -v "$c" >/dev/null || skip_all "'$c' is not installed"
done
BOOT_TIMEOUT=${BOOT_TIMEOUT:-300}
# first-boot-agent.service runs with PrivateUsers=yes, which needs user namespaces. The kernel
# refuses them to a process in a chroot, and so inside a container started from one: there
# systemd would fail the unit with status=217/USER at every start. Probed here, then inside a
# container below.
userns_refused="user namespaces are refused here (a chroot?): first-boot-agent.service's PrivateUsers=yes needs them"
unshare --user --map-root-user true 2>/dev/null || skip_all "$userns_refused"

# The service ports of tests/integration/lib.sh (defaults for an older copy of it).
CF=${CF:-2379} CF_RAFT=${CF_RAFT:-2380} FDB=${FDB:-2479} FDB_RAFT=${FDB_RAFT:-2480} IAM_PORT=${IAM_PORT:-8080}

lib_init 127.30.0 "nspawn: the .deb boots on systemd; first boot, second boot, refused join"

deb=$("$src/tests/pkg/build-deb.sh" 2>"$tmp/build-deb.log")
rc=$?
sed 's/^/# /' "$tmp/build-deb.log"
[ $rc -eq 0 ] && [ -f "$deb" ] || bail "the .deb did not build"
diag "package: $deb"
mapfile -t deps < <(pkg_deb_depends "$deb")
layer=$(pkg_rootfs_with_packages "${deps[@]}" 2>"$tmp/rootfs.log")
rc=$?
sed 's/^/# /' "$tmp/rootfs.log"
[ $rc -eq 0 ] && [ -d "$layer" ] || bail "no Debian tree (debootstrap or apt failed)"
diag "Debian tree: $layer"
systemd-nspawn -q -D "$layer" --read-only --register=no --keep-unit --pipe \
        unshare --user --map-root-user true </dev/null >"$tmp/userns-probe.log" 2>&1 ||
        { sed 's/^/# /' "$tmp/userns-probe.log"; skip_all "inside systemd-nspawn, $userns_refused"; }

IAM_BOOTSTRAP_TOKEN="boot-$RANDOM$RANDOM"
cluster_start --iam-bootstrap-token "$IAM_BOOTSTRAP_TOKEN"

# --- building a tree -------------------------------------------------------------------------
# make_root DIR NODE_ID N: a copy of the cached tree with the package installed, the node's
# configuration (node NODE_ID, raft address $B.N, local services at $B.4), the CA and the IAM
# secrets in /etc/nixos/secrets (0600), and the results collector.
make_root() {
        local root=$1 node=$2 n=$3 secrets
        cp -a "$layer" "$root" || return 1
        rm -f "$root/.complete"
        cp "$deb" "$root/var/tmp/first-boot-agent.deb"
        systemd-nspawn -q -D "$root" --register=no --keep-unit --pipe \
                dpkg -i /var/tmp/first-boot-agent.deb </dev/null >"$root.dpkg.log" 2>&1 || {
                sed 's/^/# /' "$root.dpkg.log"
                return 1
        }
        rm -f "$root/var/tmp/first-boot-agent.deb"

        secrets="$root/etc/nixos/secrets"
        install -d -m 0700 "$secrets"
        install -m 0600 "$CA" "$secrets/ca.crt"
        ( umask 077
          printf '{"username": "admin", "password": "pw-%s", "bootstrap_token": "%s"}\n' \
                "$RANDOM$RANDOM" "$IAM_BOOTSTRAP_TOKEN" >"$secrets/iam-admin.json"
          cat >"$secrets/cluster-config.json" <<EOF
{
  "node_id": "$node",
  "node_role": "control-plane",
  "bootstrap": false,
  "cluster_name": "nspawn",
  "leader_url": "https://$B.1:$CF",
  "raft_addr": "$B.$n:$CF_RAFT",
  "initial_peers": ["$B.1:$CF_RAFT", "$B.2:$CF_RAFT", "$B.3:$CF_RAFT"],
  "flaredb_peers": ["$B.1:$FDB_RAFT", "$B.2:$FDB_RAFT", "$B.3:$FDB_RAFT"],
  "node_ip": "$B.$n",
  "services": {
    "chainfire": { "api_port": $CF, "raft_port": $CF_RAFT, "health_url": "https://$B.4:$CF/health" },
    "flaredb": { "api_port": $FDB, "raft_port": $FDB_RAFT, "health_url": "https://$B.4:$FDB/health" },
    "iam": { "api_port": $IAM_PORT, "health_url": "https://$B.4:$IAM_PORT/health", "url": "https://$B.4:$IAM_PORT" }
  },
  "tls": { "enabled": true, "ca_cert_path": "/etc/nixos/secrets/ca.crt" },
  "timeouts": { "health_wait_s": 30, "request_s": 5, "connect_s": 2, "join_attempts": 3,
                "backoff_initial_ms": 100, "backoff_max_ms": 1000 },
  "iam": { "secrets_file": "/etc/nixos/secrets/iam-admin.json" },
  "report": { "url": "$REPORT_URL", "timeout_s": 5 }
}
EOF
        )

        cat >"$root/usr/local/sbin/fba-test-collect" <<'EOF'
#!/bin/sh
# Waits until first-boot-agent.service has settled (and its OnFailure= unit has run), writes
# what the system says about it into /fba-results, then powers off.
out=/fba-results
rm -rf "$out"
mkdir -p "$out"
: >"$out/status-text.log"
deadline=$(($(date +%s) + ${FBA_COLLECT_TIMEOUT:-240}))
while :; do
        state=$(systemctl show -P ActiveState first-boot-agent.service)/$(systemctl show -P SubState first-boot-agent.service)
        text=$(systemctl show -P StatusText first-boot-agent.service)
        if [ -n "$text" ] && [ "$(tail -n 1 "$out/status-text.log")" != "$text" ]; then
                echo "$text" >>"$out/status-text.log"
                # What an operator sees while a step runs.
                case $text in
                "step 4 of 9: "*) [ -e "$out/systemctl-status-running.txt" ] ||
                        systemctl status --no-pager -l first-boot-agent.service >"$out/systemctl-status-running.txt" 2>&1 ;;
                esac
        fi
        case $state in
        active/exited | inactive/dead) break ;;
        failed/* | activating/auto-restart)
                # Settled once the OnFailure= unit has run (after a final failure, or, with
                # systemd 252, before an automatic restart too).
                f=$(systemctl show -P ActiveState first-boot-agent-failure.service)
                t=$(systemctl show -P InactiveEnterTimestampMonotonic first-boot-agent-failure.service)
                { [ "$f" = inactive ] && [ "$t" != 0 ]; } || [ "$f" = failed ] && break ;;
        esac
        if [ "$(date +%s)" -ge "$deadline" ]; then
                echo "$state" >"$out/timeout"
                break
        fi
        sleep 0.05
done
systemctl status --no-pager -l first-boot-agent.service >"$out/systemctl-status.txt" 2>&1
systemctl show first-boot-agent.service >"$out/show-agent.txt"
systemctl show first-boot-agent-failure.service >"$out/show-failure.txt"
systemctl show first-boot-agent-flash.service >"$out/show-flash.txt"
systemctl show -p UserspaceTimestampMonotonic -p Version >"$out/show-manager.txt"
journalctl -b -o json --no-pager _SYSTEMD_UNIT=first-boot-agent.service >"$out/journal.json"
journalctl -b -x --no-pager -u first-boot-agent.service >"$out/journal-x.txt"
journalctl -b -o cat --no-pager -u first-boot-agent-failure.service >"$out/failure.txt"
first-boot-agent status --json >"$out/status.json" 2>"$out/status.err"
echo $? >"$out/status.rc"
first-boot-agent status >"$out/status.txt" 2>&1
stat -c '%a %U %n' /var/lib/first-boot-automation /var/lib/first-boot-automation/* \
        /var/lib/first-boot-automation/.[a-z]* >"$out/state-dir.txt" 2>&1
# "journalctl -u" under the older automation's unit names.
for u in chainfire-cluster-join flaredb-cluster-join iam-initial-setup cluster-health-check; do
        journalctl -b -o json --no-pager -u "$u.service" >"$out/journal-u-$u.json"
done
# The runbook's re-join, when the test asks for it.
if [ -e /fba-rejoin ]; then
        rm /var/lib/first-boot-automation/.chainfire-joined
        systemctl restart chainfire-cluster-join.service >"$out/restart.txt" 2>&1
        echo $? >"$out/restart.rc"
        systemctl status --no-pager -l chainfire-cluster-join.service >"$out/status-alias.txt" 2>&1
        systemctl show first-boot-agent.service >"$out/show-agent-after.txt"
        journalctl -b -o json --no-pager -u chainfire-cluster-join.service >"$out/journal-alias.json"
        journalctl -b -o json --no-pager -u flaredb-cluster-join.service >"$out/journal-alias-flaredb.json"
        ls -A /var/lib/first-boot-automation >"$out/state-after.txt"
fi
sync
systemctl --no-block poweroff
EOF
        chmod 755 "$root/usr/local/sbin/fba-test-collect"
        cat >"$root/etc/systemd/system/fba-test-collect.service" <<'EOF'
[Unit]
Description=Collect the first-boot-agent test results and power off
# Not ordered after first-boot-agent.service: that unit is "activating" until every step is
# done (READY=1 comes last), and this one watches its STATUS= texts while it runs.

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/fba-test-collect
StandardOutput=journal+console

[Install]
WantedBy=multi-user.target
EOF
        ln -sf /etc/systemd/system/fba-test-collect.service \
                "$root/etc/systemd/system/multi-user.target.wants/fba-test-collect.service"
}

# boot ROOT NAME: boots ROOT until it powers off; the console goes to $tmp/NAME.console and
# the collected results to $tmp/NAME.results (R).
boot() {
        local root=$1 name=$2 start rc
        rm -rf "$root/fba-results"
        start=$(now_ns)
        timeout -s KILL "$BOOT_TIMEOUT" systemd-nspawn -b -D "$root" --register=no --keep-unit \
                --console=read-only -q </dev/null >"$tmp/$name.console" 2>&1
        rc=$?
        BOOT_MS=$(elapsed_ms "$start")
        R="$tmp/$name.results"
        rm -rf "$R"
        [ -d "$root/fba-results" ] && mv "$root/fba-results" "$R"
        return $rc
}

# prop FILE NAME: a property from "systemctl show" output.
prop() { sed -n "s/^$2=//p" "$1" | head -n 1; }

# records NAME [FILE]: how many of the agent's journal records (in FILE, default journal.json)
# carry MID_NAME. A file that is missing or holds a line that is not JSON is an error (-1).
records() {
        python3 - "${2:-$R/journal.json}" "$(mid "$1")" <<'EOF'
import json, sys
n = 0
try:
    lines = open(sys.argv[1]).readlines()
except OSError:
    print(-1)
    sys.exit(0)
for line in lines:
    try:
        r = json.loads(line)
    except ValueError:
        print(-1)
        sys.exit(0)
    if r.get("MESSAGE_ID") == sys.argv[2]:
        n += 1
print(n)
EOF
}

# --- boot 1: first boot ----------------------------------------------------------------------
root1="$tmp/root1"
make_root "$root1" node04 4 || bail "could not prepare the tree"
is "$(stat -c '%a' "$root1/var/lib/first-boot-automation" 2>/dev/null)" 700 \
        "after dpkg -i: tmpfiles.d made the state directory 0700"
[ -L "$root1/etc/systemd/system/multi-user.target.wants/first-boot-agent.service" ]
ok $? "after dpkg -i: first-boot-agent.service is enabled"
aliases=0
for u in chainfire-cluster-join flaredb-cluster-join iam-initial-setup cluster-health-check; do
        case $(readlink "$root1/etc/systemd/system/$u.service") in
        */first-boot-agent.service) aliases=$((aliases + 1)) ;;
        esac
done
is "$aliases" 4 "after dpkg -i: the older automation's four unit names are aliases of first-boot-agent.service"

boot "$root1" boot1
ok $? "boot 1: the system booted and powered off (${BOOT_MS} ms on the host clock)"
[ -f "$R/show-agent.txt" ] || { sed 's/^/# /' "$tmp/boot1.console" | tail -n 40; bail "no results from boot 1"; }
[ ! -e "$R/timeout" ]
ok $? "boot 1: first-boot-agent.service settled"
is "$(prop "$R/show-agent.txt" ActiveState)/$(prop "$R/show-agent.txt" SubState)/$(prop "$R/show-agent.txt" Result)" \
        "active/exited/success" "boot 1: the unit ran and succeeded (active, exited, success)"
is "$(prop "$R/show-agent.txt" ExecMainStatus)" 0 "boot 1: the agent exited 0"
is "$(prop "$R/show-agent.txt" NRestarts)" 0 "boot 1: no restart was needed"
is "$(prop "$R/show-flash.txt" ConditionResult)/$(prop "$R/show-flash.txt" ExecMainStartTimestampMonotonic)" "no/0" \
        "boot 1: first-boot-agent-flash.service skipped (no first_boot_agent.mode=flash)"
like "$R/systemctl-status.txt" 'Status: "first boot complete"' "boot 1: systemctl status shows the agent's final STATUS= text"
diag "STATUS= texts seen:" && sed 's/^/#   /' "$R/status-text.log"

for m in AGENT_START MODE_DECIDED STEP_BEGIN STEP_DONE SERVICE_HEALTHY MEMBER_JOINED \
        IAM_ADMIN_CREATED IAM_TOKEN_ISSUED REPORT_SENT RUN_DONE; do
        c=$(records "$m")
        [ "${c:-0}" -ge 1 ]
        ok $? "boot 1: the journal holds MID_$m records of the unit ($c)"
done
is "$(records MEMBER_JOINED)" 2 "boot 1: MID_MEMBER_JOINED once per cluster"
python3 - "$R/journal.json" "$(mid STEP_DONE)" <<'EOF'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("MESSAGE_ID") == sys.argv[2]:
        ok = r.get("STEP") and r.get("NODE_ID") == "node04" and r.get("ELAPSED_MS") and r.get("_SYSTEMD_UNIT") == "first-boot-agent.service"
        sys.exit(0 if ok else 1)
sys.exit(1)
EOF
ok $? "boot 1: records carry STEP, NODE_ID, ELAPSED_MS and come from first-boot-agent.service"
python3 - "$R/journal.json" "$(mid AGENT_START)" <<'EOF'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("MESSAGE_ID") == sys.argv[2]:
        print("# SYSLOG_IDENTIFIER: %r" % (r.get("SYSLOG_IDENTIFIER"),))
        sys.exit(0 if r.get("SYSLOG_IDENTIFIER") == "first-boot-agent" else 1)
sys.exit(1)
EOF
ok $? "boot 1: records carry SYSLOG_IDENTIFIER=first-boot-agent (journalctl -t first-boot-agent finds them)"
like "$R/journal-x.txt" 'Subject: first-boot step [a-z-]+ finished' "boot 1: journalctl -x shows the catalog subject with @STEP@ filled in"
like "$R/journal-x.txt" 'Defined-By: first-boot-agent' "boot 1: journalctl -x shows Defined-By: first-boot-agent"
like "$R/journal-x.txt" 'Documentation: man:first-boot-agent\(8\)' "boot 1: journalctl -x shows the man page reference"
like "$R/journal-x.txt" 'The step chainfire-health finished successfully in [0-9]+ ms' "boot 1: catalog text substitutes @STEP@ and @ELAPSED_MS@"
unlike "$R/journal-x.txt" '@[A-Z_]+@' "boot 1: no unsubstituted @FIELD@ in journalctl -x"

# journalctl -u under the older names: journalctl matches OBJECT_SYSTEMD_UNIT= of root's records.
steps_in() {
        python3 - "$1" <<'EOF'
import json, sys
steps = set()
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("STEP"):
        steps.add(r["STEP"])
print(" ".join(sorted(steps)))
EOF
}
diag "journalctl -u chainfire-cluster-join: STEP values $(steps_in "$R/journal-u-chainfire-cluster-join.json")"
for pair in "chainfire-cluster-join STEP_DONE" "chainfire-cluster-join MEMBER_JOINED" "flaredb-cluster-join MEMBER_JOINED" \
        "iam-initial-setup IAM_ADMIN_CREATED" "cluster-health-check REPORT_SENT"; do
        set -- $pair
        c=$(records "$2" "$R/journal-u-$1.json")
        [ "${c:-0}" -ge 1 ]
        ok $? "boot 1: journalctl -u $1 shows the MID_$2 records ($c)"
done
is "$(records MEMBER_JOINED "$R/journal-u-chainfire-cluster-join.json")" 1 \
        "boot 1: journalctl -u chainfire-cluster-join shows the chainfire join only, not flaredb's"
steps_cf=$(steps_in "$R/journal-u-chainfire-cluster-join.json")
case " $steps_cf " in *" flaredb-join "* | *" iam-setup "* | *" health-report "*) false ;; *" chainfire-join "*) true ;; *) false ;; esac
ok $? "boot 1: journalctl -u chainfire-cluster-join holds chainfire's steps and no other service's ($steps_cf)"

is "$(cat "$R/status.rc")" 0 "boot 1: first-boot-agent status exits 0 (every step done)"
python3 - "$R/status.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
steps = d.get("steps") or {}
# identity is off for a node whose image carries its identity (no provisioning section).
bad = [n for n, s in steps.items() if s.get("status") not in ("done", "skipped")
       and not (n == "identity" and s.get("status") == "disabled")]
print("# steps: " + ", ".join("%s=%s" % (n, s.get("status")) for n, s in steps.items()))
sys.exit(0 if steps and not bad else 1)
EOF
ok $? "boot 1: status --json reports every step done"
[ -e "$root1/var/lib/first-boot-automation/.first-boot-done" ]
ok $? "boot 1: .first-boot-done written"
like "$R/state-dir.txt" '^700 root /var/lib/first-boot-automation$' "boot 1: state directory stays 0700 root"
like "$R/state-dir.txt" '^600 root /var/lib/first-boot-automation/state.json$' "boot 1: state.json is 0600 root"
like "$R/state-dir.txt" '^600 root /var/lib/first-boot-automation/iam-admin.token$' "boot 1: the issued IAM token is 0600 root"
is "$(count_member chainfire node04) $(count_member flaredb node04)" "1 1" "boot 1: node04 is a member of chainfire and flaredb, once"
is "$(cstate "[u['name'] for u in d['iam_users']]")" '["admin"]' "boot 1: the IAM admin exists"
is "$(cstate "[r['body']['event'] for r in R]")" '["firstboot-done"]' "boot 1: the provisioning server got firstboot-done"

# Boot-to-done: from systemd's start (PID 1 of the container) to the agent's exit.
t0=$(prop "$R/show-manager.txt" UserspaceTimestampMonotonic)
t_start=$(prop "$R/show-agent.txt" ExecMainStartTimestampMonotonic)
t_exit=$(prop "$R/show-agent.txt" ExecMainExitTimestampMonotonic)
if [ -n "$t0" ] && [ -n "$t_exit" ] && [ "$t_exit" -gt 0 ]; then
        diag "boot-to-done: $(((t_exit - t0) / 1000)) ms from systemd's start to the agent's exit" \
                "agent run: $(((t_exit - t_start) / 1000)) ms (ExecMainStart to ExecMainExit)" \
                "whole container boot to power-off on the host clock: $BOOT_MS ms"
fi

# --- boot 2: the same tree, everything done --------------------------------------------------
ctl /control/reset-log '{}' >/dev/null || bail "control API: reset-log failed"
boot "$root1" boot2
ok $? "boot 2: the system booted and powered off (${BOOT_MS} ms)"
[ -f "$R/show-agent.txt" ] || bail "no results from boot 2"
is "$(prop "$R/show-agent.txt" ActiveState)/$(prop "$R/show-agent.txt" Result)/$(prop "$R/show-agent.txt" ExecMainStatus)" \
        "active/success/0" "boot 2: the agent ran and exited 0"
is "$(records AGENT_START)" 0 "boot 2: it left on the done marker's fast path, before reading the configuration"
like "$R/journal.json" '"MODE_SOURCE" *: *"done-marker"' "boot 2: MID_MODE_DECIDED says the done marker decided"
t_start=$(prop "$R/show-agent.txt" ExecMainStartTimestampMonotonic)
t_exit=$(prop "$R/show-agent.txt" ExecMainExitTimestampMonotonic)
[ -n "$t_exit" ] && [ "$t_exit" -gt 0 ] &&
        diag "boot 2: the agent's run on a done node: $(((t_exit - t_start) / 1000)) ms from exec to exit (systemd's timestamps)"
is "$(cstate "len(d['requests'])")" 0 "boot 2: the servers saw no request at all"
is "$(cstate "len(R)")" 1 "boot 2: no new report"

# --- boot 2b: the runbook's re-join under the older unit name ---------------------------------
# The leader forgets node04 (as after "member remove"); inside, the collector deletes
# .chainfire-joined and runs "systemctl restart chainfire-cluster-join".
ctl /control/members "{\"service\": \"chainfire\", \"members\": [
        {\"id\": \"node01\", \"raft_addr\": \"$B.1:$CF_RAFT\"}, {\"id\": \"node02\", \"raft_addr\": \"$B.2:$CF_RAFT\"},
        {\"id\": \"node03\", \"raft_addr\": \"$B.3:$CF_RAFT\"}]}" >/dev/null || bail "control API: members refused"
ctl /control/reset-log '{}' >/dev/null
touch "$root1/fba-rejoin"
boot "$root1" boot2b
rc=$?
rm -f "$root1/fba-rejoin"
ok $rc "boot 2b: the system booted and powered off (${BOOT_MS} ms)"
[ -f "$R/restart.rc" ] || { sed 's/^/# /' "$tmp/boot2b.console" | tail -n 40; bail "no results from boot 2b"; }
is "$(cat "$R/restart.rc")" 0 "boot 2b: systemctl restart chainfire-cluster-join succeeded"
[ -s "$R/restart.txt" ] && sed 's/^/#   /' "$R/restart.txt"
like "$R/status-alias.txt" 'first-boot-agent\.service' "boot 2b: systemctl status chainfire-cluster-join shows first-boot-agent.service"
like "$R/status-alias.txt" 'Active: active \((running|exited)\)' "boot 2b: … active (READY=1 came with the end of the walk)"
like "$R/status-alias.txt" 'Status: "first boot complete"' "boot 2b: … with the agent's last STATUS= text"
diag "systemctl status chainfire-cluster-join:" && sed 's/^/#   /' "$R/status-alias.txt" | head -n 8
is "$(prop "$R/show-agent-after.txt" ExecMainStatus)" 0 "boot 2b: the restarted agent exited 0"
is "$(records MARKER_REMOVED "$R/journal-alias.json")" 1 \
        "boot 2b: MID_MARKER_REMOVED: the agent noticed the deleted marker (journalctl -u chainfire-cluster-join)"
is "$(records MEMBER_JOINED "$R/journal-alias.json")" 1 \
        "boot 2b: journalctl -u chainfire-cluster-join shows the re-join"
is "$(records MEMBER_JOINED "$R/journal-alias-flaredb.json")" 0 \
        "boot 2b: flaredb was not joined again (journalctl -u flaredb-cluster-join)"
is "$(requests_where "r['path'] == '/admin/member/add' and r['service'] == 'chainfire'")" 1 "boot 2b: one add request to chainfire"
is "$(requests_where "r['path'] == '/admin/member/add' and r['service'] == 'flaredb'")" 0 "boot 2b: none to flaredb"
is "$(count_member chainfire node04)" 1 "boot 2b: node04 is a chainfire member again"
grep -qx '.chainfire-joined' "$R/state-after.txt" && grep -qx '.first-boot-done' "$R/state-after.txt"
ok $? "boot 2b: .chainfire-joined and .first-boot-done written again"

# --- boot 3: the leader refuses the join -----------------------------------------------------
ctl /control/reset-log '{}' >/dev/null
ctl /control/fail '{"service": "chainfire", "path": "/admin/member/add", "status": 403, "count": 100, "body": "{\"error\": \"node not allowed\"}"}' \
        >/dev/null || bail "control API: fail injection refused"
# Slow answers from the leader keep chainfire-join running long enough to be watched.
ctl /control/delay '{"service": "chainfire", "node": "node01", "ms": 800, "count": 2}' >/dev/null ||
        bail "control API: delay injection refused"
root2="$tmp/root2"
make_root "$root2" node05 5 || bail "could not prepare the second tree"
boot "$root2" boot3
ok $? "boot 3: the system booted and powered off (${BOOT_MS} ms)"
[ -f "$R/show-agent.txt" ] || { sed 's/^/# /' "$tmp/boot3.console" | tail -n 40; bail "no results from boot 3"; }
[ ! -e "$R/timeout" ]
ok $? "boot 3: first-boot-agent.service settled"
like "$R/status-text.log" '^step 4 of 9: chainfire-join$' "boot 3: systemd received the agent's STATUS= step text"
like "$R/systemctl-status-running.txt" 'Status: "step 4 of 9: chainfire-join"' \
        "boot 3: systemctl status shows the step in progress"
[ -f "$R/systemctl-status-running.txt" ] && diag "systemctl status while chainfire-join ran:" &&
        sed 's/^/#   /' "$R/systemctl-status-running.txt" | head -n 12
is "$(prop "$R/show-agent.txt" ActiveState)/$(prop "$R/show-agent.txt" Result)" "failed/exit-code" \
        "boot 3: the unit failed"
is "$(prop "$R/show-agent.txt" ExecMainStatus)" 5 "boot 3: exit status 5 (refused by a server)"
is "$(prop "$R/show-agent.txt" NRestarts)" 0 "boot 3: not restarted (RestartPreventExitStatus)"
is "$(requests_where "r['path'] == '/admin/member/add'")/$(requests_where "r['path'] == '/admin/member/add' and r['status'] == 403")" 1/1 \
        "boot 3: one add request, refused with 403, ends the join (no other server is asked)"
is "$(prop "$R/show-failure.txt" Result)" success "boot 3: first-boot-agent-failure.service ran"
[ -n "$(prop "$R/show-failure.txt" ExecMainStartTimestamp)" ]
ok $? "boot 3: the OnFailure= unit was started"
like "$R/failure.txt" 'chainfire-join' "boot 3: the failure summary (journal) names the failed step"
like "$tmp/boot3.console" 'chainfire-join' "boot 3: the failure summary reached the console"
diag "console, failure summary:" && grep -A12 -m1 'first-boot-agent-failure\|chainfire-join' "$tmp/boot3.console" | sed 's/^/#   /'
is "$(records JOIN_REFUSED)" 1 "boot 3: MID_JOIN_REFUSED in the journal"
is "$(records RUN_FAILED)" 1 "boot 3: MID_RUN_FAILED in the journal"
like "$R/journal-x.txt" 'Subject: chainfire: the cluster refused the join' "boot 3: journalctl -x explains the refusal"
unlike "$R/journal-x.txt" '@[A-Z_]+@' "boot 3: no unsubstituted @FIELD@ in journalctl -x"
is "$(cat "$R/status.rc")" 5 "boot 3: first-boot-agent status exits 5"
[ ! -e "$root2/var/lib/first-boot-automation/.first-boot-done" ]
ok $? "boot 3: no .first-boot-done"
is "$(cstate "[r['body']['event'] for r in R][-1:]")" '["firstboot-failed"]' "boot 3: the provisioning server got firstboot-failed"

# --- boot 4: the local services stay down ----------------------------------------------------
# The unit's restart policy as shipped, except RestartSec= (30 s) shortened by a drop-in so
# that five attempts take seconds.
root3="$tmp/root3"
make_root "$root3" node06 6 || bail "could not prepare the third tree"
python3 - "$root3/etc/nixos/secrets/cluster-config.json" "$B.6" <<'EOF' || bail "could not edit the config"
import json, sys
path, down = sys.argv[1:3]
c = json.load(open(path))
for name, svc in c["services"].items():
    svc["health_url"] = svc["health_url"].replace(svc["health_url"].split("/")[2].split(":")[0], down)
c["timeouts"]["health_wait_s"] = 1
with open(path, "w") as f:
    json.dump(c, f, indent=2)
EOF
chmod 600 "$root3/etc/nixos/secrets/cluster-config.json"
mkdir -p "$root3/etc/systemd/system/first-boot-agent.service.d"
printf '[Service]\nRestartSec=1s\n' >"$root3/etc/systemd/system/first-boot-agent.service.d/test-restart-sec.conf"
boot "$root3" boot4
ok $? "boot 4: the system booted and powered off (${BOOT_MS} ms)"
[ -f "$R/show-agent.txt" ] || { sed 's/^/# /' "$tmp/boot4.console" | tail -n 40; bail "no results from boot 4"; }
[ ! -e "$R/timeout" ]
ok $? "boot 4: first-boot-agent.service settled"
is "$(records AGENT_START)" 5 "boot 4: exit 4 is restarted: five starts (StartLimitBurst=5)"
is "$(prop "$R/show-agent.txt" ActiveState)" failed \
        "boot 4: then the start limit leaves the unit failed (NRestarts=$(prop "$R/show-agent.txt" NRestarts))"
is "$(prop "$R/show-agent.txt" ExecMainStatus)" 4 "boot 4: the last attempt exited 4 (a step failed)"
is "$(records HEALTH_TIMEOUT)" 5 "boot 4: MID_HEALTH_TIMEOUT for chainfire (the first health step), each attempt"
is "$(grep -c 'chainfire-health *failed' "$R/failure.txt")" 1 \
        "boot 4: the OnFailure= summary ran once, after the last attempt (systemd $(prop "$R/show-manager.txt" Version))"
like "$tmp/boot4.console" 'first-boot-agent-failure\[[0-9]+\]: chainfire-health +failed' "boot 4: the summary reached the console"

tap_done
